"""HTTP for the crawler, and the only module that imports httpx.

Every request is bounded and polite: source origins only (scheme, host and port, on every
redirect hop too; _urls), robots.txt (RFC 9309; _robots), one request at a time per host
with `crawl_delay` between them (_turns), one deadline per exchange and a body limit counted
while each Content-Encoding layer is undone (_wire), retries bounded in count and in time,
and Retry-After honoured for the whole host, as a deferral when it is long (_retries).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import Self
from urllib.parse import urljoin, urlsplit

import httpx
import stamina
import stamina.instrumentation
import structlog

from services.errors import PermanentFetchError, TransientFetchError
from services.fetch._causes import DEFERRED, ROBOTS_UNREACHABLE
from services.fetch._deadline import deadline_transport
from services.fetch._page import Page, Validators, page_from_reply
from services.fetch._retries import CrawlBudget, UrlRetries, given_up, host_hold_off, log_retry
from services.fetch._robots import ROBOTS_MAX_BYTES, RobotsCache, product_token
from services.fetch._turns import MAX_HOLD_OFF, HostGate, HostHeldOff, LocalHostGate
from services.fetch._urls import (
    move_origin,
    normalize_source_url,
    normalize_url,
    origin_of,
    source_url,
)
from services.fetch._wire import ACCEPT_ENCODING, REDIRECT_STATUSES, Reply, exchange
from services.settings import Settings

log = structlog.get_logger(__name__)

MAX_REDIRECTS = 5
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Fetcher:
    """A polite HTTP client for the source sites; thread-safe, one per process.

    The keyword arguments tune retries and robots caching; tests make them tiny. Retries
    use `stamina` (exponential backoff with jitter) around one whole exchange, so each retry
    goes through the per-host turn and crawl delay like any other request; _retries decides
    within the URL's and the crawl's budget of seconds whether another try is worth it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        backoff_jitter: float = 0.5,
        robots_ttl: float = 86400.0,
        robots_error_ttl: float = 600.0,
        gate: HostGate | None = None,
    ) -> None:
        self._settings = settings
        self._allowed = settings.allowed_origins
        self._to_wire = {origin_of(k): origin_of(v) for k, v in settings.origin_map.items()}
        self._to_real = {v: k for k, v in self._to_wire.items()}
        self._agent_token = product_token(settings.user_agent)
        self._backoff = (backoff_initial, backoff_max, backoff_jitter)
        self._gate = gate or LocalHostGate(settings.crawl_delay)
        # A host's turn further off than this is a deferral, not a sleep; the crawl delay
        # itself is always waited for, even with no retry budget at all.
        self._defer_after = max(settings.retry_budget, 2 * settings.crawl_delay + 1.0)
        self._crawl_budget = CrawlBudget(
            settings.crawl_retry_budget, window=max(settings.crawl_interval, 60)
        )
        self._robots = RobotsCache(
            self._robots_body, self._real, ttl=robots_ttl, error_ttl=robots_error_ttl
        )
        # stamina's own hook logs every retry as a warning; the cause is told once, by the
        # caller, when the fetch finally fails, so a retry is an info line of ours.
        stamina.instrumentation.set_on_retry_hooks([log_retry])
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.fetch_timeout),
            follow_redirects=False,
            headers={
                "User-Agent": settings.user_agent,
                "Accept": _ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            transport=deadline_transport(),
            # Proxy variables would send mirror requests for 127.0.0.1 astray.
            trust_env=False,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -- API -----------------------------------------------------------------------------------
    def get(self, url: str, validators: Validators | None = None) -> Page:
        """Fetch a page (HTML or XML alike). Raises TransientFetchError when retrying later
        may help (its `retry_after` says when, if the server did), PermanentFetchError
        otherwise; a 304 is a Page with `not_modified`. The caller logs the failure."""
        final_url, reply = self._follow(
            url, validators, limit=self._settings.max_body_bytes, robots=True
        )
        page = page_from_reply(url, final_url, reply.status, reply.headers, reply.body, validators)
        log.info("fetched", url=url, status=reply.status, bytes=len(reply.body))
        return page

    def sitemaps(self, origin: str) -> tuple[str, ...]:
        """The Sitemap: lines of an origin's robots.txt (fetched once and cached)."""
        return self._robots.for_url(source_url(origin, self._allowed)).sitemaps

    def keeping_turns(self) -> AbstractContextManager[None]:
        """Within the block, a host's turn is kept between this thread's requests to it (the
        crawl delay is still waited for): for a batch of one host's pages."""
        return self._gate.keeping()

    def let_go(self) -> None:
        """Release the hosts kept so far (keeping_turns goes on): before a long piece of work
        between requests, so that other workers may ask those hosts meanwhile."""
        self._gate.let_go()

    def new_crawl(self) -> None:
        """A crawl starts: its retries get the whole `crawl_retry_budget` again."""
        self._crawl_budget.renew()

    # -- redirects, robots, allowed hosts ------------------------------------------------------
    def _follow(
        self,
        url: str,
        validators: Validators | None,
        *,
        limit: int,
        robots: bool,
        truncate: bool = False,
    ) -> tuple[str, Reply]:
        current = source_url(url, self._allowed)
        for _ in range(MAX_REDIRECTS + 1):
            if robots:
                self._check_robots(current)
            reply = self._exchange_retrying(current, validators, limit, truncate, retry=robots)
            if reply.status not in REDIRECT_STATUSES:
                return current, reply
            current = self._redirect_target(current, reply)
        raise PermanentFetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _check_robots(self, url: str) -> None:
        """A robots.txt that could not be read disallows everything for a while (RFC 9309
        section 2.3.1.4), and says so: that is not the site disallowing the page."""
        verdict = self._robots.for_url(url)
        if verdict.failure is not None:
            raise TransientFetchError(url, f"{ROBOTS_UNREACHABLE} ({verdict.failure})")
        if not verdict.allows(url, self._agent_token):
            raise PermanentFetchError(url, "disallowed by robots.txt")

    def _redirect_target(self, url: str, reply: Reply) -> str:
        """Each hop is checked like the first request: a redirect to another port or scheme of
        a source host (http://host:22/, a downgrade to http) is refused, which also keeps it
        from slipping past the origin map to the real network."""
        location = reply.headers.get("Location")
        if not location:
            raise PermanentFetchError(url, f"HTTP {reply.status} without a Location")
        # A relative Location resolves against the address we really asked, which may be the
        # mapped one; translating back gives the real origin either way.
        try:
            target = normalize_url(self._real(urljoin(self._wire(url), location.strip())))
        except (PermanentFetchError, ValueError):
            raise PermanentFetchError(url, f"redirect to an invalid URL {location!r}") from None
        try:
            return source_url(target, self._allowed)
        except PermanentFetchError as exc:
            reason = f"redirect to {target} leaves the source origins ({exc.reason})"
            raise PermanentFetchError(url, reason) from None

    def _robots_body(self, url: str) -> bytes:
        """robots.txt itself is fetched without asking robots.txt, once (a failure is cached
        for a while instead of retried), and cut at the RFC 9309 minimum when longer."""
        _, reply = self._follow(url, None, limit=ROBOTS_MAX_BYTES, robots=False, truncate=True)
        return reply.body

    # -- origin map ----------------------------------------------------------------------------
    def _wire(self, url: str) -> str:
        """Where a real-origin URL is sent. The Host header follows the mapped address, so
        any plain local server can stand in for the site; redirects come back through
        `_real`, whether they name the mapped address or the real origin."""
        return move_origin(url, self._to_wire)

    def _real(self, url: str) -> str:
        return move_origin(url, self._to_real)

    # -- one exchange, retried -----------------------------------------------------------------
    def _exchange_retrying(
        self, url: str, validators: Validators | None, limit: int, truncate: bool, retry: bool
    ) -> Reply:
        attempts = self._settings.max_retries + 1 if retry else 1
        initial, maximum, jitter = self._backoff
        budget = UrlRetries(
            self._settings.retry_budget,
            self._crawl_budget,
            deadline=self._settings.fetch_deadline,
            backoff=(initial, maximum),
        )
        retrying = stamina.retry_context(
            on=budget.decide,
            attempts=attempts,
            timeout=None,
            wait_initial=initial,
            wait_max=maximum,
            wait_jitter=jitter,
        )
        tried = 0
        try:
            for attempt in retrying:
                with attempt:
                    tried += 1
                    return self._exchange(url, validators, limit, truncate, attempt.next_wait)
        except TransientFetchError as exc:
            raise given_up(exc, tried, budget.out_of_budget) from exc
        finally:
            budget.finish()
        raise AssertionError("stamina ended without a result or an error")

    def _exchange(
        self, url: str, validators: Validators | None, limit: int, truncate: bool, backoff: float
    ) -> Reply:
        host = urlsplit(url).hostname or ""
        headers = validators.headers() if validators else {}
        try:
            turn = self._gate.turn(host, max_wait=self._defer_after)
            with turn:
                try:
                    return exchange(
                        self._client,
                        url,
                        self._wire(url),
                        headers,
                        limit=limit,
                        truncate=truncate,
                        deadline=self._settings.fetch_deadline,
                    )
                except TransientFetchError as exc:
                    # Still within the turn, so no other request to the host slips in first.
                    self._hold_off(host, exc, backoff)
                    raise
        except HostHeldOff as held:
            reason = f"{DEFERRED}: {host} asked for a pause, {held.seconds:.0f} s left"
            raise TransientFetchError(url, reason, retry_after=held.seconds) from None

    def _hold_off(self, host: str, exc: TransientFetchError, backoff: float) -> None:
        """A 429 or 503 holds off every request to the host (_retries says how long)."""
        seconds = host_hold_off(exc, backoff, MAX_HOLD_OFF)
        if seconds > 0:
            log.info("holding off host", host=host, seconds=seconds, status=exc.status)
            self._gate.hold_off(host, seconds)


__all__ = [
    "MAX_HOLD_OFF",
    "Fetcher",
    "HostGate",
    "LocalHostGate",
    "Page",
    "Validators",
    "normalize_source_url",
]
