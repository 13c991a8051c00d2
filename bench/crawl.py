"""Crawl throughput: the full pipeline through Celery against a plain loop, same pages, same run.

Run: python -m bench.crawl [--rounds N] [--concurrency N]

Starts the mirror (the test suite's server, on 127.0.0.1), a private Redis (AOF everysec, as
deployed) and one `nam-feeds worker` subprocess, then measures
- the floor: a plain loop of httpx GET + parse_post over the post pages discovery finds;
- a full crawl through Celery: nam.discover, then one nam.crawl_url per page, until the job
  record says every page is done (data flushed before each round, so every page is new);
- the re-crawl: the same through Celery with everything stored, so each page is a 304;
- discovery alone (sitemaps and feeds; the Celery and in-process crawls include it);
- for reference, `nam-feeds crawl`'s in-process loop (crawl_all), first and re-crawl.
Pages per second count every page discovery lists (posts and the sitemap's one 404).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from services.crawl import crawl_all, open_deps, plan_crawl
from services.embedded_redis import EmbeddedRedis
from services.logs import configure_logging
from services.parsing import parse_post
from services.settings import Settings
from services.storage import Store
from tests.fixtures.site import SiteServer
from workers.app import make_celery

Timer = Callable[[], float]


def _median_time(fn: Callable[[], object], rounds: int, before: Callable[[], object]) -> float:
    samples = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _plain_loop(site: SiteServer, client: httpx.Client, urls: list[str]) -> Callable[[], None]:
    """What a crawler without any of the machinery does: GET, parse, nothing stored. One
    kept-alive client, as the Fetcher has, so connection setup is not what is compared."""
    wire = site.origin_map

    def run() -> None:
        for url in urls:
            origin = "/".join(url.split("/")[:3])
            response = client.get(wire[origin] + url[len(origin) :])
            if response.status_code == 200:
                parse_post(response.content, url)

    return run


def _through_celery(app: Any, store: Store) -> Callable[[], None]:
    def run() -> None:
        job_id = store.create_job("bench", {})
        app.send_task("nam.discover", kwargs={"job_id": job_id})
        while (store.get_job(job_id) or {}).get("status") != "done":
            time.sleep(0.002)

    return run


def _start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen[bytes]:
    pool = ["--pool", "solo"] if concurrency == 1 else ["--concurrency", str(concurrency)]
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker", *pool, "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--concurrency", type=int, default=1, help="worker processes (1: solo)")
    args = parser.parse_args()
    configure_logging(level=40)  # errors only: logging every page would be measured too

    site = SiteServer()
    site.start()
    tmp = Path(tempfile.mkdtemp(prefix="nam-bench-"))
    redis = EmbeddedRedis(tmp / "redis", appendfsync="everysec")
    url = redis.start()
    # revalidate_after=0: the re-crawl sends a conditional request for every page, the cost
    # this measures; by default pages whose sitemap lastmod is unchanged are not requested.
    settings = Settings(
        source_urls=site.origins, origin_map=site.origin_map, crawl_delay=0.0, revalidate_after=0
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    worker_env = site.env(NAMFEEDS_REDIS_URL=url, NAMFEEDS_REVALIDATE_AFTER="0")
    worker = _start_worker(env | worker_env, args.concurrency)
    store = Store.from_url(url)
    try:
        _run(site, settings, url, store, args.rounds, args.concurrency)
    finally:
        _stop(worker)
        store.close()
        redis.stop()
        site.stop()


def _run(
    site: SiteServer, settings: Settings, url: str, store: Store, rounds: int, concurrency: int
) -> None:
    app = make_celery(settings, url)
    while not app.control.ping(timeout=0.5):
        pass
    with open_deps(settings, url) as deps, httpx.Client(timeout=10) as client:
        pages = [due.url for due in plan_crawl(deps, force=True).due]
        flush: Callable[[], object] = lambda: store.client.flushdb()  # noqa: E731
        nothing: Callable[[], object] = lambda: None  # noqa: E731
        floor = _median_time(_plain_loop(site, client, pages), rounds, nothing)
        discovery = _median_time(lambda: plan_crawl(deps), rounds, nothing)
        celery_first = _median_time(_through_celery(app, store), rounds, flush)
        celery_again = _median_time(_through_celery(app, store), rounds, nothing)
        local_first = _median_time(lambda: crawl_all(deps), rounds, flush)
        local_again = _median_time(lambda: crawl_all(deps), rounds, nothing)
    n = len(pages)
    print(
        f"{n} pages (5 posts, 1 listed page missing), median of {rounds} rounds, "
        f"worker concurrency {concurrency}"
    )
    print(f"{'run':44} {'seconds':>8} {'pages/s':>8} {'vs loop':>8}")
    for name, seconds in (
        ("plain loop: httpx GET + parse_post", floor),
        ("discovery alone (12 sitemap/feed requests)", discovery),
        ("full crawl through Celery (discover + tasks)", celery_first),
        ("re-crawl through Celery (all 304)", celery_again),
        ("full crawl in process (nam-feeds crawl)", local_first),
        ("re-crawl in process (all 304)", local_again),
    ):
        print(f"{name:44} {seconds:8.3f} {n / seconds:8.1f} {seconds / floor:7.2f}x")


if __name__ == "__main__":
    main()
