"""Rendered feed bytes and admin job records in Redis: what the web app serves and reports.

A feed is replaced in one transaction, so a reader sees the old bytes or the new; a job
expires a week after its last update.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import redis
from redis.commands.core import Script
from redis.typing import EncodableT

from services import keys
from services.storage_codec import as_bytes, as_text, as_time, iso, json_fields, storage_errors
from services.storage_records import StoredFeed

JOB_TTL_SECONDS = 7 * 86400

_UPDATE_JOB_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


class FeedMixin:
    """Store's rendered feeds."""

    client: redis.Redis

    @storage_errors("storing a feed")
    def put_feed(
        self,
        feed_key: str,
        body: bytes,
        etag: str,
        last_modified: datetime,
        content_type: str,
    ) -> None:
        """Replace a rendered feed in one step: a reader sees the old bytes or the new."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            keys.feed(feed_key),
            mapping={
                "body": body,
                "etag": etag,
                "last_modified": iso(last_modified),
                "content_type": content_type,
            },
        )
        pipe.sadd(keys.FEEDS, feed_key)
        pipe.execute()

    @storage_errors("reading a feed")
    def get_feed(self, feed_key: str) -> StoredFeed | None:
        body, etag, last_modified, content_type = self.client.hmget(
            keys.feed(feed_key), "body", "etag", "last_modified", "content_type"
        )
        if body is None or etag is None or last_modified is None or content_type is None:
            return None
        return StoredFeed(
            feed_key, as_bytes(body), as_text(etag), as_time(last_modified), as_text(content_type)
        )

    @storage_errors("listing feeds")
    def feed_keys(self) -> list[str]:
        return sorted(as_text(k) for k in self.client.smembers(keys.FEEDS))


class JobMixin:
    """Store's admin job records."""

    client: redis.Redis
    _update_job: Script

    def _init_jobs(self) -> None:
        self._update_job = self.client.register_script(_UPDATE_JOB_LUA)

    @storage_errors("creating a job")
    def create_job(self, kind: str, params: Mapping[str, Any]) -> str:
        """A job record for the admin API; it expires a week after its last update."""
        job_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        fields = {
            "id": job_id,
            "kind": kind,
            "params": dict(params),
            "status": "queued",
            "created_at": now,
            "updated_at": now,
        }
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(keys.job(job_id), mapping=json_fields(fields))
        pipe.expire(keys.job(job_id), JOB_TTL_SECONDS)
        pipe.execute()
        return job_id

    @storage_errors("updating a job")
    def update_job(self, job_id: str, **fields: Any) -> bool:
        """Set fields (any JSON value) of a job; False when it does not exist (expired)."""
        encoded = json_fields({**fields, "updated_at": datetime.now(UTC)})
        args: list[EncodableT] = [JOB_TTL_SECONDS]
        for name, value in encoded.items():
            args += [name, value]
        return bool(self._update_job(keys=[keys.job(job_id)], args=args))

    @storage_errors("counting in a job")
    def count_job_outcome(self, job_id: str, outcome: str) -> bool:
        """Count one finished page of a job; True when that was its last page. HINCRBY keeps
        the counts exact with several workers; a bare integer is valid JSON for get_job."""
        job = keys.job(job_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.hincrby(job, outcome, 1)
        pipe.hincrby(job, "done", 1)
        pipe.hget(job, "total")
        _, done, total = pipe.execute()
        finished = total is not None and int(done) >= int(total)
        if finished:
            self.update_job(job_id, status="done")
        return finished

    @storage_errors("reading a job")
    def get_job(self, job_id: str) -> dict[str, Any] | None:
        raw = self.client.hgetall(keys.job(job_id))
        if not raw:
            return None
        return {as_text(k): json.loads(v) for k, v in raw.items()}
