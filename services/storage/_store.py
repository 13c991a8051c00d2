"""Store: one object over one Redis client, composed of one part per concept."""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.errors import StorageError
from services.storage._batches import BatchMixin
from services.storage._codec import storage_errors
from services.storage._feeds import FeedMixin, JobMixin
from services.storage._fetch import FetchMixin
from services.storage._leases import LeaseMixin
from services.storage._outcomes import OutcomeMixin
from services.storage._posts import PostReadMixin
from services.storage._quarantine import QuarantineMixin
from services.storage._stream import STREAM_MAXLEN, StreamMixin
from services.storage._upsert import UpsertMixin


class Store(
    UpsertMixin,
    QuarantineMixin,
    PostReadMixin,
    FetchMixin,
    OutcomeMixin,
    StreamMixin,
    FeedMixin,
    BatchMixin,
    JobMixin,
    LeaseMixin,
):
    """Posts, fetch state, changes, feeds, jobs and leases in one Redis database."""

    def __init__(self, client: redis.Redis, *, stream_maxlen: int = STREAM_MAXLEN) -> None:
        if client.get_connection_kwargs().get("decode_responses"):
            raise StorageError("storage: the Redis client must use decode_responses=False")
        self.client = client
        self._init_upsert(stream_maxlen)
        self._init_stream()
        self._init_jobs()
        self._init_leases()

    @classmethod
    def from_url(cls, url: str, *, timeout: float | None = None) -> Store:
        """With `timeout`, a command fails (StorageError) within about that many seconds
        when Redis hangs or cannot be reached, and is not retried: for callers that must
        answer quickly, such as the web app, rather than wait for a Redis that is stuck."""
        if timeout is None:
            return cls(redis.Redis.from_url(url, decode_responses=False))
        options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
        }
        return cls(redis.Redis.from_url(url, decode_responses=False, **options))

    def close(self) -> None:
        self.client.close()

    @storage_errors("ping")
    def ping(self) -> bool:
        return bool(self.client.ping())
