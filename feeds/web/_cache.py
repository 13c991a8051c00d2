"""Rendered feeds kept in process memory: bytes, their gzip and validators, with the response
headers built once per feed version.

A cached feed is trusted for `revalidate_after` seconds; after that the next request reads
only the feed's validators (one small HMGET), and the body again only when its ETag moved.
So a feed served 10,000 times a second costs Redis about ten tiny reads a second, and an
edit is served within `revalidate_after` of being stored.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import anyio.to_thread
import structlog

from feeds.web._conditional import gzip_etag
from services.errors import StorageError
from services.storage import Store, StoredFeed

log = structlog.get_logger(__name__)

REVALIDATE_AFTER = 0.1
CACHE_SIZE = 512
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
    # headers shared by every answer, without ETag (a 304 names the tag the client holds)
    common: Headers
    identity: Headers  # the full header list of a 200 without gzip
    zipped: Headers  # the full header list of a 200 with gzip

    @classmethod
    def build(cls, stored: StoredFeed) -> CachedFeed:
        gz_body = gzip.compress(stored.body, compresslevel=6, mtime=0)
        etag, gz_tag = stored.etag, gzip_etag(stored.etag)
        common = [
            (b"last-modified", _http_date(stored.last_modified).encode()),
            (b"cache-control", CACHE_CONTROL.encode()),
            (b"vary", b"Accept-Encoding"),
        ]
        kind = [(b"content-type", stored.content_type.encode())]
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
        modified = stored.last_modified
        return cls(etag, gz_tag, modified, stored.body, gz_body, common, identity, zipped)


def _http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


@dataclass
class _Slot:
    feed: CachedFeed
    checked: float


@dataclass
class FeedCache:
    """Feeds by feed key, least recently used first out. Only feeds that exist are kept, so
    requests for made-up slugs cannot grow it. All methods run on the event loop; Redis is
    read in a worker thread, one read per key at a time however many requests wait on it."""

    store: Store
    revalidate_after: float = REVALIDATE_AFTER
    size: int = CACHE_SIZE
    clock: Callable[[], float] = time.monotonic
    _slots: OrderedDict[str, _Slot] = field(default_factory=OrderedDict)
    _pending: dict[str, asyncio.Future[CachedFeed | None]] = field(default_factory=dict)
    # the last failure and until when it stands: while Redis is down, requests fail fast
    # instead of each waiting for its own timeout, and the log gets one line, not thousands
    _down: StorageError | None = None
    _down_until: float = 0.0

    async def get(self, feed_key: str) -> CachedFeed | None:
        """The feed, fresh within `revalidate_after`; None when no such feed is stored.
        A StorageError (Redis down or hung past its timeout) is raised to every waiter."""
        slot = self._slots.get(feed_key)
        if slot is not None and self.clock() - slot.checked < self.revalidate_after:
            return slot.feed
        if self._down is not None and self.clock() < self._down_until:
            raise self._down
        pending = self._pending.get(feed_key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[CachedFeed | None] = asyncio.get_running_loop().create_future()
        self._pending[feed_key] = future
        try:
            feed = await self._revalidate(feed_key, slot.feed if slot else None)
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
            del self._pending[feed_key]
        return feed

    async def _revalidate(self, feed_key: str, known: CachedFeed | None) -> CachedFeed | None:
        checked = self.clock()
        try:
            feed = await anyio.to_thread.run_sync(self._read, feed_key, known)
        except StorageError as exc:
            if self._down is None:
                log.warning("web.storage_unavailable", feed=feed_key, error=str(exc))
            self._down, self._down_until = exc, self.clock() + self.revalidate_after
            raise
        if self._down is not None:
            log.info("web.storage_back", feed=feed_key)
            self._down = None
        if feed is None:
            self._slots.pop(feed_key, None)
            return None
        self._slots[feed_key] = _Slot(feed, checked)
        self._slots.move_to_end(feed_key)
        while len(self._slots) > self.size:
            self._slots.popitem(last=False)
        return feed

    def _read(self, feed_key: str, known: CachedFeed | None) -> CachedFeed | None:
        """In a worker thread: validators first, the body only when they moved."""
        if known is not None:
            validators = self.store.feed_validators(feed_key)
            if validators is not None and validators == (known.etag, known.last_modified):
                return known
        stored = self.store.get_feed(feed_key)
        return CachedFeed.build(stored) if stored is not None else None
