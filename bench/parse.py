"""Parser speed against its floor: the time Lexbor takes just to parse the same bytes.

Run: python -m bench.parse   (prints one line per mirror page and the ratio; goal <= 2x on Wix)
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from services.parsing import parse_post

SITE = Path(__file__).resolve().parent.parent / "tests" / "data" / "site"


def _best_of(fn: Callable[[], object], *, rounds: int = 7, number: int = 50) -> float:
    """Median of `rounds` averages, in seconds per call: steadier than a single mean on a
    shared machine, and both sides are measured the same way in the same run."""
    fn()  # warm caches (resolver, topic regexes, imports) so only steady state counts
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def main() -> None:
    print(f"{'page':58} {'bytes':>8} {'lexbor ms':>10} {'parse ms':>9} {'ratio':>6}")
    ratios: dict[str, list[float]] = {"wix": [], "tilda": []}
    for expected in sorted((SITE / "expected").glob("*.json")):
        url = json.loads(expected.read_text(encoding="utf-8"))["url"]
        host, _, path = url.split("://", 1)[1].partition("/")
        html = (SITE / host / f"{path}.html").read_bytes()
        floor = _best_of(lambda html=html: LexborHTMLParser(html))  # type: ignore[misc]
        full = _best_of(lambda html=html, url=url: parse_post(html, url))  # type: ignore[misc]
        cms = parse_post(html, url).cms
        ratios[cms].append(full / floor)
        print(
            f"{expected.stem:58} {len(html):>8} {floor * 1e3:>10.3f} {full * 1e3:>9.3f} "
            f"{full / floor:>5.2f}x"
        )
    for cms, values in ratios.items():
        if values:
            print(f"{cms}: worst {max(values):.2f}x, median {statistics.median(values):.2f}x")


if __name__ == "__main__":
    main()
