"""Storing a crawled post through the quarantine: a new parse that looks like a broken page
(_suspicion) is kept back beside the published post instead of replacing it, until the page
comes back (the next good parse drops it) or an operator accepts it.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import redis
from redis.commands.core import Script

from services.errors import StorageError
from services.model import Post
from services.storage import _keys as keys
from services.storage import _scripts as scripts
from services.storage._codec import (
    as_text,
    as_texts,
    as_time,
    describe,
    iso,
    pack_post,
    storage_errors,
    unpack_post,
)
from services.storage._records import FetchInfo, Quarantined, UpsertResult, content_hash
from services.storage._suspicion import Measures, measure, suspicion
from services.storage._upsert import StaleWrite, fetch_args

# A stale guard means another writer stored this post between our read and our write; a
# few rounds settle it (each round re-reads what that writer stored).
_ROUNDS = 5
_QUARANTINE_FIELDS = (
    "json",
    "hash",
    "reason",
    "stored_at",
    "seen_at",
    "base_version",
    "answers",
    "text_bytes",
)


class QuarantineMixin:
    """Store's guarded write path for crawled posts, and the quarantine it keeps."""

    client: redis.Redis

    if TYPE_CHECKING:  # provided by UpsertMixin

        def upsert_post(
            self,
            post: Post,
            *,
            fetched: FetchInfo | None = None,
            now: datetime,
            lastmod: datetime | None = None,
            guard: str | None = None,
        ) -> UpsertResult: ...

    @cached_property
    def _quarantine(self) -> Script:
        return self.client.register_script(scripts.WRITE_FETCH + scripts.QUARANTINE)

    def store_crawled(
        self, post: Post, *, fetched: FetchInfo, now: datetime, lastmod: datetime | None = None
    ) -> UpsertResult:
        """Publish a freshly parsed post, unless it looks like a broken page of a known post:
        then keep it as the post's quarantined version (kind "quarantined", with a reason)
        and leave the published post, its history and its feeds as they are."""
        new = measure(post)
        for _ in range(_ROUNDS):
            current = self.post_measures(post.id)
            reason = suspicion(current[1] if current else None, new)
            guard = current[0] if current else ""
            try:
                if reason is None:
                    return self.upsert_post(
                        post, fetched=fetched, now=now, lastmod=lastmod, guard=guard
                    )
                lost_answers = bool(current and current[1].answers) and not new.answers
                return self._keep_back(post, reason, lost_answers, guard, fetched, now, lastmod)
            except StaleWrite:
                continue
        raise StorageError(f"storage: post {post.id} kept changing under its writers")

    @storage_errors("reading a post's measures")
    def post_measures(self, post_id: str) -> tuple[str, Measures] | None:
        """The content hash and measures of the published post. Posts stored before the
        measures were kept are measured from their JSON."""
        digest, answers, size = self.client.hmget(
            keys.post(post_id), "hash", "answers", "text_bytes"
        )
        if digest is None:
            return None
        if answers is not None and size is not None:
            return as_text(digest), Measures(int(answers), int(size))
        raw = self.client.hget(keys.post(post_id), "json")
        return as_text(digest), measure(unpack_post(raw)) if raw else Measures(0, 0)

    def _keep_back(
        self,
        post: Post,
        reason: str,
        lost_answers: bool,
        guard: str,
        fetched: FetchInfo,
        now: datetime,
        lastmod: datetime | None,
    ) -> UpsertResult:
        measures = measure(post)
        args = [
            post.id,
            pack_post(post),
            content_hash(post),
            guard,
            reason,
            iso(now),
            post.url,
            measures.answers,
            measures.text_bytes,
            *fetch_args(fetched, lastmod),
            "1" if lost_answers else "0",
        ]
        post_keys = [
            keys.post(post.id),
            keys.quarantine(post.id),
            keys.QUARANTINED,
            keys.fetch_state(fetched.url),
            keys.FETCH_URLS,
            keys.FAILURES,
            keys.QUARANTINED_NO_ANSWERS,
        ]
        try:
            kind, version, updated, _fresh = self._quarantine(keys=post_keys, args=args)
        except redis.RedisError as exc:
            raise StorageError(
                f"storage: quarantining post {post.id} ({post.url}) failed: {describe(exc)}"
            ) from exc
        if as_text(kind) == "stale":
            raise StaleWrite(post.id)
        return UpsertResult(
            kind="quarantined", version=int(version), updated=as_time(updated), reason=reason
        )

    @storage_errors("counting quarantined posts")
    def count_quarantined(self) -> int:
        return int(self.client.scard(keys.QUARANTINED))

    @storage_errors("counting posts that lost every answer")
    def count_lost_answers(self) -> int:
        """Posts whose quarantined parse found no answers though the published one has some:
        the broken-markup alarm (a markup change the parser does not follow)."""
        return int(self.client.scard(keys.QUARANTINED_NO_ANSWERS))

    @storage_errors("listing quarantined posts")
    def quarantined_ids(self) -> list[str]:
        return sorted(as_texts(self.client.smembers(keys.QUARANTINED)))

    @storage_errors("reading a quarantined version")
    def get_quarantined(self, post_id: str) -> Quarantined | None:
        values = self.client.hmget(keys.quarantine(post_id), *_QUARANTINE_FIELDS)
        return _quarantined(values) if values[0] is not None else None

    def accept_quarantined(self, post_id: str, *, now: datetime) -> UpsertResult | None:
        """Publish the quarantined version as the post's next version (an operator checked
        the page and it is a real edit). None when there is nothing to accept."""
        kept = self.get_quarantined(post_id)
        if kept is None:
            return None
        return self.upsert_post(kept.post, now=now)


def _quarantined(values: list[Any]) -> Quarantined:
    raw, digest, reason, stored_at, seen_at, base, answers, size = values
    return Quarantined(
        post=unpack_post(raw),
        content_hash=as_text(digest),
        reason=as_text(reason),
        stored_at=as_time(stored_at),
        seen_at=as_time(seen_at),
        base_version=int(base),
        answers=int(answers),
        text_bytes=int(size),
    )
