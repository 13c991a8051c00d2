"""Benchmarks, each against its floor measured in the same run: `python -m bench` runs them all.

The machine line printed first (cores, CPU, load average) belongs with every figure: on a
shared 2-core machine the load decides more than the code does.
"""

from __future__ import annotations

import os
import platform


def machine() -> str:
    """nproc, the CPU model and the load average, as one line."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = (line.split(":", 1)[1] for line in cpuinfo if line.startswith("model name"))
            model = next(names, model).strip()
    except OSError:
        pass
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"machine: {os.cpu_count()} cores, {model}, load average {load}"
