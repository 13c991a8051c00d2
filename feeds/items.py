"""What a feed holds, read from the store: its posts as render items, each with the note of
what its last edit changed, and the registries' display names.

feeds.publish renders these; the web app's query feeds and pages read them too.
"""

from __future__ import annotations

from functools import cache

from feeds.render import FeedSpec, Labels, RenderItem, describe_change
from services.people import all_people
from services.storage import Store, StoredPost
from services.topics import all_topics


@cache
def labels() -> Labels:
    return Labels.from_registries(all_people(), all_topics())


def render_items(store: Store, spec: FeedSpec, feed_size: int) -> list[RenderItem]:
    """The stored posts of one feed, each with a change note when it has been edited.

    The newest `feed_size` posts by published time are taken and then ordered by `updated`,
    so an edit moves a recent post up but does not bring back a years-old one."""
    return [render_item(store, s) for s in _feed_posts(store, spec, feed_size)]


def _feed_posts(store: Store, spec: FeedSpec, limit: int) -> list[StoredPost]:
    return store.recent_posts(limit=limit, **filters(spec))


def filters(spec: FeedSpec) -> dict[str, str | None]:
    """The store's listing filters that select one feed's posts."""
    return {
        "language": spec.language,
        "topic": spec.key if spec.kind == "topic" else None,
        "speaker": spec.key if spec.kind == "speaker" else None,
    }


def render_item(store: Store, stored: StoredPost) -> RenderItem:
    """One stored post as a feed shows it; an edited one with what the edit changed."""
    note = None
    if stored.version > 1:
        previous = store.get_version(stored.post.id, stored.version - 1)
        if previous is not None:
            note = describe_change(previous.post, stored.post)
    return RenderItem(stored.post, stored.updated, stored.version, note)
