"""The redis-py boundary shared by Store's parts: reply values to Python and back, Redis errors
to StorageError.

Times are ISO-8601 UTC with microseconds, one fixed width, so they compare as strings (the
upsert script relies on it); scores are Unix timestamps.
"""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import redis
from redis.typing import EncodableT, FieldT

from services.errors import StorageError
from services.model import Post

P = ParamSpec("P")
R = TypeVar("R")


def storage_errors(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Re-raise a Redis error of the wrapped call as `storage: <action> failed: ...`."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except redis.RedisError as exc:
                raise StorageError(f"storage: {action} failed: {describe(exc)}") from exc

        return wrapper

    return decorate


def describe(exc: redis.RedisError) -> str:
    return f"{type(exc).__name__}: {exc}"


def json_fields(fields: Mapping[str, Any]) -> dict[FieldT, EncodableT]:
    """Each value as its own JSON document, times as ISO strings."""
    return {
        name: json.dumps(value, default=json_default, ensure_ascii=False)
        for name, value in fields.items()
    }


def json_default(value: object) -> str:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Decoded posts kept per process (unpack_post): the posts of a publish run's feeds, about
# 7 KB each decoded for the mirror's posts, so some 8 MB.
UNPACKED_POSTS = 1024


def pack_post(post: Post) -> bytes:
    """A post's JSON, zlib-compressed: stored posts are read far less often than they are
    kept, and Russian text in JSON shrinks to about a third."""
    return zlib.compress(post.to_json().encode(), 6)


def unpack_post(raw: bytes | str) -> Post:
    """A post stored by pack_post, or as plain JSON (data written before compression).

    The same stored bytes are read again and again (a publish run renders each post into a
    dozen feeds in three formats, and pages list the same posts), so decoded posts are kept
    by their bytes: a Post is immutable, and other bytes are another key."""
    return _unpacked(as_bytes(raw))


@functools.lru_cache(maxsize=UNPACKED_POSTS)
def _unpacked(data: bytes) -> Post:
    if data[:1] != b"{":
        try:
            data = zlib.decompress(data)
        except zlib.error as exc:
            raise StorageError(f"storage: a stored post is neither JSON nor zlib ({exc})") from exc
    return Post.from_json(data)


def json_object(raw: bytes | str) -> dict[str, Any]:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise StorageError(f"storage: expected a JSON object, found {type(data).__name__}")
    return data


def int_hash(raw: Mapping[Any, Any]) -> dict[str, int]:
    return {as_text(k): int(v) for k, v in sorted(raw.items())}


def utc(value: datetime) -> datetime:
    """Aware UTC; a naive time is taken to be UTC already (the parser emits aware times)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    # one fixed width format, so the upsert script can compare times as strings
    return utc(value).isoformat(timespec="microseconds")


def score(value: datetime) -> str:
    return repr(utc(value).timestamp())


def as_time(raw: bytes | str) -> datetime:
    return datetime.fromisoformat(as_text(raw))


def as_texts(values: Any) -> list[str]:
    return [as_text(v) for v in values]


def as_bytes(raw: bytes | str) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode()


def as_text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
