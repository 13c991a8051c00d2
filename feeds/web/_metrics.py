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
namfeeds_posts_quarantined             gauge    posts whose latest parse was kept back as a
                                                broken page (lost every answer or most text)
namfeeds_posts_lost_answers            gauge    of those, the ones whose parse found no answers
                                                though the published version has some
namfeeds_pages_fetched{status}         gauge    known URLs by the HTTP status of their last
                                                fetch
namfeeds_parse_failures                gauge    known URLs whose last fetch could not be
                                                parsed
namfeeds_http_request_duration_seconds histogram  time to answer, by method, route template
                                                and status; per process (_access)
namfeeds_fetches_total{outcome}        counter  crawl steps by outcome: new, edited,
                                                unchanged, not_modified, failed, transient
                                                (a failure handed back to be retried), ...
namfeeds_last_successful_crawl_timestamp_seconds  gauge  when the newest crawl without a
                                                failure ended (or, for the workers' crawls,
                                                was planned); absent until there is one
namfeeds_change_stream_lag{group}      gauge    change events not yet read by a consumer
                                                group (the publisher)
namfeeds_change_stream_pending{group}  gauge    read by the group, not yet acknowledged
namfeeds_build_info{version,python}    gauge    1, labelled with what runs

The two per-URL gauges read one fetch state per known URL, so they are computed at most once
per FETCH_STATS_TTL seconds per process and served from memory in between. The counters
restart from zero only when Redis loses its data, which Prometheus' rate() handles as a reset.
"""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from services.storage import Gauges, Store

FETCH_STATS_TTL = 30.0
RENDER_OUTCOMES = ("written", "unchanged", "superseded")


@dataclass(frozen=True)
class FetchStats:
    by_status: dict[str, int]
    parse_failures: int


def fetch_stats(store: Store) -> FetchStats:
    """One read per known URL: the reason FetchStatsCache exists."""
    by_status: dict[str, int] = {}
    parse_failures = 0
    # failing URLs without a post are kept out of fetch_urls, in an index of bounded size
    for url in sorted(set(store.fetch_urls()) | set(store.failing_urls())):
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
        yield GaugeMetricFamily(
            "namfeeds_posts_quarantined",
            "Posts whose latest parse was kept back as a broken page",
            self.store.count_quarantined(),
        )
        yield GaugeMetricFamily(
            "namfeeds_posts_lost_answers",
            "Posts whose latest parse found no answers though the published version has some",
            self.store.count_lost_answers(),
        )
        yield from self._publish_counters()
        yield from operations_metrics(Gauges(self.store.client))

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


def operations_metrics(gauges: Gauges) -> Any:
    """Crawl outcomes, the last good crawl, the change stream's lag and what is running."""
    fetches = CounterMetricFamily("namfeeds_fetches", "Crawl steps by outcome", labels=["outcome"])
    for outcome, count in sorted(gauges.fetch_counts().items()):
        fetches.add_metric([outcome], count)
    yield fetches
    last = GaugeMetricFamily(
        "namfeeds_last_successful_crawl_timestamp_seconds",
        "Unix time of the newest crawl that recorded no failure",
    )
    when = last_successful_crawl(gauges.crawls())
    if when is not None:
        last.add_metric([], when)
    yield last
    lag = GaugeMetricFamily(
        "namfeeds_change_stream_lag", "Change events not yet read by a group", labels=["group"]
    )
    pending = GaugeMetricFamily(
        "namfeeds_change_stream_pending",
        "Change events read by a group and not yet acknowledged",
        labels=["group"],
    )
    for group in gauges.change_lag():
        lag.add_metric([group.group], group.lag)
        pending.add_metric([group.group], group.pending)
    yield lag
    yield pending
    yield build_info()


def last_successful_crawl(crawls: list[dict[str, Any]]) -> float | None:
    """The newest record (they come newest first) without failures: its end, else its start."""
    for record in crawls:
        if record.get("failures"):
            continue
        stamp = record.get("finished") or record.get("started")
        try:
            return datetime.fromisoformat(str(stamp)).timestamp()
        except ValueError:
            continue
    return None


def build_info() -> GaugeMetricFamily:
    try:
        ours = version("nam-feeds")
    except PackageNotFoundError:  # run from a tree that was never installed
        ours = "unknown"
    info = GaugeMetricFamily(
        "namfeeds_build_info", "What runs: always 1", labels=["version", "python"]
    )
    info.add_metric([ours, platform.python_version()], 1)
    return info


def metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Response]:
    """The /metrics handler: the registry in Prometheus' text format."""

    def endpoint(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint
