"""Crawl bookkeeping in Redis: each URL's fetch state and the summaries of the last crawls.

A fetch that stored a post has its validators written by the upsert script instead, together
with the post (_upsert).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from services.storage import _keys as keys
from services.storage._codec import (
    as_text,
    as_time,
    iso,
    json_default,
    json_object,
    storage_errors,
)
from services.storage._records import FetchState

CRAWLS_KEPT = 100
# Commands per pipelined round trip when reading or marking every URL of a crawl: few enough
# that one reply stays small, many enough that 2,000 URLs cost a handful of round trips.
PIPELINE_CHUNK = 500

_FETCH_TEXT = ("etag", "last_modified", "error", "post_id")
_FETCH_TIMES = ("fetched_at", "lastmod")


class FetchMixin:
    """Store's fetch state and crawl records."""

    client: redis.Redis

    @storage_errors("reading fetch state")
    def get_fetch_state(self, url: str) -> FetchState | None:
        raw = self.client.hgetall(keys.fetch_state(url))
        return fetch_state_of(raw) if raw else None

    @storage_errors("reading fetch states")
    def get_fetch_states(self, urls: Sequence[str]) -> list[FetchState | None]:
        """get_fetch_state of each URL, in order, in one round trip per PIPELINE_CHUNK: a
        crawl plan reads every discovered URL's state."""
        found: list[FetchState | None] = []
        for start in range(0, len(urls), PIPELINE_CHUNK):
            pipe = self.client.pipeline(transaction=False)
            for url in urls[start : start + PIPELINE_CHUNK]:
                pipe.hgetall(keys.fetch_state(url))
            found += [fetch_state_of(raw) if raw else None for raw in pipe.execute()]
        return found

    @storage_errors("writing fetch state")
    def set_fetch_state(self, url: str, state: FetchState) -> None:
        """Replace the whole state of a URL (fields left None are removed)."""
        key = keys.fetch_state(url)
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(key)
        mapping = _fetch_state_fields(state)
        if mapping:
            pipe.hset(key, mapping=mapping)
        pipe.sadd(keys.FETCH_URLS, url)
        pipe.execute()

    @storage_errors("marking a crawl queued")
    def claim_queued(self, url: str, ttl_seconds: int) -> bool:
        """True if no crawl of `url` was queued yet: a scheduled discover that finds the
        previous crawl still draining does not queue the same page twice. The mark expires,
        so a lost task frees its page."""
        return bool(self.client.set(keys.queued(url), 1, nx=True, ex=ttl_seconds))

    @storage_errors("marking crawls queued")
    def claim_queued_many(self, claims: Sequence[tuple[str, int]]) -> list[bool]:
        """claim_queued of each (url, ttl_seconds), in order, one round trip per
        PIPELINE_CHUNK."""
        claimed: list[bool] = []
        for start in range(0, len(claims), PIPELINE_CHUNK):
            pipe = self.client.pipeline(transaction=False)
            for url, ttl in claims[start : start + PIPELINE_CHUNK]:
                pipe.set(keys.queued(url), 1, nx=True, ex=ttl)
            claimed += [bool(done) for done in pipe.execute()]
        return claimed

    @storage_errors("clearing a queued crawl")
    def release_queued(self, url: str) -> None:
        self.client.delete(keys.queued(url))

    @storage_errors("deferring a URL")
    def defer_url(self, url: str, seconds: float, reason: str) -> None:
        """Nobody asks for `url` for `seconds` (the server's Retry-After). Kept on Redis's
        clock as an expiry, so every worker sees the same end; an earlier, longer deferral
        stands."""
        key = keys.deferred(url)
        ms = max(1, int(seconds * 1000))
        left = self.client.pttl(key)
        if isinstance(left, int) and left >= ms:
            return
        self.client.set(key, reason, px=ms)

    @storage_errors("reading a deferral")
    def deferred(self, url: str) -> tuple[float, str] | None:
        """(seconds left, reason) while `url` is deferred, else None."""
        pipe = self.client.pipeline(transaction=True)
        pipe.pttl(keys.deferred(url))
        pipe.get(keys.deferred(url))
        return deferral_of(*pipe.execute())

    @storage_errors("listing fetched URLs")
    def fetch_urls(self) -> list[str]:
        """Every URL with a fetch state, sorted: what `recrawl --all` goes through."""
        return sorted(as_text(u) for u in self.client.smembers(keys.FETCH_URLS))

    @storage_errors("recording a crawl")
    def record_crawl(self, summary: Mapping[str, Any]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.lpush(keys.CRAWLS, json.dumps(summary, default=json_default, ensure_ascii=False))
        pipe.ltrim(keys.CRAWLS, 0, CRAWLS_KEPT - 1)
        pipe.execute()

    @storage_errors("reading the last crawl")
    def last_crawl(self) -> dict[str, Any] | None:
        raw = self.client.lindex(keys.CRAWLS, 0)
        return json_object(raw) if raw is not None else None


def fetch_state_of(raw: Mapping[Any, Any]) -> FetchState:
    data = {as_text(k): as_text(v) for k, v in raw.items()}
    when = {name: as_time(data[name]) if name in data else None for name in _FETCH_TIMES}
    return FetchState(
        etag=data.get("etag"),
        last_modified=data.get("last_modified"),
        status=int(data["status"]) if "status" in data else None,
        error=data.get("error"),
        fetched_at=when["fetched_at"],
        post_id=data.get("post_id"),
        lastmod=when["lastmod"],
    )


def _fetch_state_fields(state: FetchState) -> dict[FieldT, EncodableT]:
    fields: dict[FieldT, EncodableT] = {}
    for name in _FETCH_TEXT:
        value = getattr(state, name)
        if value is not None:
            fields[name] = value
    for name in _FETCH_TIMES:
        when = getattr(state, name)
        if when is not None:
            fields[name] = iso(when)
    if state.status is not None:
        fields["status"] = str(state.status)
    return fields


def deferral_of(left: object, reason: bytes | str | None) -> tuple[float, str] | None:
    """(seconds left, reason) from the PTTL and GET of a deferral key, or None when the URL
    is not deferred (no key, or one that has just expired)."""
    if reason is None or not isinstance(left, int) or left <= 0:
        return None
    return left / 1000, as_text(reason)
