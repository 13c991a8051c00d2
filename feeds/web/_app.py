"""The HTTP service: routes and thin handlers over stored feed bytes, OPML, health and metrics.

Stored feeds come from Redis as feeds.publish stored them; query feeds are rendered once per
query and data generation (_query). Both are kept in memory (_cache) and answered by _lean
ahead of Starlette; the feed route here answers what _lean leaves (bad parameters, unknown
feeds, odd query strings) from the same caches, and the other routes the rest. The rules
live beside this module: conditional requests in _conditional, the HTML pages in _pages,
the admin API in _api, metrics in _metrics.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Hashable
from typing import Any

import structlog
import uvicorn
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from feeds.catalog import DOCUMENT_PATH, FORMAT
from feeds.publish import PublishError, labels, publish_all, published_feeds
from feeds.render import FeedSpec, Fmt, QueryError
from feeds.web import _pages as pages
from feeds.web._access import RequestTiming, latency_histogram
from feeds.web._api import MAX_BODY, AdminApi, bearer_ok, parse_recrawl
from feeds.web._cache import CACHE_CONTROL, REVALIDATE_AFTER, FeedCache, Headers, stored_feeds
from feeds.web._conditional import accepts_gzip, etag_matches, gzip_etag, not_modified
from feeds.web._health import health_report
from feeds.web._lean import LeanFeeds, LeanRoute, answer
from feeds.web._metrics import StoreCollector, metrics_endpoint
from feeds.web._opml import opml_document
from feeds.web._protocol import BoundedHttpToolsProtocol
from feeds.web._query import QueryFeeds
from feeds.web._site import Site
from services.broker import Broker, broker_url
from services.errors import StorageError
from services.logs import flush_fields
from services.model import LANGUAGES
from services.settings import Settings
from services.storage import Store

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
# Longer feed paths and query strings are no feed the lean path knows; refused before they
# reach its match caches, which must not fill with a hostile client's long URLs.
LEAN_PATH_CHARS = 200
_LANG_QUERY_CHARS = len("lang=xx")
# Every stored document, archive pages included (their Cache-Control is their own).
_ANY_FEED_PATH = re.compile(rf"({DOCUMENT_PATH})\.({FORMAT})")


def plain_feed_key(path: str, query: bytes) -> str | None:
    """The stored key of a feed path (after /feeds/), current document or archive page, with
    no query but a valid `lang`, for the lean path; None for anything else, which the full
    handler answers."""
    match = _ANY_FEED_PATH.fullmatch(path)
    if match is None:
        return None
    if not query:
        return stored_key(match.group(1), None, match.group(2))
    lang = query.removeprefix(b"lang=").decode("latin-1")
    if not query.startswith(b"lang=") or lang not in LANGUAGES:
        return None
    return stored_key(match.group(1), lang, match.group(2))


def stored_key(base: str, lang: str | None, fmt: str) -> str:
    """The key publishing stores a document under: `topics/x.atom`, `all/archive/3@ru.rss`."""
    return f"{base}@{lang}.{fmt}" if lang else f"{base}.{fmt}"


def feed_title(spec: FeedSpec) -> str:
    """The feed's listed title with the registry's names (see _pages.feed_title)."""
    return pages.feed_title(spec, labels())


class _App:
    """Handlers bound to one store, settings and broker; kept thin, the work is elsewhere."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        broker: Broker | None,
        revalidate_after: float = REVALIDATE_AFTER,
    ) -> None:
        self.settings, self.store, self.broker = settings, store, broker
        self.feeds = FeedCache(stored_feeds(store), revalidate_after=revalidate_after)
        self.queries = QueryFeeds(settings, store, revalidate_after)

    def lean_routes(self) -> list[LeanRoute]:
        """What _lean answers from memory: stored feeds, then query feeds."""
        # a few hundred feed URLs are asked for over and over: match each one once
        plain_key = functools.lru_cache(maxsize=4096)(plain_feed_key)

        def stored(path: str, query: bytes) -> str | None:
            if len(path) > LEAN_PATH_CHARS or len(query) > _LANG_QUERY_CHARS:
                return None
            return plain_key(path, query)

        def queried(path: str, query: bytes) -> Hashable | None:
            fmt = _QUERY_FEEDS.get(path)
            return self.queries.key(fmt, query) if fmt and query else None

        return [(stored, self.feeds), (queried, self.queries.cache)]

    async def feed(self, request: Request) -> Response:
        """What the lean path left: the same caches behind the rules for bad parameters."""
        match = _ANY_FEED_PATH.fullmatch(request.path_params["path"])
        params = request.query_params
        lang = params.get("lang")
        if lang is not None and lang not in LANGUAGES:
            return _bad_request(f"lang must be one of {', '.join(LANGUAGES)}")
        if match is None:
            return await run_in_threadpool(self.not_found, request)
        base, fmt = match.group(1), match.group(2)
        key: Hashable
        if QueryFeeds.wanted(params, base):
            try:
                key, cache = (fmt, self.queries.parse(params)), self.queries.cache
            except QueryError as exc:
                return _bad_request(str(exc))
        else:  # a stored feed, whatever other parameters (a tracker's, say) come with it
            key, cache = stored_key(base, lang, fmt), self.feeds
        feed = await cache.get(key)
        if feed is None:
            return await run_in_threadpool(self.not_found, request)
        status, headers, body = answer(feed, request.headers.raw)
        return _raw_response(status, headers, b"" if request.method == "HEAD" else body)

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


_QUERY_FEEDS: dict[str, Fmt] = {"all.atom": "atom", "all.rss": "rss", "all.json": "json"}


def _bad_request(reason: str) -> Response:
    return Response(reason + "\n", 400, media_type="text/plain; charset=utf-8")


def _raw_response(status: int, headers: Headers, body: bytes) -> Response:
    """A response with the cache's prepared header list as it is (Content-Length included)."""
    response = Response(status_code=status)
    response.body = body
    response.raw_headers = list(headers)
    return response


def _storage_unavailable(request: Request, exc: Exception) -> Response:
    """Redis is down: say so with a 503 a reader will retry, not a bare 500."""
    log.warning("web.storage_unavailable", path=request.url.path, error=str(exc))
    return Response(
        "storage unavailable, try again shortly\n",
        503,
        media_type="text/plain; charset=utf-8",
        headers={"Retry-After": "30"},
    )


@contextlib.asynccontextmanager
async def _flush_logs_at_shutdown(app: Starlette) -> AsyncIterator[None]:
    """uvicorn ends on SIGTERM by raising the signal again once it has shut down, which
    skips atexit: the last batch of access lines is written here, at the lifespan's end."""
    yield
    flush_fields()


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
    handlers = _App(settings, store, broker, revalidate_after)
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
        lifespan=_flush_logs_at_shutdown,
        exception_handlers={404: handlers.not_found, StorageError: _storage_unavailable},
    )
    # a redirect to the slashed or unslashed path would be built from the Host header
    app.router.redirect_slashes = False
    app.add_middleware(RequestTiming, histogram=latency)
    app.state.broker = broker
    app.state.queries = handlers.queries
    return LeanFeeds(app, handlers.lean_routes(), latency)


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
        uvicorn.run(app, host=host, port=port, **server_options())
    finally:
        store.close()


def server_options(**overrides: Any) -> dict[str, Any]:
    """How uvicorn serves the app: its own protocol (feeds.web._protocol) over httptools, on
    uvloop where there is one. Tests that start the app in process take the same."""
    options: dict[str, Any] = {
        "http": BoundedHttpToolsProtocol,
        "log_level": "info",
        # uvicorn keeps the process's structured handler instead of its own
        "log_config": None,
        "access_log": False,  # feeds.web._access writes one line per request
        # Nothing here reads the client's address or scheme (feed links come from
        # public_url), so X-Forwarded-* would be parsed on every request for nothing; and
        # the server's name is nobody's business.
        "proxy_headers": False,
        "server_header": False,
    }
    return options | overrides
