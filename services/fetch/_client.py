"""HTTP for the crawler, and the only module that imports httpx.

Every request is bounded and polite: source origins only (scheme, host and port, on every
redirect hop too; _urls), robots.txt (RFC 9309; _robots), one request at a
time per host with `crawl_delay` between them (_turns), retries with backoff
honouring Retry-After, which holds off the whole host, not only the URL that was told
(_retries), a body limit counted after decompression, and conditional requests
(RFC 9110 section 13; _page).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urljoin, urlsplit

import httpx
import stamina
import structlog

from services.errors import FetchError, PermanentFetchError, TransientFetchError
from services.fetch._page import Page, Validators, page_from_reply
from services.fetch._retries import host_hold_off, retry_after, retry_wait
from services.fetch._robots import ROBOTS_MAX_BYTES, RobotsCache, product_token
from services.fetch._turns import MAX_HOLD_OFF, HostGate, LocalHostGate
from services.fetch._urls import (
    move_origin,
    normalize_source_url,
    normalize_url,
    origin_of,
    source_url,
)
from services.settings import Settings

log = structlog.get_logger(__name__)

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: httpx.Headers
    body: bytes


class Fetcher:
    """A polite HTTP client for the source sites; thread-safe, one per process.

    The keyword arguments tune retries and robots caching; tests make them tiny. Retries
    use `stamina` (exponential backoff with jitter, a hook that returns Retry-After as the
    next wait) around one whole exchange, so each retry goes through the per-host turn and
    crawl delay like any other request.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        backoff_jitter: float = 0.5,
        retry_after_cap: float = 120.0,
        robots_ttl: float = 86400.0,
        robots_error_ttl: float = 600.0,
        total_timeout: float | None = None,
        gate: HostGate | None = None,
    ) -> None:
        self._settings = settings
        self._allowed = settings.allowed_origins
        self._to_wire = {origin_of(k): origin_of(v) for k, v in settings.origin_map.items()}
        self._to_real = {v: k for k, v in self._to_wire.items()}
        self._agent_token = product_token(settings.user_agent)
        self._backoff = (backoff_initial, backoff_max, backoff_jitter)
        self._retry_after_cap = retry_after_cap
        # A server dripping one byte per read timeout must not hold a worker forever.
        self._total_timeout = total_timeout or 5 * settings.fetch_timeout
        self._gate = gate or LocalHostGate(settings.crawl_delay)
        self._robots = RobotsCache(
            self._robots_body, self._real, ttl=robots_ttl, error_ttl=robots_error_ttl
        )
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.fetch_timeout),
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent, "Accept": _ACCEPT},
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
        may help, PermanentFetchError otherwise; a 304 is a Page with `not_modified`."""
        try:
            final_url, reply = self._follow(
                url, validators, limit=self._settings.max_body_bytes, robots=True
            )
        except FetchError as exc:
            log.info("fetch failed", url=url, status=exc.status, error=exc.reason)
            raise
        page = page_from_reply(url, final_url, reply.status, reply.headers, reply.body, validators)
        log.info("fetched", url=url, status=reply.status, bytes=len(reply.body))
        return page

    def sitemaps(self, origin: str) -> tuple[str, ...]:
        """The Sitemap: lines of an origin's robots.txt (fetched once and cached)."""
        return self._robots.for_url(source_url(origin, self._allowed)).sitemaps

    # -- redirects, robots, allowed hosts ------------------------------------------------------
    def _follow(
        self,
        url: str,
        validators: Validators | None,
        *,
        limit: int,
        robots: bool,
        truncate: bool = False,
    ) -> tuple[str, _Reply]:
        current = source_url(url, self._allowed)
        for _ in range(MAX_REDIRECTS + 1):
            if robots and not self._robots.for_url(current).allows(current, self._agent_token):
                raise PermanentFetchError(current, "disallowed by robots.txt")
            reply = self._exchange_retrying(current, validators, limit, truncate)
            if reply.status not in _REDIRECT_STATUSES:
                return current, reply
            current = self._redirect_target(current, reply)
        raise PermanentFetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _redirect_target(self, url: str, reply: _Reply) -> str:
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
        """robots.txt itself is fetched without asking robots.txt, and cut at the RFC 9309
        minimum rather than refused when longer."""
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
        self, url: str, validators: Validators | None, limit: int, truncate: bool
    ) -> _Reply:
        attempts = self._settings.max_retries + 1
        initial, maximum, jitter = self._backoff
        retrying = stamina.retry_context(
            on=self._retry_wait,
            attempts=attempts,
            timeout=None,
            wait_initial=initial,
            wait_max=maximum,
            wait_jitter=jitter,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._exchange(url, validators, limit, truncate, attempt.next_wait)
        except TransientFetchError as exc:
            log.warning("giving up", url=url, status=exc.status, attempts=attempts)
            raise TransientFetchError(
                url,
                f"{exc.reason}, gave up after {attempts} attempts",
                status=exc.status,
                retry_after=exc.retry_after,
            ) from exc
        raise AssertionError("stamina ended without a result or an error")

    def _retry_wait(self, exc: Exception) -> bool | float:
        return retry_wait(exc, self._retry_after_cap)

    def _exchange(
        self, url: str, validators: Validators | None, limit: int, truncate: bool, backoff: float
    ) -> _Reply:
        host = urlsplit(url).hostname or ""
        with self._gate.turn(host):
            try:
                return self._request(url, validators, limit, truncate)
            except TransientFetchError as exc:
                # Still within the turn, so no other request to the host slips in first.
                self._hold_off(host, exc, backoff)
                raise

    def _hold_off(self, host: str, exc: TransientFetchError, backoff: float) -> None:
        """A 429 or 503 holds off every request to the host (_retries says how long)."""
        seconds = host_hold_off(exc, backoff, self._retry_after_cap)
        if seconds > 0:
            log.info("holding off host", host=host, seconds=seconds, status=exc.status)
            self._gate.hold_off(host, seconds)

    def _request(
        self, url: str, validators: Validators | None, limit: int, truncate: bool
    ) -> _Reply:
        headers = validators.headers() if validators else {}
        try:
            with self._client.stream("GET", self._wire(url), headers=headers) as response:
                return self._reply(url, response, limit, truncate)
        except httpx.TimeoutException as exc:
            raise TransientFetchError(url, f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            reason = f"connection failed ({type(exc).__name__}: {exc})"
            raise TransientFetchError(url, reason) from exc
        except httpx.DecodingError as exc:
            raise PermanentFetchError(url, f"undecodable body ({exc})") from exc
        except httpx.InvalidURL as exc:
            raise PermanentFetchError(url, f"invalid URL ({exc})") from exc

    def _reply(self, url: str, response: httpx.Response, limit: int, truncate: bool) -> _Reply:
        status = response.status_code
        if status == 304 or status in _REDIRECT_STATUSES:
            return _Reply(status, response.headers, b"")
        if status == 429 or status >= 500:
            log.info("transient status", url=url, status=status)
            wait = retry_after(response.headers.get("Retry-After"))
            raise TransientFetchError(url, f"HTTP {status}", status=status, retry_after=wait)
        if status >= 400:
            raise PermanentFetchError(url, f"HTTP {status}", status=status)
        if not 200 <= status < 300:
            raise PermanentFetchError(url, f"unexpected HTTP {status}", status=status)
        body = self._read_body(url, response, limit, truncate)
        return _Reply(status, response.headers, body)

    def _read_body(self, url: str, response: httpx.Response, limit: int, truncate: bool) -> bytes:
        """Count decoded bytes (iter_bytes runs the gzip/deflate/br decoders), so a small
        compressed body that inflates past the limit is stopped too. httpx inflates one
        network read (at most 64 KiB) at a time, so a bomb's transient peak stays bounded by
        that read times the codec's ratio, checked right after."""
        encoded = "Content-Encoding" in response.headers
        declared = response.headers.get("Content-Length", "")
        if not truncate and not encoded and declared.isdigit() and int(declared) > limit:
            raise PermanentFetchError(url, f"body of {declared} bytes exceeds {_size(limit)}")
        deadline = time.monotonic() + self._total_timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if size + len(chunk) > limit:
                if truncate:
                    chunks.append(chunk[: limit - size])
                    break
                after = " after decompression" if encoded else ""
                raise PermanentFetchError(url, f"body exceeds {_size(limit)}{after}")
            size += len(chunk)
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TransientFetchError(url, f"body took over {self._total_timeout:g} s")
        return b"".join(chunks)


def _size(limit: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"


__all__ = [
    "MAX_HOLD_OFF",
    "Fetcher",
    "HostGate",
    "LocalHostGate",
    "Page",
    "Validators",
    "normalize_source_url",
]
