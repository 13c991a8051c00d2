"""/metrics against a real Redis: counters kept by the write paths, and a scrape whose cost
does not grow with the number of posts."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from feeds.publish import publish_all
from feeds.web._access import latency_histogram
from feeds.web._metrics import FetchStatsCache, StoreCollector
from services.model import Answer, Post, Section, Speaker
from services.storage import FetchInfo, Store
from services.storage import _keys as keys
from tests.conftest import require_program
from tests.feeds.test_publish import CRAWLED, SETTINGS, load_mirror, mirror_posts
from tests.fixtures.site import SiteServer

KNOWN = Speaker(as_written="Pavel Latushka", id="pavel-latushka", name="Pavel Latushka")


def scrape(store: Store, collector: StoreCollector | None = None) -> dict[str, float]:
    """Every sample of one scrape, by name and labels: `name{label=value}`."""
    registry = CollectorRegistry()
    registry.register(collector or StoreCollector(store))
    return _scrape(registry)


def _scrape(registry: CollectorRegistry) -> dict[str, float]:
    samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return samples


def with_answers(post: Post, *answers: Answer) -> Post:
    return dataclasses.replace(post, sections=(Section(heading="Q", answers=answers),))


def test_metric_names_and_counters_after_publishing(store: Store) -> None:
    load_mirror(store)
    first = scrape(store)
    for name in (
        "namfeeds_posts",
        "namfeeds_feeds_rendered",
        "namfeeds_answers_unmatched_speaker",
        "namfeeds_parse_failures",
        "namfeeds_publish_failures_total",
        "namfeeds_feed_renders_total{outcome=written}",
        "namfeeds_feed_renders_total{outcome=unchanged}",
        "namfeeds_feed_renders_total{outcome=superseded}",
    ):
        assert name in first, name
    assert first["namfeeds_feeds_rendered"] == len(store.feed_keys())
    assert first["namfeeds_feed_renders_total{outcome=written}"] == len(store.feed_keys())
    assert first["namfeeds_publish_failures_total"] == 0

    publish_all(store, SETTINGS)  # same data: every file rendered again, none written
    second = scrape(store)
    assert second["namfeeds_feed_renders_total{outcome=written}"] == len(store.feed_keys())
    assert second["namfeeds_feed_renders_total{outcome=unchanged}"] == len(store.feed_keys())


def test_unmatched_answers_follow_upserts(store: Store) -> None:
    base = mirror_posts()[0]
    anonymous = Answer(text="Who?", speaker=Speaker(as_written="Someone"))
    store.upsert_post(with_answers(base, anonymous, Answer(text="Bare")), now=CRAWLED)
    assert scrape(store)["namfeeds_answers_unmatched_speaker"] == 2  # the first full count

    store.upsert_post(with_answers(base, anonymous, Answer("Ok", KNOWN)), now=CRAWLED)
    other = dataclasses.replace(base, id="other", url=base.url + "-other")
    store.upsert_post(with_answers(other, anonymous, anonymous, anonymous), now=CRAWLED)
    assert store.unmatched_answers() == 4
    assert scrape(store)["namfeeds_answers_unmatched_speaker"] == 4


def as_stored_before_the_counter(store: Store, post: Post) -> None:
    """Such data has no per-post count, and its JSON is plain (compression came later)."""
    store.client.hdel(keys.post(post.id), "unmatched")
    store.client.hset(keys.post(post.id), "json", post.to_json())


def test_unmatched_answers_of_posts_stored_before_the_counter(store: Store) -> None:
    """Data written before this counter existed: no stats field, no per-post count. The
    first read counts the stored JSON; later edits adjust it from each post's JSON."""
    base = mirror_posts()[0]
    anonymous = Answer(text="Who?", speaker=Speaker(as_written="Someone"))
    first = with_answers(base, anonymous, anonymous)
    store.upsert_post(first, now=CRAWLED)
    as_stored_before_the_counter(store, first)
    store.client.delete(keys.ANSWER_COUNTS)
    second = with_answers(base, anonymous, anonymous, Answer("x"))
    store.upsert_post(second, now=CRAWLED)
    as_stored_before_the_counter(store, second)
    assert store.unmatched_answers() == 3
    store.upsert_post(with_answers(base, anonymous), now=CRAWLED)  # old count from its JSON
    assert store.unmatched_answers() == 1


def test_unmatched_answers_match_a_count_over_the_mirror(store: Store) -> None:
    posts = load_mirror(store)
    expected = sum(
        1
        for post in posts
        for section in post.sections
        for answer in section.answers
        if answer.speaker is None or answer.speaker.id is None
    )
    assert store.unmatched_answers() == expected


def test_per_url_gauges_are_read_once_per_interval(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for post in mirror_posts()[:3]:
        store.upsert_post(post, fetched=FetchInfo(post.url, CRAWLED, status=200), now=CRAWLED)
    reads: list[str] = []
    real = store.get_fetch_state

    def counting(url: str) -> Any:
        reads.append(url)
        return real(url)

    monkeypatch.setattr(store, "get_fetch_state", counting)
    now = [0.0]
    collector = StoreCollector(store)
    collector.fetch_stats = FetchStatsCache(store, ttl=30, clock=lambda: now[0])
    assert scrape(store, collector)["namfeeds_pages_fetched{status=200}"] == 3
    assert len(reads) == 3
    now[0] = 29.0
    scrape(store, collector)
    assert len(reads) == 3  # served from memory
    now[0] = 30.0
    scrape(store, collector)
    assert len(reads) == 6


# -- what an operator watches: crawl outcomes, the last good crawl, the stream's lag ----------


def test_crawl_steps_are_counted_by_outcome(site: SiteServer, redis_url: str, store: Store) -> None:
    from services.crawl import crawl_all, open_deps

    settings = site.settings(redis_url=redis_url, crawl_delay=0.0, max_retries=0)
    with open_deps(settings, redis_url) as deps:
        first = crawl_all(deps).counts
        crawl_all(deps, urls=[site.url("www.belarus-nau.org", "/fault/500")])
    samples = scrape(store)
    assert samples["namfeeds_fetches_total{outcome=new}"] == first["new"] == 5
    # the mirror's missing Russian alternate (404) failed for good; the 500 is handed back
    # to be retried, as a worker would
    assert samples["namfeeds_fetches_total{outcome=failed}"] == first["failed"] == 1
    assert samples["namfeeds_fetches_total{outcome=transient}"] == 1


def test_last_successful_crawl_skips_crawls_that_failed(store: Store) -> None:
    store.record_crawl({"finished": "2026-01-02T03:04:05+00:00", "failures": []})
    store.record_crawl({"finished": "2026-01-03T00:00:00+00:00", "failures": [{"url": "x"}]})
    samples = scrape(store)
    expected = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert samples["namfeeds_last_successful_crawl_timestamp_seconds"] == expected


def test_no_crawl_yet_means_no_last_crawl_sample(store: Store) -> None:
    assert "namfeeds_last_successful_crawl_timestamp_seconds" not in scrape(store)


def test_change_stream_lag_and_pending_per_group(store: Store) -> None:
    for post in mirror_posts()[:3]:
        store.upsert_post(post, fetched=None, now=CRAWLED)
    store.read_changes("metrics-test", "c1", count=1)
    samples = scrape(store)
    assert samples["namfeeds_change_stream_lag{group=metrics-test}"] == 2
    assert samples["namfeeds_change_stream_pending{group=metrics-test}"] == 1


def test_build_info_names_the_version(store: Store) -> None:
    from importlib.metadata import version

    samples = scrape(store)
    (info,) = [k for k in samples if k.startswith("namfeeds_build_info{")]
    assert f"version={version('nam-feeds')}" in info and samples[info] == 1


def test_promtool_finds_nothing_to_complain_about(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    promtool = require_program("promtool", "apt-get install prometheus")
    load_mirror(store)
    store.record_crawl({"finished": "2026-01-02T03:04:05+00:00", "failures": []})
    store.read_changes("metrics-test", "c1", count=1)
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    latency_histogram(registry).labels("GET", "/", "200").observe(0.01)
    text = generate_latest(registry)
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, timeout=30, check=False
    )
    assert checked.returncode == 0, (checked.stdout + checked.stderr).decode()
    assert checked.stdout + checked.stderr == b""


def test_latency_buckets_count_as_prometheus_means_le() -> None:
    registry = CollectorRegistry()
    histogram = latency_histogram(registry)
    for seconds in (0.0004, 0.001, 0.0011, 3.0):  # 0.001 is on a bound: it counts there
        histogram.labels("GET", "/feeds/{path}", "200").observe(seconds)
    histogram.labels("BREW", "other", "405").observe(0.01)  # a made-up method: one series
    histogram.labels("PURGE", "other", "405").observe(0.01)
    samples = _scrape(registry)
    name = "namfeeds_http_request_duration_seconds"
    feed = "method=GET,route=/feeds/{path},status=200"
    assert samples[f"{name}_bucket{{le=0.0005,{feed}}}"] == 1
    assert samples[f"{name}_bucket{{le=0.001,{feed}}}"] == 2
    assert samples[f"{name}_bucket{{le=0.0025,{feed}}}"] == 3
    assert samples[f"{name}_bucket{{le=2.5,{feed}}}"] == 3
    assert samples[f"{name}_bucket{{le=+Inf,{feed}}}"] == samples[f"{name}_count{{{feed}}}"] == 4
    assert samples[f"{name}_sum{{{feed}}}"] == pytest.approx(3.0025)
    assert samples[f"{name}_count{{method=other,route=other,status=405}}"] == 2
