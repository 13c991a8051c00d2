"""Redis storage of posts, their history, fetch state, the change stream, feeds and jobs.

The facade the rest of the project imports: Store is composed of one part per concept, each in
its own module, over one shared client. The storage_* modules are the only ones that import
redis for posts and feeds; keys come from services.keys. Redis errors surface as StorageError.

    storage_upsert   writing a post: one Lua script, all or nothing
    storage_posts    reading posts, versions, listings and counts
    storage_fetch    fetch state per URL and crawl summaries
    storage_stream   the change stream through consumer groups
    storage_feeds    rendered feeds and admin jobs
    storage_records  the records handed in and out; storage_codec, values and errors
"""

from __future__ import annotations

import redis

from services.errors import StorageError
from services.storage_codec import storage_errors
from services.storage_feeds import JOB_TTL_SECONDS, FeedMixin, JobMixin
from services.storage_fetch import CRAWLS_KEPT, FetchMixin
from services.storage_posts import PostReadMixin
from services.storage_records import (
    VOLATILE_FIELDS,
    ChangeEvent,
    FetchInfo,
    FetchState,
    StoredFeed,
    StoredPost,
    UpsertKind,
    UpsertResult,
    Version,
    answer_counts,
    content_hash,
)
from services.storage_stream import STREAM_MAXLEN, StreamMixin
from services.storage_upsert import UpsertMixin

__all__ = [
    "CRAWLS_KEPT",
    "JOB_TTL_SECONDS",
    "STREAM_MAXLEN",
    "VOLATILE_FIELDS",
    "ChangeEvent",
    "FetchInfo",
    "FetchState",
    "Store",
    "StoredFeed",
    "StoredPost",
    "UpsertKind",
    "UpsertResult",
    "Version",
    "answer_counts",
    "content_hash",
]


class Store(UpsertMixin, PostReadMixin, FetchMixin, StreamMixin, FeedMixin, JobMixin):
    """Posts, fetch state, changes, feeds and jobs in one Redis database."""

    def __init__(self, client: redis.Redis, *, stream_maxlen: int = STREAM_MAXLEN) -> None:
        if client.get_connection_kwargs().get("decode_responses"):
            raise StorageError("storage: the Redis client must use decode_responses=False")
        self.client = client
        self._init_upsert(stream_maxlen)
        self._init_stream()
        self._init_jobs()

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(redis.Redis.from_url(url, decode_responses=False))

    def close(self) -> None:
        self.client.close()

    @storage_errors("ping")
    def ping(self) -> bool:
        return bool(self.client.ping())
