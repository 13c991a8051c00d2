"""How posts are kept in Redis: compressed, the current version stored once, and data
written in the older format (plain JSON, every version's post inline) still read and edited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
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
    # the current version is the post hash; the versions hash holds only the past
    assert not redis_client.exists(keys.post_versions(post.id))
    first = store.get_version(post.id, 1)
    assert first is not None and first.post == post and first.stored_at == NOW


def test_an_edit_moves_the_old_version_into_history(store: Store) -> None:
    post = make_post()
    store.upsert_post(post, now=NOW)
    edited = make_post(sections=(Section(heading="New", answers=(answer(None, "Text."),)),))
    store.upsert_post(edited, now=LATER)
    assert [v.post for v in store.post_history(post.id)] == [post, edited]
    first, second = store.get_version(post.id, 1), store.get_version(post.id, 2)
    assert first is not None and first.post == post and first.stored_at == NOW
    assert second is not None and second.post == edited and second.stored_at == LATER
    third = make_post(title="Retitled")
    store.upsert_post(third, now=LATER + timedelta(hours=1))
    history = store.post_history(post.id)
    assert [(v.number, v.post) for v in history] == [(1, post), (2, edited), (3, third)]
    assert [v.stored_at for v in history[:2]] == [NOW, LATER]


def write_old_format(client: redis.Redis, post_id: str, *, inline: bool) -> None:
    """A post as older code stored it: the current version in the versions hash too, with
    its post inline and plain JSON in the post hash, or (`inline` off) as metadata alone."""
    post = make_post(post_id)
    client.hdel(keys.post(post.id), "stored_at")
    meta = {"number": 1, "hash": "h", "stored_at": iso(NOW), "updated": iso(NOW)}
    if inline:
        client.hset(keys.post(post.id), "json", post.to_json())
        meta |= {"post": post.to_dict()}
    client.hset(keys.post_versions(post.id), "1", json.dumps(meta))


@pytest.mark.parametrize("inline", [True, False], ids=["post-inline", "metadata-alone"])
def test_data_of_the_older_formats_is_read_and_edited(
    store: Store, redis_client: redis.Redis, inline: bool
) -> None:
    post = make_post()
    store.upsert_post(post, now=NOW)
    write_old_format(redis_client, post.id, inline=inline)
    stored = store.get_post(post.id)
    assert stored is not None and stored.post == post
    assert [v.post for v in store.post_history(post.id)] == [post]

    edited = make_post(sections=(Section(heading="New", answers=(answer(None, "Text."),)),))
    assert store.upsert_post(edited, now=LATER).kind == "edited"
    assert [v.post for v in store.post_history(post.id)] == [post, edited]
    # an inline post stays where it is; no second copy is made beside it
    assert redis_client.hexists(keys.post_versions(post.id), "1:post") is not inline
    assert store.post_history(post.id)[0].content_hash == "h"  # the entry already there
