"""Retry policy for fetches: which failures are retried, and how long the URL and its host wait.

No network: the Fetcher applies these answers (stamina's backoff hook, the host gate's
hold-off). The clock is read only to turn a Retry-After date into seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from services.errors import TransientFetchError

# RFC 9110 sections 15.5.30 and 15.6.4: the server as a whole is overloaded or rate-limiting.
_HOST_BUSY_STATUSES = frozenset({429, 503})


def retry_wait(exc: Exception, cap: float) -> bool | float:
    """Backoff hook: retry only transient errors, waiting what Retry-After asks (at most `cap`);
    True lets the backoff choose the wait."""
    if not isinstance(exc, TransientFetchError):
        return False
    if exc.retry_after is None:
        return True
    return min(exc.retry_after, cap)


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


__all__ = ["host_hold_off", "retry_after", "retry_wait"]
