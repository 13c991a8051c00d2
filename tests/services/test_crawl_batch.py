"""A crawl batch's bookkeeping: its reads before the first request and its writes after the
last, in one round trip each, so an unchanged page costs Redis its host's turn and nothing
more; a batch cut short writes nothing, and is crawled and counted again as a whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from services.crawl import Deps, Ledger, Outcome, crawl_all, crawl_url
from services.fetch import Fetcher, RedisHostGate
from services.storage import Gauges, Store, keys
from tests.fixtures.site import SiteServer

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class CountingConnection(redis.Connection):
    """Counts what goes to the server: one send is one round trip (a pipeline sends once)."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


@pytest.fixture
def counted_deps(site: SiteServer, redis_url: str, store: Store) -> Iterator[Deps]:
    # `store` clears the namespace; this client counts every round trip of the crawl.
    pool = redis.ConnectionPool.from_url(redis_url, connection_class=CountingConnection)
    client = redis.Redis(connection_pool=pool)
    settings = site.settings(max_retries=0)
    gate = RedisHostGate(client, 0.0, hold_seconds=10)
    deps = Deps(settings, Fetcher(settings, gate=gate), Store(client))
    try:
        yield deps
    finally:
        deps.fetcher.close()
        client.close()


def _pages(deps: Deps) -> list[str]:
    crawl_all(deps)  # stores the posts, with their validators; robots.txt is read and cached
    return [u for u in deps.store.fetch_urls() if deps.store.get_fetch_state(u).status == 200]


def _unchanged_batch(deps: Deps, urls: list[str]) -> tuple[str, int, int]:
    """One batch of unchanged pages as a job: (job id, round trips before its flush, after)."""
    store = deps.store
    for url in urls:
        assert store.claim_queued(url, 60)
    job = store.create_job("crawl", {}, total=len(urls))
    CountingConnection.sent = 0
    ledger = Ledger(store, urls, job)
    for url in urls:
        outcome = crawl_url(url, deps=deps, ledger=ledger)
        assert outcome is Outcome.NOT_MODIFIED
        ledger.page_done(url, outcome.value)
    before_flush = CountingConnection.sent
    assert ledger.flush() is True  # the batch was the whole job
    return job, before_flush, CountingConnection.sent


def test_an_unchanged_page_costs_its_host_turn_and_the_batch_two_round_trips(
    counted_deps: Deps,
) -> None:
    deps, store = counted_deps, counted_deps.store
    urls = _pages(deps)
    assert len(urls) >= 4
    # The first batch on a server also loads its Lua scripts (a NOSCRIPT answer costs a
    # round trip, once per script and server); the steady state is the second batch.
    _unchanged_batch(deps, urls)
    fetches_before = Gauges(store.client).fetch_counts().get("not_modified", 0)

    job, before_flush, after_flush = _unchanged_batch(deps, urls)
    # one read for the batch, a turn (take, release) per page, one write, and the job's end
    assert before_flush == 1 + 2 * len(urls)
    assert after_flush == before_flush + 2

    for url in urls:
        state = store.get_fetch_state(url)
        assert state is not None and state.status == 304 and state.etag
        assert not store.client.exists(keys.queued(url))
    job_record = store.get_job(job) or {}
    assert job_record["status"] == "done"
    assert job_record["done"] == len(urls) and job_record["not_modified"] == len(urls)
    fetches = Gauges(store.client).fetch_counts()["not_modified"]
    assert fetches == fetches_before + len(urls)


def test_a_batch_cut_short_writes_none_of_its_bookkeeping(counted_deps: Deps) -> None:
    # A worker killed before the batch's write: the 304s, counts and marks are not written,
    # so the redelivered batch finds every page as it was and counts each once.
    deps, store = counted_deps, counted_deps.store
    urls = _pages(deps)
    job = store.create_job("crawl", {}, total=len(urls))
    for url in urls:
        store.claim_queued(url, 60)
    cut = Ledger(store, urls, job)
    for url in urls:
        cut.page_done(url, crawl_url(url, deps=deps, ledger=cut).value)
    # (no flush: the worker died here)
    assert all(store.get_fetch_state(u).status == 200 for u in urls)  # type: ignore[union-attr]
    assert all(store.client.exists(keys.queued(u)) for u in urls)
    assert (store.get_job(job) or {})["done"] == 0

    again = Ledger(store, urls, job)
    for url in urls:
        again.page_done(url, crawl_url(url, deps=deps, ledger=again).value)
    assert again.flush() is True
    assert (store.get_job(job) or {})["done"] == len(urls)


def test_a_deferred_page_in_a_batch_is_not_asked_for(counted_deps: Deps, site: SiteServer) -> None:
    deps, store = counted_deps, counted_deps.store
    urls = _pages(deps)
    store.defer_url(urls[0], 60, "HTTP 503")
    since = len(site.requests())
    ledger = Ledger(store, urls[:2], None)
    with pytest.raises(Exception, match="deferred"):
        crawl_url(urls[0], deps=deps, ledger=ledger)
    assert crawl_url(urls[1], deps=deps, ledger=ledger) is Outcome.NOT_MODIFIED
    ledger.flush()
    asked = {r.path for r in site.requests()[since:]}
    assert len(asked) == 1 and urls[1].endswith(asked.pop())


def test_a_crawl_plan_reads_and_marks_every_url_a_few_hundred_to_a_round_trip(
    counted_deps: Deps,
) -> None:
    store = counted_deps.store
    urls = [f"https://www.belarus-nau.org/post/p{n}" for n in range(1200)]
    store.record_not_modified(urls[7], now=NOW, lastmod=None)
    CountingConnection.sent = 0
    states = store.get_fetch_states(urls)
    claimed = store.claim_queued_many([(url, 60) for url in urls])
    again = store.claim_queued_many([(urls[0], 60), ("https://belarus-nau.org/tpost/x", 60)])
    assert CountingConnection.sent == 3 + 3 + 1  # 500 commands to a round trip
    assert [n for n, s in enumerate(states) if s is not None] == [7]
    assert states[7] == store.get_fetch_state(urls[7])
    assert all(claimed) and again == [False, True]
