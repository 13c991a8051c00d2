"""The HTTP service: routes and thin handlers over stored feed bytes, OPML, health and metrics.

Nothing is rendered on a request: feeds come from Redis as feeds.publish stored them. Plain
feed requests are answered from memory by _lean and _cache, ahead of Starlette; the routes
here answer the rest. The rules live beside this module: conditional requests in
_conditional, the HTML pages in _pages, the admin API in _api, metrics in _metrics.
"""

from __future__ import annotations

import functools
import gzip
import re
import threading
from collections import OrderedDict
from datetime import UTC
from email.utils import format_datetime

import structlog
import uvicorn
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from feeds.catalog import cache_control
from feeds.publish import PublishError, labels, publish_all, published_feeds
from feeds.render import FeedSpec, Fmt
from feeds.web import _pages as pages
from feeds.web._api import MAX_BODY, AdminApi, bearer_ok, parse_recrawl
from feeds.web._cache import CACHE_CONTROL, REVALIDATE_AFTER, FeedCache
from feeds.web._conditional import (
    accepts_gzip,
    etag_matches,
    gzip_etag,
    matched_etag,
    not_modified,
)
from feeds.web._health import health_report
from feeds.web._lean import LeanFeeds
from feeds.web._metrics import RequestTiming, StoreCollector, latency_histogram, metrics_endpoint
from feeds.web._opml import opml_document
from feeds.web._protocol import BoundedHttpToolsProtocol
from feeds.web._query import QueryFeeds
from feeds.web._site import Site
from services.broker import Broker, broker_url
from services.errors import StorageError
from services.model import LANGUAGES
from services.settings import Settings
from services.storage import Store, StoredFeed

log = structlog.get_logger(__name__)

__all__ = [
    "CACHE_CONTROL",
    "MAX_BODY",
    "accepts_gzip",
    "bearer_ok",
    "create_app",
    "etag_matches",
    "feed_title",
    "gzip_etag",
    "not_modified",
    "parse_recrawl",
    "serve",
]

REDIS_TIMEOUT = 0.5  # seconds: a 503 well within a second of Redis hanging
# Current documents: the lean path serves them from memory.
_FEED_PATH = re.compile(
    r"(all|topics/[a-z0-9][a-z0-9-]*|speakers/[a-z0-9][a-z0-9-]*)\.(atom|rss|json)"
)
# Every stored document, archive pages included (their Cache-Control is their own).
_ANY_FEED_PATH = re.compile(
    r"((?:all|topics/[a-z0-9][a-z0-9-]*|speakers/[a-z0-9][a-z0-9-]*)"
    r"(?:/archive/(?:open|[1-9][0-9]{0,8}))?)\.(atom|rss|json)"
)


def plain_feed_key(path: str, query: bytes) -> str | None:
    """The stored key of a feed path (after /feeds/) with no query but a valid `lang`, for
    the lean path; None for anything else, which the full handler answers."""
    match = _FEED_PATH.fullmatch(path)
    if match is None:
        return None
    if not query:
        return f"{match.group(1)}.{match.group(2)}"
    lang = query.removeprefix(b"lang=").decode("latin-1")
    if not query.startswith(b"lang=") or lang not in LANGUAGES:
        return None
    return f"{match.group(1)}@{lang}.{match.group(2)}"


def feed_title(spec: FeedSpec) -> str:
    """The feed's listed title with the registry's names (see _pages.feed_title)."""
    return pages.feed_title(spec, labels())


class _GzipCache:
    """Compressed bodies by feed and ETag: each feed version is compressed once, not per hit.

    Sync handlers run in Starlette's thread pool, so the OrderedDict is guarded by a lock;
    compressing happens outside it (two threads may compress the same version once each,
    which is harmless) so a slow compression does not hold up hits on other feeds."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, feed: StoredFeed) -> bytes:
        with self._lock:
            known = self._items.get(feed.feed_key)
            if known is not None and known[0] == feed.etag:
                self._items.move_to_end(feed.feed_key)
                return known[1]
        body = gzip.compress(feed.body, compresslevel=6, mtime=0)
        with self._lock:
            self._items[feed.feed_key] = (feed.etag, body)
            self._items.move_to_end(feed.feed_key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return body


class _App:
    """Handlers bound to one store, settings and broker; kept thin, the work is elsewhere."""

    def __init__(self, settings: Settings, store: Store, broker: Broker | None) -> None:
        self.settings, self.store, self.broker = settings, store, broker
        self.gzip = _GzipCache()
        self.queries = QueryFeeds(settings, store)

    def feed(self, request: Request) -> Response:
        match = _ANY_FEED_PATH.fullmatch(request.path_params["path"])
        lang = request.query_params.get("lang")
        if lang is not None and lang not in LANGUAGES:
            reason = f"lang must be one of {', '.join(LANGUAGES)}"
            return Response(reason + "\n", 400, media_type="text/plain; charset=utf-8")
        if match and QueryFeeds.wanted(request, match.group(1)):
            return self.queries.respond(request, match.group(2))  # type: ignore[arg-type]
        stored = None
        if match:
            base = match.group(1) + (f"@{lang}" if lang else "")
            stored = self.store.get_feed(f"{base}.{match.group(2)}")
        if stored is None:
            return self.not_found(request)
        return _feed_response(request, stored, self.gzip)

    def not_found(self, request: Request, exc: Exception | None = None) -> Response:
        page = pages.not_found_page(published_feeds(self.store), labels())
        return HTMLResponse(page, status_code=404)

    def opml(self, request: Request) -> Response:
        fmt: Fmt = "rss" if request.query_params.get("format") == "rss" else "atom"
        lang = request.query_params.get("lang")
        if lang is not None and lang not in LANGUAGES:
            reason = f"lang must be one of {', '.join(LANGUAGES)}"
            return Response(reason + "\n", 400, media_type="text/plain; charset=utf-8")
        base = self.settings.public_url.rstrip("/")
        specs = published_feeds(self.store)
        body = opml_document(specs, labels(), base_url=base, fmt=fmt, language=lang)
        return Response(body, media_type="text/x-opml; charset=utf-8")

    def healthz(self, request: Request) -> Response:
        status, body = health_report(self.store)
        retry = {"Retry-After": "30"} if status == 503 else None
        return JSONResponse(body, status_code=status, headers=retry)


def _feed_response(request: Request, stored: StoredFeed, cache: _GzipCache) -> Response:
    zipped = accepts_gzip(request.headers.get("accept-encoding"))
    etag = gzip_etag(stored.etag) if zipped else stored.etag
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(stored.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": cache_control(stored.feed_key, CACHE_CONTROL),
        "Vary": "Accept-Encoding",
    }
    # Either variant's tag validates: both name the same feed bytes (RFC 9110 section 13.2.2).
    # The selected variant's tag first, so `*` and If-Modified-Since answer with it.
    ours = (etag, stored.etag if zipped else gzip_etag(stored.etag))
    if not_modified(request.headers, ours, stored.last_modified):
        # the tag the client holds: a client that revalidates its identity copy while now
        # accepting gzip must not be told its copy is the gzip variant
        headers["ETag"] = matched_etag(request.headers.get("if-none-match"), ours) or etag
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
        return Response(cache.get(stored), media_type=stored.content_type, headers=headers)
    return Response(stored.body, media_type=stored.content_type, headers=headers)


def _storage_unavailable(request: Request, exc: Exception) -> Response:
    """Redis is down: say so with a 503 a reader will retry, not a bare 500."""
    log.warning("web.storage_unavailable", path=request.url.path, error=str(exc))
    return Response(
        "storage unavailable, try again shortly\n",
        503,
        media_type="text/plain; charset=utf-8",
        headers={"Retry-After": "30"},
    )


def create_app(
    settings: Settings,
    store: Store,
    *,
    broker_url: str | None = None,
    revalidate_after: float = REVALIDATE_AFTER,
) -> LeanFeeds:
    """The web app over one store. Without `broker_url` the admin API cannot enqueue (503)
    and /healthz reports workers as not configured. Plain feed requests are answered from
    memory, revalidated against Redis every `revalidate_after` seconds (see _cache)."""
    broker = Broker(broker_url) if broker_url else None
    handlers = _App(settings, store, broker)
    admin = AdminApi(settings, store, broker)
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    latency = latency_histogram(registry)
    routes = [
        *Site(store).routes(),
        Route("/feeds/{path:path}", handlers.feed),
        Route("/feeds.opml", handlers.opml),
        Route("/api/recrawl", admin.recrawl, methods=["POST"]),
        Route("/api/jobs/{job_id}", admin.job),
        Route("/healthz", handlers.healthz),
        Route("/metrics", metrics_endpoint(registry)),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: handlers.not_found, StorageError: _storage_unavailable},
    )
    # a redirect to the slashed or unslashed path would be built from the Host header
    app.router.redirect_slashes = False
    app.add_middleware(RequestTiming, histogram=latency)
    app.state.broker = broker
    app.state.queries = handlers.queries
    cache = FeedCache(store, revalidate_after=revalidate_after)
    # a few hundred feed URLs are asked for over and over: match each one once
    feed_key = functools.lru_cache(maxsize=4096)(plain_feed_key)
    return LeanFeeds(app, cache, feed_key, latency)


def web_store(redis_url: str) -> Store:
    """The app's store: a hung Redis fails each command within REDIS_TIMEOUT, so a reader
    gets a 503 it will retry instead of a request that hangs until its own timeout."""
    return Store.from_url(redis_url, timeout=REDIS_TIMEOUT)


def serve(settings: Settings, redis_url: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Publish every feed once (so a fresh start serves feeds), then serve until stopped.

    A feed that fails to render does not stop the service: its previous bytes are in Redis
    and are served, and the failure is logged (and counted in /metrics)."""
    publisher = Store.from_url(redis_url)
    try:
        publish_all(publisher, settings)
    except PublishError as exc:
        log.error("web.publish_failed", failed=list(exc.failed), error=str(exc))
    finally:
        publisher.close()
    store = web_store(redis_url)
    try:
        app = create_app(settings, store, broker_url=broker_url(redis_url))
        # log_config=None: uvicorn keeps the process's structured handler instead of its own
        uvicorn.run(
            app,
            host=host,
            port=port,
            http=BoundedHttpToolsProtocol,
            log_level="info",
            log_config=None,
            access_log=False,
        )
    finally:
        store.close()
