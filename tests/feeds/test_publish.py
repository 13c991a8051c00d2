"""Publishing from a real Redis: the mirror's posts stored, every feed rendered, and a source
edit re-rendering only the feeds it touches."""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import feedparser
import pytest

import feeds.publish
import feeds.render
from feeds.publish import (
    GROUP,
    PublishError,
    feeds_of_change,
    feeds_of_posts,
    feeds_of_registry,
    next_last_modified,
    publish_all,
    publish_changes,
    publish_feed,
    published_feeds,
)
from feeds.render import FeedSpec
from services.model import Answer, Post, Section
from services.parsing import parse_post
from services.people import all_people
from services.settings import Settings
from services.storage import Store
from services.topics import all_topics
from tests.conftest import SITE

CRAWLED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(public_url="https://feeds.example.org", admin_token="t" * 32)
LATUSHKA = "pavel-latushka"


def mirror_posts() -> list[Post]:
    """Every mirror page with an expected parse, parsed from its saved HTML."""
    posts = []
    for expected in sorted((SITE / "expected").glob("*.json")):
        url = json.loads(expected.read_text(encoding="utf-8"))["url"]
        host, _, path = url.split("://", 1)[1].partition("/")
        posts.append(parse_post((SITE / host / f"{path}.html").read_bytes(), url))
    return posts


def load_mirror(store: Store, settings: Settings = SETTINGS) -> list[Post]:
    posts = mirror_posts()
    for post in posts:
        store.upsert_post(post, now=CRAWLED)
    publish_all(store, settings)
    return posts


def feed_bytes(store: Store) -> dict[str, bytes]:
    found = {}
    for name in store.feed_keys():
        stored = store.get_feed(name)
        assert stored is not None
        found[name] = stored.body
    return found


def expected_count(spec: FeedSpec, posts: list[Post]) -> int:
    """Entries a feed should hold, counted from the parsed posts without the renderer."""
    count = 0
    for post in posts:
        if spec.language and post.language != spec.language:
            continue
        if spec.kind == "all":
            count += 1
        elif spec.kind == "topic":
            count += any(spec.key in s.topics for s in post.sections)
        else:
            count += spec.key in post.speaker_ids
    return count


def edited(post: Post, person: str, addition: str) -> Post:
    """The post with `addition` appended to the person's first answer, as a source edit."""
    sections, done = [], False
    for section in post.sections:
        answers = []
        for answer in section.answers:
            if not done and answer.speaker and answer.speaker.id == person:
                answer, done = dataclasses.replace(answer, text=answer.text + addition), True
            answers.append(answer)
        sections.append(dataclasses.replace(section, answers=tuple(answers)))
    assert done, f"{person} answers nowhere in {post.url}"
    modified = (post.modified or CRAWLED) + timedelta(days=1)
    return dataclasses.replace(post, sections=tuple(sections), modified=modified)


def test_every_feed_of_the_mirror_is_rendered_with_its_entries(store: Store) -> None:
    posts = load_mirror(store)
    specs = published_feeds(store)
    # the feeds with posts, and every feed the registries name, empty or not
    assert set(specs) == set(feeds_of_posts(posts)) | set(feeds_of_registry())
    people = {p for post in posts for p in post.speaker_ids}
    assert people <= {s.key for s in specs if s.kind == "speaker"} == {p.id for p in all_people()}
    assert {s.key for s in specs if s.kind == "topic"} == {t.slug for t in all_topics()}
    for spec in specs:
        document = store.get_feed(f"{spec.feed_key}.json")
        assert document is not None, spec
        assert len(json.loads(document.body)["items"]) == expected_count(spec, posts), spec
        for fmt in ("atom", "rss"):
            stored = store.get_feed(f"{spec.feed_key}.{fmt}")
            assert stored is not None, spec
            parsed: Any = feedparser.parse(stored.body)
            assert not parsed.get("bozo_exception"), (spec, fmt, parsed.get("bozo_exception"))
            assert len(parsed.entries) == expected_count(spec, posts), (spec, fmt)
            assert stored.content_type.startswith(f"application/{fmt}+xml")


def test_publishing_twice_gives_identical_bytes_and_etags(store: Store) -> None:
    load_mirror(store)
    first = {name: store.get_feed(name) for name in store.feed_keys()}
    publish_all(store, SETTINGS)
    assert {name: store.get_feed(name) for name in store.feed_keys()} == first


def test_last_modified_is_the_newest_entry_not_the_clock(store: Store) -> None:
    load_mirror(store)
    stored = store.get_feed("all.atom")
    assert stored is not None
    newest = max(s.updated for s in store.recent_posts(limit=100))
    # within the newest entry's minute: whole-minute times get distinct seconds (_times)
    assert timedelta(0) <= stored.last_modified - newest < timedelta(minutes=1)
    assert stored.etag.startswith('"') and not stored.etag.startswith("W/")


def test_a_source_edit_re_renders_only_the_feeds_it_touches(store: Store) -> None:
    posts = load_mirror(store)
    publish_changes(store, SETTINGS)  # the initial events: feeds are current already
    before = feed_bytes(store)
    assert store.pending_changes(GROUP) == 0

    post = next(p for p in posts if LATUSHKA in p.speaker_ids and len(p.speaker_ids) == 1)
    result = store.upsert_post(edited(post, LATUSHKA, " An added sentence."), now=CRAWLED)
    assert result.kind == "edited"
    assert publish_changes(store, SETTINGS) == 1
    after = feed_bytes(store)

    changed = {name for name in after if after[name] != before.get(name)}
    touched = {f"{s.feed_key}.{fmt}" for s in _touched(post) for fmt in ("atom", "rss", "json")}
    assert changed <= touched
    assert {"all.atom", "all.rss", f"speakers/{LATUSHKA}.atom", f"speakers/{LATUSHKA}@en.rss"} <= (
        changed
    )
    assert store.pending_changes(GROUP) == 0

    old_entry = _entry(before[f"speakers/{LATUSHKA}.atom"], post.id)
    new_entry = _entry(after[f"speakers/{LATUSHKA}.atom"], post.id)
    assert new_entry.id == old_entry.id
    assert new_entry.updated != old_entry.updated
    assert "An added sentence." in new_entry.content[0].value
    assert "Edited at the source" in new_entry.content[0].value


def _touched(post: Post) -> list[FeedSpec]:
    langs = (None, post.language)
    specs = [FeedSpec("all", None, lang) for lang in langs]
    specs += [FeedSpec("topic", t, lang) for t in post.topic_slugs for lang in langs]
    specs += [FeedSpec("speaker", p, lang) for p in post.speaker_ids for lang in langs]
    return specs


def _entry(body: bytes, post_id: str) -> Any:
    parsed: Any = feedparser.parse(body)
    return next(e for e in parsed.entries if post_id in e.id)


def test_a_failed_render_keeps_the_previous_feed_and_the_event(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = load_mirror(store)
    publish_changes(store, SETTINGS)
    before = feed_bytes(store)
    post = next(p for p in posts if LATUSHKA in p.speaker_ids and len(p.speaker_ids) == 1)
    store.upsert_post(edited(post, LATUSHKA, " Never published."), now=CRAWLED)

    real = feeds.render.render_feed

    def broken(spec: FeedSpec, *args: Any, **kwargs: Any) -> bytes:
        if spec.kind == "speaker":
            raise RuntimeError("renderer broke")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(feeds.publish, "render_feed", broken)
    with pytest.raises(PublishError, match=f"speakers/{LATUSHKA}"):
        publish_changes(store, SETTINGS)
    after = feed_bytes(store)
    assert after[f"speakers/{LATUSHKA}.atom"] == before[f"speakers/{LATUSHKA}.atom"]
    assert store.pending_changes(GROUP) == 1  # not acknowledged: it will be claimed again

    monkeypatch.setattr(feeds.publish, "render_feed", real)
    monkeypatch.setattr(feeds.publish, "STALE_AFTER_MS", 0)
    assert publish_changes(store, SETTINGS) == 1
    assert b"Never published." in feed_bytes(store)[f"speakers/{LATUSHKA}.atom"]
    assert store.pending_changes(GROUP) == 0


def test_a_post_leaving_a_topic_empties_that_topic_feed(store: Store) -> None:
    post = dataclasses.replace(
        mirror_posts()[0],
        sections=(
            Section(heading="Sanctions", topics=("sanctions",), answers=(Answer(text="Yes."),)),
        ),
    )
    store.upsert_post(post, now=CRAWLED)
    publish_changes(store, SETTINGS)
    assert _count(store, "topics/sanctions.atom") == 1
    moved = dataclasses.replace(
        post, sections=(dataclasses.replace(post.sections[0], topics=("economy",)),)
    )
    store.upsert_post(moved, now=CRAWLED)
    publish_changes(store, SETTINGS)
    assert _count(store, "topics/sanctions.atom") == 0
    assert _count(store, "topics/economy.atom") == 1


def _count(store: Store, name: str) -> int:
    stored = store.get_feed(name)
    assert stored is not None
    return len(feedparser.parse(stored.body).entries)


def test_feeds_of_change_cover_before_and_after() -> None:
    from services.storage import ChangeEvent

    event = ChangeEvent(
        event_id="1-0",
        post_id="p",
        version=2,
        kind="edited",
        updated=CRAWLED,
        url="https://www.belarus-nau.org/en/post/p",
        language_before="ru",
        language_after="en",
        topics_before=("ukraine",),
        topics_after=("sanctions",),
        speakers_before=(),
        speakers_after=(LATUSHKA,),
    )
    keys = {s.feed_key for s in feeds_of_change(event)}
    assert keys == {
        "all",
        "all@en",
        "all@ru",
        "topics/ukraine",
        "topics/ukraine@en",
        "topics/ukraine@ru",
        "topics/sanctions",
        "topics/sanctions@en",
        "topics/sanctions@ru",
        f"speakers/{LATUSHKA}",
        f"speakers/{LATUSHKA}@en",
        f"speakers/{LATUSHKA}@ru",
    }


# ---------------------------------------------------------------- concurrent publishers


def _single_speaker_post(posts: list[Post]) -> Post:
    return next(p for p in posts if LATUSHKA in p.speaker_ids and len(p.speaker_ids) == 1)


def test_a_slow_publisher_cannot_store_older_bytes_over_newer(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P1 reads the posts of edit 1 and stalls; edit 2 lands and P2 publishes it; P1 then
    stores its rendering. Before the generation check, all.atom ended at edit 1."""
    post = _single_speaker_post(load_mirror(store))
    publish_changes(store, SETTINGS)
    first = edited(post, LATUSHKA, " First edit.")
    store.upsert_post(first, now=CRAWLED)

    real = feeds.publish.render_items
    read, resume = threading.Event(), threading.Event()

    def stalling(store: Store, spec: FeedSpec, feed_size: int) -> Any:
        items = real(store, spec, feed_size)
        if threading.current_thread().name == "slow" and not read.is_set():
            read.set()  # P1 holds the posts of edit 1 for `all`
            assert resume.wait(10)
        return items

    monkeypatch.setattr(feeds.publish, "render_items", stalling)
    slow_result: list[int] = []
    slow = threading.Thread(
        target=lambda: slow_result.append(publish_changes(store, SETTINGS)), name="slow"
    )
    slow.start()
    assert read.wait(10)
    store.upsert_post(edited(first, LATUSHKA, " Second edit."), now=CRAWLED)
    assert publish_changes(store, SETTINGS) == 1
    resume.set()
    slow.join(10)
    assert slow_result == [1]

    for name in ("all.atom", "all.rss", f"speakers/{LATUSHKA}.atom"):
        body = feed_bytes(store)[name]
        assert b"Second edit." in body, name
    assert store.publish_counts()["renders_superseded"] >= 1
    assert store.pending_changes(GROUP) == 0


def test_concurrent_publishers_with_interleaved_upserts_end_at_the_latest_data(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = _single_speaker_post(load_mirror(store))
    publish_changes(store, SETTINGS)
    real, jitter = feeds.publish.render_items, random.Random(4)

    def slow_render(store: Store, spec: FeedSpec, feed_size: int) -> Any:
        items = real(store, spec, feed_size)
        if threading.current_thread().name == "slow":  # a wide gap from reading to storing
            time.sleep(jitter.uniform(0, 0.03))
        return items

    monkeypatch.setattr(feeds.publish, "render_items", slow_render)
    stop = threading.Event()
    errors: list[BaseException] = []

    def publisher() -> None:
        try:
            while not stop.is_set():
                publish_changes(store, SETTINGS)
            publish_changes(store, SETTINGS)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=publisher, name=name) for name in ("slow", "fast")]
    for thread in threads:
        thread.start()
    current = post
    for n in range(12):
        current = edited(current, LATUSHKA, f" Edit {n}.")
        store.upsert_post(current, now=CRAWLED + timedelta(minutes=n))
        time.sleep(jitter.uniform(0, 0.03))
    stop.set()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert store.pending_changes(GROUP) == 0
    monkeypatch.setattr(feeds.publish, "render_items", real)
    assert b"Edit 11." in feed_bytes(store)[f"speakers/{LATUSHKA}.atom"]
    # what is stored is what the current data renders to: a fresh render writes nothing
    for spec in _touched(post):
        assert publish_feed(store, SETTINGS, spec) == 0, spec


# ---------------------------------------------------------------- Last-Modified


def test_last_modified_never_goes_back_when_the_newest_entry_leaves(store: Store) -> None:
    """A topic feed whose only post left the topic used to get 1970-01-01 as Last-Modified;
    a client revalidating with If-Modified-Since then got 304 and kept the stale feed."""
    post = dataclasses.replace(
        mirror_posts()[0],
        sections=(
            Section(heading="Sanctions", topics=("sanctions",), answers=(Answer(text="Yes."),)),
        ),
    )
    store.upsert_post(post, now=CRAWLED)
    publish_changes(store, SETTINGS)
    before = store.get_feed("topics/sanctions.atom")
    assert before is not None
    moved = dataclasses.replace(
        post, sections=(dataclasses.replace(post.sections[0], topics=("economy",)),)
    )
    store.upsert_post(moved, now=CRAWLED)
    publish_changes(store, SETTINGS)
    after = store.get_feed("topics/sanctions.atom")
    assert after is not None and after.etag != before.etag
    assert after.last_modified >= before.last_modified + timedelta(seconds=1)
    assert format_datetime(after.last_modified, usegmt=True) != format_datetime(
        before.last_modified, usegmt=True
    )
    # unchanged bytes keep their date: publishing again is still idempotent
    publish_all(store, SETTINGS)
    again = store.get_feed("topics/sanctions.atom")
    assert again is not None and again.last_modified == after.last_modified


def test_next_last_modified_is_the_later_of_computed_and_previous_plus_a_second() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert next_last_modified(epoch, CRAWLED) == CRAWLED + timedelta(seconds=1)
    later = CRAWLED + timedelta(days=1)
    assert next_last_modified(later, CRAWLED) == later


def test_failed_renders_are_counted(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    load_mirror(store)
    assert store.publish_counts().get("failures", 0) == 0

    real = feeds.render.render_feed

    def broken(spec: FeedSpec, *args: Any, **kwargs: Any) -> bytes:
        if spec.key == LATUSHKA:
            raise RuntimeError("renderer broke")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(feeds.publish, "render_feed", broken)
    with pytest.raises(PublishError):
        publish_all(store, SETTINGS)
    failed = [s for s in published_feeds(store) if s.key == LATUSHKA]
    assert len(failed) >= 2 and store.publish_counts()["failures"] == len(failed)
