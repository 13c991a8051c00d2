"""Feed serving against the strongest floor, nginx, in the same run, driven by wrk.

Run: python -m bench.feeds [--seconds S] [--connections N]

Servers, each one process on 127.0.0.1 serving the same `all.atom` bytes (50 entries):
    nginx static      Debian's nginx, the file on disk, `etag on` (the floor)
    bare ASGI         the bytes from memory under the app's uvicorn (uvloop, httptools): what
                      any Python app on this server could reach
    app               `nam-feeds web` over Redis, as deployed
    compose path      nginx with deploy/nginx.conf in front of that same app: the stored feed
                      from the file publishing exports (feeds.files), as compose serves it
For 200 (no compression) and 304 (If-None-Match with the server's own tag, sent by a wrk Lua
script that also counts any other status as wrong), after a discarded warm-up. Goals: the app
>= 0.5x nginx for 200 and >= 0.3x for 304; the compose path >= 0.9x for both. Also prints the
render time of each feed of the data set.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import machine, wait_until_answers
from bench.nginx import compose_conf, free_port, run_nginx, static_conf
from bench.wrk import WrkResult, run_wrk
from feeds.files import export_feeds
from feeds.publish import feeds_of_posts, publish_all, publish_feed
from services.embedded_redis import EmbeddedRedis
from services.model import Post
from services.settings import Settings
from services.storage import Store
from tests.feeds.test_publish import mirror_posts

POSTS = 100  # a full current feed of 50 entries, and a full archive page of the 50 before
FEED = "/feeds/all.atom"
ARCHIVE = "/feeds/all/archive/1.atom"  # full, so served as immutable
QUERY = "/feeds/all.atom?speaker=pavel-latushka&q=sanctions"  # rendered once, then cached
ROOT = Path(__file__).resolve().parent.parent
GOALS = {("app", "200"): 0.5, ("app", "304"): 0.3, ("compose", "200"): 0.9,
         ("compose", "304"): 0.9}


def fifty_posts() -> list[Post]:
    """The mirror's posts copied under new ids and dates: a full feed and a full archive page."""
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


def serve_bare(path: str, port: int) -> None:
    """Subprocess entry: the least an ASGI app can do, on the uvicorn the app runs on."""
    import uvicorn

    body = Path(path).read_bytes()
    etag = b'"bare"'
    full = [(b"content-type", b"application/atom+xml"), (b"etag", etag),
            (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        assert callable(send)
        headers = dict(scope["headers"])  # type: ignore[call-overload]
        if headers.get(b"if-none-match") == etag:
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": full})
        await send({"type": "http.response.body", "body": body})

    # the server settings of feeds.web.serve, so that the difference is the app's own work
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                proxy_headers=False, server_header=False)


@contextmanager
def _process(command: list[str], url: str, log: Path, env: dict[str, str]) -> Iterator[str]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            wait_until_answers(url, process, timeout=30, status=200)
            yield url
        finally:
            process.terminate()
            process.wait(10)


def _render_times(store: Store, settings: Settings, posts: list[Post]) -> list[float]:
    times = []
    for spec in feeds_of_posts(posts):
        start = time.perf_counter()
        publish_feed(store, settings, spec)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured case")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many runs")
    parser.add_argument("--serve-bare", nargs=2, metavar=("FILE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare[0], int(args.serve_bare[1]))
        return
    print(machine())
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        _run(redis.url, Path(tmp), args)


def _run(redis_url: str, tmp: Path, opts: argparse.Namespace) -> None:
    store, settings, posts = Store.from_url(redis_url), Settings(), fifty_posts()
    for post in posts:
        store.upsert_post(post, now=datetime(2024, 6, 1, tzinfo=UTC))
    publish_all(store, settings)
    times = _render_times(store, settings, posts)
    feed, archive = store.get_feed("all.atom"), store.get_feed("all/archive/1.atom")
    assert feed is not None and archive is not None
    export_feeds(store, tmp / "files")  # what the compose worker writes for its nginx
    store.close()
    (tmp / "static").mkdir()
    (tmp / "static" / "all.atom").write_bytes(feed.body)
    (tmp / "static" / "archive.atom").write_bytes(archive.body)
    print(f"feeds: {len(times)} rendered, all.atom {len(feed.body)} bytes, {POSTS} posts")
    print(f"render per feed: median {statistics.median(times) * 1e3:.1f} ms,"
          f" max {max(times) * 1e3:.1f} ms")
    with _servers(redis_url, tmp) as urls:
        _compare(urls, tmp, opts)
        _same_bytes_cases(urls, tmp, opts)


def _same_bytes_cases(urls: dict[str, str], tmp: Path, opts: argparse.Namespace) -> None:
    """A query feed on its second request (from the query cache) and a full archive page,
    each against nginx serving the very same bytes as a static file."""
    app, static = urls["app"].removesuffix(FEED), urls["nginx"].removesuffix("/all.atom")
    query = httpx.get(app + QUERY, headers={"Accept-Encoding": "identity"})  # renders, caches
    (tmp / "static" / "query.atom").write_bytes(query.content)
    pairs = {"query": (app + QUERY, static + "/query.atom"),
             "archive": (app + ARCHIVE, static + "/archive.atom")}
    for name, (ours, floor) in pairs.items():
        for status in ("200", "304"):
            rates = []
            for url in (ours, floor):
                etag = httpx.get(url).headers["etag"] if status == "304" else None
                runs = [run_wrk(url, int(status), etag, opts.connections, tmp,
                                seconds=opts.seconds, statuses=status == "304")
                        for _ in range(opts.rounds)]
                rates.append(statistics.median(r.rps for r in runs))
            print(f"{name + ' ' + status:12} {rates[0]:>8.0f} {'same bytes':>18}"
                  f" {rates[1]:>11.0f} {rates[0] / rates[1]:>5.2f}x")


@contextmanager
def _servers(redis_url: str, tmp: Path) -> Iterator[dict[str, str]]:
    env = os.environ | {"NAMFEEDS_REDIS_URL": redis_url}
    app_port, bare_port, static_port, proxy_port = (free_port() for _ in range(4))
    with ExitStack() as stack:
        app = stack.enter_context(_process(
            [sys.executable, "-m", "cli", "web", "--port", str(app_port)],
            f"http://127.0.0.1:{app_port}{FEED}", tmp / "app.log", env))
        bare = stack.enter_context(_process(
            [sys.executable, "-m", "bench.feeds", "--serve-bare", str(tmp / "static" / "all.atom"),
             str(bare_port)], f"http://127.0.0.1:{bare_port}{FEED}", tmp / "bare.log", env))
        static = stack.enter_context(run_nginx(
            static_conf(static_port, tmp / "static"), tmp / "nginx-static", static_port))
        proxy = stack.enter_context(run_nginx(
            compose_conf(proxy_port, f"127.0.0.1:{app_port}", tmp / "cache", tmp / "files"),
            tmp / "nginx-proxy", proxy_port))
        yield {"nginx": static + "/all.atom", "bare": bare, "app": app, "compose": proxy + FEED}


def _compare(urls: dict[str, str], tmp: Path, opts: argparse.Namespace) -> None:
    plain = {"Accept-Encoding": "identity"}
    first = {name: httpx.get(url, headers=plain) for name, url in urls.items()}
    tags = {name: response.headers["etag"] for name, response in first.items()}
    size = len(first["nginx"].content)
    print(f"wrk: 1 thread, {opts.connections} connections, {opts.seconds:g} s a case, median of"
          f" {opts.rounds} rounds taken in turn; each server one process (nginx: 1 worker)")
    print(f"{'case':12} {'req/s':>8} {'p99 ms':>7} {'floor':>10} {'floor req/s':>11}"
          f" {'ratio':>6} {'goal':>6} {'vs bare':>8}")
    for status in ("200", "304"):
        runs: dict[str, list[WrkResult]] = {name: [] for name in urls}
        for round_ in range(opts.rounds):
            for name, url in urls.items():
                etag = tags[name] if status == "304" else None
                args = (url, int(status), etag, opts.connections, tmp)
                check = status == "304"  # 200s are checked by the bytes read instead
                if round_ == 0:
                    run_wrk(*args, seconds=1.0, statuses=check)  # warm-up, discarded
                result = run_wrk(*args, seconds=opts.seconds, statuses=check)
                runs[name].append(_checked(result, name, size if status == "200" else 0))
        _print_rows(status, runs)


def _print_rows(status: str, runs: dict[str, list[WrkResult]]) -> None:
    rates = {name: statistics.median(r.rps for r in results) for name, results in runs.items()}
    p99s = {name: statistics.median(r.p99_ms for r in results) for name, results in runs.items()}
    floor, bare = rates["nginx"], rates["bare"]
    for name, rate in rates.items():
        goal = GOALS.get((name, status))
        goal_text = f">={goal:.1f}" if goal else ""
        # the app against the least any Python app can do on this uvicorn, same run
        own = f"{rate / bare:>7.2f}x" if name == "app" else ""
        print(f"{name + ' ' + status:12} {rate:>8.0f} {p99s[name]:>7.2f} {'nginx ' + status:>10}"
              f" {floor:>11.0f} {rate / floor:>5.2f}x {goal_text:>6} {own:>8}")


def _checked(result: WrkResult, name: str, body: int) -> WrkResult:
    """A figure counts only if every answer was the expected one, and whole."""
    if result.wrong or result.socket_errors or result.bytes < result.requests * body:
        raise SystemExit(f"bench: {name} answered wrongly: {result}")
    return result


if __name__ == "__main__":
    main()
