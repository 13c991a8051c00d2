"""The crawl pipeline through a real worker subprocess, a real Redis and the mirror over HTTP.

Faults are driven through services.crawl directly (the same code the task wraps), since
they are about what a crawl records, not about Celery; crashes and restarts go through the
worker and the broker.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.crawl import Outcome, crawl_all, crawl_url, open_deps
from services.storage import Store
from services.storage import _keys as keys
from tests.fixtures.redis import RedisServerFactory
from tests.fixtures.site import SiteServer
from tests.workers.conftest import (
    WorkerFactory,
    broker_idle,
    clear_broker,
    client_app,
    wait_for,
)

WWW = "www.belarus-nau.org"
TILDA = "belarus-nau.org"
POSTS = {
    f"https://{WWW}/en/post/answers-of-the-cabinet-to-the-most-topical-questions-of-the-february-14-press-conference",
    f"https://{WWW}/en/post/the-cabinet-held-a-press-conference-on-february-14",
    f"https://{WWW}/en/post/pavel-latushka-on-sanctions-and-the-border-crossings",
    f"https://{TILDA}/tpost/tvs64iyja1-the-cabinet-held-a-press-conference",
    f"https://{TILDA}/tpost/m3p9r2c7a1-glavnoe-s-press-konferentsii-kabineta",
}
# The sitemap lists a Russian alternate the mirror does not have (tests/data/site/README.md).
MISSING = (
    f"https://{WWW}/post/otvety-kabineta-na-samye-aktualnye-voprosy-press-konferentsii-14-fevralya"
)
TILDA_PATH = "/tpost/tvs64iyja1-the-cabinet-held-a-press-conference"
TILDA_TITLE = b"The Cabinet held a press conference"
CRAWL_TIMEOUT = 30.0


# -- helpers -----------------------------------------------------------------------------------


def stream_length(store: Store) -> int:
    return int(store.client.xlen(keys.CHANGES))


def snapshot(store: Store) -> dict[str, tuple[int, str]]:
    """url -> (version, content hash) of every stored post."""
    found = {}
    for url in POSTS:
        post_id = store.post_id_for_url(url)
        stored = store.get_post(post_id) if post_id else None
        if stored is not None:
            found[url] = (stored.version, stored.content_hash)
    return found


def run_crawl(store: Store, redis_url: str, **kwargs: Any) -> dict[str, Any]:
    """Enqueue nam.discover with a job and wait until every crawl task it spawned is done."""
    job_id = store.create_job("test", {})
    client_app(redis_url).send_task("nam.discover", kwargs={"job_id": job_id, **kwargs})

    def finished() -> dict[str, Any] | None:
        job = store.get_job(job_id)
        return job if job and job.get("status") == "done" else None

    job: dict[str, Any] = wait_for(finished, CRAWL_TIMEOUT, f"crawl job {job_id}")
    return job


def post_requests(site: SiteServer, since: int) -> list[Any]:
    paths = {url.split("/", 3)[3] for url in POSTS}
    return [r for r in site.requests()[since:] if r.path.lstrip("/") in paths]


@pytest.fixture
def data(redis_url: str, store: Store) -> Iterator[Store]:
    """The shared test Redis with an empty namespace and an empty broker."""
    clear_broker(redis_url)
    yield store
    clear_broker(redis_url)


# -- (a), (b): crawls through the worker -----------------------------------------------------


def test_worker_crawl_stores_every_post_and_recrawl_writes_nothing(
    site: SiteServer, redis_url: str, data: Store, start_worker: WorkerFactory
) -> None:
    start_worker(redis_url)
    job = run_crawl(data, redis_url)

    assert job["total"] == len(POSTS) + 1 and job["new"] == len(POSTS) and job["failed"] == 1
    assert set(snapshot(data)) == POSTS
    assert data.count_posts() == len(POSTS)
    assert data.counts_by_language() == {"en": 4, "ru": 1}
    missing = data.get_fetch_state(MISSING)
    assert missing is not None and missing.status == 404 and "404" in (missing.error or "")
    assert stream_length(data) == len(POSTS)

    before, events = snapshot(data), stream_length(data)
    since = len(site.requests())
    job = run_crawl(data, redis_url)

    assert job["not_modified"] == len(POSTS) and job.get("new") is None
    requests = post_requests(site, since)
    assert len(requests) == len(POSTS)
    for request in requests:
        assert request.headers.get("if-none-match"), request.path
        assert request.status == 304, request.path
    assert snapshot(data) == before
    assert stream_length(data) == events


def test_edit_between_crawls_is_a_second_version(
    site: SiteServer, redis_url: str, data: Store, start_worker: WorkerFactory
) -> None:
    start_worker(redis_url)
    run_crawl(data, redis_url)
    url = f"https://{TILDA}{TILDA_PATH}"
    post_id = data.post_id_for_url(url)
    assert post_id is not None
    events = stream_length(data)

    original = (site.root / TILDA / f"{TILDA_PATH.lstrip('/')}.html").read_bytes()
    site.override(TILDA, TILDA_PATH, original.replace(TILDA_TITLE, TILDA_TITLE + b" (updated)"))
    job = run_crawl(data, redis_url)

    assert job["edited"] == 1 and job["not_modified"] == len(POSTS) - 1
    history = data.post_history(post_id)
    assert [v.number for v in history] == [1, 2]
    assert history[0].post.title == TILDA_TITLE.decode()
    assert history[1].post.title == TILDA_TITLE.decode() + " (updated)"
    stored = data.get_post(post_id)
    assert stored is not None and stored.version == 2
    assert stream_length(data) == events + 1
    ((_, fields),) = data.client.xrevrange(keys.CHANGES, count=1)
    assert fields[b"post_id"].decode() == post_id and fields[b"kind"] == b"edited"


# -- (c): faults -------------------------------------------------------------------------------


def _fault_at(site: SiteServer, url: str, body: bytes, status: int, **headers: str) -> None:
    host, path = url.split("/")[2], "/" + url.split("/", 3)[3]
    site.override(host, path, body, status=status, headers=headers or None)


def test_faults_are_recorded_and_the_crawl_goes_on(
    site: SiteServer, redis_url: str, data: Store
) -> None:
    settings = site.settings(fetch_timeout=1.0, max_retries=1)
    with open_deps(settings, redis_url) as deps:
        crawl_all(deps)
        before, events = snapshot(data), stream_length(data)
        wix = sorted(u for u in POSTS if u.startswith(f"https://{WWW}/"))
        tilda = sorted(u for u in POSTS if u.startswith(f"https://{TILDA}/"))
        _fault_at(site, wix[0], b"<h1>oops</h1>", 500)
        _fault_at(site, wix[1], b"<h1>busy</h1>", 503, **{"Retry-After": "1"})
        _fault_at(site, wix[2], b"<html><body><p>\x00\xff" + os.urandom(2048), 200)
        _fault_at(site, tilda[0], b"", 302, Location="http://example.invalid/elsewhere")
        _fault_at(site, tilda[1], b"<p>" + b"x" * (6 * 1024 * 1024) + b"</p>", 200)

        summary = crawl_all(deps)

    assert summary.failed == len(POSTS) + 1  # the five faults and the sitemap's 404
    errors = {url: (data.get_fetch_state(url) or _no_state(url)).error or "" for url in POSTS}
    assert "500" in errors[wix[0]]
    assert "503" in errors[wix[1]]
    assert errors[wix[2]].startswith("parsing:")
    assert "example.invalid" in errors[tilda[0]]
    assert "exceeds" in errors[tilda[1]] or "limit" in errors[tilda[1]]
    assert all(error.endswith(url) or url in error for url, error in errors.items())
    assert snapshot(data) == before, "a failed fetch changed a stored post"
    assert stream_length(data) == events


def _no_state(url: str) -> Any:
    raise AssertionError(f"no fetch state for {url}")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/fault/slow?s=3", "tim"),  # a read timeout
        ("/fault/huge", "exceeds"),
        ("/fault/gzip-bomb", "exceeds"),
        ("/fault/500", "500"),
        ("/fault/503?retry_after=1", "503"),
        ("/fault/offsite-redirect", "example.invalid"),
        ("/fault/malformed", "parsing:"),
    ],
)
def test_fault_route_gives_a_clear_error(
    site: SiteServer, redis_url: str, data: Store, path: str, expected: str
) -> None:
    url = f"https://{WWW}{path}"
    with open_deps(site.settings(fetch_timeout=1.0, max_retries=0), redis_url) as deps:
        try:
            outcome = crawl_url(url, deps=deps)
        except Exception as exc:  # transient errors are re-raised for Celery to retry
            outcome = Outcome.FAILED
            assert url in str(exc)
    assert outcome is Outcome.FAILED
    state = data.get_fetch_state(url)
    assert state is not None and state.error and expected in state.error.lower(), state
    assert url in state.error
    assert data.count_posts() == 0


def test_robots_disallow_is_honoured_and_stored_posts_stay(
    site: SiteServer, redis_url: str, data: Store
) -> None:
    with open_deps(site.settings(), redis_url) as deps:
        crawl_all(deps)
    before, events = snapshot(data), stream_length(data)
    site.set_robots(TILDA, b"User-agent: *\nDisallow: /tpost/\n")
    site.override(TILDA, TILDA_PATH, b"<html>edited but disallowed</html>")
    since = len(site.requests(TILDA))
    with open_deps(site.settings(), redis_url) as deps:  # a fresh fetcher rereads robots.txt
        summary = crawl_all(deps)
    tilda = sorted(u for u in POSTS if u.startswith(f"https://{TILDA}/"))
    assert summary.counts[Outcome.NOT_MODIFIED.value] == 3
    for url in tilda:
        state = data.get_fetch_state(url)
        assert state is not None and "robots" in (state.error or ""), state
    asked = [r.path for r in site.requests(TILDA)[since:] if r.path.startswith("/tpost/")]
    assert asked == [], "a disallowed page was requested"
    assert snapshot(data) == before
    assert stream_length(data) == events


# -- (d), (e): crashes ------------------------------------------------------------------------


def test_killed_worker_loses_nothing_and_stores_nothing_twice(
    site: SiteServer, redis_server_factory: RedisServerFactory, start_worker: WorkerFactory
) -> None:
    server = redis_server_factory()
    url = server.url
    store = Store.from_url(url)
    # Slow enough that the kill lands mid-crawl; a short visibility timeout so the message
    # of the killed task comes back within seconds instead of an hour.
    options = ("--visibility-timeout", "4")
    first = start_worker(url, *options, NAMFEEDS_CRAWL_DELAY="0.4")
    job_id = store.create_job("test", {})
    client_app(url).send_task("nam.discover", kwargs={"job_id": job_id})
    wait_for(lambda: store.count_posts() >= 1, CRAWL_TIMEOUT, "the first stored post")
    first.kill()
    stored_at_kill = store.count_posts()
    assert stored_at_kill < len(POSTS), "the crawl finished before the kill: slow it down"

    start_worker(url, *options)
    wait_for(
        lambda: store.count_posts() == len(POSTS) and broker_idle(url),
        CRAWL_TIMEOUT,
        "the crawl to finish on the second worker",
        every=0.2,
    )
    for post_url in POSTS:
        post_id = store.post_id_for_url(post_url)
        assert post_id is not None
        assert [v.number for v in store.post_history(post_id)] == [1], post_url
    assert stream_length(store) == len(POSTS)
    assert (store.get_fetch_state(MISSING) or _no_state(MISSING)).status == 404
    store.close()


def test_redis_killed_after_a_crawl_keeps_every_acknowledged_post(
    site: SiteServer,
    redis_server_factory: RedisServerFactory,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "redis"
    server = redis_server_factory(data_dir, appendfsync="always")
    store = Store.from_url(server.url)
    start_worker(server.url)
    run_crawl(store, server.url)
    before, events = snapshot(store), stream_length(store)
    assert set(before) == POSTS
    store.close()

    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    wait_for(lambda: not server.running, 10, "Redis to die")
    server.stop()  # the owner lets go of the data dir, as its process would by ending

    again = redis_server_factory(data_dir, appendfsync="always")
    restored = Store.from_url(again.url)
    try:
        assert snapshot(restored) == before
        assert stream_length(restored) == events
        assert restored.counts_by_language() == {"en": 4, "ru": 1}
        assert (restored.get_fetch_state(MISSING) or _no_state(MISSING)).status == 404
    finally:
        restored.close()


def test_transient_failure_is_retried_by_the_task(
    site: SiteServer, redis_url: str, data: Store, start_worker: WorkerFactory
) -> None:
    # In a worker the fetcher does not retry by itself: the task does, twice here, each time
    # after a countdown that frees the worker, and the third request gets the 200 (a page
    # that is not a post, so the outcome is a parse failure, recorded as such).
    start_worker(redis_url, NAMFEEDS_MAX_RETRIES="2")
    path = "/fault/flaky?fails=2&k=task-retry"
    result = client_app(redis_url).send_task("nam.crawl_url", args=(f"https://{WWW}{path}",))
    outcome = result.get(timeout=CRAWL_TIMEOUT)
    assert outcome == Outcome.FAILED.value
    assert [r.status for r in site.requests(WWW, path)] == [503, 503, 200]
    state = data.get_fetch_state(f"https://{WWW}{path}")
    assert state is not None and state.status == 200
    assert (state.error or "").startswith("parsing:"), state
