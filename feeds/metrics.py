"""Prometheus metrics for /metrics: counts read from the store, and request latency.

The counts are read at scrape time, not kept in this process; the latency histogram is the
only state, one per app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.storage import Store

# Route templates, mirroring feeds.web's routes: a raw path as a label value would let any
# client grow the series without bound.
_ROUTES = ("/", "/feeds.opml", "/api/recrawl", "/healthz", "/metrics")


class StoreCollector(Collector):
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
            route = route_label(scope["path"])
            self.histogram.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - start
            )
