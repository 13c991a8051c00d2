"""Prometheus metrics for /metrics: counts kept in Redis by the write paths, and request latency.

Every number but latency lives in Redis, so every web process reports the same values without
multiprocess files, and a scrape costs a few Redis commands whatever the data size:

namfeeds_posts                         gauge    stored posts
namfeeds_feeds_rendered                gauge    rendered feed files stored (each format
                                                and language counts), i.e. what can be served
namfeeds_feed_renders_total{outcome}   counter  feed files rendered by publishing, by what
                                                storing them did: written (new bytes),
                                                unchanged (same bytes as stored), superseded
                                                (refused: a newer rendering was stored)
namfeeds_publish_failures_total        counter  feeds whose rendering raised (their previous
                                                bytes are still served)
namfeeds_answers_unmatched_speaker     gauge    stored answers, over all current posts, whose
                                                speaker matched nobody in the registry; kept
                                                by the upsert script (counted in full once)
namfeeds_pages_fetched{status}         gauge    known URLs by the HTTP status of their last
                                                fetch
namfeeds_parse_failures                gauge    known URLs whose last fetch could not be
                                                parsed
namfeeds_http_request_duration_seconds histogram  time to answer, by method, route template
                                                and status; per process

The two per-URL gauges read one fetch state per known URL, so they are computed at most once
per FETCH_STATS_TTL seconds per process and served from memory in between. The counters
restart from zero only when Redis loses its data, which Prometheus' rate() handles as a reset.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.storage import Store

# Route templates, mirroring _app's routes: a raw path as a label value would let any
# client grow the series without bound.
_ROUTES = ("/", "/feeds.opml", "/api/recrawl", "/healthz", "/metrics")
FETCH_STATS_TTL = 30.0
ACCESS_PATH_CHARS = 200  # a hostile client's path must not make a log line of megabytes
access_log = structlog.get_logger("feeds.web.access")
RENDER_OUTCOMES = ("written", "unchanged", "superseded")


@dataclass(frozen=True)
class FetchStats:
    by_status: dict[str, int]
    parse_failures: int


def fetch_stats(store: Store) -> FetchStats:
    """One read per known URL: the reason FetchStatsCache exists."""
    by_status: dict[str, int] = {}
    parse_failures = 0
    for url in store.fetch_urls():
        state = store.get_fetch_state(url)
        if state is None or state.status is None:
            continue
        by_status[str(state.status)] = by_status.get(str(state.status), 0) + 1
        parse_failures += bool(state.error and state.error.startswith("parsing:"))
    return FetchStats(by_status, parse_failures)


class FetchStatsCache:
    """fetch_stats at most once per `ttl` seconds; concurrent scrapes (the thread pool) wait
    for the one computing instead of each starting their own."""

    def __init__(
        self,
        store: Store,
        ttl: float = FETCH_STATS_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.ttl, self.clock = store, ttl, clock
        self._lock = threading.Lock()
        self._value: FetchStats | None = None
        self._at = 0.0

    def get(self) -> FetchStats:
        with self._lock:
            if self._value is None or self.clock() - self._at >= self.ttl:
                self._value, self._at = fetch_stats(self.store), self.clock()
            return self._value


class StoreCollector(Collector):
    """The metrics kept in Redis (see the module docstring), read at scrape time."""

    def __init__(self, store: Store, fetch_stats_ttl: float = FETCH_STATS_TTL) -> None:
        self.store = store
        self.fetch_stats = FetchStatsCache(store, fetch_stats_ttl)

    def collect(self) -> Any:
        stats = self.fetch_stats.get()
        pages = GaugeMetricFamily(
            "namfeeds_pages_fetched",
            "Known pages by the status of their last fetch",
            labels=["status"],
        )
        for status, count in sorted(stats.by_status.items()):
            pages.add_metric([status], count)
        yield pages
        yield GaugeMetricFamily(
            "namfeeds_parse_failures",
            "Pages whose last fetch could not be parsed",
            stats.parse_failures,
        )
        yield GaugeMetricFamily(
            "namfeeds_answers_unmatched_speaker",
            "Stored answers whose speaker matched nobody in the registry",
            self.store.unmatched_answers(),
        )
        yield GaugeMetricFamily(
            "namfeeds_feeds_rendered", "Rendered feed files stored", self.store.count_feeds()
        )
        yield GaugeMetricFamily("namfeeds_posts", "Stored posts", self.store.count_posts())
        yield from self._publish_counters()

    def _publish_counters(self) -> Any:
        counts = self.store.publish_counts()
        renders = CounterMetricFamily(
            "namfeeds_feed_renders",
            "Feed files rendered by publishing, by what storing them did",
            labels=["outcome"],
        )
        for outcome in RENDER_OUTCOMES:
            renders.add_metric([outcome], counts.get(f"renders_{outcome}", 0))
        yield renders
        yield CounterMetricFamily(
            "namfeeds_publish_failures",
            "Feeds whose rendering failed (their previous bytes are still served)",
            counts.get("failures", 0),
        )


def latency_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "namfeeds_http_request_duration_seconds",
        "Time to answer an HTTP request",
        ["method", "route", "status"],
        registry=registry,
        buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    )


def metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Response]:
    """The /metrics handler: the registry in Prometheus' text format."""

    def endpoint(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def route_label(path: str) -> str:
    if path.startswith("/feeds/"):
        return "/feeds/{path}"
    if path.startswith("/api/jobs/"):
        return "/api/jobs/{id}"
    return path if path in _ROUTES else "other"


class RequestTiming:
    """Request latency by route template (not raw path: a bounded set of label values), and
    one structured access line per request: method, route, path, status, duration."""

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
            took = time.perf_counter() - start
            route = route_label(scope["path"])
            self.histogram.labels(scope["method"], route, str(status)).observe(took)
            access_log.info(
                "http.request",
                method=scope["method"],
                route=route,
                path=scope["path"][:ACCESS_PATH_CHARS],
                status=status,
                duration_ms=round(took * 1000, 3),
            )
