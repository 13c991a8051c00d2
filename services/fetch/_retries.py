"""Retry policy for fetches: which failures are retried, for how long, and how long the URL
and its host wait.

No network: the Fetcher applies these answers (stamina's backoff hook, the host gate's
hold-off). Retries are bounded in time as well as in count: each URL has a budget of seconds
and so has the whole crawl, and a Retry-After longer than what is left is a deferral (the URL
and host wait, nobody sleeps), never a sleep.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from services.errors import TransientFetchError

# RFC 9110 sections 15.5.30 and 15.6.4: the server as a whole is overloaded or rate-limiting.
_HOST_BUSY_STATUSES = frozenset({429, 503})


class CrawlBudget:
    """Seconds of retrying left to a whole crawl, shared by every URL of it (thread-safe).

    `renew()` starts a crawl's account; a crawl that never calls it (a worker's tasks) gets a
    fresh account once `window` seconds have passed, so one bad hour does not stop retries
    for good."""

    def __init__(self, seconds: float, window: float) -> None:
        self._seconds = seconds
        self._window = window
        self._lock = threading.Lock()
        self._spent = 0.0
        self._since = time.monotonic()

    def renew(self) -> None:
        with self._lock:
            self._spent, self._since = 0.0, time.monotonic()

    def left(self) -> float:
        with self._lock:
            if time.monotonic() - self._since > self._window:
                self._spent, self._since = 0.0, time.monotonic()
            return self._seconds - self._spent

    def charge(self, seconds: float) -> None:
        with self._lock:
            self._spent += max(0.0, seconds)


class UrlRetries:
    """The retry decisions for one URL: stamina's `on` hook, within both budgets.

    A retry is made only if its wait plus one more whole exchange (`deadline`) still fits in
    the URL's budget and in the crawl's; otherwise the last error stands. What the retries
    cost is charged to the crawl by `finish()`."""

    def __init__(
        self, per_url: float, crawl: CrawlBudget, *, deadline: float, backoff: tuple[float, float]
    ) -> None:
        self._per_url = per_url
        self._crawl = crawl
        self._deadline = deadline
        self._initial, self._max = backoff
        self._started = time.monotonic()
        self._first_end: float | None = None
        self._tries = 0
        self.out_of_budget = False

    def decide(self, exc: Exception) -> bool | float:
        now = time.monotonic()
        if self._first_end is None:
            self._first_end = now
        if not isinstance(exc, TransientFetchError):
            return False
        self._tries += 1
        # The most the backoff may choose (stamina: initial * 2^n plus jitter, capped).
        longest = min(self._max, self._initial * 2 ** (self._tries - 1) + self._initial)
        wait = longest if exc.retry_after is None else exc.retry_after
        cost = wait + self._deadline
        spent = now - self._started
        if spent + cost > self._per_url or (now - self._first_end) + cost > self._crawl.left():
            self.out_of_budget = True
            return False
        return True if exc.retry_after is None else exc.retry_after

    def finish(self) -> None:
        if self._first_end is not None:
            self._crawl.charge(time.monotonic() - self._first_end)


def host_hold_off(exc: TransientFetchError, backoff: float, cap: float) -> float:
    """Seconds every request to the host waits; 0 for none.

    429 and 503 speak for the whole host (RFC 9110 section 10.2.3: Retry-After is how long
    the service expects to be unavailable), so every request to it waits, not only the retry
    of this URL: Retry-After when given, else the backoff before that retry. A 500 or a
    timeout may be one broken page, and holds nothing."""
    if exc.status not in _HOST_BUSY_STATUSES:
        return 0.0
    seconds = backoff if exc.retry_after is None else exc.retry_after
    return min(seconds, cap)


def retry_after(value: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


__all__ = ["CrawlBudget", "UrlRetries", "host_hold_off", "retry_after"]
