"""Parser speed against its floor: Lexbor's bare parse of the same bytes, in the same run.

Run: python -m bench.parse [--rounds N] [--profile]

One line per mirror page, then one per site builder: the project's time to parse that
builder's pages (parse_post), the floor (selectolax's LexborHTMLParser on the same bytes),
and the ratio, against the goals (Wix within 1.5x, Tilda within 5x). --profile adds where
the project's time goes, per builder.

Both are timed in this thread's CPU time, so that time the scheduler gives to other
processes on a shared machine is not counted, in alternating rounds, each side keeping its
fastest round: what other work still adds (caches, memory bandwidth) only ever adds, and
alternating exposes both sides to the same.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from services.parsing import parse_post

SITE = Path(__file__).resolve().parent.parent / "tests" / "data" / "site"
GOALS = {"wix": 1.5, "tilda": 5.0}


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    html: bytes
    cms: str


@dataclass(frozen=True)
class Row:
    page: Page
    floor: float  # seconds per call
    project: float


def mirror_pages() -> list[Page]:
    pages = []
    for expected in sorted((SITE / "expected").glob("*.json")):
        url = json.loads(expected.read_text(encoding="utf-8"))["url"]
        host, _, path = url.split("://", 1)[1].partition("/")
        html = (SITE / host / f"{path}.html").read_bytes()
        pages.append(Page(expected.stem, url, html, parse_post(html, url).cms))
    return pages


def _per_call(fn: Callable[[], object], number: int) -> float:
    start = time.thread_time()
    for _ in range(number):
        fn()
    return (time.thread_time() - start) / number


def measure(page: Page, rounds: int) -> Row:
    def floor() -> object:
        return LexborHTMLParser(page.html)

    def project() -> object:
        return parse_post(page.html, page.url)

    project()  # warm caches (resolver, topic regexes, imports): steady state only
    # Short rounds (about 5 ms) and many of them: more chances of one undisturbed round.
    number = max(3, int(0.005 / max(_per_call(project, 3), 1e-6)))
    floors, projects = [], []
    for _ in range(rounds):
        floors.append(_per_call(floor, number))
        projects.append(_per_call(project, number))
    return Row(page, min(floors), min(projects))


def profile(pages: list[Page], *, calls: int = 200, top: int = 15) -> str:
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    for _ in range(calls):
        for page in pages:
            parse_post(page.html, page.url)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    rows = [measure(page, args.rounds) for page in mirror_pages()]
    print(f"{'page':52} {'bytes':>8} {'lexbor ms':>10} {'project ms':>11} {'ratio':>7}")
    for row in rows:
        print(
            f"{row.page.name:52} {len(row.page.html):>8} {row.floor * 1e3:>10.3f} "
            f"{row.project * 1e3:>11.3f} {row.project / row.floor:>6.2f}x"
        )
    print()
    for cms, goal in GOALS.items():
        mine = [r for r in rows if r.page.cms == cms]
        if not mine:
            continue
        floor, project = sum(r.floor for r in mine), sum(r.project for r in mine)
        worst = max(r.project / r.floor for r in mine)
        verdict = "met" if project / floor <= goal else "missed"
        print(
            f"{cms}: {len(mine)} pages, project {project * 1e3:.3f} ms, lexbor floor "
            f"{floor * 1e3:.3f} ms, ratio {project / floor:.2f}x (worst page {worst:.2f}x); "
            f"goal <= {goal}x {verdict}"
        )
        if args.profile:
            print(profile([r.page for r in mine]))
    return rows


if __name__ == "__main__":
    main()
