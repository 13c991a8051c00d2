"""Benchmarks, each against its floor measured in the same run: `python -m bench` runs them all.

The machine line printed first (cores, CPU, load average) belongs with every figure: on a
shared 2-core machine the load decides more than the code does.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time

import httpx


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


def wait_until_answers(
    url: str, process: subprocess.Popen[bytes], *, timeout: float, status: int | None = None
) -> None:
    """Wait for the server `process` started to answer `url` (with `status`, when given);
    stop the benchmark if it exits first or does not answer in `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: server exited with {process.returncode}: {url}")
        try:
            answer = httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if status is None or answer.status_code == status:
            return
        time.sleep(0.05)
    raise SystemExit(f"bench: {url} did not answer")
