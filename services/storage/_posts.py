"""Reading posts: the current one, its versions, newest-first listings and the stored counts.

Reads only; what they read is written together by the upsert script (_upsert).
"""

from __future__ import annotations

import json
from typing import Any

import redis

from services.errors import StorageError
from services.model import Post
from services.storage import _keys as keys
from services.storage._codec import (
    as_text,
    as_texts,
    as_time,
    int_hash,
    storage_errors,
    unpack_post,
)
from services.storage._records import StoredPost, Version

_POST_FIELDS = ("json", "version", "updated", "first_seen", "hash")
# the current version, as the post hash holds it (stored_at is absent in older data, whose
# versions hash holds the current version too)
_CURRENT_FIELDS = ("json", "version", "hash", "stored_at", "updated")


class PostReadMixin:
    """Store's read path for posts, their indexes and counts."""

    client: redis.Redis

    @storage_errors("reading a post")
    def get_post(self, post_id: str) -> StoredPost | None:
        return _stored_post(self.client.hmget(keys.post(post_id), *_POST_FIELDS))

    @storage_errors("reading post history")
    def post_history(self, post_id: str) -> list[Version]:
        # one transaction: an edit between the two reads would move the current version
        pipe = self.client.pipeline(transaction=True)
        pipe.hgetall(keys.post_versions(post_id))
        pipe.hmget(keys.post(post_id), *_CURRENT_FIELDS)
        fields, current = pipe.execute()
        entries = {as_text(k): v for k, v in fields.items()}
        found = {
            v.number: v
            for v in (
                _version(raw, entries.get(f"{name}:post"), current)
                for name, raw in entries.items()
                if ":" not in name
            )
        }
        now = _current_version(current)
        if now is not None:
            found.setdefault(now.number, now)
        return [found[n] for n in sorted(found)]

    @storage_errors("reading a post version")
    def get_version(self, post_id: str, number: int) -> Version | None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hmget(keys.post_versions(post_id), str(number), f"{number}:post")
        pipe.hmget(keys.post(post_id), *_CURRENT_FIELDS)
        (raw, packed), current = pipe.execute()
        if raw is not None:
            return _version(raw, packed, current)
        now = _current_version(current)
        return now if now is not None and now.number == number else None

    @storage_errors("looking up a URL")
    def post_id_for_url(self, url: str) -> str | None:
        raw = self.client.hget(keys.URLS, url)
        return as_text(raw) if raw is not None else None

    @storage_errors("listing recent posts")
    def recent_posts(
        self,
        *,
        limit: int,
        language: str | None = None,
        topic: str | None = None,
        speaker: str | None = None,
    ) -> list[StoredPost]:
        """Newest first by published time (first-seen when unknown); filters combine with AND.
        Ties are broken by post id, so the order is stable and renders give the same bytes."""
        ids = self.recent_post_ids(limit=limit, language=language, topic=topic, speaker=speaker)
        return self.get_posts(ids)

    @storage_errors("listing recent post ids")
    def recent_post_ids(
        self,
        *,
        limit: int,
        language: str | None = None,
        topic: str | None = None,
        speaker: str | None = None,
    ) -> list[str]:
        """The ids of recent_posts, in its order, without reading the posts."""
        if limit <= 0:
            return []
        indexes = [
            build(value)
            for build, value in (
                (keys.language, language),
                (keys.topic, topic),
                (keys.speaker, speaker),
            )
            if value is not None
        ]
        return self._newest_ids(indexes or [keys.POSTS], limit)

    @storage_errors("reading posts")
    def get_posts(self, post_ids: list[str]) -> list[StoredPost]:
        """The current posts of these ids in one round trip, in order; missing ones left out."""
        pipe = self.client.pipeline(transaction=False)
        for post_id in post_ids:
            pipe.hmget(keys.post(post_id), *_POST_FIELDS)
        stored = (_stored_post(values) for values in pipe.execute())
        return [s for s in stored if s is not None]

    def _newest_ids(self, indexes: list[str], limit: int) -> list[str]:
        if len(indexes) == 1:
            return as_texts(self.client.zrevrange(indexes[0], 0, limit - 1))
        # ZINTER answers ascending (score, then member); reversed it matches ZREVRANGE's order
        return as_texts(self.client.zinter(indexes, aggregate="MAX"))[::-1][:limit]

    @storage_errors("counting posts")
    def count_posts(self) -> int:
        return int(self.client.zcard(keys.POSTS))

    @storage_errors("counting posts by language")
    def counts_by_language(self) -> dict[str, int]:
        return int_hash(self.client.hgetall(keys.LANGUAGE_COUNTS))

    @storage_errors("counting answers by speaker")
    def speaker_answer_counts(self) -> dict[str, int]:
        return int_hash(self.client.hgetall(keys.SPEAKER_ANSWER_COUNTS))

    @storage_errors("listing topics")
    def topic_slugs(self) -> list[str]:
        """Topics with at least one post, sorted."""
        return sorted(as_text(k) for k in self.client.hkeys(keys.TOPIC_COUNTS))

    @storage_errors("listing speakers")
    def speaker_ids(self) -> list[str]:
        """People with at least one answer, sorted."""
        return sorted(as_text(k) for k in self.client.hkeys(keys.SPEAKER_ANSWER_COUNTS))


def _stored_post(values: list[Any]) -> StoredPost | None:
    raw_json, version, updated, first_seen, digest = values
    if raw_json is None:
        return None
    return StoredPost(
        post=unpack_post(raw_json),
        version=int(version),
        updated=as_time(updated),
        first_seen=as_time(first_seen),
        content_hash=as_text(digest),
    )


def _current_version(current: list[Any]) -> Version | None:
    raw_json, number, digest, stored_at, updated = current
    if raw_json is None or stored_at is None:
        return None
    return Version(
        number=int(number),
        content_hash=as_text(digest),
        stored_at=as_time(stored_at),
        updated=as_time(updated),
        post=unpack_post(raw_json),
    )


def _version(raw: bytes | str, packed: bytes | None, current: list[Any]) -> Version:
    """A versions entry with its post: inline (the oldest format), beside it as
    "<number>:post", or, for the current version, the post hash's own JSON."""
    data = json.loads(raw)
    number = int(data["number"])
    if "post" in data:
        post = Post.from_dict(data["post"])
    elif packed is not None:
        post = unpack_post(packed)
    elif current[0] is not None and current[1] is not None and int(current[1]) == number:
        post = unpack_post(current[0])
    else:
        raise StorageError(f"storage: version {number} has lost its post")
    return Version(
        number=number,
        content_hash=data["hash"],
        stored_at=as_time(data["stored_at"]),
        updated=as_time(data["updated"]),
        post=post,
    )
