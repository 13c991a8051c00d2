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

# The longest a host is left alone on its own say (Retry-After): a host that asks for an
# hour gets its hour, but a hostile or broken header must not stop its crawl for days.
MAX_HOLD_OFF = 86400.0


class HostHeldOff(Exception):
    """The host's turn is further off than the caller would wait: defer, do not sleep."""

    def __init__(self, host: str, seconds: float) -> None:
        super().__init__(f"{host} is held off for {seconds:.0f} s more")
        self.host = host
        self.seconds = seconds


class HostGate(Protocol):
    """Whose turn it is to ask a host. The local gate serves one process; a shared one
    (_shared_turns) serves every worker that shares a Redis."""

    def turn(self, host: str, max_wait: float | None = None) -> AbstractContextManager[None]:
        """Wait for the host's turn and hold it for the block; HostHeldOff if that wait
        would be longer than `max_wait` seconds (None: however long)."""
        ...

    def hold_off(self, host: str, seconds: float) -> None:
        """No turn on `host` starts for `seconds` from now (capped); never shortens a wait."""
        ...

    def keeping(self) -> AbstractContextManager[None]:
        """Within the block, this thread may keep a host between its turns (crawl delay
        still kept between requests); released when the block ends."""
        ...

    def let_go(self) -> None:
        """Release what this thread keeps now (see keeping)."""
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
    def turn(self, host: str, max_wait: float | None = None) -> Iterator[None]:
        slot = self._slot(host)
        with slot.lock:
            # Re-checked after each sleep: a hold-off may have come in meanwhile.
            while (wait := self._next_time(slot) - time.monotonic()) > 0:
                if max_wait is not None and wait > max_wait:
                    raise HostHeldOff(host, wait)
                time.sleep(wait)
            try:
                yield
            finally:
                slot.last_end = time.monotonic()

    @contextmanager
    def keeping(self) -> Iterator[None]:
        yield  # a turn in this process costs no round trip: nothing to keep

    def let_go(self) -> None:
        pass

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


__all__ = ["MAX_HOLD_OFF", "HostGate", "HostHeldOff", "LocalHostGate"]
