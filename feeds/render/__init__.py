"""Rendering: stored posts in, feed bytes out. Pure: no network, no Redis, no `os`, no clock.

The same items always render to the same bytes, hence the same ETag (DESIGN.md, "Feed
entries").

    _entries   which feed, and what goes in it: specs, archive pages, entries per kind, ids
    _times     distinct entry times when the source gave only a day or a minute
    _labels    display names of people and topics by language
    _content   what an entry says: title, authors, names in its language, HTML content
    _titles    a feed's title
    _links     RFC 5005 archive links and the WebSub hub of one document
    _archive   which posts go on which archive page
    _changes   the note on what an edit changed
    _feed      Atom and RSS 2.0 through feedgen
    _json      JSON Feed 1.1 with the `_nam` structure extension
    _opml      the OPML subscription list
    _query     query feeds: entries by speaker, topic, language and words
"""

from feeds.render._archive import ArchivePlan, plan_archive
from feeds.render._changes import describe_change
from feeds.render._entries import (
    DEFAULT_FEED_SIZE,
    EMPTY_FEED_UPDATED,
    FORMATS,
    OPEN_PAGE,
    TAG_AUTHORITY,
    Entry,
    FeedSpec,
    Fmt,
    Kind,
    RenderItem,
    entries_for,
    entry_id,
    last_updated,
)
from feeds.render._feed import CATEGORY_SCHEME, MIME, TOPIC_SCHEME, render_feed
from feeds.render._labels import Labels, PersonLike, TopicLike
from feeds.render._links import DocumentLinks
from feeds.render._opml import FeedGroup, FeedRef, render_opml
from feeds.render._query import Query, QueryError, parse_query, query_entries

__all__ = [
    "ArchivePlan",
    "CATEGORY_SCHEME",
    "DEFAULT_FEED_SIZE",
    "EMPTY_FEED_UPDATED",
    "FORMATS",
    "MIME",
    "OPEN_PAGE",
    "TAG_AUTHORITY",
    "TOPIC_SCHEME",
    "DocumentLinks",
    "Entry",
    "FeedGroup",
    "FeedRef",
    "FeedSpec",
    "Fmt",
    "Kind",
    "Labels",
    "PersonLike",
    "Query",
    "QueryError",
    "RenderItem",
    "TopicLike",
    "describe_change",
    "entries_for",
    "entry_id",
    "last_updated",
    "parse_query",
    "plan_archive",
    "query_entries",
    "render_feed",
    "render_opml",
]
