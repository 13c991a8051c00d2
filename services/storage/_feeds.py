"""Rendered feed bytes and admin job records in Redis: what the web app serves and reports.

A feed is replaced in one step, so a reader sees the old bytes or the new; a rendering made
from older data than the stored one is refused (see store_feed); a job expires a week after
its last update.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal

import redis
from redis.commands.core import Script
from redis.typing import EncodableT

from services.storage import _keys as keys
from services.storage._codec import (
    as_bytes,
    as_text,
    as_time,
    int_hash,
    iso,
    json_fields,
    storage_errors,
)
from services.storage._records import StoredFeed

JOB_TTL_SECONDS = 7 * 86400
# A running job with no page finished for this long is reported as "stalled": longer than a
# page's slowest retry and than the redelivery of a task lost with a killed worker (about a
# minute), so a healthy crawl never shows it. It goes back to "running" on the next page.
JOB_STALLED_AFTER_SECONDS = 180

_UPDATE_JOB_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


# KEYS: 1 feed hash, 2 feed set, 3 publish counters
# ARGV: 1 feed key, 2 body, 3 etag, 4 last_modified, 5 content type, 6 generation,
#       7 the etag the caller based last_modified on ('' for none)
_STORE_FEED_LUA = """
local function newer(a, b)
  local a_ms, a_seq = string.match(a, '^(%d+)-(%d+)$')
  local b_ms, b_seq = string.match(b, '^(%d+)-(%d+)$')
  a_ms, a_seq, b_ms, b_seq = tonumber(a_ms), tonumber(a_seq), tonumber(b_ms), tonumber(b_seq)
  return a_ms > b_ms or (a_ms == b_ms and a_seq > b_seq)
end
local current = redis.call('HMGET', KEYS[1], 'etag', 'generation')
if current[2] and newer(current[2], ARGV[6]) then
  redis.call('HINCRBY', KEYS[3], 'renders_superseded', 1)
  return 'superseded'
end
if current[1] == ARGV[3] then
  redis.call('HSET', KEYS[1], 'generation', ARGV[6])
  redis.call('HINCRBY', KEYS[3], 'renders_unchanged', 1)
  return 'unchanged'
end
if (current[1] or '') ~= ARGV[7] then return 'retry' end
redis.call('HSET', KEYS[1], 'body', ARGV[2], 'etag', ARGV[3], 'last_modified', ARGV[4],
  'content_type', ARGV[5], 'generation', ARGV[6])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'renders_written', 1)
return 'written'
"""

StoreOutcome = Literal["written", "unchanged", "superseded", "retry"]


class FeedMixin:
    """Store's rendered feeds."""

    client: redis.Redis

    @cached_property
    def _store_feed(self) -> Script:
        # registered on first use: Store.__init__ (services.storage) needs no extra step
        return self.client.register_script(_STORE_FEED_LUA)

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

    @storage_errors("storing a feed")
    def store_feed(
        self,
        feed: StoredFeed,
        *,
        generation: str,
        based_on: str | None,
    ) -> StoreOutcome:
        """Store a rendering unless a newer one is there; one atomic step, so two publishers
        cannot interleave (a stale render landing over a newer one).

        `generation` is the change stream's last id (`feed_generation`) read *before* the
        posts were read: a stored feed of a later generation was rendered from newer data,
        and this one is refused ("superseded"). Equal bytes only record the generation
        ("unchanged"). `based_on` is the stored etag the caller computed last_modified from;
        when the stored etag has moved since, nothing is written and the answer is "retry"."""
        reply = self._store_feed(
            keys=[keys.feed(feed.feed_key), keys.FEEDS, keys.PUBLISH_COUNTS],
            args=[
                feed.feed_key,
                feed.body,
                feed.etag,
                iso(feed.last_modified),
                feed.content_type,
                generation,
                based_on or "",
            ],
        )
        return as_text(reply)  # type: ignore[return-value]  # the script answers only these

    @storage_errors("reading the change stream's generation")
    def feed_generation(self) -> str:
        """The id of the newest change event (`0-0` when there is none). Every post write
        appends its event in the same script, so data read after this id is at least this
        new. Stream ids only grow: a trim keeps the stream's last id, and ids of a recreated
        stream start from the clock's milliseconds, above the old ones."""
        last: Any = self.client.xrevrange(keys.CHANGES, count=1)
        return as_text(last[0][0]) if last else "0-0"

    @storage_errors("reading a feed's validators")
    def feed_validators(self, feed_key: str) -> tuple[str, datetime] | None:
        """The stored etag and last_modified of a feed, without its body."""
        etag, last_modified = self.client.hmget(keys.feed(feed_key), "etag", "last_modified")
        if etag is None or last_modified is None:
            return None
        return as_text(etag), as_time(last_modified)

    @storage_errors("reading feeds' etags")
    def feed_etags(self, feed_keys: list[str]) -> dict[str, str]:
        """The stored etag of each feed that has one, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for feed_key in feed_keys:
            pipe.hget(keys.feed(feed_key), "etag")
        replies = pipe.execute()
        return {k: as_text(etag) for k, etag in zip(feed_keys, replies, strict=True) if etag}

    @storage_errors("counting publish failures")
    def count_publish_failures(self, failed: int) -> None:
        if failed:
            self.client.hincrby(keys.PUBLISH_COUNTS, "failures", failed)

    @storage_errors("reading publish counters")
    def publish_counts(self) -> dict[str, int]:
        """Counters kept since the data was created: renders_written, renders_unchanged,
        renders_superseded (feed files, each format counts) and failures (feeds)."""
        return int_hash(self.client.hgetall(keys.PUBLISH_COUNTS))

    @storage_errors("counting feeds")
    def count_feeds(self) -> int:
        return int(self.client.scard(keys.FEEDS))

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
    def create_job(self, kind: str, params: Mapping[str, Any], *, total: int | None = None) -> str:
        """A job record for the admin API; it expires a week after its last update. With
        `total` (pages the job will crawl, when known up front) it starts at done=0 and
        count_job_outcome marks it done after that many pages."""
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
        if total is not None:
            fields |= {"total": total, "done": 0}
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
        pipe.hset(job, mapping=json_fields({"updated_at": datetime.now(UTC)}))
        _, done, total, _ = pipe.execute()
        finished = total is not None and int(done) >= int(total)
        if finished:
            self.update_job(job_id, status="done")
        return finished

    @storage_errors("reading a job")
    def get_job(self, job_id: str) -> dict[str, Any] | None:
        raw = self.client.hgetall(keys.job(job_id))
        if not raw:
            return None
        job = {as_text(k): json.loads(v) for k, v in raw.items()}
        return _with_stall(job, datetime.now(UTC))


def _with_stall(job: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A running job whose last progress is older than JOB_STALLED_AFTER_SECONDS says so:
    its tasks were lost or no worker is running, and "running" would hide that."""
    if job.get("status") != "running" or not isinstance(job.get("updated_at"), str):
        return job
    idle = (now - as_time(job["updated_at"])).total_seconds()
    if idle > JOB_STALLED_AFTER_SECONDS:
        job = job | {"status": "stalled", "idle_seconds": int(idle)}
    return job
