"""The HTTP service: stored feed bytes with validators, the index page, OPML and the admin API.

Nothing is rendered on a request: feeds come from Redis as feeds.publish stored them. The
conditional request rules (RFC 9110 section 13) are implemented here, since Starlette's file
responses never answer 304.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import urlsplit

import structlog
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feeds.opml import render_opml
from feeds.publish import labels, publish_all, published_feeds
from feeds.render import FeedSpec, Fmt
from services.broker import Broker, broker_url
from services.errors import StorageError
from services.model import LANGUAGES
from services.people import get_person
from services.settings import Settings
from services.storage import Store, StoredFeed
from services.topics import get_topic

log = structlog.get_logger(__name__)

CACHE_CONTROL = "public, max-age=300"
MAX_BODY = 16 * 1024
_FEED_PATH = re.compile(r"(all|topics/[a-z0-9][a-z0-9-]*|speakers/[a-z0-9][a-z0-9-]*)\.(atom|rss)")
_ETAG = re.compile(r'(?:W/)?"[^"]*"')
_JOB_ID = re.compile(r"[0-9a-f]{32}")
_LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "be": "Беларуская"}
_MIME = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
_PAGE = Template(resources.files("feeds").joinpath("templates/page.html").read_text("utf-8"))


# ---------------------------------------------------------------- conditional requests


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


class _GzipCache:
    """Compressed bodies by feed and ETag: each feed version is compressed once, not per hit."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._size = size

    def get(self, feed: StoredFeed) -> bytes:
        known = self._items.get(feed.feed_key)
        if known is not None and known[0] == feed.etag:
            self._items.move_to_end(feed.feed_key)
            return known[1]
        body = gzip.compress(feed.body, compresslevel=6, mtime=0)
        self._items[feed.feed_key] = (feed.etag, body)
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return body


# ---------------------------------------------------------------- the app


class _App:
    """Handlers bound to one store, settings and broker; kept thin, the work is elsewhere."""

    def __init__(self, settings: Settings, store: Store, broker: Broker | None) -> None:
        self.settings, self.store, self.broker = settings, store, broker
        self.gzip = _GzipCache()

    def feed(self, request: Request) -> Response:
        match = _FEED_PATH.fullmatch(request.path_params["path"])
        lang = request.query_params.get("lang")
        if lang is not None and lang not in LANGUAGES:
            reason = f"lang must be one of {', '.join(LANGUAGES)}"
            return Response(reason + "\n", 400, media_type="text/plain; charset=utf-8")
        stored = None
        if match:
            base = match.group(1) + (f"@{lang}" if lang else "")
            stored = self.store.get_feed(f"{base}.{match.group(2)}")
        if stored is None:
            return self.not_found(request)
        return _feed_response(request, stored, self.gzip)

    def not_found(self, request: Request, exc: Exception | None = None) -> Response:
        body = "<h1>No such feed</h1><p>These feeds exist:</p>" + _feed_list_html(self.store)
        return HTMLResponse(_page("Not found", body), status_code=404)

    def index(self, request: Request) -> Response:
        specs = published_feeds(self.store)
        counts = self.store.speaker_answer_counts()
        head = "\n".join(
            f'<link rel="alternate" type="{_MIME[fmt]}" title="{escape(feed_title(s))}'
            f' ({fmt.upper()})" href="{escape(s.path(fmt))}">'
            for s in specs
            for fmt in ("atom", "rss")
        )
        return HTMLResponse(_page("NAM-media feeds", _index_body(specs, counts), head))

    def opml(self, request: Request) -> Response:
        fmt: Fmt = "rss" if request.query_params.get("format") == "rss" else "atom"
        base = self.settings.public_url.rstrip("/")
        refs = [
            (feed_title(s), base + s.path(fmt), base + "/") for s in published_feeds(self.store)
        ]
        return Response(render_opml(refs), media_type="text/x-opml; charset=utf-8")

    async def recrawl(self, request: Request) -> Response:
        token = self.settings.admin_token
        if not token:
            return _error(503, "the admin API is disabled: NAMFEEDS_ADMIN_TOKEN is not set")
        if not bearer_ok(request.headers.get("authorization"), token):
            return _error(401, "a valid Authorization: Bearer token is required", auth=True)
        body = await request.body()
        parsed = parse_recrawl(body, self.settings.allowed_hosts)
        if isinstance(parsed, str):
            return _error(400, parsed)
        if self.broker is None:
            return _error(503, "no task broker is configured")
        return self._enqueue(*parsed)

    def _enqueue(self, url: str | None, force: bool) -> Response:
        kind = "crawl_url" if url else "discover"
        job_id = self.store.create_job(kind, {"url": url, "force": force})
        kwargs: dict[str, Any] = {"force": force, "job_id": job_id}
        if url:
            kwargs["url"] = url
        assert self.broker is not None
        try:
            self.broker.send_task(f"nam.{kind}", kwargs)
        except Exception as exc:  # any broker failure: the job is marked, the client told
            log.warning("recrawl.enqueue_failed", job_id=job_id, error=str(exc))
            self.store.update_job(job_id, status="failed", error="the task broker is unreachable")
            return _error(503, "the task broker is unreachable", job_id=job_id)
        log.info("recrawl.queued", job_id=job_id, url=url, force=force)
        return JSONResponse({"job_id": job_id, "status": "queued"}, status_code=202)

    def job(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        job = self.store.get_job(job_id) if _JOB_ID.fullmatch(job_id) else None
        if job is None:
            return _error(404, f"no job {job_id}")
        return JSONResponse(job)

    def healthz(self, request: Request) -> Response:
        try:
            self.store.ping()
        except StorageError as exc:
            return JSONResponse({"status": "down", "redis": str(exc)}, status_code=503)
        workers = self._workers()
        return JSONResponse({"status": "ok", "redis": "ok", "workers": workers})

    def _workers(self) -> dict[str, Any]:
        if self.broker is None:
            return {"status": "not configured"}
        try:
            count = self.broker.ping_workers(timeout=0.5)
        except Exception as exc:  # a broker that is down is reported, not raised
            return {"status": "unreachable", "error": type(exc).__name__}
        return {"status": "ok" if count else "none", "count": count}


def _feed_response(request: Request, stored: StoredFeed, cache: _GzipCache) -> Response:
    zipped = accepts_gzip(request.headers.get("accept-encoding"))
    etag = gzip_etag(stored.etag) if zipped else stored.etag
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(stored.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    # Either variant's tag validates: both name the same feed bytes (section 13.2.2).
    if not_modified(request.headers, (stored.etag, gzip_etag(stored.etag)), stored.last_modified):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
        return Response(cache.get(stored), media_type=stored.content_type, headers=headers)
    return Response(stored.body, media_type=stored.content_type, headers=headers)


def bearer_ok(header: str | None, token: str) -> bool:
    """Constant time whatever the lengths: both sides are hashed to 32 bytes first, so a
    token of another length takes the same path and leaks nothing about ours."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    ours = hashlib.sha256(token.encode()).digest()
    theirs = hashlib.sha256(given.strip().encode("utf-8", "surrogateescape")).digest()
    return hmac.compare_digest(ours, theirs)


def parse_recrawl(body: bytes, hosts: frozenset[str]) -> tuple[str | None, bool] | str:
    """`{"url": optional http(s) URL on a source host, "force": bool}`, or why not."""
    if len(body) > MAX_BODY:
        return "the body is too large"
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return "the body is not valid JSON"
    if not isinstance(data, dict):
        return "the body must be a JSON object"
    unknown = set(data) - {"url", "force"}
    if unknown:
        return f"unknown field(s): {', '.join(sorted(unknown))}"
    force, url = data.get("force", False), data.get("url")
    if not isinstance(force, bool):
        return "force must be true or false"
    if url is not None and not isinstance(url, str):
        return "url must be a string"
    if url is not None:
        problem = _url_problem(url, hosts)
        if problem:
            return problem
    return url, force


def _url_problem(url: str, hosts: frozenset[str]) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "url is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "url must be an http or https URL"
    if parts.username or parts.password:
        return "url must not carry credentials"
    if not host or host not in hosts:
        return f"url must be on a source host ({', '.join(sorted(hosts))})"
    return None


def _error(status: int, reason: str, *, auth: bool = False, **extra: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="nam-feeds"'} if auth else None
    return JSONResponse({"error": reason, **extra}, status_code=status, headers=headers)


# ---------------------------------------------------------------- pages


def feed_title(spec: FeedSpec) -> str:
    names = labels()
    if spec.kind == "topic":
        subject = names.topic(spec.key or "", spec.language)
    elif spec.kind == "speaker":
        subject = names.person(spec.key or "", spec.language) or spec.key or ""
    else:
        subject = "all posts"
    suffix = f" ({_LANGUAGE_NAMES[spec.language]})" if spec.language else ""
    return f"NAM-media: {subject}{suffix}"


def _page(title: str, body: str, head: str = "") -> str:
    return _PAGE.substitute(title=escape(title), head=head, body=body)


def _links(spec: FeedSpec) -> str:
    label = _LANGUAGE_NAMES[spec.language] if spec.language else "all languages"
    fmts = " ".join(
        f'<a class="fmt" href="{escape(spec.path(f))}">{f.upper()}</a>' for f in ("atom", "rss")
    )
    return f'<span class="lang">{escape(label)}: {fmts}</span>'


def _grouped(specs: list[FeedSpec]) -> dict[tuple[str, str | None], list[FeedSpec]]:
    groups: dict[tuple[str, str | None], list[FeedSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.kind, spec.key), []).append(spec)
    return groups


def _index_body(specs: list[FeedSpec], counts: Mapping[str, int]) -> str:
    groups = _grouped(specs)
    rows: dict[str, list[str]] = {"all": [], "topic": [], "speaker": []}
    for (kind, key), variants in groups.items():
        links = "<br>".join(_links(s) for s in variants)
        rows[kind].append(
            f'<tr id="{kind}-{escape(key or "all")}">{_cells(kind, key, counts)}'
            f"<td>{links}</td></tr>"
        )
    parts = [
        "<h1>NAM-media feeds</h1>",
        "<p>Atom and RSS feeds of NAM-media posts. "
        '<a href="/feeds.opml">OPML of every feed</a>.</p>',
    ]
    titles = {"all": "All posts, per language", "topic": "Per topic", "speaker": "Per speaker"}
    heads = {
        "all": "<th>Feed</th>",
        "topic": "<th>Topic</th>",
        "speaker": "<th>Speaker</th><th>Кірыліцай</th><th class=count>Answers</th>",
    }
    for kind in ("all", "topic", "speaker"):
        parts.append(f"<h2>{titles[kind]}</h2><table><tr>{heads[kind]}<th>Subscribe</th></tr>")
        parts += rows[kind] or ["<tr><td>None yet.</td></tr>"]
        parts.append("</table>")
    return "\n".join(parts)


def _cells(kind: str, key: str | None, counts: Mapping[str, int]) -> str:
    if kind == "speaker" and key:
        person = get_person(key)
        name = person.name if person else key
        cyrillic = (
            " / ".join(dict.fromkeys(n for n in (person.name_be, person.name_ru) if n))
            if person
            else ""
        )
        return (
            f"<td>{escape(name)}</td><td class=alt>{escape(cyrillic)}</td>"
            f"<td class=count>{counts.get(key, 0)}</td>"
        )
    if kind == "topic" and key:
        topic = get_topic(key)
        names = topic.names if topic else {}
        other = " / ".join(n for lang, n in names.items() if lang != "en")
        return f"<td>{escape(names.get('en', key))} <span class=alt>{escape(other)}</span></td>"
    return "<td>All posts</td>"


def _feed_list_html(store: Store) -> str:
    items = "".join(
        f"<li>{escape(feed_title(s))}: {_links(s)}</li>" for s in published_feeds(store)
    )
    return f"<ul>{items}</ul>"


# ---------------------------------------------------------------- metrics


class _StoreCollector(Collector):
    """Counts that belong to other processes (crawl, publish), read from Redis at scrape
    time, so every web process reports the same numbers without multiprocess files."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Any:
        by_status: dict[str, int] = {}
        parse_failures = 0
        for url in self.store.fetch_urls():
            state = self.store.get_fetch_state(url)
            if state is None or state.status is None:
                continue
            by_status[str(state.status)] = by_status.get(str(state.status), 0) + 1
            parse_failures += bool(state.error and state.error.startswith("parsing:"))
        pages = GaugeMetricFamily(
            "namfeeds_pages_fetched",
            "Known pages by the status of their last fetch",
            labels=["status"],
        )
        for status, count in sorted(by_status.items()):
            pages.add_metric([status], count)
        yield pages
        yield GaugeMetricFamily(
            "namfeeds_parse_failures", "Pages whose last fetch could not be parsed", parse_failures
        )
        yield GaugeMetricFamily(
            "namfeeds_answers_unmatched_speaker",
            "Stored answers whose speaker matched nobody in the registry",
            self._unmatched(),
        )
        yield GaugeMetricFamily(
            "namfeeds_feeds_rendered", "Rendered feed files stored", len(self.store.feed_keys())
        )
        yield GaugeMetricFamily("namfeeds_posts", "Stored posts", self.store.count_posts())

    def _unmatched(self) -> int:
        posts = self.store.recent_posts(limit=max(self.store.count_posts(), 1))
        return sum(
            1
            for stored in posts
            for section in stored.post.sections
            for answer in section.answers
            if answer.speaker is None or answer.speaker.id is None
        )


def _latency_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "namfeeds_http_request_duration_seconds",
        "Time to answer an HTTP request",
        ["method", "route", "status"],
        registry=registry,
        buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    )


_ROUTES = ("/", "/feeds.opml", "/api/recrawl", "/healthz", "/metrics")


def _route_label(path: str) -> str:
    if path.startswith("/feeds/"):
        return "/feeds/{path}"
    if path.startswith("/api/jobs/"):
        return "/api/jobs/{id}"
    return path if path in _ROUTES else "other"


# ---------------------------------------------------------------- wiring


class _Timing:
    """Request latency by route template (not raw path: a bounded set of label values)."""

    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app, self.histogram = app, histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = _route_label(scope["path"])
            self.histogram.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - start
            )


def create_app(settings: Settings, store: Store, *, broker_url: str | None = None) -> Starlette:
    """The web app over one store. Without `broker_url` the admin API cannot enqueue (503)
    and /healthz reports workers as not configured."""
    broker = Broker(broker_url) if broker_url else None
    handlers = _App(settings, store, broker)
    registry = CollectorRegistry()
    registry.register(_StoreCollector(store))
    latency = _latency_histogram(registry)

    def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/", handlers.index),
        Route("/feeds/{path:path}", handlers.feed),
        Route("/feeds.opml", handlers.opml),
        Route("/api/recrawl", handlers.recrawl, methods=["POST"]),
        Route("/api/jobs/{job_id}", handlers.job),
        Route("/healthz", handlers.healthz),
        Route("/metrics", metrics_endpoint),
    ]
    app = Starlette(routes=routes, exception_handlers={404: handlers.not_found})
    app.add_middleware(_Timing, histogram=latency)
    app.state.broker = broker
    return app


def serve(settings: Settings, redis_url: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Publish every feed once (so a fresh start serves feeds), then serve until stopped."""
    store = Store.from_url(redis_url)
    try:
        publish_all(store, settings)
        app = create_app(settings, store, broker_url=broker_url(redis_url))
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    finally:
        store.close()
