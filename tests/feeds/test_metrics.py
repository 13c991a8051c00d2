"""/metrics against a real Redis: counters kept by the write paths, and a scrape whose cost
does not grow with the number of posts."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from feeds.publish import publish_all
from feeds.web._metrics import FetchStatsCache, StoreCollector
from services.model import Answer, Post, Section, Speaker
from services.storage import FetchInfo, Store
from services.storage import _keys as keys
from tests.feeds.test_publish import CRAWLED, SETTINGS, load_mirror, mirror_posts

KNOWN = Speaker(as_written="Pavel Latushka", id="pavel-latushka", name="Pavel Latushka")


def scrape(store: Store, collector: StoreCollector | None = None) -> dict[str, float]:
    """Every sample of one scrape, by name and labels: `name{label=value}`."""
    registry = CollectorRegistry()
    registry.register(collector or StoreCollector(store))
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
