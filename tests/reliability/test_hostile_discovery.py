"""Hostile sitemaps against the real discovery over HTTP (the mirror serves them): 100,000
URLs in one sitemap, an index naming 100,000 sitemaps, an index that includes itself, URLs
that are no posts. Each is bounded in time and memory, recorded, and changes nothing stored
or published; failure records stay bounded, and so do `status` and /metrics."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta

from services.crawl import discover_report, open_deps, plan_crawl
from services.storage import FAILURES_KEPT, Store
from tests.feeds.test_cli_crawl import _run
from tests.fixtures.site import SiteServer
from tests.reliability.test_hostile_known_posts import (
    bounded,
    crawl_and_publish,
    scrape,
    snapshot,
)

WWW = "www.belarus-nau.org"
ORIGINAL_CHILDREN = (
    "/blog-posts-sitemap.xml",
    "/pages-sitemap.xml",
    "/blog-categories-sitemap.xml",
)
HUGE = 100_000


def urlset(locs: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()


def index(locs: list[str]) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
        "</sitemapindex>"
    ).encode()


def with_children(site: SiteServer, *extra: str) -> bytes:
    """The www origin's sitemap index: its real children first, then `extra`."""
    return index([site.url(WWW, path) for path in ORIGINAL_CHILDREN] + list(extra))


def hostile_posts(site: SiteServer, count: int) -> list[str]:
    return [site.url(WWW, f"/en/post/hostile-{n}") for n in range(count)]


def test_a_100000_url_sitemap_is_cut_at_the_caps(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    normal = _discovered(site, redis_url)
    site.override(WWW, "/huge-sitemap.xml", urlset(hostile_posts(site, HUGE)))
    site.override(WWW, "/sitemap.xml", with_children(site, site.url(WWW, "/huge-sitemap.xml")))
    # the body limit would refuse this sitemap outright; raised, so the URL caps are what hold
    settings = site.settings(
        max_body_bytes=16 << 20, max_urls_per_sitemap=30_000, max_urls_per_crawl=100_000
    )
    with open_deps(settings, redis_url) as deps:
        found = bounded(lambda: discover_report(deps.fetcher, deps.settings))
    assert len(found.urls) == len(normal) + 30_000
    errors = dict(found.failures)
    assert (
        "70000 entries past NAMFEEDS_MAX_URLS_PER_SITEMAP=30000"
        in errors[site.url(WWW, "/huge-sitemap.xml")]
    )

    capped = site.settings(max_body_bytes=16 << 20, max_urls_per_crawl=1000)
    with open_deps(capped, redis_url) as deps:
        found = bounded(lambda: discover_report(deps.fetcher, deps.settings))
        plan = bounded(lambda: plan_crawl(deps, every=True))
    assert len(found.urls) == 5 * 1000  # kept for the next crawls' turns
    assert any("past the 5000 kept" in e for _, e in found.failures)
    assert len(plan.due) == 1000 and len(plan.deferred) == 4000
    assert any(
        "4000 pages due past NAMFEEDS_MAX_URLS_PER_CRAWL=1000" in e for _, e in plan.failures
    )


def test_a_crawl_through_a_hostile_sitemap_stores_and_publishes_nothing_new(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    with open_deps(site.settings(max_retries=0), redis_url) as deps:
        crawl_and_publish(deps)
    before = snapshot(store)
    site.override(WWW, "/huge-sitemap.xml", urlset(hostile_posts(site, HUGE)))
    site.override(WWW, "/sitemap.xml", with_children(site, site.url(WWW, "/huge-sitemap.xml")))
    settings = site.settings(max_retries=0, max_body_bytes=16 << 20, max_urls_per_crawl=40)
    with open_deps(settings, redis_url) as deps:
        summary = bounded(lambda: crawl_and_publish(deps))
    asked = [r for r in site.requests(WWW) if r.path.startswith("/en/post/hostile-")]
    assert 0 < len(asked) <= 40
    assert any("NAMFEEDS_MAX_URLS_PER_CRAWL=40 wait" in e for _, e in summary.failures)
    assert snapshot(store) == before


def test_an_index_of_100000_sitemaps_reads_a_bounded_number(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    children = [site.url(WWW, f"/child-{n}.xml") for n in range(HUGE)]
    site.override(WWW, "/sitemap.xml", index([site.url(WWW, ORIGINAL_CHILDREN[0]), *children]))
    with open_deps(site.settings(max_retries=0, max_body_bytes=16 << 20), redis_url) as deps:
        found = bounded(lambda: discover_report(deps.fetcher, deps.settings))
    fetched = [r for r in site.requests(WWW) if r.path.startswith("/child-")]
    assert 0 < len(fetched) <= 100
    assert any("sitemaps past the 100 read per crawl" in e for _, e in found.failures)
    assert len(found.failures) <= 110  # one per document read, one for the cut
    assert site.url(WWW, "/en/post/pavel-latushka-on-sanctions-and-the-border-crossings") in {
        u.url for u in found.urls
    }


def test_a_self_including_index_is_read_once(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    normal = _discovered(site, redis_url)
    me = site.url(WWW, "/sitemap.xml")
    pages = [site.url(WWW, f"/sitemap.xml?page={n}") for n in range(1, 4)]
    # the mirror serves a path whatever its query: each page is this same index again
    site.override(WWW, "/sitemap.xml", with_children(site, me, me + "#again", *pages))
    since = len(site.requests(WWW))
    assert bounded(lambda: _discovered(site, redis_url)) == normal
    asked = [
        r.path
        for r in site.requests()[since:]
        if r.host == WWW and r.path.startswith("/sitemap.xml")
    ]
    assert sorted(asked) == ["/sitemap.xml", *(p.removeprefix(f"https://{WWW}") for p in pages)]


def test_urls_outside_the_post_shapes_are_not_queued(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    normal = _discovered(site, redis_url)
    odd = [
        site.url(WWW, "/about"),
        site.url(WWW, "/en/post/a-post?utm_source=x"),
        site.url(WWW, "/en/post/"),
        site.url(WWW, "/tpost/"),
        site.url(WWW, "/en/post/" + "x" * 3000),
        site.url(WWW, "/en/blog/post/nested/deeper"),
        "https://user:pw@www.belarus-nau.org/en/post/with-credentials",
        "ftp://www.belarus-nau.org/en/post/ftp",
        "https://example.org/en/post/elsewhere",
        "javascript:alert(1)",
    ]
    site.override(WWW, "/odd-sitemap.xml", urlset(odd))
    site.override(WWW, "/sitemap.xml", with_children(site, site.url(WWW, "/odd-sitemap.xml")))
    assert _discovered(site, redis_url) == normal


def test_failure_records_are_bounded_and_status_stays_cheap(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    now = datetime.now(UTC)
    old = site.url(WWW, "/en/post/failed-long-ago")
    store.record_failure(old, error="fetching: HTTP 500", status=500, now=now - timedelta(days=8))
    for n in range(3 * FAILURES_KEPT):
        url = site.url(WWW, f"/en/post/gone-{n}")
        store.record_failure(url, error="fetching: HTTP 404", status=404, now=now)
    counts = store.failure_counts()
    assert counts["failing"] == FAILURES_KEPT
    assert counts["recorded"] == 3 * FAILURES_KEPT + 1
    assert old not in store.failing_urls()
    # a post-less failing URL's state expires on its own and is not a known URL
    assert 0 < store.client.ttl(f"nam:fetch:{site.url(WWW, '/en/post/gone-0')}") <= 7 * 86400
    assert store.fetch_urls() == []

    start = time.monotonic()
    result = _run(site.env(NAMFEEDS_REDIS_URL=redis_url), "status")
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert len(report["failures"]) == 100 and report["failure_counts"]["failing"] == 1000
    assert len(result.stdout) < 64 * 1024 and elapsed < 20

    start = time.monotonic()
    metrics = scrape(store)
    assert time.monotonic() - start < 5
    assert metrics["namfeeds_pages_fetched{status=404}"] == FAILURES_KEPT  # the 404s still listed


def _discovered(site: SiteServer, redis_url: str) -> set[str]:
    with open_deps(dataclasses.replace(site.settings(), max_retries=0), redis_url) as deps:
        return {u.url for u in discover_report(deps.fetcher, deps.settings).urls}
