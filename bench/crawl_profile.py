"""Where a page's time goes inside a worker: the task's body, profiled in this process.

Run: python -m bench.crawl_profile [--size 250]

The same code a `nam.crawl_url` task runs (services.crawl.crawl_url with the worker's
Deps), then one publish run as workers._publishing does it, over a synthetic site, under
cProfile. Each step's share is its cumulative time: fetching (httpx and the host gate),
parsing (parse_post, with people and topics), storing (the upsert), publishing (rendering
the touched feeds once). What the Celery worker spends beyond this (broker round trips,
prefork hand-off) is its CPU per page in bench.crawl minus the total here.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.site import SyntheticSite
from services.crawl import build_deps, crawl_url
from services.embedded_redis import EmbeddedRedis
from services.logs import configure_logging
from services.settings import Settings
from workers._publishing import publish_once

# (label, file and function name as cProfile sees them)
STEPS = (
    ("fetch (Fetcher.get)", "services/fetch/", "get"),
    ("parse (parse_post)", "services/parsing/__init__.py", "parse_post"),
    ("store (upsert_post)", "services/storage/", "upsert_post"),
    ("publish (one run)", "workers/_publishing.py", "publish_once"),
)


def _cumulative(stats: pstats.Stats, path_part: str, name: str) -> float:
    table = stats.stats  # type: ignore[attr-defined]
    return sum(
        entry[3]
        for (file, _line, function), entry in table.items()
        if function == name and path_part in file
    )


def profile_pages(size: int) -> None:
    site = SyntheticSite(size).start()
    tmp = Path(tempfile.mkdtemp(prefix="nam-bench-profile-"))
    redis = EmbeddedRedis(tmp / "redis", appendfsync="everysec")
    url = redis.start()
    settings = Settings(
        source_urls=site.origins, origin_map=site.origin_map, crawl_delay=0.0, max_retries=0
    )
    deps = build_deps(replace(settings, revalidate_after=0), url)
    profiler = cProfile.Profile()
    try:
        start = time.perf_counter()
        profiler.enable()
        for post in site.posts:
            crawl_url(post.url, deps=deps)
        publish_once(deps.store, deps.settings)
        profiler.disable()
        total = time.perf_counter() - start
    finally:
        deps.fetcher.close()
        deps.store.close()
        redis.stop()
        site.stop()
    stats = pstats.Stats(profiler)
    print(
        f"\nprofile: {size} pages crawled and published in process, {total:.2f} s "
        f"({total / size * 1000:.1f} ms a page, profiler overhead included)"
    )
    for label, path_part, name in STEPS:
        seconds = _cumulative(stats, path_part, name)
        per_page = seconds / size * 1000
        print(f"  {label:28} {seconds:7.2f} s {seconds / total:6.1%} {per_page:6.1f} ms/page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=250)
    args = parser.parse_args()
    configure_logging(level=40)
    profile_pages(args.size)


if __name__ == "__main__":
    main()
