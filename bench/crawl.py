"""Crawl speed: the full pipeline through Celery against a plain loop, same pages, same run.

Run: python -m bench.crawl [--sizes 250,500,1000,2000] [--concurrency 2] [--plot PATH]

For each size, a synthetic site (bench.site: both builders, three languages, sitemaps with
hreflang alternates) over HTTP on 127.0.0.1, a private Redis (AOF everysec, as deployed) and
one `nam-feeds worker` (prefork, as `nam-feeds up` runs it). Rows:
- floor, cold: a plain loop of httpx GET + parse_post over every post, nothing stored;
- Celery, cold: nam.discover, then the crawl tasks, from empty data, until the job is done
  ("stored") and until the publisher has rendered every change ("published");
- floor, re-crawl: the same loop of conditional GETs (If-None-Match), all 304;
- Celery, unchanged re-crawl: every page revalidated (NAMFEEDS_REVALIDATE_AFTER=0), with the
  number of pages the site had to send whole (each would be parsed): the goal is 0;
- an edit: from sending the crawl of one edited post to the feed holding the new title.
Ratios are floor time / our time (1.00x: as fast as the floor; the goals are 0.5x). Then the
feed files rendered against the feeds that exist, the worker's CPU per page, and a profile of
the work one page costs inside a worker (bench.crawl_profile).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.site import SyntheticSite
from services.embedded_redis import EmbeddedRedis
from services.logs import configure_logging
from services.parsing import parse_post
from services.settings import Settings
from services.storage import Store
from workers.app import make_celery

SIZES = (250, 500, 1000, 2000)
TIMEOUT = 900.0
PLOT = Path(__file__).resolve().parent.parent / "docs" / "crawl-time.png"


@dataclass
class Figures:
    size: int
    floor_cold: float = 0.0
    stored: float = 0.0
    published: float = 0.0
    floor_again: float = 0.0
    again: float = 0.0
    again_sent_whole: int = 0
    edit: float = 0.0
    rendered: int = 0
    feed_files: int = 0
    cpu_per_page_ms: float = 0.0
    posts_stored: int = 0


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _wait(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench.crawl: timed out waiting for {what}")
        time.sleep(0.005)


def plain_loop(site: SyntheticSite, client: httpx.Client) -> dict[str, str]:
    """What a crawler without any of the machinery does: GET, parse, nothing stored. One
    kept-alive client, as the Fetcher has. Returns each page's ETag for the re-crawl."""
    etags = {}
    for post in site.posts:
        response = client.get(site.local(post.url))
        parse_post(response.content, post.url)
        etags[post.url] = response.headers["etag"]
    return etags


def conditional_loop(site: SyntheticSite, client: httpx.Client, etags: dict[str, str]) -> None:
    for post in site.posts:
        response = client.get(site.local(post.url), headers={"If-None-Match": etags[post.url]})
        assert response.status_code == 304, (post.url, response.status_code)


def _caught_up(store: Store) -> bool:
    client = store.client
    if not client.exists("nam:changes"):
        return False
    last = client.xinfo_stream("nam:changes")["last-generated-id"]
    groups = client.xinfo_groups("nam:changes")
    return any(g["last-delivered-id"] == last and not g["pending"] for g in groups)


def celery_crawl(app: Any, store: Store) -> tuple[float, float]:
    """Seconds until the job is done (every page stored) and until publishing caught up."""
    start = time.perf_counter()
    job_id = store.create_job("bench", {})
    app.send_task("nam.discover", kwargs={"job_id": job_id})
    _wait(lambda: (store.get_job(job_id) or {}).get("status") == "done", "the crawl job")
    stored = time.perf_counter() - start
    _wait(lambda: _caught_up(store), "publishing")
    return stored, time.perf_counter() - start


def edit_latency(app: Any, site: SyntheticSite, store: Store) -> float:
    """Seconds from asking for the crawl of an edited post to the `all` feed holding it. The
    newest post is edited, as the feeds hold only the newest NAMFEEDS_FEED_SIZE."""
    newest = store.recent_posts(limit=1)[0].post.url
    title = site.edit(newest).encode()
    start = time.perf_counter()
    app.send_task("nam.crawl_url", args=(newest,))
    feed = lambda: (store.get_feed("all.atom") or _NO_FEED).body  # noqa: E731
    _wait(lambda: title in feed(), "the edit's feed", timeout=60)
    return time.perf_counter() - start


class _NoFeed:
    body = b""


_NO_FEED = _NoFeed()


def _start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen[bytes]:
    pool = ["--pool", "solo"] if concurrency == 1 else ["--concurrency", str(concurrency)]
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker", *pool, "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _worker_cpu(worker: subprocess.Popen[bytes]) -> float:
    """CPU seconds of the worker and its pool processes so far."""
    root = psutil.Process(worker.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, 15)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait()


def measure(size: int, concurrency: int) -> Figures:
    figures = Figures(size)
    site = SyntheticSite(size).start()
    tmp = Path(tempfile.mkdtemp(prefix="nam-bench-crawl-"))
    redis = EmbeddedRedis(tmp / "redis", appendfsync="everysec")
    url = redis.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    env |= site.env(NAMFEEDS_REDIS_URL=url, NAMFEEDS_REVALIDATE_AFTER="0")
    worker = _start_worker(env, concurrency)
    store = Store.from_url(url)
    app = make_celery(Settings(redis_url=url), url)
    try:
        _wait(lambda: bool(app.control.ping(timeout=0.5)), "the worker")
        with httpx.Client(timeout=30) as client:
            # the better of two runs: the first one also loads the parser's registries
            etags: dict[str, str] = {}
            figures.floor_cold = min(
                _timed(lambda: etags.update(plain_loop(site, client))) for _ in range(2)
            )
            figures.floor_again = min(
                _timed(lambda: conditional_loop(site, client, etags)) for _ in range(2)
            )
        cpu = _worker_cpu(worker)
        figures.stored, figures.published = celery_crawl(app, store)
        figures.posts_stored = store.count_posts()
        figures.cpu_per_page_ms = (_worker_cpu(worker) - cpu) / size * 1000
        counts = store.publish_counts()
        figures.rendered = sum(counts.get(k, 0) for k in ("renders_written", "renders_unchanged"))
        figures.rendered += counts.get("renders_superseded", 0)
        figures.feed_files = store.count_feeds()  # stored files, one per format
        site.take_statuses()
        figures.again, _ = celery_crawl(app, store)
        figures.again_sent_whole = site.take_statuses()[("page", 200)]
        figures.edit = edit_latency(app, site, store)
    finally:
        _stop(worker)
        store.close()
        redis.stop()
        site.stop()
    return figures


def report(all_figures: list[Figures], concurrency: int) -> None:
    print(f"worker concurrency {concurrency}; ratio = floor time / our time (goal 0.5x)")
    print(f"{'posts':>5} {'row':44} {'seconds':>8} {'pages/s':>8} {'ratio':>7}")
    for f in all_figures:
        rows = [
            ("floor: httpx GET + parse_post", f.floor_cold, f.floor_cold),
            ("Celery cold crawl, stored", f.stored, f.floor_cold),
            ("Celery cold crawl, published", f.published, f.floor_cold),
            ("floor: conditional GETs (all 304)", f.floor_again, f.floor_again),
            ("Celery unchanged re-crawl", f.again, f.floor_again),
        ]
        for name, seconds, floor in rows:
            pages = f.size / seconds if seconds else 0.0
            print(f"{f.size:>5} {name:44} {seconds:8.2f} {pages:8.1f} {floor / seconds:6.2f}x")
        print(
            f"{f.size:>5} posts stored {f.posts_stored}; "
            f"re-crawl pages sent whole (parsed): {f.again_sent_whole}; an edit in "
            f"its feed {f.edit:.2f} s after its crawl was asked for (goal 2 s); feed files "
            f"rendered {f.rendered} for {f.feed_files} that exist; worker CPU "
            f"{f.cpu_per_page_ms:.1f} ms a page"
        )


def plot(all_figures: list[Figures], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench.crawl: matplotlib is not installed (pip install -e '.[bench]'): no plot")
        return
    sizes = [f.size for f in all_figures]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(sizes, [f.floor_cold for f in all_figures], "o-", label="floor: GET + parse")
    ax.plot(sizes, [f.stored for f in all_figures], "o-", label="Celery cold crawl, stored")
    ax.plot(sizes, [f.published for f in all_figures], "o--", label="Celery cold, published")
    ax.plot(sizes, [f.again for f in all_figures], "s-", label="Celery unchanged re-crawl")
    ax.plot(sizes, [f.floor_again for f in all_figures], "s--", label="floor: conditional GETs")
    ax.set_xlabel("posts on the synthetic site")
    ax.set_ylabel("seconds")
    ax.set_title("Crawl time against site size (2 cores, loopback)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (1: solo)")
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    configure_logging(level=40)  # errors only: logging every page would be measured too
    sizes = [int(s) for s in args.sizes.split(",")]
    all_figures = [measure(size, args.concurrency) for size in sizes]
    report(all_figures, args.concurrency)
    if len(all_figures) > 1:
        plot(all_figures, args.plot)
    if not args.no_profile:
        from bench.crawl_profile import profile_pages

        profile_pages(min(sizes))


if __name__ == "__main__":
    main()
