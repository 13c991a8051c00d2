"""How discovered pages are queued: in turn from each host, in small batches, each with the
time by which it should have started (its queued mark and its message expire then).

Pure apart from the clock: tasks pass in the settings and timeouts they run with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

# A queued crawl is expected to start within this grace (three visibility timeouts: time for
# a task lost with a killed worker to come back and run) plus its place in the queue times
# the pace of one page (the crawl delay, at least MIN_PACE).
QUEUED_GRACE_TIMEOUTS = 3
MIN_PACE = 0.1  # seconds a page costs a worker when no crawl delay applies
# Pages per crawl task: a task's broker round trip and acknowledgement cost about as much as
# a 304, so pages are sent a few at a time. A batch stays well inside the visibility
# timeout: about BATCH_SECONDS of crawl delays, never more than MAX_BATCH pages.
BATCH_SECONDS = 10.0
MAX_BATCH = 20

T = TypeVar("T")


def alternate_hosts(due: Sequence[Any]) -> list[Any]:
    """The pages in turn from each host (www, tilda, www, ...), keeping each host's order.
    One request at a time per host: worker processes that take consecutive pages of one
    host wait on each other's turn, while pages of two hosts are fetched side by side."""
    return _in_turn(_by_host(due, lambda page: page.url))


def host_batches(items: Sequence[T], size: int, url: Callable[[T], str]) -> list[list[T]]:
    """Batches of at most `size` items of one host each (keeping each host's order), the
    hosts in turn (www, tilda, www, ...): a worker keeps its batch's host between requests
    (Fetcher.keeping_turns), while the next batch, of the other host, goes to another
    worker side by side."""
    return _in_turn([batches(queue, size) for queue in _by_host(items, url)])


def _by_host(items: Sequence[T], url: Callable[[T], str]) -> list[list[T]]:
    """The items of each host, in their order, hosts in the order they first appear."""
    by_host: dict[str, list[T]] = {}
    for item in items:
        by_host.setdefault(urlsplit(url(item)).netloc, []).append(item)
    return list(by_host.values())


def _in_turn(queues: list[list[T]]) -> list[T]:
    """The first of each queue, then the second of each, and so on."""
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


def batch_size(crawl_delay: float) -> int:
    return max(1, min(MAX_BATCH, int(BATCH_SECONDS / max(crawl_delay, MIN_PACE / 2))))


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def deadlines(
    now: datetime, count: int, *, visibility: float, crawl_delay: float
) -> list[datetime]:
    """When each of `count` crawls queued now should have started, in queue order. A page's
    queued mark lives until then, so a lost task blocks its page for minutes, not for
    2 x NAMFEEDS_CRAWL_INTERVAL, while a long queue of live tasks is never queued twice."""
    grace = QUEUED_GRACE_TIMEOUTS * visibility
    pace = max(crawl_delay, MIN_PACE)
    return [now + timedelta(seconds=grace + position * pace) for position in range(count)]


def seconds_until(deadline: datetime, now: datetime) -> int:
    return max(1, int((deadline - now).total_seconds()))
