"""The lean path for GET and HEAD of feed URLs: from an in-memory cache to the socket, ahead
of Starlette's routing and middleware, which cost more than the answer itself.

Each route maps a feed URL to a cache key (stored feeds and their archive pages by feed key,
query feeds by their parsed query) or refuses it. Only requests a route fully understands are
answered here; everything else, unknown feeds and bad queries included, goes on to the full
app unchanged, which keeps the one set of rules for 400s and the 404 page.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.web._access import LatencyHistogram, Series, log_request
from feeds.web._cache import CachedFeed, FeedCache, Headers, encode_headers
from feeds.web._conditional import accepts_gzip, matched_etag, not_modified
from services.errors import StorageError

log = structlog.get_logger(__name__)

# (path after /feeds/, query string) -> the cache key, or None: not this route's
KeyOf = Callable[[str, bytes], "Hashable | None"]
LeanRoute = tuple[KeyOf, FeedCache]
ROUTE = "/feeds/{path}"
UNAVAILABLE = b"storage unavailable, try again shortly\n"
UNAVAILABLE_HEADERS: Headers = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(UNAVAILABLE)).encode()),
    (b"retry-after", b"30"),
]
_WANTED = (b"if-none-match", b"if-modified-since", b"accept-encoding")


class LeanFeeds:
    """ASGI: answers the feed requests one of `routes` knows from its cache, passes the rest
    to `app`."""

    def __init__(
        self, app: ASGIApp, routes: Sequence[LeanRoute], histogram: LatencyHistogram
    ) -> None:
        self.app, self.routes, self.histogram = app, tuple(routes), histogram

    @property
    def state(self) -> Any:
        """The wrapped Starlette app's state (its broker and query cache), as on the app."""
        return getattr(self.app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _route(scope, self.routes)
        if found is None:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        key, cache = found
        try:
            feed = await cache.get(key)
        except StorageError:
            status, headers, body = 503, UNAVAILABLE_HEADERS, UNAVAILABLE
        else:
            if feed is None:  # not stored: the full app's 404 page
                await self.app(scope, receive, send)
                return
            status, headers, body = answer(feed, scope["headers"])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        head = scope["method"] == "HEAD"
        await send({"type": "http.response.body", "body": b"" if head else body})
        self.answered(scope["method"], scope["path"], status, time.perf_counter() - start)

    def at_once(
        self, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
    ) -> tuple[int, bytes, bytes] | None:
        """The answer to a request that needs no await: a GET or HEAD of a feed a route knows,
        whose cached copy is fresh, as its status, its header lines encoded and its body.
        None for the rest, which go through __call__."""
        found = _find(method, path, query, self.routes)
        feed = None if found is None else found[1].fresh(found[0])
        if feed is None:
            return None
        status, chosen, body = answer(feed, headers)
        lines = feed.encoded.get(id(chosen))
        return status, encode_headers(chosen) if lines is None else lines, body

    def answered(self, method: str, path: str, status: int, seconds: float) -> None:
        """What a request answered outside __call__ leaves behind, as one answered inside."""
        self._timer(method, status).observe(seconds)
        log_request(method, path, ROUTE, status, seconds)

    @functools.cache  # noqa: B019  (one app per process; a few methods times a few statuses)
    def _timer(self, method: str, status: int) -> Series:
        return self.histogram.labels(method, ROUTE, str(status))


def _route(scope: Scope, routes: tuple[LeanRoute, ...]) -> tuple[Hashable, FeedCache] | None:
    if scope["type"] != "http":
        return None
    return _find(scope["method"], scope["path"], scope["query_string"], routes)


def _find(
    method: str, path: str, query: bytes, routes: tuple[LeanRoute, ...]
) -> tuple[Hashable, FeedCache] | None:
    """The cache key and cache of a GET or HEAD of a feed URL a route knows."""
    if method not in ("GET", "HEAD") or not path.startswith("/feeds/"):
        return None
    for key_of, cache in routes:
        key = key_of(path[7:], query)
        if key is not None:
            return key, cache
    return None


def answer(
    feed: CachedFeed, request_headers: list[tuple[bytes, bytes]]
) -> tuple[int, Headers, bytes]:
    """Status, headers and body for one request, by the rules of _conditional: either
    variant's tag validates, and a 304 carries the tag the client holds."""
    found: dict[str, str] = {}
    for name, value in request_headers:
        if name in _WANTED and name.decode() not in found:
            if name == b"if-none-match" and value in feed.exact_304:
                return 304, feed.exact_304[value], b""
            found[name.decode()] = value.decode("latin-1")
    zipped = _accepts_gzip(found.get("accept-encoding"))
    ours = (feed.gz_etag, feed.etag) if zipped else (feed.etag, feed.gz_etag)
    if not_modified(found, ours, feed.last_modified):
        tag = matched_etag(found.get("if-none-match"), ours) or ours[0]
        return 304, [*feed.common, (b"etag", tag.encode())], b""
    if zipped:
        return 200, feed.zipped, feed.gz_body
    return 200, feed.identity, feed.body


@functools.lru_cache(maxsize=256)
def _accepts_gzip(value: str | None) -> bool:
    # clients send a handful of distinct Accept-Encoding values; parse each once
    return accepts_gzip(value)
