"""What every request leaves behind: its latency in /metrics and its access line in the log.

Both run once per request, on the event loop, so both are built to cost little next to a feed
answered from memory: the histogram is a list of counts found by bisection (prometheus_client's
Histogram takes a lock and walks its buckets in Python per observation), and the access line is
written by a FieldsWriter, which encodes what repeats between lines once.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.logs import FieldsWriter

ACCESS_LOGGER = "feeds.web.access"
ACCESS_PATH_CHARS = 200  # a hostile client's path must not make a log line of megabytes
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Route templates, mirroring _app's routes: a raw path as a label value would let any
# client grow the series without bound; so would a made-up method.
_ROUTES = ("/", "/feeds.opml", "/api/recrawl", "/healthz", "/metrics")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


class Series:
    """The observations of one label set: a count per bucket (the last is +Inf) and a sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        # bucket i counts values <= BUCKETS[i], as Prometheus' `le` means
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


class LatencyHistogram(Collector):
    """namfeeds_http_request_duration_seconds by method, route template and status. Observed
    on the event loop; a scrape in another thread reads a copy of each series' counts."""

    name = "namfeeds_http_request_duration_seconds"

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], Series] = {}

    def labels(self, method: str, route: str, status: str) -> Series:
        method = method if method in _METHODS else "other"
        key = (method, route, status)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = Series()
        return found

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            self.name, "Time to answer an HTTP request", labels=["method", "route", "status"]
        )
        for labels, series in sorted(self._series.items()):
            counts, running, buckets = list(series.counts), 0, []
            for bound, count in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                running += count
                buckets.append((bound, running))
            family.add_metric(list(labels), buckets, series.total)
        yield family


def latency_histogram(registry: CollectorRegistry) -> LatencyHistogram:
    histogram = LatencyHistogram()
    registry.register(histogram)
    return histogram


_access_line = FieldsWriter(
    ACCESS_LOGGER, ("event", "method", "route", "path", "status", "duration_ms"), varying=1
)


def log_access(scope: Scope, route: str, status: int, seconds: float) -> None:
    log_request(scope["method"], scope["path"], route, status, seconds)


def log_request(method: str, path: str, route: str, status: int, seconds: float) -> None:
    """The access line of one request; any path that answers outside RequestTiming (the
    lean paths in front of the app) calls this too, so that every request has its line."""
    if len(path) > ACCESS_PATH_CHARS:
        path = path[:ACCESS_PATH_CHARS]
    _access_line("http.request", method, route, path, status, round(seconds * 1000, 3))


def route_label(path: str) -> str:
    if path.startswith("/feeds/"):
        return "/feeds/{path}"
    if path.startswith("/api/jobs/"):
        return "/api/jobs/{id}"
    return path if path in _ROUTES else "other"


class RequestTiming:
    """Request latency by route template (not raw path: a bounded set of label values), and
    one structured access line per request: method, route, path, status, duration."""

    def __init__(self, app: ASGIApp, histogram: LatencyHistogram) -> None:
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
            log_access(scope, route, status, took)
