"""Hostile sources: every attack of tests/reliability/hostile.py through the real fetcher and
crawler over real HTTP, each bounded in time and memory, recorded with its real cause, and
leaving stored posts, history and published feeds as they were."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from feeds.publish import publish_all
from services.crawl import crawl_all, open_deps
from services.fetch import cause_of
from services.settings import Settings
from services.storage import Store
from tests.conftest import SITE
from tests.fixtures.redis import clear_namespace
from tests.reliability.hostile import (
    ATTACKS,
    ROBOTS,
    Behaviour,
    Big,
    Drip,
    Encoded,
    Endless,
    Fixed,
    HostileServer,
    MiB,
    Redirect,
)

# -- through the real crawler ------------------------------------------------------------------
ORIGIN = "https://www.belarus-nau.org"
POST_PATH = "/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"
POST_URL = ORIGIN + POST_PATH
POST_HTML = (SITE / "www.belarus-nau.org" / f"{POST_PATH.lstrip('/')}.html").read_bytes()
WALL_LIMIT = 60.0  # seconds, per attack
RSS_LIMIT = 300 * MiB
# What stays put whatever a source does: posts and their history, and the published feeds.
KEPT = ("nam:post:*", "nam:posts", "nam:urls", "nam:lang:*", "nam:feed:*", "nam:feeds")


@dataclass(frozen=True)
class Crawl:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss: int  # bytes


def _env(server: HostileServer, redis_url: str) -> dict[str, str]:
    """Short bounds, so the whole file stays within two minutes: a 3 s deadline with a read
    timeout longer than the 2 s drip (so only the deadline can end a drip), and 8 s of
    retries per URL."""
    return {
        "NAMFEEDS_REDIS_URL": redis_url,
        "NAMFEEDS_SOURCE_URLS": ORIGIN,
        "NAMFEEDS_ORIGIN_MAP": f"{ORIGIN}={server.origin}",
        "NAMFEEDS_CRAWL_DELAY": "0",
        "NAMFEEDS_REVALIDATE_AFTER": "0",
        "NAMFEEDS_FETCH_TIMEOUT": "5",
        "NAMFEEDS_FETCH_DEADLINE": "3",
        "NAMFEEDS_MAX_RETRIES": "2",
        "NAMFEEDS_RETRY_BUDGET": "8",
    }


# The command line as `python -m cli` runs it, writing its VmHWM (kB) on the way out.
_PEAK_ON_EXIT = """
import atexit, os, sys
def _peak():
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    with open(os.environ["NAMFEEDS_TEST_PEAK_FILE"], "w") as out:
        out.write(status)
atexit.register(_peak)
from cli import main
sys.argv[0] = "nam-feeds"
main()
"""


def _crawl(env: dict[str, str], tmp_path: Path, *urls: str) -> Crawl:
    """`nam-feeds crawl --url …` in its own process: its wall time, and its own peak resident
    memory (VmHWM, written as it exits: wait4's ru_maxrss would keep the forking test
    process's peak, which exec does not reset)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    args = [arg for url in urls for arg in ("--url", url)]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", _PEAK_ON_EXIT, "crawl", *args],
            env=clean | env | {"NAMFEEDS_TEST_PEAK_FILE": str(tmp_path / "peak")},
            stdout=stdout,
            stderr=stderr,
        )
        killer = threading.Timer(2 * WALL_LIMIT, proc.kill)
        killer.start()
        try:
            _, status, _usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Crawl(
        proc.returncode,
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
        time.monotonic() - started,
        int((tmp_path / "peak").read_text()) * 1024,
    )


def _snapshot(client: redis.Redis) -> dict[bytes, object]:
    found: dict[bytes, object] = {}
    for pattern in KEPT:
        for key in sorted(client.scan_iter(match=pattern, count=1000)):
            kind = client.type(key)
            if kind == b"hash":
                found[key] = client.hgetall(key)
            elif kind == b"zset":
                found[key] = client.zrange(key, 0, -1, withscores=True)
            elif kind == b"set":
                found[key] = sorted(client.smembers(key))
            else:
                found[key] = client.dump(key)
    return found


@pytest.fixture
def seeded(
    hostile_server: HostileServer, redis_url: str, redis_client: redis.Redis
) -> Iterator[tuple[dict[str, str], dict[bytes, object]]]:
    """The post crawled and published once from a well-behaved server, then the snapshot
    every attack must leave as it is."""
    hostile_server.route(POST_PATH, Fixed(200, body=POST_HTML))
    env = _env(hostile_server, redis_url)
    settings = Settings.from_env(env)
    with open_deps(settings, redis_url) as deps:
        summary = crawl_all(deps, urls=[POST_URL])
        assert summary.counts["new"] == 1, summary.as_dict()
        assert publish_all(deps.store, settings) > 0
    before = _snapshot(redis_client)
    assert any(k.startswith(b"nam:feed:") for k in before)
    yield env, before
    # An attack may leave a host held off for an hour: no later test should meet it.
    clear_namespace(redis_client)


def _assert_bounded_and_kept(crawl: Crawl, client: redis.Redis, before: object) -> None:
    print(f"bounds: {crawl.seconds:.1f} s, {crawl.max_rss / MiB:.0f} MiB peak")
    assert crawl.seconds < WALL_LIMIT, f"took {crawl.seconds:.1f} s"
    assert crawl.max_rss < RSS_LIMIT, f"peak memory {crawl.max_rss / MiB:.0f} MiB"
    assert "Traceback" not in crawl.stderr, crawl.stderr[-3000:]
    assert _snapshot(client) == before


def _recorded_error(store: Store, url: str = POST_URL) -> str:
    state = store.get_fetch_state(url)
    assert state is not None and state.error, f"no error recorded for {url}"
    return state.error


ATTACKED_PAGES: list[tuple[str, Behaviour, str]] = [
    ("50-mb-page", Big(50 * MiB), r"body of 52428800 bytes exceeds 5 MiB"),
    ("50-mb-chunked", Big(50 * MiB, declared=False), r"^fetching: body exceeds 5 MiB for"),
    ("gzip-bomb", Encoded(("gzip",)), r"exceeds 5 MiB after decompression|compression bomb"),
    ("double-gzip", Encoded(("gzip", "gzip")), r"after decompression|compression bomb"),
    ("deflate-bomb", Encoded(("deflate",)), r"after decompression|compression bomb"),
    ("slow-headers", Drip(2.0, headers=True), r"timed out: no complete reply within 3 s"),
    ("slow-body", Drip(2.0, headers=False), r"timed out: no complete reply within 3 s"),
    ("endless-body", Endless(), r"^fetching: body exceeds 5 MiB for"),
    ("redirect-loop", Redirect(None), r"more than 5 redirects"),
    ("offsite-redirect", Redirect("http://evil.example/steal"), r"leaves the source origins"),
    ("file-redirect", Redirect("file:///etc/passwd"), r"redirect to an invalid URL"),
    (
        "link-local-redirect",
        Redirect("http://169.254.169.254/latest/meta-data/"),
        r"host 169\.254\.169\.254 is not an allowed source host",
    ),
    ("status-500", Fixed(500, body=b"oops"), r"^fetching: HTTP 500, gave up after 3 attempts"),
]


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [(b, e) for _, b, e in ATTACKED_PAGES],
    ids=[name for name, _, _ in ATTACKED_PAGES],
)
def test_known_post_turning_hostile_is_bounded_recorded_and_kept(
    seeded: tuple[dict[str, str], dict[bytes, object]],
    hostile_server: HostileServer,
    redis_client: redis.Redis,
    store: Store,
    tmp_path: Path,
    behaviour: Behaviour,
    error: str,
) -> None:
    env, before = seeded
    hostile_server.route(POST_PATH, behaviour)
    crawl = _crawl(env, tmp_path, POST_URL)
    assert crawl.returncode == 1, crawl.stderr[-3000:]
    recorded = _recorded_error(store)
    assert re.search(error, recorded), recorded
    assert f"failed: {POST_URL}: {recorded}" in crawl.stderr
    assert f"failed by cause: 1 × {cause_of(recorded)}" in crawl.stderr
    _assert_bounded_and_kept(crawl, redis_client, before)


ROBOTS_FAILURES = [
    ("500", "HTTP 500"),
    ("429", "HTTP 429, Retry-After 3600 s: deferred"),
    ("timeout", "timed out: no complete reply within 3 s"),
]


@pytest.mark.parametrize(("mode", "cause"), ROBOTS_FAILURES, ids=[m for m, _ in ROBOTS_FAILURES])
def test_unreadable_robots_is_reported_as_unreachable_not_as_a_disallow(
    seeded: tuple[dict[str, str], dict[bytes, object]],
    hostile_server: HostileServer,
    redis_client: redis.Redis,
    store: Store,
    tmp_path: Path,
    mode: str,
    cause: str,
) -> None:
    # RFC 9309 section 2.3.1.4: disallow everything for a while, and say why.
    env, before = seeded
    hostile_server.route("/robots.txt", ROBOTS[mode]())
    crawl = _crawl(env, tmp_path, POST_URL)
    assert crawl.returncode == 1, crawl.stderr[-3000:]
    assert _recorded_error(store) == f"fetching: robots.txt unreachable ({cause}) for {POST_URL}"
    assert "disallowed by robots.txt" not in crawl.stderr
    assert hostile_server.requests(POST_PATH)[1:] == []  # the seeding fetch only
    assert len(hostile_server.requests("/robots.txt")) == 2  # seeding, then once: no retries
    _assert_bounded_and_kept(crawl, redis_client, before)


def test_a_one_mib_robots_is_read_to_its_first_500_kib(
    seeded: tuple[dict[str, str], dict[bytes, object]],
    hostile_server: HostileServer,
    redis_client: redis.Redis,
    store: Store,
    tmp_path: Path,
) -> None:
    # RFC 9309 section 2.5: at least 500 KiB are parsed; a rule past 1 MiB of padding is not.
    env, before = seeded
    hostile_server.route("/robots.txt", ROBOTS["big"]())
    early, late = f"{ORIGIN}/hostile/early", f"{ORIGIN}/hostile/late"
    crawl = _crawl(env, tmp_path, early, late, POST_URL)
    assert crawl.returncode == 1, crawl.stderr[-3000:]
    assert _recorded_error(store, early) == f"fetching: disallowed by robots.txt for {early}"
    assert _recorded_error(store, late) == f"fetching: HTTP 404 for {late}"  # it was asked
    assert hostile_server.requests("/hostile/early") == []
    assert len(hostile_server.requests(POST_PATH)) == 2
    _assert_bounded_and_kept(crawl, redis_client, before)


def test_an_hour_of_retry_after_defers_the_page_for_an_hour(
    seeded: tuple[dict[str, str], dict[bytes, object]],
    hostile_server: HostileServer,
    redis_client: redis.Redis,
    store: Store,
    tmp_path: Path,
) -> None:
    env, before = seeded
    hostile_server.route(POST_PATH, ATTACKS["retry-after-hour"]())
    crawl = _crawl(env, tmp_path, POST_URL)
    assert crawl.returncode == 1, crawl.stderr[-3000:]
    recorded = _recorded_error(store)
    assert recorded == f"fetching: HTTP 429, Retry-After 3600 s: deferred for {POST_URL}"
    assert len(hostile_server.requests(POST_PATH)) == 2  # seeding, then once: no retry
    deferral = store.deferred(POST_URL)
    assert deferral is not None and 3500 < deferral[0] <= 3600
    _assert_bounded_and_kept(crawl, redis_client, before)

    # The next crawl, within the hour, does not ask at all.
    again = _crawl(env, tmp_path, POST_URL)
    assert "deferred: 1" in again.stderr, again.stderr[-3000:]
    assert len(hostile_server.requests(POST_PATH)) == 2
    assert again.seconds < WALL_LIMIT
    assert _snapshot(redis_client) == before
