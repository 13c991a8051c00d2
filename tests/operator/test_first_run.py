"""A first run as a user meets it: wrong settings, an unreachable site, a port in use. Each
is one clear line (or summary) and a non-zero exit code, never a traceback."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from services.logs import FLUSH_SECONDS
from tests.operator.conftest import Running, clean_env, free_port, run_cli, wait_for


def _no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text[-3000:]


def test_a_misspelled_variable_is_named_with_the_closest_real_one(redis_url: str) -> None:
    env = clean_env(NAMFEEDS_REDIS_URL=redis_url, NAMFEEDS_CRAWL_DELEY="0")
    result = run_cli("status", env=env)
    assert result.returncode == 0, result.stderr
    assert "NAMFEEDS_CRAWL_DELEY is not a setting" in result.stderr
    assert "did you mean NAMFEEDS_CRAWL_DELAY?" in result.stderr


def test_settings_prints_every_variable_with_secrets_masked() -> None:
    token = "a-very-secret-admin-token"
    env = clean_env(
        NAMFEEDS_ADMIN_TOKEN=token,
        NAMFEEDS_REDIS_URL="redis://:hunter2@127.0.0.1:6379/3",
        NAMFEEDS_FEED_SIZE="7",
    )
    result = run_cli("settings", env=env)
    assert result.returncode == 0, result.stderr
    assert token not in result.stdout and "hunter2" not in result.stdout
    lines = result.stdout.splitlines()
    assert "NAMFEEDS_FEED_SIZE=7" in lines
    assert "NAMFEEDS_REDIS_URL=redis://:***@127.0.0.1:6379/3" in lines
    assert f"NAMFEEDS_ADMIN_TOKEN=*** ({len(token)} characters)" in lines
    assert "NAMFEEDS_CRAWL_DELAY=1.0  (default)" in lines
    assert "nam-feeds settings" in run_cli("--help", env=env).stdout


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NAMFEEDS_REDIS_URL", "redis://127.0.0.1:6379/0?socket_timeout=banana", "socket_timeout"),
        ("NAMFEEDS_REDIS_URL", "redis://127.0.0.1:6379/0?sokcet_timeout=1", "unknown option"),
        ("NAMFEEDS_PUBLIC_URL", "http://[feeds.example.org", "invalid"),
        ("NAMFEEDS_SOURCE_URLS", "https://[www.belarus-nau.org", "invalid"),
        ("NAMFEEDS_ADMIN_TOKEN", "    ", "blank"),
    ],
)
@pytest.mark.parametrize("command", ["status", "worker", "web"])
def test_a_bad_setting_is_one_line_and_exit_code_2(
    command: str, name: str, value: str, message: str
) -> None:
    result = run_cli(command, env=clean_env(**{name: value}))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"nam-feeds: settings: {name}: "), lines
    assert message in lines[0]
    _no_traceback(result.stderr)


def _mirror_unreachable(redis_url: str, **settings: str) -> dict[str, str]:
    return clean_env(
        NAMFEEDS_REDIS_URL=redis_url,
        NAMFEEDS_CRAWL_DELAY="0",
        NAMFEEDS_MAX_RETRIES="0",
        NAMFEEDS_FETCH_TIMEOUT="2",
        **settings,
    )


def test_a_site_on_a_closed_port_fails_the_crawl(redis_url: str) -> None:
    closed = free_port()  # bound and let go: nothing listens there
    origins = ("https://www.belarus-nau.org", "https://belarus-nau.org")
    env = _mirror_unreachable(
        redis_url, NAMFEEDS_ORIGIN_MAP=";".join(f"{o}=http://127.0.0.1:{closed}" for o in origins)
    )
    result = run_cli("crawl", env=env, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("crawl: 0 fetched") and " 0 new" in result.stdout
    for origin in origins:
        assert f"failed: {origin}/sitemap.xml: fetching: " in result.stderr
    # the real cause, not a robots.txt disallow
    assert f"connection refused (127.0.0.1:{closed})" in result.stderr
    assert "disallowed by robots.txt" not in result.stderr
    assert "failed by cause: 6 × robots.txt unreachable (connection refused)" in result.stderr
    _no_traceback(result.stdout, result.stderr)
    status = run_cli("status", env=env)
    last = json.loads(status.stdout)["last_crawl"]
    assert last["failures_by_cause"] == {"robots.txt unreachable (connection refused)": 6}


def test_up_with_the_site_unreachable_says_why_on_the_index_page(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    closed, port = free_port(), free_port()
    origins = ("https://www.belarus-nau.org", "https://belarus-nau.org")
    env = _mirror_unreachable(
        "", NAMFEEDS_ORIGIN_MAP=";".join(f"{o}=http://127.0.0.1:{closed}" for o in origins)
    )
    env.pop("NAMFEEDS_REDIS_URL")
    env["NAMFEEDS_DATA_DIR"] = str(tmp_path / "data")
    up = start("up", "--port", str(port), env=env)

    def crawl_line() -> str | None:
        assert up.process.poll() is None, up.output()[-3000:]
        try:
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
        except httpx.HTTPError:
            return None
        line = page.split('id="last-crawl">', 1)[-1].split("</p>", 1)[0]
        return line if "failed" in line else None

    line = wait_for(crawl_line, 60, "the index page to report the failed crawl", every=0.5)
    assert "6 failed" in line and "connection refused" in line, line
    assert "disallowed by robots.txt" not in line


def test_a_site_whose_name_does_not_resolve_fails_the_crawl(redis_url: str) -> None:
    env = _mirror_unreachable(redis_url, NAMFEEDS_SOURCE_URLS="http://nonexistent.invalid")
    result = run_cli("crawl", env=env, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("crawl: 0 fetched") and " 0 new" in result.stdout
    assert "failed: http://nonexistent.invalid/sitemap.xml: fetching: " in result.stderr
    assert "name did not resolve (nonexistent.invalid)" in result.stderr
    assert "disallowed by robots.txt" not in result.stderr
    assert "failed by cause: 3 × robots.txt unreachable (name did not resolve)" in result.stderr
    _no_traceback(result.stdout, result.stderr)


def _up_refused(env: dict[str, str], port: int) -> str:
    result = run_cli("up", "--no-crawl", "--port", str(port), env=env, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "is up" not in output
    _no_traceback(output)
    return output


def test_up_refuses_a_port_in_use(tmp_path: Path) -> None:
    env = clean_env(NAMFEEDS_DATA_DIR=str(tmp_path / "data"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        output = _up_refused(env, port)
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in output
    assert not (tmp_path / "data" / "embedded-redis.json").exists(), "a Redis was started"


def test_up_refuses_a_data_dir_it_cannot_write() -> None:
    target = Path("/sys/nam-feeds-test-data")  # sysfs: no one may create files there
    env = clean_env(NAMFEEDS_DATA_DIR=str(target))
    output = _up_refused(env, free_port())
    assert f"NAMFEEDS_DATA_DIR {target} is not writable: " in output


def test_up_refuses_an_unreachable_redis() -> None:
    env = clean_env(NAMFEEDS_REDIS_URL=f"redis://:secret@127.0.0.1:{free_port()}/0")
    output = _up_refused(env, free_port())
    assert "NAMFEEDS_REDIS_URL redis://:***@127.0.0.1:" in output
    assert "cannot be reached" in output and "secret" not in output


@pytest.mark.parametrize(("switch", "logged"), [("on", True), ("off", False)])
def test_access_lines_follow_the_setting(
    switch: str, logged: bool, redis_url: str, start: Callable[..., Running]
) -> None:
    port = free_port()
    env = clean_env(NAMFEEDS_REDIS_URL=redis_url, NAMFEEDS_ACCESS_LOG=switch)
    web = start("web", "--port", str(port), env=env)
    url = f"http://127.0.0.1:{port}/feeds.opml?probe={switch}"
    wait_for(lambda: _answers(url), 60, "the web app to answer")
    # access lines are written in batches every FLUSH_SECONDS: wait for one while running
    # (on), or for longer than a batch takes (off), so the shutdown's last flush is not tested
    if logged:
        wait_for(lambda: "http.request" in web.output(), 10, "the access line")
    else:
        time.sleep(4 * FLUSH_SECONDS)
    web.stop()
    found = [line for line in web.output().splitlines() if f"probe={switch}" in line]
    access = [json.loads(line) for line in web.output().splitlines() if "http.request" in line]
    opml = [r for r in access if r["route"] == "/feeds.opml" and r["status"] == 200]
    assert bool(opml) == logged and bool(access) == logged, access
    assert found == [], "the query string is not logged, only the path"


def test_the_last_access_lines_are_written_when_the_app_is_stopped(
    redis_url: str, start: Callable[..., Running]
) -> None:
    # Whether the writer's own batch (every FLUSH_SECONDS) beats the shutdown is a matter of
    # timing, so three rounds: a lost batch shows in at least one of them nearly always.
    for round_ in range(3):
        port = free_port()
        web = start("web", "--port", str(port), env=clean_env(NAMFEEDS_REDIS_URL=redis_url))
        health = f"http://127.0.0.1:{port}/healthz"
        wait_for(lambda: _answers(health), 60, "the app to answer")  # noqa: B023  (called here)
        time.sleep(2 * FLUSH_SECONDS)  # what came before is written; the probes below are not
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for n in range(5):
                assert client.get(f"/feeds/all.atom?n={n}").status_code in (200, 404)
        web.stop()  # SIGTERM at once, within the batch's FLUSH_SECONDS
        lines = web.output().splitlines()
        access = [json.loads(line) for line in lines if "http.request" in line]
        written = [r for r in access if r["path"] == "/feeds/all.atom"]
        assert len(written) == 5, f"round {round_}: {len(written)} of 5 access lines written"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
