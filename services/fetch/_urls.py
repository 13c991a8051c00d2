"""Source URLs: normalising them and checking them against the source origins.

Pure: no network. The Fetcher runs every request and every redirect hop through
`source_url`, so what is checked here is exactly what is sent.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from services.errors import PermanentFetchError
from services.settings import Settings, format_origin, origin_key


def normalize_source_url(url: str, settings: Settings) -> str:
    """`url` as the crawler names it (lower-case scheme and host, no default port, no
    fragment), if it is an http(s) URL on one of `settings.source_urls`: same scheme, host
    and port, no user name or password. Otherwise PermanentFetchError, whose `reason` says
    why in words fit for an API client. Pure: no network."""
    return source_url(url, settings.allowed_origins)


def source_url(url: str, allowed: frozenset[tuple[str, str, int]]) -> str:
    """`normalize_source_url` against an already computed `Settings.allowed_origins`."""
    normalized = normalize_url(url)
    key = origin_key(normalized)
    if key not in allowed:
        host = key[1]
        if host not in {h for _, h, _ in allowed}:
            raise PermanentFetchError(url, f"host {host} is not an allowed source host")
        sources = " ".join(sorted(format_origin(*k) for k in allowed))
        origin = format_origin(*key)
        raise PermanentFetchError(url, f"{origin} is not a source origin (those are {sources})")
    return normalized


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, drop default ports and fragments; reject anything that is
    not an absolute http(s) URL with a host, a valid port and no credentials. The URL is
    rebuilt from the parsed parts, so what is checked is what is sent."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = origin_key(url)
    except ValueError as exc:
        raise PermanentFetchError(url, f"invalid URL ({exc})") from None
    if parts.username is not None or parts.password is not None:
        raise PermanentFetchError(url, "invalid URL: credentials are not allowed")
    if port == 0:
        raise PermanentFetchError(url, "invalid URL: port 0")
    origin = format_origin(scheme, host, port)
    return urlunsplit(urlsplit(origin)._replace(path=parts.path or "/", query=parts.query))


def origin_of(url: str) -> str:
    """scheme://host[:port] as `normalize_url` writes it; origin-map keys are written the
    same way, so a lookup never misses on case or a spelled-out default port."""
    try:
        return format_origin(*origin_key(url))
    except ValueError:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower()


def move_origin(url: str, table: dict[str, str]) -> str:
    """`url` with its origin swapped for the one `table` maps it to, if any. A URL with
    credentials or a bad port is left as it is, for `normalize_url` to refuse."""
    try:
        parts = urlsplit(url)
        target = table.get(format_origin(*origin_key(url)))
    except ValueError:
        return url
    if target is None or parts.username is not None or parts.password is not None:
        return url
    moved = urlsplit(target)
    return urlunsplit(parts._replace(scheme=moved.scheme, netloc=moved.netloc))


__all__ = ["move_origin", "normalize_source_url", "normalize_url", "origin_of", "source_url"]
