"""What really went wrong with a fetch, in words an operator can act on.

A failed exchange names its cause once, first in the reason: the name did not resolve, the
connection was refused, TLS failed, the reply timed out, or the HTTP status. `cause_of`
reads that cause back out of a stored error message, so a crawl can be summed up by cause.
"""

from __future__ import annotations

import re
import socket
import ssl

import httpx

from services.fetch._deadline import Deadline

DNS = "name did not resolve"
REFUSED = "connection refused"
RESET = "connection reset"
TLS = "TLS failed"
TIMEOUT = "timed out"
CONNECTION = "connection failed"
ROBOTS_UNREACHABLE = "robots.txt unreachable"
DEFERRED = "deferred"

_CAUSES = (DNS, REFUSED, RESET, TLS, TIMEOUT, CONNECTION, DEFERRED)
_HTTP = re.compile(r"HTTP \d{3}")


def transport_reason(exc: httpx.TransportError, host: str, deadline: Deadline | None) -> str:
    """The reason for a failed connection or read, its cause first."""
    if isinstance(exc, httpx.TimeoutException):
        return _timeout_reason(exc, deadline)
    inner = _chain(exc)
    if any(isinstance(e, socket.gaierror) for e in inner):
        return f"{DNS} ({host})"
    if any(isinstance(e, ConnectionRefusedError) for e in inner):
        return f"{REFUSED} ({host})"
    for e in inner:
        if isinstance(e, ssl.SSLError):
            return f"{TLS} ({getattr(e, 'reason', None) or e})"
    if any(isinstance(e, ConnectionResetError) for e in inner) or isinstance(
        exc, httpx.RemoteProtocolError
    ):
        return f"{RESET} ({exc or type(exc).__name__})"
    return f"{CONNECTION} ({type(exc).__name__}: {exc})"


def _timeout_reason(exc: httpx.TimeoutException, deadline: Deadline | None) -> str:
    if deadline is not None and deadline.expired:
        return f"{TIMEOUT}: no complete reply within {deadline.seconds:g} s"
    what = {
        httpx.ConnectTimeout: "connecting",
        httpx.ReadTimeout: "waiting for data",
        httpx.WriteTimeout: "sending the request",
        httpx.PoolTimeout: "waiting for a free connection",
    }.get(type(exc), "")
    return f"{TIMEOUT} {what}".rstrip()


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def cause_of(message: str) -> str:
    """The cause a fetch error's message starts with ("HTTP 500", "name did not resolve",
    "robots.txt unreachable (HTTP 503)"), or the message's reason itself."""
    reason = message.removeprefix("fetching: ").removeprefix("parsing: ")
    reason = reason.rsplit(" for ", 1)[0] if " for " in reason else reason
    if reason.startswith(ROBOTS_UNREACHABLE):
        inner = reason[len(ROBOTS_UNREACHABLE) :].strip(" ()")
        return f"{ROBOTS_UNREACHABLE} ({cause_of(inner)})" if inner else ROBOTS_UNREACHABLE
    for cause in _CAUSES:
        if reason.startswith(cause):
            return cause
    found = _HTTP.match(reason)
    if found:
        return found.group(0)
    return reason.split(" (", 1)[0].split(",", 1)[0]


__all__ = [
    "CONNECTION",
    "DEFERRED",
    "DNS",
    "REFUSED",
    "RESET",
    "ROBOTS_UNREACHABLE",
    "TIMEOUT",
    "TLS",
    "cause_of",
    "transport_reason",
]
