"""Conditional requests and the gzip variant's validators (RFC 9110 sections 8.8, 12.5.3, 13).

Pure: request headers and validators in, a decision out. Starlette's responses never answer
304, so _app asks these functions instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_ETAG = re.compile(r'(?:W/)?"[^"]*"')


def not_modified(headers: Mapping[str, str], etags: tuple[str, ...], modified: datetime) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match first and, when present, alone; else
    If-Modified-Since. Both are evaluated for GET and HEAD only, which are all we serve."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etags)
    since = _http_date(headers.get("if-modified-since"))
    # Section 13.1.3: false ("modified") unless the representation is not newer than the
    # date; HTTP dates have whole seconds, so compare at that precision.
    return since is not None and modified.replace(microsecond=0) <= since


def etag_matches(header: str, etags: tuple[str, ...]) -> bool:
    """Weak comparison (section 8.8.3.2), as If-None-Match requires; `*` matches any."""
    return matched_etag(header, etags) is not None


def matched_etag(header: str | None, etags: tuple[str, ...]) -> str | None:
    """Which of our tags an If-None-Match value names, the first in `etags` order when it
    names several (or is `*`); None when it names none. A 304 carries this tag, so a client
    keeps the validator of the representation it actually holds."""
    if header is None:
        return None
    if header.strip() == "*":
        return etags[0] if etags else None
    theirs = {tag.removeprefix("W/") for tag in _ETAG.findall(header)}
    return next((tag for tag in etags if tag.removeprefix("W/") in theirs), None)


def _http_date(value: str | None) -> datetime | None:
    # An invalid date is ignored (section 13.1.3), as if the header were absent.
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):  # year 99999999, 9999 at -0100
        return None


def accepts_gzip(value: str | None) -> bool:
    """Whether an Accept-Encoding value takes gzip (section 12.5.3). An explicit gzip (or its
    alias x-gzip) decides; `*` only speaks for codings not listed, so `*;q=1, gzip;q=0`
    refuses gzip. A q of 0, or one we cannot read, refuses."""
    wildcard: bool | None = None
    for item in (value or "").split(","):
        coding, _, params = item.strip().partition(";")
        name = coding.strip().lower()
        if name in ("gzip", "x-gzip"):
            return _quality(params) > 0
        if name == "*" and wildcard is None:
            wildcard = _quality(params) > 0
    return bool(wildcard)


def _quality(params: str) -> float:
    """The q parameter of one list member (`;q=0.5`); absent means 1 (section 12.4.2)."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def gzip_etag(etag: str) -> str:
    """The gzip variant is another representation, so it gets another strong tag (RFC 9110
    section 8.8.3: a strong validator changes with the content coding)."""
    return etag[:-1] + '-gz"'
