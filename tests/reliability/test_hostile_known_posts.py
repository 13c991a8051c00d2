"""A known post turning hostile: 500, 404, a maintenance page, an empty article, validators
that lie. The real crawler fetches the mirror over HTTP into a real Redis and publishes;
every case is bounded in time and memory, recorded, and leaves the stored posts, their
history and every published feed byte for byte as they were (a quarantined version aside)."""

from __future__ import annotations

import json
import resource
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from selectolax.lexbor import LexborHTMLParser

from feeds.publish import publish_all
from feeds.web._metrics import StoreCollector
from services.crawl import Deps, crawl_all, open_deps
from services.storage import Store
from tests.feeds.test_cli_crawl import _run
from tests.fixtures.site import SiteServer
from tests.workers.conftest import (  # noqa: F401  # start_worker is a fixture
    WorkerFactory,
    broker_idle,
    clear_broker,
    start_worker,
    wait_for,
)
from tests.workers.test_pipeline import CRAWL_TIMEOUT, run_crawl

WWW = "www.belarus-nau.org"
PATH = (
    "/en/post/answers-of-the-cabinet-to-the-most-topical-questions-of-the-february-14-"
    "press-conference"
)
URL = f"https://{WWW}{PATH}"
CONTENT = 'article[data-hook="post"] [data-id="content-viewer"]'
MAX_SECONDS = 60.0
MAX_PEAK_BYTES = 300 * 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    posts: dict[str, Any]
    history: dict[str, Any]
    feeds: dict[str, bytes]


def snapshot(store: Store) -> Snapshot:
    posts = {s.post.id: (s.post, s.version, s.content_hash) for s in store.recent_posts(limit=99)}
    history = {post_id: store.post_history(post_id) for post_id in posts}
    feeds = {}
    for key in store.feed_keys():
        feed = store.get_feed(key)
        assert feed is not None
        feeds[key] = feed.body
    return Snapshot(posts, history, feeds)


def bounded(action: Callable[[], Any]) -> Any:
    """Run `action`, failing if it takes over a minute or needs over 300 MB: its Python
    allocations (tracemalloc), and the process's resident peak if that grew meanwhile (C
    allocations too: the XML parser, zlib)."""
    resident = _resident_bytes()
    high_water = _max_resident_bytes()
    tracemalloc.start()
    start = time.monotonic()
    try:
        result = action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - start
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s"
    assert peak < MAX_PEAK_BYTES, f"allocations peaked at {peak / 2**20:.0f} MiB"
    if _max_resident_bytes() > high_water:
        grown = _max_resident_bytes() - resident
        assert grown < MAX_PEAK_BYTES, f"the process grew by {grown / 2**20:.0f} MiB"
    return result


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _max_resident_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def crawl_and_publish(deps: Deps) -> Any:
    summary = crawl_all(deps)
    publish_all(deps.store, deps.settings)
    return summary


def without_article(html: bytes, replacement: str = "") -> bytes:
    """The same page, its article body emptied (or replaced): title and template intact."""
    tree = LexborHTMLParser(html)
    content = tree.css_first(CONTENT)
    assert content is not None, "the mirror page lost its article body"
    for child in list(content.iter()):
        child.decompose()
    body = tree.html or ""
    if replacement:
        body = body.replace(
            'data-id="content-viewer">', f'data-id="content-viewer">{replacement}', 1
        )
    return body.encode()


@pytest.fixture
def crawled(site: SiteServer, redis_url: str, store: Store) -> Iterator[tuple[Deps, Snapshot]]:
    """The mirror crawled and published once; the known post has 17 answers."""
    with open_deps(site.settings(max_retries=0), redis_url) as deps:
        crawl_and_publish(deps)
        before = snapshot(store)
        post_id = store.post_id_for_url(URL)
        assert post_id is not None and before.feeds
        assert sum(len(s.answers) for s in before.posts[post_id][0].sections) == 17
        yield deps, before


def original(site: SiteServer) -> bytes:
    return (site.root / WWW / f"{PATH.lstrip('/')}.html").read_bytes()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b"<h1>Internal Server Error</h1>"),
        (503, b"<h1>Service Unavailable</h1>"),
        (404, b"<h1>Not found</h1>"),
        (200, b"<html><head><title>Maintenance</title></head><body>Back soon</body></html>"),
    ],
    ids=["500", "503", "404", "maintenance"],
)
def test_a_failing_known_post_is_recorded_and_changes_nothing(
    site: SiteServer, store: Store, crawled: tuple[Deps, Snapshot], status: int, body: bytes
) -> None:
    deps, before = crawled
    site.override(WWW, PATH, body, status=status)
    summary = bounded(lambda: crawl_and_publish(deps))
    assert URL in [url for url, _ in summary.failures]
    state = store.get_fetch_state(URL)
    assert state is not None and state.error and state.status == status
    assert snapshot(store) == before
    assert store.count_quarantined() == 0


@pytest.mark.parametrize(
    "replacement",
    ["", "<p>The site is under maintenance. Please come back later.</p>"],
    ids=["empty-article", "maintenance-in-the-template"],
)
def test_an_article_that_lost_its_answers_is_quarantined(
    site: SiteServer, store: Store, crawled: tuple[Deps, Snapshot], replacement: str
) -> None:
    deps, before = crawled
    site.override(WWW, PATH, without_article(original(site), replacement))
    summary = bounded(lambda: crawl_and_publish(deps))
    assert summary.counts["quarantined"] == 1
    post_id = store.post_id_for_url(URL)
    assert post_id is not None and store.quarantined_ids() == [post_id]
    kept = store.get_quarantined(post_id)
    assert kept is not None and kept.answers == 0 and "lost every answer" in kept.reason
    assert snapshot(store) == before

    # still broken: a 304, nothing moves; back intact: the quarantine goes, nothing else
    again = bounded(lambda: crawl_and_publish(deps))
    assert again.counts["not_modified"] >= 1 and store.count_quarantined() == 1
    site.reset()
    bounded(lambda: crawl_and_publish(deps))
    assert store.count_quarantined() == 0
    assert snapshot(store) == before


def test_a_304_that_hides_an_edit_is_trusted_and_changes_nothing(
    site: SiteServer, store: Store, crawled: tuple[Deps, Snapshot]
) -> None:
    """The server claims the page is unchanged (304 whatever is asked) while its body
    changed: nothing can be learnt from it, and nothing stored or published moves."""
    deps, before = crawled
    site.override(WWW, PATH, b"", status=304)
    bounded(lambda: crawl_and_publish(deps))
    assert snapshot(store) == before
    state = store.get_fetch_state(URL)
    assert state is not None and state.status == 304 and not state.error


def test_new_validators_for_the_same_body_store_no_new_version(
    site: SiteServer, store: Store, crawled: tuple[Deps, Snapshot]
) -> None:
    """The server claims a change (a new ETag and date) but serves the same page (a build
    comment aside): it is fetched and parsed, found unchanged, and no version, event or feed
    byte is added."""
    deps, before = crawled
    same = original(site) + b"<!-- rendered again -->"
    site.override(WWW, PATH, same, headers={"ETag": '"a-new-tag"'})
    summary = bounded(lambda: crawl_and_publish(deps))
    assert summary.counts["unchanged"] >= 1 and summary.counts["edited"] == 0
    assert snapshot(store) == before
    state = store.get_fetch_state(URL)
    assert state is not None and state.etag == '"a-new-tag"'


def test_an_operator_sees_and_accepts_a_quarantined_version(
    site: SiteServer, redis_url: str, store: Store, crawled: tuple[Deps, Snapshot]
) -> None:
    deps, before = crawled
    site.override(WWW, PATH, without_article(original(site)))
    crawl_and_publish(deps)
    post_id = store.post_id_for_url(URL)
    assert post_id is not None
    env = site.env(NAMFEEDS_REDIS_URL=redis_url)

    status = json.loads(_run(env, "status").stdout)
    assert status["quarantined"] == 1 and status["quarantined_posts"] == [post_id]
    assert status["quarantined_lost_answers"] == 1
    metrics = scrape(store)
    assert metrics["namfeeds_posts_quarantined"] == metrics["namfeeds_posts_lost_answers"] == 1
    rows = json.loads(_run(env, "history", post_id).stdout)
    assert [r["version"] for r in rows] == [1, None]
    assert rows[-1]["quarantined"] and rows[-1]["replaces"] == 1 and rows[-1]["answers"] == 0

    accepted = _run(env, "accept", post_id)
    assert accepted.returncode == 0, accepted.stderr[-2000:]
    assert json.loads(accepted.stdout)["version"] == 2
    stored = store.get_post(post_id)
    assert stored is not None and stored.version == 2 and stored.post.sections == ()
    assert snapshot(store).feeds != before.feeds  # the accepted version is published
    assert store.count_quarantined() == 0
    again = _run(env, "accept", post_id)
    assert again.returncode == 1 and "no quarantined version" in again.stderr


def scrape(store: Store) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    found = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return found


def test_through_a_worker_an_empty_article_is_quarantined_and_not_published(
    site: SiteServer,
    redis_url: str,
    store: Store,
    start_worker: WorkerFactory,  # noqa: F811
) -> None:
    """The same through the pipeline: nam.discover and nam.crawl_url on a real worker, the
    publish it triggers, and nothing published for the quarantined version."""
    clear_broker(redis_url)
    start_worker(redis_url)
    run_crawl(store, redis_url)
    wait_for(lambda: published(store, redis_url), CRAWL_TIMEOUT, "the first publish")
    before = snapshot(store)
    assert before.feeds

    site.override(WWW, PATH, without_article(original(site)))
    job = run_crawl(store, redis_url)
    wait_for(lambda: published(store, redis_url), CRAWL_TIMEOUT, "the worker to settle")
    assert job.get("quarantined") == 1 and not job.get("edited")
    assert store.count_quarantined() == 1
    assert snapshot(store) == before


def published(store: Store, redis_url: str) -> bool:
    return (
        broker_idle(redis_url)
        and store.pending_changes("publisher") == 0
        and bool(store.feed_keys())
    )
