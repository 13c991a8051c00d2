"""The bounded failure index against a real Redis: recorded, listed newest first, pruned by
age and count, and left by a page once it is read again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.storage import FAILURE_TTL, FetchInfo, Store
from services.storage import _keys as keys
from tests.services.test_storage import make_post

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_failures_are_listed_newest_first_and_leave_when_the_page_is_read(store: Store) -> None:
    post = make_post()
    store.upsert_post(post, fetched=FetchInfo(url=post.url, fetched_at=NOW, etag='"a"'), now=NOW)
    gone = "https://www.belarus-nau.org/en/post/gone"
    store.record_failure(gone, error="fetching: HTTP 404", status=404, now=NOW)
    later = NOW + timedelta(minutes=1)
    store.record_failure(post.url, error="fetching: HTTP 500", status=500, now=later)
    assert [f["url"] for f in store.recent_failures()] == [post.url, gone]
    assert store.recent_failures()[0] == {
        "url": post.url,
        "status": 500,
        "error": "fetching: HTTP 500",
        "at": later.isoformat(),
    }
    # the known post keeps its state and validators; the post-less URL's state expires
    state = store.get_fetch_state(post.url)
    assert state is not None and state.etag == '"a"' and state.error
    assert store.client.ttl(keys.fetch_state(post.url)) == -1
    assert 0 < store.client.ttl(keys.fetch_state(gone)) <= FAILURE_TTL
    assert store.fetch_urls() == [post.url]

    store.record_not_modified(post.url, now=later, lastmod=None)
    assert store.failing_urls() == [gone]
    state = store.get_fetch_state(post.url)
    assert state is not None and state.status == 304 and state.error is None


def test_a_url_that_failed_first_keeps_its_state_once_it_gives_a_post(store: Store) -> None:
    post = make_post()
    store.record_failure(post.url, error="fetching: timed out", status=None, now=NOW)
    assert store.client.ttl(keys.fetch_state(post.url)) > 0
    store.upsert_post(post, fetched=FetchInfo(url=post.url, fetched_at=NOW), now=NOW)
    assert store.client.ttl(keys.fetch_state(post.url)) == -1
    assert store.failing_urls() == [] and store.fetch_urls() == [post.url]


def test_old_failures_are_pruned(store: Store) -> None:
    old = "https://www.belarus-nau.org/en/post/old"
    store.record_failure(old, error="x", status=500, now=NOW - timedelta(seconds=FAILURE_TTL + 1))
    store.record_failure(old + "-new", error="x", status=500, now=NOW)
    assert store.failing_urls() == [old + "-new"]
    assert store.failure_counts() == {"failing": 1, "recorded": 2, "pruned": 1}
