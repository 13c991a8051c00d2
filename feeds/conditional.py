"""Conditional requests and the gzip variant's validators (RFC 9110 sections 8.8, 12.5.3, 13).

Pure: request headers and validators in, a decision out. Starlette's responses never answer
304, so feeds.web asks these functions instead.
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
    if header.strip() == "*":
        return True
    ours = {tag.removeprefix("W/") for tag in etags}
    return any(tag.removeprefix("W/") in ours for tag in _ETAG.findall(header))


def _http_date(value: str | None) -> datetime | None:
    # An invalid date is ignored (section 13.1.3), as if the header were absent.
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def accepts_gzip(value: str | None) -> bool:
    """Whether an Accept-Encoding value takes gzip (section 12.5.3): the first gzip, x-gzip
    or `*` coding listed decides, and a q of 0 (or one we cannot read) refuses it."""
    for item in (value or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else ""
            return not q or _quality(q) > 0
    return False


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def gzip_etag(etag: str) -> str:
    """The gzip variant is another representation, so it gets another strong tag (RFC 9110
    section 8.8.3: a strong validator changes with the content coding)."""
    return etag[:-1] + '-gz"'
