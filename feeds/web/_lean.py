"""The lean path for GET and HEAD of a plain feed URL: from the in-memory cache to the socket,
ahead of Starlette's routing and middleware, which cost more than the answer itself.

Only requests it fully understands are answered here (a known feed key, no query but `lang`);
everything else, unknown feeds included, goes on to the full app unchanged, which keeps
the one set of rules for 400s and the 404 page.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from prometheus_client import Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.web._cache import CachedFeed, FeedCache, Headers
from feeds.web._conditional import accepts_gzip, matched_etag, not_modified
from services.errors import StorageError

log = structlog.get_logger(__name__)

FeedKeyOf = Callable[[str, bytes], "str | None"]
ROUTE = "/feeds/{path}"
UNAVAILABLE = b"storage unavailable, try again shortly\n"
UNAVAILABLE_HEADERS: Headers = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(UNAVAILABLE)).encode()),
    (b"retry-after", b"30"),
]
_WANTED = (b"if-none-match", b"if-modified-since", b"accept-encoding")


class LeanFeeds:
    """ASGI: answers plain feed requests from `cache`, passes the rest to `app`."""

    def __init__(
        self, app: ASGIApp, cache: FeedCache, feed_key: FeedKeyOf, histogram: Histogram
    ) -> None:
        self.app, self.cache, self.feed_key, self.histogram = app, cache, feed_key, histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _key_of(scope, self.feed_key)
        if key is None:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            feed = await self.cache.get(key)
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
        self.histogram.labels(scope["method"], ROUTE, str(status)).observe(
            time.perf_counter() - start
        )


def _key_of(scope: Scope, feed_key: FeedKeyOf) -> str | None:
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return None
    path: str = scope["path"]
    if not path.startswith("/feeds/"):
        return None
    return feed_key(path[7:], scope["query_string"])


def answer(feed: CachedFeed, request_headers: list[tuple[bytes, bytes]]) -> tuple[
    int, Headers, bytes
]:
    """Status, headers and body for one request, by the rules of _conditional: either
    variant's tag validates, and a 304 carries the tag the client holds."""
    found: dict[str, str] = {}
    for name, value in request_headers:
        if name in _WANTED:
            found.setdefault(name.decode(), value.decode("latin-1"))
    zipped = accepts_gzip(found.get("accept-encoding"))
    ours = (feed.gz_etag, feed.etag) if zipped else (feed.etag, feed.gz_etag)
    if not_modified(found, ours, feed.last_modified):
        tag = matched_etag(found.get("if-none-match"), ours) or ours[0]
        return 304, [*feed.common, (b"etag", tag.encode())], b""
    if zipped:
        return 200, feed.zipped, feed.gz_body
    return 200, feed.identity, feed.body
