"""One HTTP exchange on the wire, bounded: a total deadline (_deadline), the body decoded
layer by layer under the size limit (_decode), and every failure given its real cause
(_causes). No retries, redirects or politeness here: the Fetcher adds those.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from services.errors import PermanentFetchError, TransientFetchError
from services.fetch._causes import transport_reason
from services.fetch._deadline import Deadline, within
from services.fetch._decode import (
    DecodeError,
    TooLarge,
    decode_bounded,
    encodings_of,
    format_size,
)
from services.fetch._retries import retry_after
from services.fetch._turns import MAX_HOLD_OFF

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Only what _decode undoes: httpx would otherwise offer br and zstd when they are installed.
ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes


def exchange(
    client: httpx.Client,
    url: str,
    wire_url: str,
    headers: dict[str, str],
    *,
    limit: int,
    truncate: bool,
    deadline: float,
) -> Reply:
    """GET `wire_url` (the address `url` is sent to) within `deadline` seconds in all."""
    clock: Deadline | None = None
    try:
        with within(deadline) as clock, client.stream("GET", wire_url, headers=headers) as r:
            return _reply(url, r, limit, truncate)
    except httpx.TransportError as exc:
        reason = transport_reason(exc, urlsplit(wire_url).netloc, clock)
        raise TransientFetchError(url, reason) from exc
    except httpx.InvalidURL as exc:
        raise PermanentFetchError(url, f"invalid URL ({exc})") from exc


def _reply(url: str, response: httpx.Response, limit: int, truncate: bool) -> Reply:
    status = response.status_code
    if status == 304:
        # A 304 has no body (h11 reads none whatever the headers say), but its end must be
        # read for the connection to go back to the pool: left unread, closing the response
        # closed the connection, and each revalidation paid a new connection (and TLS).
        for _ in response.iter_raw():
            pass
        return Reply(status, response.headers, b"")
    if status in REDIRECT_STATUSES:
        return Reply(status, response.headers, b"")
    if status == 429 or status >= 500:
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is not None:
            # A host that asks for an hour gets it; one that asks for years gets a day.
            wait = min(wait, MAX_HOLD_OFF)
        raise TransientFetchError(url, f"HTTP {status}", status=status, retry_after=wait)
    if status >= 400:
        raise PermanentFetchError(url, f"HTTP {status}", status=status)
    if not 200 <= status < 300:
        raise PermanentFetchError(url, f"unexpected HTTP {status}", status=status)
    return Reply(status, response.headers, _read_body(url, response, limit, truncate))


def _read_body(url: str, response: httpx.Response, limit: int, truncate: bool) -> bytes:
    """Raw bytes off the wire (iter_raw: httpx decodes nothing), inflated by _decode, which
    stops at the limit however the layers are stacked."""
    try:
        encodings = encodings_of(response.headers.get("Content-Encoding"))
    except DecodeError as exc:
        raise PermanentFetchError(url, str(exc)) from None
    declared = response.headers.get("Content-Length", "")
    if not truncate and not encodings and declared.isdigit() and int(declared) > limit:
        raise PermanentFetchError(url, f"body of {declared} bytes exceeds {format_size(limit)}")
    try:
        return decode_bounded(response.iter_raw(), encodings, limit=limit, truncate=truncate)
    except (TooLarge, DecodeError) as exc:
        raise PermanentFetchError(url, str(exc)) from None


__all__ = ["ACCEPT_ENCODING", "REDIRECT_STATUSES", "Reply", "exchange"]
