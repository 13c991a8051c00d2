"""Which pages a crawl requests: only those whose sitemap lastmod changed (or that failed),
unless forced; the rest, dated by a sitemap or not, are revalidated once in a while."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.crawl import crawl_all, is_due, open_deps, parse_lastmod
from services.storage import FetchState, Store
from tests.fixtures.site import SiteServer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LASTMOD = datetime(2023, 2, 15, tzinfo=UTC)
CHECKED = FetchState(status=200, fetched_at=NOW - timedelta(hours=1), lastmod=LASTMOD)
DAY = 86400


@pytest.mark.parametrize(
    ("state", "lastmod", "force", "due"),
    [
        (None, LASTMOD, False, True),  # never fetched
        (CHECKED, LASTMOD, False, False),  # unchanged and checked an hour ago
        (CHECKED, LASTMOD, True, True),  # forced
        (CHECKED, LASTMOD + timedelta(days=1), False, True),  # the sitemap says it changed
        (CHECKED, None, False, False),  # no lastmod (an hreflang alternate), checked lately
        (replace(CHECKED, lastmod=None), None, False, False),
        (replace(CHECKED, lastmod=None, fetched_at=NOW - timedelta(days=2)), None, False, True),
        (replace(CHECKED, lastmod=None, status=404, error="HTTP 404"), None, False, False),
        (
            replace(CHECKED, status=404, error="HTTP 404", fetched_at=NOW - timedelta(2)),
            None,
            False,
            True,
        ),
        (replace(CHECKED, status=304), LASTMOD, False, False),
        (replace(CHECKED, error="fetching: HTTP 500", status=500), LASTMOD, False, True),
        (replace(CHECKED, fetched_at=NOW - timedelta(days=2)), LASTMOD, False, True),  # stale
        (replace(CHECKED, fetched_at=None), LASTMOD, False, True),
    ],
)
def test_is_due(state: FetchState | None, lastmod: datetime | None, force: bool, due: bool) -> None:
    assert is_due(state, lastmod, now=NOW, revalidate_after=DAY, force=force) is due


def test_revalidate_after_zero_checks_every_page_every_crawl() -> None:
    assert is_due(CHECKED, LASTMOD, now=NOW, revalidate_after=0, force=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-02-15", LASTMOD),
        ("2023-02-15T03:00:00+03:00", datetime(2023, 2, 15, 0, 0, tzinfo=UTC)),
        ("2023-02-15T00:00:00Z", LASTMOD),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_lastmod(value: str | None, expected: datetime | None) -> None:
    assert parse_lastmod(value) == expected


def test_unchanged_lastmod_costs_no_request_and_a_changed_one_is_fetched(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    settings = site.settings(revalidate_after=DAY)
    with open_deps(settings, redis_url) as deps:
        first = crawl_all(deps)
        assert first.counts["new"] == 5
        since = len(site.requests())
        again = crawl_all(deps, every=False)  # as the schedule crawls
        asked = [
            r.path for r in site.requests()[since:] if "/post/" in r.path or "/tpost/" in r.path
        ]
        # every page checked within the day is skipped, dated by a sitemap or not (the
        # hreflang alternates), and so is the one the site does not have (a 404)
        assert again.counts["skipped"] == 6
        assert asked == []
        assert again.counts["new"] == again.counts["edited"] == 0

        sitemap = (site.root / "belarus-nau.org/sitemap-feed-28b000b3d1f4.xml").read_bytes()
        site.override(
            "belarus-nau.org",
            "/sitemap-feed-28b000b3d1f4.xml",
            sitemap.replace(b"<lastmod>2023-02-15</lastmod>", b"<lastmod>2026-11-25</lastmod>"),
        )
        since = len(site.requests())
        third = crawl_all(deps, every=False)
    asked = [r.path for r in site.requests()[since:] if r.path.startswith("/tpost/")]
    assert asked == ["/tpost/m3p9r2c7a1-glavnoe-s-press-konferentsii-kabineta"]
    assert third.counts["not_modified"] + third.counts["unchanged"] >= 1


def test_a_crawl_asked_for_by_hand_checks_every_page(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    with open_deps(site.settings(revalidate_after=DAY), redis_url) as deps:
        crawl_all(deps)
        since = len(site.requests())
        again = crawl_all(deps)  # `nam-feeds crawl`, `recrawl --all`, POST /api/recrawl
    asked = [r for r in site.requests()[since:] if "/tpost/" in r.path or "/post/" in r.path]
    assert again.counts["skipped"] == 0 and len(asked) == 6
    assert all(r.headers.get("if-none-match") for r in asked if r.status == 304)


def test_pages_past_the_cap_wait_for_the_next_crawl(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    with open_deps(site.settings(revalidate_after=DAY, max_urls_per_crawl=4), redis_url) as deps:
        first = crawl_all(deps, every=False)
        second = crawl_all(deps, every=False)
        third = crawl_all(deps, every=False)
    assert sum(first.counts[k] for k in ("new", "failed")) == 4
    assert second.counts["new"] + second.counts["failed"] == 2  # the other two of six
    assert store.count_posts() == 5
    assert sum(third.counts[k] for k in ("new", "failed", "not_modified", "unchanged")) == 0
    assert any("past NAMFEEDS_MAX_URLS_PER_CRAWL=4" in e for _, e in first.failures)
