"""Whose turn it is to ask a host: the HostGate protocol and its in-process LocalHostGate.

The shared gate for several worker processes is _shared_turns.RedisHostGate; this module
stays free of Redis and httpx so the Fetcher can default to the local gate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

# The longest a host is left alone on its own say (Retry-After): a hostile or broken header
# must not stop the crawl of a host for days.
MAX_HOLD_OFF = 600.0


class HostGate(Protocol):
    """Whose turn it is to ask a host. The local gate serves one process; a shared one
    (_shared_turns) serves every worker that shares a Redis."""

    def turn(self, host: str) -> AbstractContextManager[None]: ...

    def hold_off(self, host: str, seconds: float) -> None:
        """No turn on `host` starts for `seconds` from now (capped); never shortens a wait."""
        ...


@dataclass
class _HostSlot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_end: float = float("-inf")
    not_before: float = float("-inf")  # set by hold_off


class LocalHostGate:
    """One request at a time per host in this process, `delay` after the previous one ended."""

    def __init__(self, delay: float, *, max_hold_off: float = MAX_HOLD_OFF) -> None:
        self._delay = delay
        self._max_hold_off = max_hold_off
        self._slots: dict[str, _HostSlot] = {}
        self._guard = threading.Lock()

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        slot = self._slot(host)
        with slot.lock:
            # Re-checked after each sleep: a hold-off may have come in meanwhile.
            while (wait := self._next_time(slot) - time.monotonic()) > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                slot.last_end = time.monotonic()

    def hold_off(self, host: str, seconds: float) -> None:
        until = time.monotonic() + min(max(seconds, 0.0), self._max_hold_off)
        slot = self._slot(host)
        with self._guard:
            slot.not_before = max(slot.not_before, until)

    def _slot(self, host: str) -> _HostSlot:
        with self._guard:
            return self._slots.setdefault(host, _HostSlot())

    def _next_time(self, slot: _HostSlot) -> float:
        with self._guard:
            return max(slot.last_end + self._delay, slot.not_before)


__all__ = ["MAX_HOLD_OFF", "HostGate", "LocalHostGate"]
