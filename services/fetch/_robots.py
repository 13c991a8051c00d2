"""robots.txt (RFC 9309): each origin's rules, fetched once and cached, and what they allow.

No network of its own: the Fetcher hands in how to download a robots.txt, so the request
goes through the same origin checks, host turns and retries as any other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from protego import Protego

from services.errors import FetchError
from services.fetch._urls import origin_of

log = structlog.get_logger(__name__)

# RFC 9309 section 2.5: crawlers must parse at least the first 500 KiB of robots.txt.
ROBOTS_MAX_BYTES = 500 * 1024


@dataclass(frozen=True)
class Robots:
    """One origin's robots.txt verdict. `rules` is None when the file could not be used and
    the origin is wholly allowed (4xx) or wholly disallowed (5xx, unreachable); `failure`
    then says why it could not be read ("HTTP 503", "name did not resolve (host)")."""

    rules: Protego | None
    allow_all: bool
    expires: float
    sitemaps: tuple[str, ...] = ()
    failure: str | None = None

    def allows(self, url: str, agent: str) -> bool:
        if self.rules is None:
            return self.allow_all
        return bool(self.rules.can_fetch(url, agent))


class RobotsCache:
    """Thread-safe: one fetch per origin at a time, the others wait for its verdict.

    `download(url)` returns the body (at most ROBOTS_MAX_BYTES) or raises a FetchError;
    `real(url)` maps a Sitemap: line naming a mapped address back to the real origin."""

    def __init__(
        self,
        download: Callable[[str], bytes],
        real: Callable[[str], str],
        *,
        ttl: float,
        error_ttl: float,
    ) -> None:
        self._download = download
        self._real = real
        self._ttl = ttl
        self._error_ttl = error_ttl
        self._robots: dict[str, Robots] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def for_url(self, url: str) -> Robots:
        origin = origin_of(url)
        with self._guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            cached = self._robots.get(origin)
            if cached is None or cached.expires <= time.monotonic():
                cached = self._robots[origin] = self._fetch(origin)
            return cached

    def _fetch(self, origin: str) -> Robots:
        """RFC 9309 section 2.3.1: 4xx means no rules; 5xx or unreachable means disallow
        all, remembered for a shorter time than a successful fetch so the origin recovers.
        A 429 is taken as unreachable, not as a 4xx: the server did not answer the question
        but asked us to slow down (Google's crawler reads it the same way)."""
        url = origin + "/robots.txt"
        now = time.monotonic()
        try:
            body = self._download(url)
        except FetchError as exc:
            status = exc.status
            if status is not None and 400 <= status < 500 and status != 429:
                log.info("robots.txt unavailable, allowing all", url=url, status=status)
                return Robots(None, True, now + self._ttl)
            log.warning("robots.txt unreachable, disallowing all", url=url, error=exc.reason)
            return Robots(None, False, now + self._error_ttl, failure=exc.reason)
        rules = Protego.parse(body.decode("utf-8", errors="replace"))
        sitemaps = tuple(self._real(s) for s in rules.sitemaps)
        return Robots(rules, True, now + self._ttl, sitemaps)


def product_token(user_agent: str) -> str:
    """RFC 9309 section 2.2.1: robots.txt groups match the product token, e.g. nam-feeds."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


__all__ = ["ROBOTS_MAX_BYTES", "Robots", "RobotsCache", "product_token"]
