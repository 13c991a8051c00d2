"""What `nam-feeds crawl` tells an operator when the site is not there, run as a user runs it:
each failure names its real cause once, the crawl ends with a summary by cause and a non-zero
exit code, and nothing says "disallowed by robots.txt" when robots.txt was never read."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from services.storage import Store
from tests.fixtures.site import SiteServer

WIX = "https://www.belarus-nau.org"
TILDA = "https://belarus-nau.org"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _crawl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", "crawl", *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("failed")]


@pytest.mark.parametrize(
    ("address", "cause"),
    [
        (f"http://127.0.0.1:{_closed_port()}", "connection refused"),
        ("http://no-such-host.invalid", "name did not resolve"),  # RFC 6761
    ],
    ids=["closed-port", "unknown-name"],
)
def test_unreachable_site_names_the_real_cause(
    site: SiteServer, redis_url: str, store: Store, address: str, cause: str
) -> None:
    env = site.env(
        NAMFEEDS_REDIS_URL=redis_url,
        NAMFEEDS_SOURCE_URLS=WIX,
        NAMFEEDS_ORIGIN_MAP=f"{WIX}={address}",
        NAMFEEDS_MAX_RETRIES="1",
    )
    result = _crawl(env)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "disallowed by robots.txt" not in result.stdout + result.stderr
    failed = _failed_lines(result.stderr)
    host = address.removeprefix("http://")
    details = [line for line in failed if line.startswith("failed: ")]
    assert details, result.stderr[-2000:]
    for line in details:
        url = line.split()[1].rstrip(":")
        assert line.endswith(f"robots.txt unreachable ({cause} ({host})) for {url}")
    assert f"failed by cause: {len(details)} × robots.txt unreachable ({cause})" in failed
    assert store.count_posts() == 0


def test_pages_failing_over_http_are_summed_up_by_status(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    pages = [f"{WIX}/fault/500?k=a", f"{WIX}/fault/500?k=b", f"{WIX}/post/no-such-post"]
    env = site.env(NAMFEEDS_REDIS_URL=redis_url, NAMFEEDS_MAX_RETRIES="0")
    result = _crawl(env, *(arg for url in pages for arg in ("--url", url)))
    assert result.returncode == 1
    assert "3 failed" in result.stdout
    failed = _failed_lines(result.stderr)
    assert f"failed: {pages[0]}: fetching: HTTP 500 for {pages[0]}" in failed
    assert f"failed: {pages[2]}: fetching: HTTP 404 for {pages[2]}" in failed
    assert "failed by cause: 2 × HTTP 500" in failed
    assert "failed by cause: 1 × HTTP 404" in failed
    last = store.last_crawl()
    assert last is not None and last["failures_by_cause"] == {"HTTP 500": 2, "HTTP 404": 1}
