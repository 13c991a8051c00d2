"""Writing a post: one Lua script stores its JSON, version, indexes, counts, fetch state and
change event.

All of it appears together or not at all, so a worker killed mid-write leaves the previous
state; the same content twice changes nothing and emits nothing. Keys come from _keys, the
scripts from _scripts.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cached_property

import redis
from redis.commands.core import Script

from services.errors import StorageError
from services.model import Post
from services.storage import _keys as keys
from services.storage import _scripts as scripts
from services.storage._codec import (
    as_text,
    as_time,
    describe,
    iso,
    pack_post,
    score,
    storage_errors,
)
from services.storage._records import FetchInfo, UpsertResult, answer_counts, content_hash
from services.storage._suspicion import measure

NO_GUARD = "-"


class StaleWrite(Exception):
    """The stored post changed after the caller read it: judge again, then write."""


class UpsertMixin:
    """Store's write path for posts."""

    client: redis.Redis
    _stream_maxlen: int
    _upsert: Script

    def _init_upsert(self, stream_maxlen: int) -> None:
        self._stream_maxlen = stream_maxlen
        self._upsert = self.client.register_script(
            scripts.UNMATCHED_OF + scripts.WRITE_FETCH + scripts.UPSERT
        )

    @cached_property
    def _count_unmatched(self) -> Script:
        return self.client.register_script(scripts.UNMATCHED_OF + scripts.COUNT_UNMATCHED)

    @storage_errors("counting unmatched answers")
    def unmatched_answers(self) -> int:
        """Stored answers whose speaker matched nobody, over all current posts. Kept up to
        date by every upsert once it exists; the first call (data stored before the counter)
        counts every post once, in one script so no upsert slips between count and store."""
        reply = self._count_unmatched(keys=[keys.POSTS, keys.ANSWER_COUNTS], args=[keys.post("")])
        return int(reply)

    def upsert_post(
        self,
        post: Post,
        *,
        fetched: FetchInfo | None = None,
        now: datetime,
        lastmod: datetime | None = None,
        guard: str | None = None,
    ) -> UpsertResult:
        """Store a post in one atomic write. The same content twice changes nothing and emits
        nothing (fetch validators are still refreshed); changed content becomes a new version
        with its indexes moved and one event on nam:changes. A quarantined version of the
        post is dropped either way. `guard` (the content hash the caller saw, "" for none)
        raises StaleWrite, writing nothing, if the stored post is no longer that one."""
        args = self._upsert_args(post, fetched, now, lastmod, guard)
        try:
            reply = self._upsert(keys=_upsert_keys(post, fetched), args=args)
        except redis.RedisError as exc:
            raise StorageError(
                f"storage: writing post {post.id} ({post.url}) failed: {describe(exc)}"
            ) from exc
        kind, version, updated, event, released = reply
        if as_text(kind) == "stale":
            raise StaleWrite(post.id)
        return UpsertResult(
            kind=as_text(kind),  # type: ignore[arg-type]  # the script returns only the three
            version=int(version),
            updated=as_time(updated),
            event_id=as_text(event) or None,
            released_quarantine=bool(int(released)),
        )

    def _upsert_args(
        self,
        post: Post,
        fetched: FetchInfo | None,
        now: datetime,
        lastmod: datetime | None,
        guard: str | None,
    ) -> list[str | int | bytes]:
        published = post.published
        measures = measure(post)
        return [
            post.id,
            pack_post(post),
            content_hash(post),
            post.language,
            json.dumps(list(post.topic_slugs), ensure_ascii=False),
            json.dumps(list(post.speaker_ids), ensure_ascii=False),
            json.dumps(answer_counts(post), ensure_ascii=False),
            iso(published) if published else "",
            score(published) if published else "",
            iso(post.modified) if post.modified else "",
            iso(now),
            score(now),
            post.url,
            keys.LANGUAGE_PREFIX,
            keys.TOPIC_PREFIX,
            keys.SPEAKER_PREFIX,
            self._stream_maxlen,
            *fetch_args(fetched, lastmod),
            _unmatched_in(post),
            NO_GUARD if guard is None else guard,
            measures.answers,
            measures.text_bytes,
        ]


def fetch_args(fetched: FetchInfo | None, lastmod: datetime | None) -> list[str | int | bytes]:
    """The fetch part of a write script's arguments (WRITE_FETCH's `f`)."""
    if fetched is None:
        return ["0", "", "", "", "", "", ""]
    return [
        "1",
        fetched.url,
        fetched.etag or "",
        fetched.last_modified or "",
        "" if fetched.status is None else str(fetched.status),
        iso(fetched.fetched_at),
        iso(lastmod) if lastmod else "",
    ]


def _upsert_keys(post: Post, fetched: FetchInfo | None) -> list[str]:
    return [
        keys.post(post.id),
        keys.post_versions(post.id),
        keys.POSTS,
        keys.CHANGES,
        keys.URLS,
        keys.fetch_state(fetched.url if fetched else post.url),
        keys.FETCH_URLS,
        keys.LANGUAGE_COUNTS,
        keys.TOPIC_COUNTS,
        keys.SPEAKER_ANSWER_COUNTS,
        keys.ANSWER_COUNTS,
        keys.quarantine(post.id),
        keys.QUARANTINED,
        keys.FAILURES,
        keys.QUARANTINED_NO_ANSWERS,
    ]


def _unmatched_in(post: Post) -> int:
    """Answers in the post whose speaker is unknown or matched no person in the registry."""
    return sum(1 for s in post.sections for a in s.answers if not (a.speaker and a.speaker.id))
