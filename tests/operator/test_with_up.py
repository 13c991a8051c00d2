"""`nam-feeds up` off a terminal, the mirror standing in for the site, and the other commands
run beside it as a user would: from another directory, with the default (per-user) data dir.

One `up` for the module: starting it costs seconds, and every check here reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from tests.fixtures.site import SiteServer
from tests.operator.conftest import Running, clean_env, free_port, run_cli, wait_for

POSTS_IN_MIRROR = 5


class UpRun:
    def __init__(self, running: Running, env: dict[str, str], port: int, home: Path) -> None:
        self.running, self.env, self.port, self.home = running, env, port, home

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def entries(self) -> int:
        try:
            reply = httpx.get(self.url("/feeds/all.atom"), timeout=2)
        except httpx.HTTPError:
            return -1
        return len(feedparser.parse(reply.content).entries) if reply.status_code == 200 else -1


@pytest.fixture(scope="module")
def up(site_server: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpRun]:
    base = tmp_path_factory.mktemp("user")
    (base / "start-here").mkdir()
    port = free_port()
    env = clean_env(**site_server.env())
    # the per-user data dir under a home of the test's own (XDG: platformdirs on Linux)
    env.update(XDG_DATA_HOME=str(base / "xdg"), NAMFEEDS_CRAWL_DELEY="0")
    log = base / "up.log"
    running = Running(["up", "--port", str(port)], env, log)
    run = UpRun(running, {k: v for k, v in env.items() if k != "NAMFEEDS_CRAWL_DELEY"}, port, base)
    try:
        wait_for(
            lambda: _alive(running) and run.entries() == POSTS_IN_MIRROR,
            180,
            "up's first crawl to publish the mirror's posts",
            every=0.5,
        )
        yield run
    finally:
        running.stop()


def _alive(running: Running) -> bool:
    assert running.process.poll() is None, running.output()[-3000:]
    return True


def test_up_names_the_per_user_data_dir(up: UpRun) -> None:
    data_dir = up.home / "xdg" / "nam-feeds"
    assert f"data in {data_dir}" in up.running.output()
    assert (data_dir / "embedded-redis.json").exists()


def test_status_from_another_directory_counts_the_same_posts(up: UpRun) -> None:
    elsewhere = up.home / "somewhere-else"
    elsewhere.mkdir(exist_ok=True)
    result = run_cli("status", env=up.env, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["posts"] == POSTS_IN_MIRROR
    assert "the embedded Redis of the running `nam-feeds up`" in result.stderr
    assert str(up.home / "xdg" / "nam-feeds") in result.stderr
    assert not (elsewhere / "data").exists()


def test_recrawl_all_while_up_runs_crawls_every_page_again(
    up: UpRun, site_server: SiteServer
) -> None:
    posts = {r.path for r in site_server.requests() if "/post/" in r.path or "/tpost/" in r.path}
    assert len(posts) >= POSTS_IN_MIRROR
    seen = len(site_server.requests())
    result = run_cli("recrawl", "--all", env=up.env, cwd=up.home)
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip()
    assert job_id and "the embedded Redis of the running `nam-feeds up`" in result.stderr

    def every_page_again() -> bool:
        again = {r.path for r in site_server.requests()[seen:]}
        return posts <= again

    wait_for(every_page_again, 120, "every post page to be requested again", every=0.5)
    job = wait_for(lambda: _finished(up.url(f"/api/jobs/{job_id}")), 60, "the job to finish")
    assert job["status"] == "done", job


def _finished(url: str) -> dict[str, Any] | None:
    body: dict[str, Any] = httpx.get(url, timeout=2).json()
    return body if body.get("status") in ("done", "failed") else None


def test_every_line_up_and_its_processes_print_is_one_json_record(up: UpRun) -> None:
    assert httpx.get(up.url("/feeds/all.atom"), timeout=5).status_code == 200
    lines = wait_for(
        lambda: (
            [line for line in up.running.output().splitlines() if line.strip()]
            if "feeds.web.access" in up.running.output()
            else None
        ),
        10,
        "the access line",
    )
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(record, dict) and {"event", "level", "timestamp"} <= record.keys()
        records.append(record)
    loggers = {r.get("logger") for r in records}
    assert {"cli._up", "celery.apps.worker", "celery.beat", "uvicorn.error"} <= loggers
    # each fetch is logged once, by the fetch client with the real URL, not again by httpx
    assert "httpx" not in loggers and any(r["event"] == "fetched" for r in records)
    warned = [r for r in records if r.get("variable") == "NAMFEEDS_CRAWL_DELEY"]
    assert len(warned) == 1, "the misspelled variable is warned about once, not per process"
    access = [r for r in records if r.get("logger") == "feeds.web.access"]
    feed = [r for r in access if r["path"] == "/feeds/all.atom"]
    assert feed and feed[-1]["route"] == "/feeds/{path}" and feed[-1]["status"] == 200
    assert isinstance(feed[-1]["duration_ms"], float)


def test_the_index_page_says_when_the_last_crawl_ran(up: UpRun) -> None:
    page = httpx.get(up.url("/"), timeout=5).text
    line = page.split('id="last-crawl">', 1)[1].split("</p>", 1)[0]
    assert line.startswith("Last crawl: 20") and " UTC, " in line, line


def test_healthz_sees_up_s_worker_and_beat(up: UpRun) -> None:
    body = httpx.get(up.url("/healthz"), timeout=5).json()
    assert body["status"] == "ok", body
    assert body["workers"]["count"] == 1 and body["beat"]["count"] == 1
