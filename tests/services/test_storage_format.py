"""How posts are kept in Redis: compressed, the current version stored once, and data
written in the older format (plain JSON, every version's post inline) still read and edited."""

from __future__ import annotations

import json
from datetime import timedelta

import redis

from services.model import Section
from services.storage import Store
from services.storage import _keys as keys
from services.storage._codec import iso
from tests.services.test_storage import NOW, answer, make_post

LATER = NOW + timedelta(days=1)


def test_a_post_is_kept_compressed_and_once(store: Store, redis_client: redis.Redis) -> None:
    post = make_post()
    store.upsert_post(post, now=NOW)
    raw = redis_client.hget(keys.post(post.id), "json")
    assert raw is not None and not raw.startswith(b"{") and len(raw) < len(post.to_json())
    versions = redis_client.hgetall(keys.post_versions(post.id))
    assert set(versions) == {b"1"} and b"post" not in versions[b"1"]


def test_an_edit_moves_the_old_version_into_history(store: Store) -> None:
    post = make_post()
    store.upsert_post(post, now=NOW)
    edited = make_post(sections=(Section(heading="New", answers=(answer(None, "Text."),)),))
    store.upsert_post(edited, now=LATER)
    assert [v.post for v in store.post_history(post.id)] == [post, edited]
    first, second = store.get_version(post.id, 1), store.get_version(post.id, 2)
    assert first is not None and first.post == post
    assert second is not None and second.post == edited


def write_old_format(client: redis.Redis, post_id: str) -> None:
    """A post as the older code stored it: plain JSON, the version's post inline."""
    post = make_post(post_id)
    client.hset(keys.post(post.id), "json", post.to_json())
    meta = {"number": 1, "hash": "h", "stored_at": iso(NOW), "updated": iso(NOW)}
    client.hset(keys.post_versions(post.id), "1", json.dumps(meta | {"post": post.to_dict()}))


def test_data_of_the_older_format_is_read_and_edited(
    store: Store, redis_client: redis.Redis
) -> None:
    post = make_post()
    store.upsert_post(post, now=NOW)
    write_old_format(redis_client, post.id)
    stored = store.get_post(post.id)
    assert stored is not None and stored.post == post
    assert [v.post for v in store.post_history(post.id)] == [post]

    edited = make_post(sections=(Section(heading="New", answers=(answer(None, "Text."),)),))
    assert store.upsert_post(edited, now=LATER).kind == "edited"
    assert [v.post for v in store.post_history(post.id)] == [post, edited]
    # the old entry keeps its inline post; no second copy was made beside it
    assert not redis_client.hexists(keys.post_versions(post.id), "1:post")
