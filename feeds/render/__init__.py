"""Rendering: stored posts in, feed bytes out. Pure: no network, no Redis, no `os`, no clock.

The same items always render to the same bytes, hence the same ETag (DESIGN.md, "Feed
entries").

    _entries   which feed, and what goes in it: specs, entries per feed kind, ids, labels
    _changes   the note on what an edit changed
    _feed      Atom and RSS 2.0 through feedgen
    _opml      the OPML subscription list
"""

from feeds.render._changes import describe_change
from feeds.render._entries import (
    DEFAULT_FEED_SIZE,
    EMPTY_FEED_UPDATED,
    TAG_AUTHORITY,
    Entry,
    FeedSpec,
    Fmt,
    Kind,
    Labels,
    PersonLike,
    RenderItem,
    TopicLike,
    entries_for,
    entry_id,
    last_updated,
)
from feeds.render._feed import CATEGORY_SCHEME, TOPIC_SCHEME, render_feed
from feeds.render._opml import render_opml

__all__ = [
    "CATEGORY_SCHEME",
    "DEFAULT_FEED_SIZE",
    "EMPTY_FEED_UPDATED",
    "TAG_AUTHORITY",
    "TOPIC_SCHEME",
    "Entry",
    "FeedSpec",
    "Fmt",
    "Kind",
    "Labels",
    "PersonLike",
    "RenderItem",
    "TopicLike",
    "describe_change",
    "entries_for",
    "entry_id",
    "last_updated",
    "render_feed",
    "render_opml",
]
