"""Feed serving against its floor: a plain static server sending the same bytes, same run.

Run: python -m bench.feeds   (goal: the app at least half the static server's rate, for 200
and for 304). Both servers run as subprocesses on 127.0.0.1 with one process each; one
asyncio httpx client drives both the same way, bounded in requests and in time. Also prints
the render time of each feed of the 50-post data set.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from feeds.publish import feeds_of_posts, publish_all, publish_feed
from services.embedded_redis import EmbeddedRedis
from services.model import Post
from services.settings import Settings
from services.storage import Store
from tests.feeds.test_publish import mirror_posts

POSTS = 100  # a full current feed of 50 entries, and a full archive page of the 50 before
CONCURRENCY = 16
REQUESTS = 4000
SECONDS = 8.0
FEED = "/feeds/all.atom"
ARCHIVE = "/feeds/all/archive/1.atom"  # full, so served as immutable
QUERY = "/feeds/all.atom?speaker=pavel-latushka&q=sanctions"  # rendered once, then cached


def fifty_posts() -> list[Post]:
    """The mirror's posts copied under new ids and dates up to POSTS: a full feed, and an
    archive page as full."""
    base = mirror_posts()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    posts = []
    for n in range(POSTS):
        post = base[n % len(base)]
        when = start + timedelta(hours=n)
        posts.append(
            dataclasses.replace(
                post, id=f"{post.id}-{n}", url=f"{post.url}-{n}", published=when, modified=when
            )
        )
    return posts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: server exited with {process.returncode}: {url}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"bench: {url} did not answer")


async def _load(url: str, headers: dict[str, str], expect: int) -> float:
    """Requests per second: CONCURRENCY loops until REQUESTS are done or SECONDS pass."""
    done = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        start = time.perf_counter()
        deadline = start + SECONDS

        async def loop() -> None:
            nonlocal done
            while done < REQUESTS and time.perf_counter() < deadline:
                response = await client.get(url, headers=headers)
                if response.status_code != expect:
                    raise SystemExit(f"bench: {url} answered {response.status_code}")
                done += 1

        await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
        return done / (time.perf_counter() - start)


def _rate(url: str, headers: dict[str, str], expect: int) -> float:
    asyncio.run(_load(url, headers, expect))  # warm-up round, discarded
    return asyncio.run(_load(url, headers, expect))


def _serve_app(redis_url: str, port: int) -> None:
    """Subprocess entry: the real app over the benchmark's Redis, access log off."""
    import uvicorn

    from feeds.web import create_app

    app = create_app(Settings(), Store.from_url(redis_url))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _render_times(store: Store, settings: Settings, posts: list[Post]) -> list[float]:
    times = []
    for spec in feeds_of_posts(posts):
        start = time.perf_counter()
        publish_feed(store, settings, spec)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve-app", nargs=2, metavar=("REDIS_URL", "PORT"))
    args = parser.parse_args()
    if args.serve_app:
        _serve_app(args.serve_app[0], int(args.serve_app[1]))
        return
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        _run(redis.url, Path(tmp))


def _run(redis_url: str, tmp: Path) -> None:
    store, settings, posts = Store.from_url(redis_url), Settings(), fifty_posts()
    for post in posts:
        store.upsert_post(post, now=datetime(2024, 6, 1, tzinfo=UTC))
    publish_all(store, settings)
    times = _render_times(store, settings, posts)
    feed = store.get_feed("all.atom")
    archive = store.get_feed("all/archive/1.atom")
    assert feed is not None and archive is not None
    (tmp / "all.atom").write_bytes(feed.body)
    (tmp / "archive.atom").write_bytes(archive.body)
    print(f"feeds: {len(times)} (atom, rss, json), all.atom {len(feed.body)} bytes, 50 entries")
    median, worst = statistics.median(times) * 1e3, max(times) * 1e3
    print(f"render per feed (all formats and pages, from Redis): {median:.1f} ms, max {worst:.1f}")
    app_port, static_port = _free_port(), _free_port()
    here = Path(__file__).resolve().parent.parent
    app = subprocess.Popen(
        [sys.executable, "-m", "bench.feeds", "--serve-app", redis_url, str(app_port)], cwd=here
    )
    static = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        app_url = f"http://127.0.0.1:{app_port}{FEED}"
        static_url = f"http://127.0.0.1:{static_port}/all.atom"
        _wait(app_url, app)
        _wait(static_url, static)
        _compare(app_url, static_url, feed.etag)
        base, static_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{static_port}"
        query = httpx.get(base + QUERY)  # the first request renders and caches it
        (tmp / "query.atom").write_bytes(query.content)
        print(f"query feed, second request on (from the cache): {QUERY}")
        _compare(base + QUERY, static_base + "/query.atom", query.headers["etag"])
        print(f"full archive page: {ARCHIVE}")
        _compare(base + ARCHIVE, static_base + "/archive.atom", archive.etag)
    finally:
        for process in (app, static):
            process.terminate()
            process.wait(10)
        store.close()


def _compare(app_url: str, static_url: str, etag: str) -> None:
    plain = {"Accept-Encoding": "identity"}
    since = httpx.get(static_url).headers["last-modified"]
    cases = [
        ("200", plain, plain, 200),
        ("304", plain | {"If-None-Match": etag}, plain | {"If-Modified-Since": since}, 304),
    ]
    print(f"{'case':6} {'app req/s':>10} {'static req/s':>13} {'ratio':>6}")
    for name, app_headers, static_headers, status in cases:
        app_rate = _rate(app_url, app_headers, status)
        static_rate = _rate(static_url, static_headers, status)
        print(f"{name:6} {app_rate:>10.0f} {static_rate:>13.0f} {app_rate / static_rate:>5.2f}x")


if __name__ == "__main__":
    main()
