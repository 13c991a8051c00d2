"""The quarantine against a real Redis: a new parse of a known post that lost every answer or
most of its text is kept back, not published; the page coming back drops it, and an operator
can accept it. The rule itself (an edit or a broken page) is tested as a pure function."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import redis

from services.model import Answer, Post, Section
from services.storage import FetchInfo, Store
from services.storage._suspicion import MIN_TEXT_BYTES, Measures, measure, suspicion
from services.storage._upsert import StaleWrite
from tests.services.test_storage import NOW, answer, make_post, stream_length

LATER = NOW + timedelta(days=1)


def fetched(post_url: str, etag: str) -> FetchInfo:
    return FetchInfo(url=post_url, fetched_at=LATER, status=200, etag=etag)


def long_post(words: int = 200) -> Post:
    text = " ".join(f"word{n}" for n in range(words))
    return make_post(
        sections=(
            Section(heading="Sanctions", answers=(answer("pavel-latushka", text),)),
            Section(heading="Ukraine", answers=(answer("valery-kavaleuski", text),)),
        )
    )


@pytest.mark.parametrize(
    ("current", "new", "suspect"),
    [
        (None, Measures(0, 0), False),  # first sight: nothing to lose
        (Measures(3, 900), Measures(0, 0), True),  # every answer gone
        (Measures(3, 900), Measures(0, 900), True),  # answers gone, text kept (markup change)
        (Measures(0, 0), Measures(0, 0), False),  # plain news stays plain news
        (Measures(3, 1000), Measures(2, 499), True),  # under half the text
        (Measures(3, 1000), Measures(2, 500), False),  # half the text: a big edit, allowed
        (Measures(3, 1000), Measures(4, 1400), False),  # grew
        (Measures(1, MIN_TEXT_BYTES - 1), Measures(1, 10), False),  # too short to judge
    ],
)
def test_the_rule_between_an_edit_and_a_broken_page(
    current: Measures | None, new: Measures, suspect: bool
) -> None:
    assert (suspicion(current, new) is not None) is suspect


def test_an_empty_parse_of_a_known_post_is_kept_back(
    store: Store, redis_client: redis.Redis
) -> None:
    post = make_post()
    store.store_crawled(post, fetched=fetched(post.url, '"a"'), now=NOW)
    history = store.post_history(post.id)
    empty = replace(post, sections=())

    result = store.store_crawled(empty, fetched=fetched(post.url, '"broken"'), now=LATER)

    assert result.kind == "quarantined" and not result.changed
    assert result.reason and "lost every answer" in result.reason
    stored = store.get_post(post.id)
    assert stored is not None and stored.post == post and stored.version == 1
    assert store.post_history(post.id) == history
    assert stream_length(redis_client) == 1  # no change event: nothing to publish
    assert store.count_quarantined() == 1 and store.quarantined_ids() == [post.id]
    assert store.count_lost_answers() == 1  # the broken-markup alarm
    kept = store.get_quarantined(post.id)
    assert kept is not None and kept.post == empty and kept.base_version == 1
    assert (kept.answers, kept.text_bytes) == (0, 0)
    # the validators are those of the page last seen, so a still-broken page answers 304
    state = store.get_fetch_state(post.url)
    assert state is not None and state.etag == '"broken"'


def test_the_same_broken_page_again_changes_nothing(store: Store) -> None:
    post = make_post()
    store.store_crawled(post, fetched=fetched(post.url, '"a"'), now=NOW)
    empty = replace(post, sections=())
    store.store_crawled(empty, fetched=fetched(post.url, '"b"'), now=LATER)
    first = store.get_quarantined(post.id)
    again = store.store_crawled(empty, fetched=fetched(post.url, '"b"'), now=LATER + timedelta(1))
    assert again.kind == "quarantined"
    kept = store.get_quarantined(post.id)
    assert first is not None and kept is not None
    assert kept.stored_at == first.stored_at and kept.seen_at > first.seen_at
    assert store.count_quarantined() == 1


def test_the_page_coming_back_drops_the_quarantine_and_changes_nothing(
    store: Store, redis_client: redis.Redis
) -> None:
    post = make_post()
    store.store_crawled(post, fetched=fetched(post.url, '"a"'), now=NOW)
    store.store_crawled(replace(post, sections=()), fetched=fetched(post.url, '"b"'), now=LATER)
    back = store.store_crawled(post, fetched=fetched(post.url, '"a"'), now=LATER)
    assert back.kind == "unchanged" and back.released_quarantine
    assert store.get_quarantined(post.id) is None and store.count_quarantined() == 0
    assert store.count_lost_answers() == 0
    assert [v.number for v in store.post_history(post.id)] == [1]
    assert stream_length(redis_client) == 1


def test_losing_most_of_the_text_is_kept_back_but_an_edit_is_published(store: Store) -> None:
    post = long_post()
    store.store_crawled(post, fetched=fetched(post.url, '"a"'), now=NOW)
    first = replace(post.sections[0], answers=(answer("pavel-latushka", "Short."),))
    half_gone = replace(post, sections=(first,))
    assert store.store_crawled(half_gone, fetched=fetched(post.url, '"b"'), now=LATER).kind == (
        "quarantined"
    )
    assert store.count_quarantined() == 1 and store.count_lost_answers() == 0
    reworded = replace(post, title="The Cabinet answered questions")
    edit = store.store_crawled(reworded, fetched=fetched(post.url, '"c"'), now=LATER)
    assert (edit.kind, edit.version, edit.released_quarantine) == ("edited", 2, True)


def test_a_post_seen_first_without_answers_is_published(store: Store) -> None:
    news = replace(make_post(), sections=())
    assert store.store_crawled(news, fetched=fetched(news.url, '"n"'), now=NOW).kind == "new"
    assert store.store_crawled(news, fetched=fetched(news.url, '"n"'), now=LATER).kind == (
        "unchanged"
    )


def test_accepting_publishes_the_kept_version(store: Store, redis_client: redis.Redis) -> None:
    post = make_post()
    store.store_crawled(post, fetched=fetched(post.url, '"a"'), now=NOW)
    rewritten = replace(post, sections=(Section(heading="Statement", answers=(Answer("A"),)),))
    kept = store.store_crawled(
        replace(rewritten, sections=()), fetched=fetched(post.url, '"b"'), now=LATER
    )
    assert kept.kind == "quarantined"
    result = store.accept_quarantined(post.id, now=LATER)
    assert result is not None and (result.kind, result.version) == ("edited", 2)
    stored = store.get_post(post.id)
    assert stored is not None and stored.post.sections == ()
    assert stream_length(redis_client) == 2
    assert store.count_quarantined() == 0
    assert store.accept_quarantined(post.id, now=LATER) is None
    # once accepted it is the post: the same page again is unchanged, not quarantined
    again = store.store_crawled(stored.post, fetched=fetched(post.url, '"b"'), now=LATER)
    assert again.kind == "unchanged"


def test_a_write_judged_on_an_old_post_is_refused(store: Store) -> None:
    post = make_post()
    store.upsert_post(post, now=NOW)
    with pytest.raises(StaleWrite):
        store.upsert_post(replace(post, sections=()), now=LATER, guard="not-the-stored-hash")
    with pytest.raises(StaleWrite):
        store.upsert_post(post, now=LATER, guard="")  # "no post yet", but there is one
    stored = store.get_post(post.id)
    assert stored is not None and stored.post == post


def test_measures_of_a_post_stored_before_they_were_kept(store: Store) -> None:
    post = make_post()
    store.upsert_post(post, now=NOW)
    store.client.hdel(f"nam:post:{post.id}", "answers", "text_bytes")
    found = store.post_measures(post.id)
    assert found is not None and found[1] == measure(post) and found[1].answers == 3
