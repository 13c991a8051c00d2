"""Child processes: tying them to our life, and telling whether a pid is still the program we
think it is. Linux /proc where it exists; elsewhere only whether the pid is alive.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` after which the kernel sends `sig` to the child when this process dies,
    even by SIGKILL (Linux `prctl(PR_SET_PDEATHSIG)`); None where that does not exist.

    The signal follows the thread that started the child: start children from the main
    thread. The function only calls prctl, so it is safe between fork and exec."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before prctl: it will never signal
            os._exit(1)

    return preexec


def is_program(pid: int, program: bytes, cwd: Path | None = None) -> bool:
    """A live, non-zombie process whose command line contains `program`; with `cwd`, one
    working there. A recycled pid of another program is not it."""
    if not Path("/proc/self").is_dir():  # no procfs (macOS): all we can check is the pid
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        actual_cwd = Path(os.readlink(f"/proc/{pid}/cwd")) if cwd is not None else None
    except OSError:
        return False  # gone, or another user's: not ours to stop either way
    if actual_cwd is not None and actual_cwd != cwd:
        return False
    return program in cmdline and not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def wait_gone(pid: int, program: bytes, timeout: float) -> bool:
    """Whether `pid` stopped being `program` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_program(pid, program):
            return True
        time.sleep(0.05)
    return False


def send_signal(pid: int, sig: signal.Signals) -> None:
    """Signal `pid`, if it is still there to receive it."""
    try:
        os.kill(pid, sig)
    except OSError:
        pass


__all__ = ["die_with_parent", "is_program", "send_signal", "wait_gone"]
