"""Load on the feeds while a forced crawl publishes, then while Redis hangs.

wrk (32 connections, loopback) drives `nam-feeds web` on a private Redis. While it runs,
`nam-feeds crawl --force` crawls the mirror and publishes: every answer must be a 200, no
connection may fail, and the new feed bytes must be served during the load. Then Redis is
stopped (SIGSTOP) in the middle of a second load: readers get 503 with Retry-After, never a
hang or a reset, and 200s again once Redis continues. p99 latency is printed for each run.
8 s a run in CI, 30 s with NAMFEEDS_RELIABILITY_FULL=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.wrk import WrkResult, run_wrk
from tests.conftest import require_program
from tests.reliability.webapp import WebApp, run_web

FULL = os.environ.get("NAMFEEDS_RELIABILITY_FULL") == "1"
SECONDS = 30.0 if FULL else 8.0
CONNECTIONS = 32
FEED = "/feeds/all.atom"


class Load:
    """wrk in a thread, so the test can act while it runs."""

    def __init__(self, url: str, tmp: Path, seconds: float) -> None:
        self.result: WrkResult | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(url, tmp, seconds))

    def _run(self, url: str, tmp: Path, seconds: float) -> None:
        try:
            self.result = run_wrk(url, 200, None, CONNECTIONS, tmp, seconds=seconds, timeout=5)
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(SECONDS + 90)

    def done(self) -> WrkResult:
        assert self.error is None, self.error
        assert self.result is not None, "wrk did not finish"
        return self.result


def _crawl(env: dict[str, str], log: Path) -> subprocess.CompletedProcess[bytes]:
    with log.open("wb") as out:
        return subprocess.run([sys.executable, "-m", "cli", "crawl", "--force"], env=env,
                              stdout=out, stderr=subprocess.STDOUT, timeout=120)


@pytest.fixture
def web_on_private_redis(redis_server_factory: Any, tmp_path: Path) -> Any:
    require_program("wrk", "apt-get install wrk")
    server = redis_server_factory(appendfsync="no")
    with run_web(server.url, tmp_path / "web.log") as app:
        yield server, app
    os.kill(server.pid, signal.SIGCONT)  # never leave a stopped server behind


def test_feeds_stay_up_and_fresh_while_a_crawl_publishes(
    web_on_private_redis: Any, site: Any, tmp_path: Path
) -> None:
    server, app = web_on_private_redis
    client = httpx.Client(base_url=app.url, timeout=5)
    before = client.get(FEED)
    assert before.status_code == 200 and b"<entry" not in before.content
    seen = {before.headers["etag"]}
    env = os.environ | site.env(NAMFEEDS_REDIS_URL=server.url)
    with Load(app.url + FEED, tmp_path, SECONDS) as load:
        time.sleep(1)
        crawl = _crawl(env, tmp_path / "crawl.log")
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline and len(seen) < 2:
            seen.add(client.get(FEED).headers["etag"])
            time.sleep(0.1)
    result = load.done()
    print(f"load during crawl: {result.requests} requests, {result.rps:.0f}/s,"
          f" p99 {result.p99_ms:.1f} ms")
    assert crawl.returncode == 0, (tmp_path / "crawl.log").read_text()[-2000:]
    assert result.wrong == 0 and result.socket_errors == 0, result
    assert len(seen) >= 2, "the published feed was not served during the load"
    after = client.get(FEED)
    assert b"<entry" in after.content and after.headers["etag"] in seen - {before.headers["etag"]}
    _no_errors_logged(app)
    client.close()


def test_a_stopped_redis_gives_503_with_retry_after_then_recovers(
    web_on_private_redis: Any, site: Any, tmp_path: Path
) -> None:
    server, app = web_on_private_redis
    client = httpx.Client(base_url=app.url, timeout=5)
    assert client.get(FEED).status_code == 200
    stopped_for = min(3.0, SECONDS / 3)
    with Load(app.url + FEED, tmp_path, SECONDS) as load:
        time.sleep(1)
        os.kill(server.pid, signal.SIGSTOP)
        try:
            time.sleep(0.3)
            start = time.monotonic()
            during = client.get(FEED)
            answered_in = time.monotonic() - start
            time.sleep(stopped_for)
        finally:
            os.kill(server.pid, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while (back := client.get(FEED)).status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover when Redis did"
            time.sleep(0.05)
    result = load.done()
    print(f"load with Redis stopped {stopped_for:.0f} s: {result.requests} requests,"
          f" statuses besides 200 {result.statuses}, p99 {result.p99_ms:.1f} ms")
    assert during.status_code == 503 and during.headers["retry-after"], during
    assert answered_in < 1.0, f"a hung Redis held a request for {answered_in:.1f} s"
    assert back.status_code == 200 and b"<feed" in back.content
    assert result.socket_errors == 0, result  # no resets, no timeouts: every reader answered
    assert set(result.statuses) == {503} and result.retry_after, result
    _no_errors_logged(app)
    client.close()


def _no_errors_logged(app: WebApp) -> None:
    log = app.log_text()
    assert "Traceback" not in log and '"level": "error"' not in log, log[-3000:]
