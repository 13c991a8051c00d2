"""Query feeds over HTTP: `/feeds/all.{atom,rss,json}?speaker=&topic=&lang=&q=`.

Rendered on the first request for a query and kept in a bounded cache (entries and bytes),
keyed by the query and the data's generation (the change stream's newest id): a new post or
edit makes new keys, and old ones age out. No client can fill memory with queries: the
least recently used are dropped past either bound. ETag and Last-Modified work as for
stored feeds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response

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
from feeds.web._conditional import matched_etag, not_modified
from services.people import all_people
from services.settings import Settings
from services.storage import Store
from services.topics import all_topics

QUERY_PARAMS = ("speaker", "topic", "q")
CACHE_CONTROL = "public, max-age=300"
MAX_ENTRIES = 1024
MAX_BYTES = 32 * 1024 * 1024
POSTS_KEPT = 8


class QueryCache:
    """Least recently used renderings, bounded by count and by total body size."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._items: OrderedDict[tuple[object, ...], tuple[bytes, str, datetime]] = OrderedDict()
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.bytes = 0
        self.hits = self.misses = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple[object, ...]) -> tuple[bytes, str, datetime] | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[object, ...], value: tuple[bytes, str, datetime]) -> None:
        if len(value[0]) > self.max_bytes:
            return  # served once, never kept
        with self._lock:
            old = self._items.pop(key, None)
            self.bytes -= len(old[0]) if old else 0
            self._items[key] = value
            self.bytes += len(value[0])
            while len(self._items) > self.max_entries or self.bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.bytes -= len(dropped[0])


class QueryFeeds:
    """The query feed handler of one app: settings, store and its cache."""

    def __init__(self, settings: Settings, store: Store, cache: QueryCache | None = None) -> None:
        self.settings, self.store = settings, store
        self.cache = cache or QueryCache()
        # The posts of the last few (generation, feed) pairs: distinct queries over one feed
        # read Redis once, not once each.
        self._posts: OrderedDict[tuple[str, FeedSpec], list[RenderItem]] = OrderedDict()
        self._posts_lock = threading.Lock()
        self._people = [p.id for p in all_people()]
        self._topics = [t.slug for t in all_topics()]

    @staticmethod
    def wanted(request: Request, feed_path: str) -> bool:
        """A request for `all` with any query parameter beyond `lang`."""
        return feed_path == "all" and any(p in request.query_params for p in QUERY_PARAMS)

    def respond(self, request: Request, fmt: Fmt) -> Response:
        try:
            query = parse_query(request.query_params, people=self._people, topics=self._topics)
        except QueryError as exc:
            return Response(f"{exc}\n", 400, media_type="text/plain; charset=utf-8")
        generation = self.store.feed_generation()
        key = (generation, fmt, *query.key())
        found = self.cache.get(key)
        if found is None:
            found = self._render(query, fmt, self._items(generation, query.spec))
            self.cache.put(key, found)
        body, etag, modified = found
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
            "Cache-Control": CACHE_CONTROL,
        }
        if not_modified(request.headers, (etag,), modified):
            headers["ETag"] = matched_etag(request.headers.get("if-none-match"), (etag,)) or etag
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=CONTENT_TYPES[fmt], headers=headers)

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

    def _render(
        self, query: Query, fmt: Fmt, items: list[RenderItem]
    ) -> tuple[bytes, str, datetime]:
        spec, size = query.spec, self.settings.feed_size
        entries = query_entries(query, items, feed_size=size)
        body = render_feed(
            spec,
            items,
            fmt=fmt,
            public_url=self.settings.public_url,
            feed_size=size,
            labels=labels(),
            entries=entries,
            self_path=query.path(fmt),
            title=_title(query),
        )
        return body, etag_of(body), last_updated(entries)


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
