"""What a crawl learns about a URL without storing a post: a 304, or a failure, each written
in one step. Failures are kept in a bounded index, so reading them costs the same whether a
hundred or a million pages failed.

A failing URL that never gave a post keeps its fetch state for FAILURE_TTL only, outside
nam:fetch-urls; one that has a post keeps it (its validators still describe that post).
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

import redis
from redis.commands.core import Script

from services.storage import _keys as keys
from services.storage._codec import as_text, as_texts, as_time, iso, score, storage_errors

FAILURES_KEPT = 1000  # newest failing URLs listed by nam:failures
FAILURE_TTL = 7 * 86400  # seconds a failure is remembered, and a post-less URL's state

# KEYS: 1 fetch state, 2 fetch urls, 3 failures, 4 failure counts
# ARGV: 1 url, 2 status, 3 error, 4 fetched_at, 5 score, 6 ttl, 7 kept, 8 oldest score kept,
#       9 sitemap lastmod checked against ('' for none)
_RECORD_FAILURE = """
redis.call('HSET', KEYS[1], 'error', ARGV[3], 'fetched_at', ARGV[4])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'lastmod', ARGV[9]) end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], 'status')
else redis.call('HSET', KEYS[1], 'status', ARGV[2]) end
if redis.call('HEXISTS', KEYS[1], 'post_id') == 1 then
  redis.call('PERSIST', KEYS[1])
  redis.call('SADD', KEYS[2], ARGV[1])
else
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('SREM', KEYS[2], ARGV[1])
end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
local pruned = redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[8])
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[7])
if over > 0 then pruned = pruned + redis.call('ZREMRANGEBYRANK', KEYS[3], 0, over - 1) end
redis.call('HINCRBY', KEYS[4], 'recorded', 1)
if pruned > 0 then redis.call('HINCRBY', KEYS[4], 'pruned', pruned) end
return pruned
"""


class OutcomeMixin:
    """Store's per-URL crawl outcomes that store no post."""

    client: redis.Redis

    @cached_property
    def _record_failure(self) -> Script:
        return self.client.register_script(_RECORD_FAILURE)

    @storage_errors("recording a failure")
    def record_failure(
        self,
        url: str,
        *,
        error: str,
        status: int | None,
        now: datetime,
        lastmod: datetime | None = None,
    ) -> None:
        """The URL's last fetch failed: the stored post (if any) and its validators stay the
        last good ones; the failure joins the bounded index. `lastmod`, the sitemap's, tells
        the plan that a page gone at this lastmod need not be asked again at once."""
        oldest = now.timestamp() - FAILURE_TTL
        self._record_failure(
            keys=[keys.fetch_state(url), keys.FETCH_URLS, keys.FAILURES, keys.FAILURE_COUNTS],
            args=[
                url,
                "" if status is None else str(status),
                error,
                iso(now),
                score(now),
                FAILURE_TTL,
                FAILURES_KEPT,
                repr(oldest),
                iso(lastmod) if lastmod else "",
            ],
        )

    @storage_errors("recording a 304")
    def record_not_modified(self, url: str, *, now: datetime, lastmod: datetime | None) -> None:
        """The page is what we have: when it was checked, and against which sitemap lastmod,
        decides the next check. One write, in one transaction."""
        pipe = self.client.pipeline(transaction=True)
        queue_not_modified(pipe, url, now, lastmod)
        pipe.execute()

    @storage_errors("listing failures")
    def recent_failures(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest failing URLs, each with its status, error and time."""
        urls = as_texts(self.client.zrevrange(keys.FAILURES, 0, limit - 1))
        pipe = self.client.pipeline(transaction=False)
        for url in urls:
            pipe.hmget(keys.fetch_state(url), "status", "error", "fetched_at")
        found = []
        for url, (status, error, at) in zip(urls, pipe.execute(), strict=True):
            if error is None:
                continue  # its state expired, or it was stored meanwhile
            found.append(
                {
                    "url": url,
                    "status": int(status) if status is not None else None,
                    "error": as_text(error),
                    "at": as_time(at).isoformat() if at is not None else None,
                }
            )
        return found

    @storage_errors("listing failing URLs")
    def failing_urls(self) -> list[str]:
        """Every URL in the failure index (at most FAILURES_KEPT), sorted."""
        return sorted(as_texts(self.client.zrange(keys.FAILURES, 0, -1)))

    @storage_errors("counting failures")
    def failure_counts(self) -> dict[str, int]:
        """failing: URLs in the index now; recorded and pruned: failures ever counted."""
        pipe = self.client.pipeline(transaction=False)
        pipe.zcard(keys.FAILURES)
        pipe.hgetall(keys.FAILURE_COUNTS)
        failing, counts = pipe.execute()
        totals = {as_text(k): int(v) for k, v in counts.items()}
        return {"failing": int(failing), **{k: totals.get(k, 0) for k in ("recorded", "pruned")}}


def queue_not_modified(
    pipe: redis.client.Pipeline, url: str, checked_at: datetime, lastmod: datetime | None
) -> None:
    """The writes of a 304 on `pipe`: the state says when the page was checked and against
    which lastmod, and the URL leaves the failures it was in."""
    key = keys.fetch_state(url)
    fields: dict[str, str] = {"status": "304", "fetched_at": iso(checked_at)}
    if lastmod is not None:
        fields["lastmod"] = iso(lastmod)
    pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
    pipe.hdel(key, "error")
    pipe.zrem(keys.FAILURES, url)
