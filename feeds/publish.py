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

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import structlog

from feeds.catalog import (
    etag_of,
    feeds_of_change,
    feeds_of_posts,
    feeds_of_registry,
    sort_feeds,
    stored_name,
)
from feeds.items import filters, labels, render_item, render_items
from feeds.render import (
    FORMATS,
    OPEN_PAGE,
    ArchivePlan,
    DocumentLinks,
    FeedSpec,
    RenderItem,
    entries_for,
    last_updated,
    plan_archive,
    render_feed,
)
from feeds.websub import ping_hub
from services.errors import NamFeedsError
from services.settings import Settings
from services.storage import Store, StoredFeed

log = structlog.get_logger(__name__)

# the pure part lives in feeds.catalog; callers keep importing these names from here
__all__ = [
    "FORMATS",
    "etag_of",
    "feeds_of_change",
    "feeds_of_posts",
    "labels",
    "render_items",
    "sort_feeds",
    "stored_name",
]

GROUP = "publisher"
CONTENT_TYPES: dict[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
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


# ---------------------------------------------------------------- rendering (through Store)


def publish_feed(
    store: Store,
    settings: Settings,
    spec: FeedSpec,
    *,
    touched: Collection[str] | None = None,
    pinged: list[str] | None = None,
) -> int:
    """Render every format of one feed's current document and of the archive pages that may
    have changed, store those whose bytes changed; how many were written.

    `touched` (post ids of the changes being published) limits the archive pages rendered
    to those a change can alter; None renders them all. The URLs of current documents whose
    bytes changed are appended to `pinged`, for the WebSub hub."""
    generation = store.feed_generation()  # before reading posts: see the module docstring
    size = settings.feed_size
    ids = store.recent_post_ids(limit=max(store.count_posts(), 1), **filters(spec))
    plan = plan_archive(spec, ids, size)
    hub = settings.websub_hub
    current = render_items(store, spec, size)
    written = _publish_document(store, settings, spec, current, plan.links(None, hub), generation)
    if written and pinged is not None:
        pinged.extend(settings.public_url.rstrip("/") + spec.path(fmt) for fmt in FORMATS)
    for page in _pages_to_render(store, plan, touched, set(ids)):
        items = [render_item(store, s) for s in store.get_posts(list(plan.pages[page]))]
        links = plan.links(page, hub)
        written += _publish_document(store, settings, spec.archive(page), items, links, generation)
    return written


def _pages_to_render(
    store: Store, plan: ArchivePlan, touched: Collection[str] | None, in_feed: Collection[str]
) -> list[int]:
    """All pages, or: the open page, full pages not stored yet, and every page from the
    oldest one holding a touched post on (a post that joined or left the middle of the
    feed shifts the pages after it; one that left is nowhere to be found, so all shift)."""
    order = plan.order()
    if touched is None or any(post_id not in in_feed for post_id in touched):
        return order
    held = [plan.page_of(post_id) for post_id in touched]
    start = min((order.index(page) for page in held if page is not None), default=len(order))
    stored = {p for p in order if store.feed_validators(stored_name(plan.spec.archive(p), "atom"))}
    fresh = {page for page in order if page == OPEN_PAGE or page not in stored}
    return [page for at, page in enumerate(order) if at >= start or page in fresh]


def _publish_document(
    store: Store,
    settings: Settings,
    spec: FeedSpec,
    items: list[RenderItem],
    links: DocumentLinks,
    generation: str,
) -> int:
    """Render every format of one document and store those whose bytes changed. All are
    rendered before any is stored, so a failure writes nothing."""
    size = max(settings.feed_size, len(items))
    entries = entries_for(spec, items, feed_size=size)  # once for every format
    modified = last_updated(entries)
    bodies = {
        fmt: render_feed(
            spec,
            items,
            fmt=fmt,
            public_url=settings.public_url,
            feed_size=size,
            labels=labels(),
            links=links,
            entries=entries,
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


def _publish_specs(
    store: Store,
    settings: Settings,
    specs: Iterable[FeedSpec],
    touched: Mapping[FeedSpec, Collection[str]] | None = None,
    on_stored: Callable[[], Sequence[str] | None] | None = None,
) -> set[str]:
    """Render each feed; the feed keys that failed (logged, previous bytes kept). Then call
    `on_stored`, and tell the WebSub hub, when there is one, which feeds changed and which
    URLs `on_stored` names, unless it returned None: the new bytes are not served yet."""
    failed: set[str] = set()
    changed: list[str] = []
    for spec in dict.fromkeys(specs):
        try:
            ids = None if touched is None else touched.get(spec)
            publish_feed(store, settings, spec, touched=ids, pinged=changed)
        except Exception:  # an entry point for each feed: one bad feed must not stop the rest
            log.exception("publish.failed", feed=spec.feed_key)
            failed.add(spec.feed_key)
    store.count_publish_failures(len(failed))
    served = on_stored() if on_stored is not None else ()
    if settings.websub_hub and changed and served is None:
        # told now, the hub would fetch and push the old bytes; it polls as well
        log.warning("websub.ping_skipped", feeds=len(changed), reason="new bytes not served")
    elif settings.websub_hub and (changed or served):
        ping_hub(settings.websub_hub, [*changed, *(served or ())], user_agent=settings.user_agent)
    return failed


# ---------------------------------------------------------------- entry points


def publish_changes(
    store: Store,
    settings: Settings,
    *,
    consumer: str = "publisher",
    stale_after_ms: int | None = None,
    batch: int | None = None,
    on_stored: Callable[[], Sequence[str] | None] | None = None,
) -> int:
    """Consume the change stream: re-render only the feeds each event touches, then ack it.

    Events left pending by a dead publisher are claimed first (those idle `stale_after_ms`;
    by default STALE_AFTER_MS; a caller that knows no other publisher runs may pass 0). Each
    feed is rendered once per `batch` events (BATCH). An event is acknowledged only when all
    its feeds rendered; the rest stay pending and PublishError is raised. Returns the number
    of events published. `on_stored` is called after each batch's feeds are stored and
    before the hub is told of them: whatever else serves the feeds (workers._publishing's
    files) is brought level there, so the hub fetches the new bytes. It returns more URLs to
    tell the hub of (files it wrote for feeds another process rendered), or None when the
    new bytes are not served, and the hub is then not told."""
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
        touched: dict[FeedSpec, set[str]] = {}
        for event in events:
            for spec in specs[event.event_id]:
                touched.setdefault(spec, set()).add(event.post_id)
        failed = _publish_specs(store, settings, list(touched), touched, on_stored)
        for event in events:
            if not failed & {s.feed_key for s in specs[event.event_id]}:
                store.ack_change(GROUP, event.event_id)
                done += 1
        if failed:
            raise PublishError(sorted(failed))
        log.info("publish.changes", events=len(events), feeds=len(set().union(*specs.values())))


def publish_all(store: Store, settings: Settings) -> int:
    """Render every feed that exists, every feed the registries name, and every feed stored
    before (one that lost its last entry becomes empty rather than stale), each with all its
    archive pages. Idempotent; used after a crawl and at startup. Returns the number of
    feeds (all formats and pages count as one) rendered."""
    posts = [s.post for s in store.recent_posts(limit=max(store.count_posts(), 1))]
    specs = feeds_of_posts(posts) + feeds_of_registry()
    specs += [FeedSpec.from_feed_key(key).current for key in stored_feed_keys(store)]
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
    """The feeds that can be served (current documents, not archive pages), in index order
    (all, topics, speakers; base first)."""
    specs = [FeedSpec.from_feed_key(key) for key in stored_feed_keys(store)]
    return sort_feeds(s for s in specs if s.page is None)
