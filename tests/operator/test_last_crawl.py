"""The index page's summary of the last crawl: when it ran, how it ended, and why. (The
template escapes it: tests/feeds/test_pages.py.)"""

from __future__ import annotations

from feeds.web._pages import last_crawl_summary


def test_no_crawl_yet_says_so() -> None:
    assert last_crawl_summary(None) == "none yet"


def test_a_good_crawl_says_when_and_what_it_did() -> None:
    record = {
        "finished": "2026-12-02T16:34:25.678+00:00",
        "new": 5,
        "edited": 1,
        "unchanged": 2,
        "not_modified": 3,
        "failures": [],
    }
    assert last_crawl_summary(record) == "2026-12-02 16:34 UTC, 5 new, 1 edited, 5 unchanged"
    assert "failed" not in last_crawl_summary(record)


def test_a_failed_crawl_gives_the_commonest_causes() -> None:
    record = {
        "finished": "2026-12-02T16:34:25+00:00",
        "new": 0,
        "failures": [{"url": f"https://x/{i}", "error": "…"} for i in range(7)],
        "failures_by_cause": {"HTTP 500": 1, "robots.txt unreachable (connection refused)": 6},
    }
    assert last_crawl_summary(record).endswith(
        "; 7 failed: 6 × robots.txt unreachable (connection refused); 1 × HTTP 500"
    )


def test_without_causes_the_first_error_is_shown_escaped() -> None:
    record = {
        "started": "2026-12-02T10:00:00+00:00",
        "mode": "worker",
        "urls": 0,
        "skipped": 0,
        "failures": [{"url": "https://x/sitemap.xml", "error": "fetching: <refused>"}],
    }
    summary = last_crawl_summary(record)
    assert (
        summary == "2026-12-02 10:00 UTC, 0 pages queued, 0 not due; 1 failed: fetching: <refused>"
    )
