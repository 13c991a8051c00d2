"""Publishing: re-render the feeds a stored change touches and keep their bytes in Redis.

The web app only serves what this module stores, so a request never renders. A render that
fails leaves the previous bytes in place and its change event unacknowledged (it is claimed
again later), so no edit is ever lost to a crash halfway through.

Publishers may run side by side (prefork workers, `publish_all` at startup). Instead of a lock
each rendering carries a generation, the change stream's newest id read before the posts, and
Store.store_feed refuses one older than what is stored: a slow publisher holding pre-edit
posts cannot overwrite the newer bytes another stored meanwhile. Nothing waits, nothing can
be left locked by a dead worker, and the publisher of the last event always has the highest
generation, so the feed ends at the latest data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache

import structlog

from feeds.render import (
    FeedSpec,
    Fmt,
    Labels,
    RenderItem,
    describe_change,
    entries_for,
    last_updated,
    render_feed,
)
from services.errors import NamFeedsError
from services.model import LANGUAGES, Post
from services.people import all_people
from services.settings import Settings
from services.storage import ChangeEvent, Store, StoredFeed, StoredPost
from services.topics import all_topics

log = structlog.get_logger(__name__)

GROUP = "publisher"
FORMATS: tuple[Fmt, ...] = ("atom", "rss")
CONTENT_TYPES: dict[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}
# A publisher that read events and died leaves them pending; after this long another one
# takes them over. Longer than any render of a batch, so a slow peer is not robbed.
STALE_AFTER_MS = 60_000
BATCH = 100
# store_feed answers "retry" when another publisher changed the feed between our read of its
# validators and our write; a few rounds settle it (each retry means someone else progressed).
STORE_ATTEMPTS = 5


class PublishError(NamFeedsError):
    """Some feeds could not be rendered; their previous bytes are still served."""

    def __init__(self, failed: Sequence[str]) -> None:
        self.failed = tuple(failed)
        super().__init__(f"publishing: {len(failed)} feed(s) failed: {', '.join(failed)}")


# ---------------------------------------------------------------- which feeds (pure)


def stored_name(spec: FeedSpec, fmt: Fmt) -> str:
    """Storage key of one rendered format: `topics/ukraine@ru.atom`."""
    return f"{spec.feed_key}.{fmt}"


def feeds_of_posts(posts: Iterable[Post]) -> list[FeedSpec]:
    """Every feed with at least one entry (and `all`, always): the feeds that exist.

    Order is the index page's: all, then topics, then speakers, each base feed followed by
    its languages in LANGUAGES order."""
    languages: set[str] = set()
    topics: dict[str, set[str]] = {}
    speakers: dict[str, set[str]] = {}
    for post in posts:
        languages.add(post.language)
        for slug in post.topic_slugs:
            topics.setdefault(slug, set()).add(post.language)
        for person in post.speaker_ids:
            speakers.setdefault(person, set()).add(post.language)
    specs = _with_languages(FeedSpec("all"), languages)
    for slug in sorted(topics):
        specs += _with_languages(FeedSpec("topic", slug), topics[slug])
    for person in sorted(speakers):
        specs += _with_languages(FeedSpec("speaker", person), speakers[person])
    return specs


def feeds_of_change(event: ChangeEvent) -> list[FeedSpec]:
    """The feeds a change can alter: those of the post before and after it (a post that
    left a topic must disappear from that topic's feed)."""
    languages = set(event.languages)
    specs = _with_languages(FeedSpec("all"), languages)
    for slug in sorted(event.topics):
        specs += _with_languages(FeedSpec("topic", slug), languages)
    for person in sorted(event.speakers):
        specs += _with_languages(FeedSpec("speaker", person), languages)
    return specs


def _with_languages(base: FeedSpec, languages: Iterable[str]) -> list[FeedSpec]:
    present = set(languages)
    return [base] + [FeedSpec(base.kind, base.key, lang) for lang in LANGUAGES if lang in present]


def etag_of(body: bytes) -> str:
    """A strong ETag (RFC 9110 section 8.8.3): the bytes' hash, so equal bytes, equal tag."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# ---------------------------------------------------------------- rendering (through Store)


@cache
def labels() -> Labels:
    return Labels.from_registries(all_people(), all_topics())


def render_items(store: Store, spec: FeedSpec, feed_size: int) -> list[RenderItem]:
    """The stored posts of one feed, each with a change note when it has been edited.

    The newest `feed_size` posts by published time are taken and then ordered by `updated`,
    so an edit moves a recent post up but does not bring back a years-old one."""
    stored = store.recent_posts(
        limit=feed_size,
        language=spec.language,
        topic=spec.key if spec.kind == "topic" else None,
        speaker=spec.key if spec.kind == "speaker" else None,
    )
    return [_render_item(store, s) for s in stored]


def _render_item(store: Store, stored: StoredPost) -> RenderItem:
    note = None
    if stored.version > 1:
        previous = store.get_version(stored.post.id, stored.version - 1)
        if previous is not None:
            note = describe_change(previous.post, stored.post)
    return RenderItem(stored.post, stored.updated, stored.version, note)


def publish_feed(store: Store, settings: Settings, spec: FeedSpec) -> int:
    """Render both formats of one feed and store those whose bytes changed; how many were
    written. Both are rendered before either is stored, so a failure writes nothing."""
    generation = store.feed_generation()  # before reading posts: see the module docstring
    items = render_items(store, spec, settings.feed_size)
    modified = last_updated(entries_for(spec, items, feed_size=settings.feed_size))
    bodies = {
        fmt: render_feed(
            spec,
            items,
            fmt=fmt,
            public_url=settings.public_url,
            feed_size=settings.feed_size,
            labels=labels(),
        )
        for fmt in FORMATS
    }
    written = 0
    for fmt, body in bodies.items():
        feed = StoredFeed(stored_name(spec, fmt), body, etag_of(body), modified, CONTENT_TYPES[fmt])
        written += _store(store, feed, generation) == "written"
    return written


def _store(store: Store, feed: StoredFeed, generation: str) -> str:
    """Store one rendering (see Store.store_feed), its Last-Modified never going backwards."""
    for _ in range(STORE_ATTEMPTS):
        known = store.feed_validators(feed.feed_key)
        if known is not None and known[0] != feed.etag:
            modified = next_last_modified(feed.last_modified, known[1])
            feed = StoredFeed(feed.feed_key, feed.body, feed.etag, modified, feed.content_type)
        outcome = store.store_feed(
            feed, generation=generation, based_on=None if known is None else known[0]
        )
        if outcome != "retry":
            return outcome
    raise RuntimeError(f"publishing: {feed.feed_key} kept changing under us; left for later")


def next_last_modified(computed: datetime, previous: datetime) -> datetime:
    """Last-Modified of new bytes: the newest entry's time, but at least a second past the
    previous value. Without that, a feed that lost its newest entry (a post leaving a topic)
    would go back in time, and a client revalidating with If-Modified-Since would get 304
    and keep stale content (RFC 9110 section 13.1.3 compares whole seconds)."""
    return max(computed, previous + timedelta(seconds=1))


def _publish_specs(store: Store, settings: Settings, specs: Iterable[FeedSpec]) -> set[str]:
    """Render each feed; the feed keys that failed (logged, previous bytes kept)."""
    failed: set[str] = set()
    for spec in dict.fromkeys(specs):
        try:
            publish_feed(store, settings, spec)
        except Exception:  # an entry point for each feed: one bad feed must not stop the rest
            log.exception("publish.failed", feed=spec.feed_key)
            failed.add(spec.feed_key)
    store.count_publish_failures(len(failed))
    return failed


# ---------------------------------------------------------------- entry points


def publish_changes(
    store: Store,
    settings: Settings,
    *,
    consumer: str = "publisher",
    stale_after_ms: int | None = None,
    batch: int | None = None,
) -> int:
    """Consume the change stream: re-render only the feeds each event touches, then ack it.

    Events left pending by a dead publisher are claimed first (those idle `stale_after_ms`;
    by default STALE_AFTER_MS; a caller that knows no other publisher runs may pass 0). Each
    feed is rendered once per `batch` events (BATCH). An event is acknowledged only when all
    its feeds rendered; the rest stay pending and PublishError is raised. Returns the number
    of events published."""
    idle = STALE_AFTER_MS if stale_after_ms is None else stale_after_ms
    count = batch or BATCH
    done = 0
    while True:
        events = store.claim_stale_changes(
            GROUP, consumer, min_idle_ms=idle, count=count
        ) + store.read_changes(GROUP, consumer, count=count)
        if not events:
            return done
        specs = {event.event_id: feeds_of_change(event) for event in events}
        failed = _publish_specs(store, settings, (s for v in specs.values() for s in v))
        for event in events:
            if not failed & {s.feed_key for s in specs[event.event_id]}:
                store.ack_change(GROUP, event.event_id)
                done += 1
        if failed:
            raise PublishError(sorted(failed))
        log.info("publish.changes", events=len(events), feeds=len(set().union(*specs.values())))


def publish_all(store: Store, settings: Settings) -> int:
    """Render every feed that exists, and every feed stored before (one that lost its last
    entry becomes empty rather than stale). Idempotent; used after a crawl and at startup.
    Returns the number of feeds (both formats count as one) rendered."""
    posts = [s.post for s in store.recent_posts(limit=max(store.count_posts(), 1))]
    specs = feeds_of_posts(posts)
    specs += [FeedSpec.from_feed_key(key) for key in stored_feed_keys(store)]
    unique = list(dict.fromkeys(specs))
    failed = _publish_specs(store, settings, unique)
    if failed:
        raise PublishError(sorted(failed))
    log.info("publish.all", feeds=len(unique))
    return len(unique)


def stored_feed_keys(store: Store) -> list[str]:
    """Feed keys (`topics/ukraine@ru`) with a stored rendering, in no particular order."""
    names = store.feed_keys()
    return list(dict.fromkeys(n.rsplit(".", 1)[0] for n in names if "." in n))


def published_feeds(store: Store) -> list[FeedSpec]:
    """The feeds that can be served, in index order (all, topics, speakers; base first)."""
    specs = [FeedSpec.from_feed_key(key) for key in stored_feed_keys(store)]
    return sort_feeds(specs)


def sort_feeds(specs: Iterable[FeedSpec]) -> list[FeedSpec]:
    kinds = {"all": 0, "topic": 1, "speaker": 2}
    languages = {lang: i + 1 for i, lang in enumerate(LANGUAGES)}
    return sorted(
        set(specs),
        key=lambda s: (kinds[s.kind], s.key or "", languages.get(s.language or "", 0)),
    )
