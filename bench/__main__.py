"""`python -m bench`: every benchmark module, one after another, each in its own process (so
one's servers, caches and imports cannot colour the next), with the machine line first.

    python -m bench                 all of them
    python -m bench feeds parse     only these
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

from bench import machine

MODULES = ("feeds", "parse", "crawl", "health")


def main(argv: list[str]) -> int:
    names = argv or list(MODULES)
    unknown = [name for name in names if name not in MODULES]
    if unknown:
        print(f"bench: unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")
        return 2
    print(machine())
    failed = []
    for name in names:
        if importlib.util.find_spec(f"bench.{name}") is None:
            print(f"\n== bench.{name}: not present, skipped")
            continue
        print(f"\n== python -m bench.{name}", flush=True)
        start = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"])
        print(f"== bench.{name}: exit {code} after {time.monotonic() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    print(f"\n{machine()}")
    if failed:
        print(f"bench: failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
