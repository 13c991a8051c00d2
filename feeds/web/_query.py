"""Query feeds over HTTP: `/feeds/all.{atom,rss,json}?speaker=&topic=&lang=&q=`.

Rendered on the first request for a query and kept, gzip and validators with it, in a
FeedCache of its own, bounded in entries and bytes: no client can fill memory with queries,
the least recently used are dropped past either bound. A kept rendering is checked against
the data's generation (the change stream's newest id, one small read) at most every
`revalidate_after` seconds and rendered again only when it moved, so a new post or edit is in
every query feed within that time. ETag, Last-Modified and gzip work as for stored feeds.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import cast

from starlette.datastructures import QueryParams

from feeds.catalog import stored_name
from feeds.publish import CONTENT_TYPES, etag_of, labels, render_items
from feeds.render import (
    FeedSpec,
    Fmt,
    Query,
    QueryError,
    RenderItem,
    last_updated,
    parse_query,
    query_entries,
    render_feed,
)
from feeds.web._cache import CachedFeed, FeedCache
from services.people import all_people
from services.settings import Settings
from services.storage import Store, StoredFeed
from services.topics import all_topics

QUERY_PARAMS = ("speaker", "topic", "q")
MAX_ENTRIES = 1024
MAX_BYTES = 32 * 1024 * 1024
POSTS_KEPT = 8
# Longer query strings are answered, but their parse is not kept: a client sending
# megabyte queries must not fill the parse cache with them.
KEPT_QUERY_CHARS = 1024

QueryKey = tuple[Fmt, Query]


class QueryFeeds:
    """The query feeds of one app: which requests are queries, their renderings and cache."""

    def __init__(self, settings: Settings, store: Store, revalidate_after: float) -> None:
        self.settings, self.store = settings, store
        self.cache = FeedCache(
            self.load, revalidate_after, size=MAX_ENTRIES, max_bytes=MAX_BYTES
        )
        self.renders = 0  # renderings made, for tests and benchmarks
        # The posts of the last few (generation, feed) pairs: distinct queries over one feed
        # read Redis once, not once each.
        self._posts: OrderedDict[tuple[str, FeedSpec], list[RenderItem]] = OrderedDict()
        self._posts_lock = threading.Lock()
        self._people = [p.id for p in all_people()]
        self._topics = [t.slug for t in all_topics()]
        self._parse = functools.lru_cache(maxsize=4096)(self._parse_uncached)

    @staticmethod
    def wanted(params: QueryParams, feed_path: str) -> bool:
        """A request for `all` with any query parameter beyond `lang`."""
        return feed_path == "all" and any(p in params for p in QUERY_PARAMS)

    def key(self, fmt: Fmt, query_string: bytes) -> QueryKey | None:
        """The cache key of a valid query on `all.<fmt>`; None when the request is no query
        feed or a bad one (the full app's feed route says why, with a 400)."""
        if len(query_string) > KEPT_QUERY_CHARS:
            return self._parse_uncached(fmt, query_string)
        return self._parse(fmt, query_string)

    def _parse_uncached(self, fmt: Fmt, query_string: bytes) -> QueryKey | None:
        params = QueryParams(query_string.decode("latin-1"))
        if not self.wanted(params, "all"):
            return None
        try:
            return fmt, self.parse(params)
        except QueryError:
            return None

    def parse(self, params: QueryParams) -> Query:
        """The query of a request's parameters; QueryError says what is wrong with them."""
        return parse_query(params, people=self._people, topics=self._topics)

    def load(self, key: Hashable, known: CachedFeed | None) -> CachedFeed | None:
        """FeedCache's loader, in a worker thread: the kept rendering while the data's
        generation stands, else a new one."""
        fmt, query = cast(QueryKey, key)
        generation = self.store.feed_generation()
        if known is not None and known.version == generation:
            return known
        items = self._items(generation, query.spec)
        self.renders += 1
        return CachedFeed.build(self._render(query, fmt, items), version=generation)

    def _items(self, generation: str, spec: FeedSpec) -> list[RenderItem]:
        with self._posts_lock:
            found = self._posts.get((generation, spec))
            if found is not None:
                self._posts.move_to_end((generation, spec))
                return found
        items = render_items(self.store, spec, max(self.store.count_posts(), 1))
        with self._posts_lock:
            self._posts[(generation, spec)] = items
            while len(self._posts) > POSTS_KEPT:
                self._posts.popitem(last=False)
        return items

    def _render(self, query: Query, fmt: Fmt, items: list[RenderItem]) -> StoredFeed:
        spec, size = query.spec, self.settings.feed_size
        entries = query_entries(query, items, feed_size=size)
        path = query.path(fmt)
        body = render_feed(
            spec,
            items,
            fmt=fmt,
            public_url=self.settings.public_url,
            feed_size=size,
            labels=labels(),
            entries=entries,
            self_path=path,
            title=_title(query),
        )
        # the feed key of `all.<fmt>`: a query feed takes the current feed's Cache-Control
        modified, kind = last_updated(entries), CONTENT_TYPES[fmt]
        return StoredFeed(stored_name(spec, fmt), body, etag_of(body), modified, kind)


def _title(query: Query) -> str:
    """"NAM-media: Павел Латушко · Санкции · ru · “калий”": what the query asks for."""
    names, lang = labels(), query.language
    parts = []
    if query.speaker:
        parts.append(names.person(query.speaker, lang) or query.speaker)
    if query.topic:
        parts.append(names.topic(query.topic, lang))
    if not parts:
        parts.append("all posts")
    if lang:
        parts.append(lang)
    if query.q:
        parts.append(f"“{query.q}”")
    return "NAM-media: " + " · ".join(parts)
