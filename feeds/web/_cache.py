"""Rendered feeds kept in process memory: bytes, their gzip and validators, with the response
headers built once per feed version.

A cached feed is trusted for `revalidate_after` seconds; after that the next request asks its
loader whether it moved. For a stored feed (`stored_feeds`) that is one small HMGET of its
validators, and the body is read again only when its ETag moved; a query feed (_query) reads
the data's generation and renders again only when it changed. So a feed served 10,000 times a
second costs Redis about ten tiny reads a second, and an edit is served within
`revalidate_after` of being stored.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import anyio.to_thread
import structlog

from feeds.catalog import cache_control
from feeds.web._conditional import gzip_etag
from services.errors import StorageError
from services.storage import Store, StoredFeed

log = structlog.get_logger(__name__)

REVALIDATE_AFTER = 0.1
CACHE_SIZE = 512
# Feeds are at most a few hundred KB (feed_size entries); the byte bound is what keeps a
# process's memory bounded whatever the number or size of documents asked for.
MAX_BYTES = 256 * 1024 * 1024
CACHE_CONTROL = "public, max-age=300"

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class CachedFeed:
    """One feed version in both codings, with the header lists a response needs."""

    etag: str
    gz_etag: str
    last_modified: datetime
    body: bytes
    gz_body: bytes
    # the headers of a 304 but its ETag (it names the tag the client holds): what a 200
    # would carry that RFC 9110 (15.4.5) asks of a 304, Cache-Control and Vary. Not
    # Last-Modified, which a 304 with an ETag need not repeat; every header costs the
    # server's protocol code about as much as the rest of a cached 304.
    common: Headers
    identity: Headers  # the full header list of a 200 without gzip
    zipped: Headers  # the full header list of a 200 with gzip
    # If-None-Match values naming exactly one of our tags -> the headers of its 304: the
    # common revalidation, answered without parsing anything (a 304 carries the tag the
    # client holds, whatever it now accepts)
    exact_304: dict[bytes, Headers]
    # what the loader compares to know the feed did not move without reading it (a query
    # feed's data generation); empty for stored feeds, whose ETag says it
    version: str = ""
    # each header list above as the bytes of a response head, by the list's id (the feed
    # holds the lists, so their ids stay theirs): feeds.web._protocol writes these
    encoded: dict[int, bytes] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for headers in (self.identity, self.zipped, *self.exact_304.values()):
            self.encoded[id(headers)] = encode_headers(headers)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gz_body)

    @classmethod
    def build(cls, stored: StoredFeed, version: str = "") -> CachedFeed:
        gz_body = gzip.compress(stored.body, compresslevel=6, mtime=0)
        etag, gz_tag = stored.etag, gzip_etag(stored.etag)
        common = [
            # archive pages that can no longer change are immutable (feeds.catalog)
            (b"cache-control", cache_control(stored.feed_key, CACHE_CONTROL).encode()),
            (b"vary", b"Accept-Encoding"),
        ]
        kind = [
            (b"last-modified", _http_date(stored.last_modified).encode()),
            (b"content-type", stored.content_type.encode()),
        ]
        identity = [
            *common,
            *kind,
            (b"etag", etag.encode()),
            (b"content-length", str(len(stored.body)).encode()),
        ]
        zipped = [
            *common,
            *kind,
            (b"etag", gz_tag.encode()),
            (b"content-encoding", b"gzip"),
            (b"content-length", str(len(gz_body)).encode()),
        ]
        exact = {tag.encode(): [*common, (b"etag", tag.encode())] for tag in (etag, gz_tag)}
        modified = stored.last_modified
        return cls(
            etag, gz_tag, modified, stored.body, gz_body, common, identity, zipped, exact, version
        )


def encode_headers(headers: Headers) -> bytes:
    """Header lines as they go on the wire, each ended by CRLF."""
    return b"".join(b"%s: %s\r\n" % pair for pair in headers)


def _http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


Load = Callable[[Hashable, "CachedFeed | None"], "CachedFeed | None"]


@dataclass
class _Slot:
    feed: CachedFeed
    checked: float


@dataclass
class FeedCache:
    """Feeds by key, least recently used first out past `size` entries or `max_bytes` of
    bodies. Only feeds that exist are kept, so requests for made-up slugs cannot grow it. All
    methods run on the event loop; `load(key, known)` runs in a worker thread, once per key at
    a time however many requests wait on it, and returns `known` when the feed did not move,
    a new CachedFeed when it did, None when there is no such feed."""

    load: Load
    revalidate_after: float = REVALIDATE_AFTER
    size: int = CACHE_SIZE
    max_bytes: int = MAX_BYTES
    clock: Callable[[], float] = time.monotonic
    held: int = field(default=0, init=False)  # bytes of bodies kept
    _slots: OrderedDict[Hashable, _Slot] = field(default_factory=OrderedDict)
    _pending: dict[Hashable, asyncio.Future[CachedFeed | None]] = field(default_factory=dict)
    # the last failure and until when it stands: while Redis is down, requests fail fast
    # instead of each waiting for its own timeout, and the log gets one line, not thousands
    _down: str | None = None
    _down_until: float = 0.0

    def __len__(self) -> int:
        return len(self._slots)

    def fresh(self, key: Hashable) -> CachedFeed | None:
        """The feed when a copy checked within `revalidate_after` is kept, else None: what
        can be answered at once, with no await (feeds.web._protocol)."""
        slot = self._slots.get(key)
        if slot is not None and self.clock() - slot.checked < self.revalidate_after:
            return slot.feed
        return None

    async def get(self, key: Hashable) -> CachedFeed | None:
        """The feed, fresh within `revalidate_after`; None when there is no such feed.
        A StorageError (Redis down or hung past its timeout) is raised to every waiter."""
        slot = self._slots.get(key)
        if slot is not None and self.clock() - slot.checked < self.revalidate_after:
            return slot.feed
        if self._down is not None and self.clock() < self._down_until:
            raise StorageError(self._down)  # a new one each time: a kept one grows tracebacks
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[CachedFeed | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            feed = await self._revalidate(key, slot.feed if slot else None)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so a future nobody waited on logs nothing
            raise
        except BaseException:  # cancelled: the waiters try again on their own
            future.cancel()
            raise
        else:
            future.set_result(feed)
        finally:
            del self._pending[key]
        return feed

    async def _revalidate(self, key: Hashable, known: CachedFeed | None) -> CachedFeed | None:
        checked = self.clock()
        try:
            feed = await anyio.to_thread.run_sync(self.load, key, known)
        except StorageError as exc:
            if self._down is None:
                log.warning("web.storage_unavailable", feed=str(key), error=str(exc))
            self._down, self._down_until = str(exc), self.clock() + self.revalidate_after
            raise
        if self._down is not None:
            log.info("web.storage_back", feed=str(key))
            self._down = None
        old = self._slots.pop(key, None)
        self.held -= old.feed.size if old else 0
        if feed is None or feed.size > self.max_bytes:
            return feed  # a document too big to keep is served, never kept
        self._slots[key] = _Slot(feed, checked)
        self.held += feed.size
        while len(self._slots) > self.size or self.held > self.max_bytes:
            _, dropped = self._slots.popitem(last=False)
            self.held -= dropped.feed.size
        return feed


def stored_feeds(store: Store) -> Load:
    """The loader of feeds as publishing stored them, by feed key: validators first, the
    body only when they moved."""

    def load(feed_key: Hashable, known: CachedFeed | None) -> CachedFeed | None:
        assert isinstance(feed_key, str)
        if known is not None:
            validators = store.feed_validators(feed_key)
            if validators is not None and validators == (known.etag, known.last_modified):
                return known
        stored = store.get_feed(feed_key)
        return CachedFeed.build(stored) if stored is not None else None

    return load
