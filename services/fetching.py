"""HTTP for the crawler, and the only module that imports httpx.

Every request is bounded and polite: source origins only (scheme, host and port, on every
redirect hop too), robots.txt (RFC 9309), one request at a time per host with `crawl_delay`
between them, retries with backoff honouring Retry-After (which holds off the whole host, not
only the URL that was told), a body limit counted after decompression, and conditional
requests (RFC 9110 section 13).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import stamina
import structlog
from protego import Protego

from services.errors import FetchError, PermanentFetchError, TransientFetchError
from services.settings import Settings, format_origin, origin_key

log = structlog.get_logger(__name__)

MAX_REDIRECTS = 5
# RFC 9309 section 2.5: crawlers must parse at least the first 500 KiB of robots.txt.
ROBOTS_MAX_BYTES = 500 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# The longest a host is left alone on its own say (Retry-After): a hostile or broken header
# must not stop the crawl of a host for days.
MAX_HOLD_OFF = 600.0
# RFC 9110 sections 15.5.30 and 15.6.4: the server as a whole is overloaded or rate-limiting.
_HOST_BUSY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Validators:
    """What the last fetch of a URL said about its version, sent back to ask "changed?"."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        # RFC 9110 section 13.1.3: send Last-Modified back exactly as received.
        found: dict[str, str] = {}
        if self.etag:
            found["If-None-Match"] = self.etag
        if self.last_modified:
            found["If-Modified-Since"] = self.last_modified
        return found


@dataclass(frozen=True)
class Page:
    """One fetched page. `url` is the URL asked for and `final_url` the one answered, both
    at the real origin even when the request went to a mapped address."""

    url: str
    final_url: str
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    not_modified: bool = False

    @property
    def validators(self) -> Validators:
        return Validators(etag=self.etag, last_modified=self.last_modified)


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: httpx.Headers
    body: bytes


@dataclass(frozen=True)
class _Robots:
    """One origin's robots.txt verdict. `rules` is None when the file could not be used and
    the origin is wholly allowed (4xx) or wholly disallowed (5xx, unreachable)."""

    rules: Protego | None
    allow_all: bool
    expires: float
    sitemaps: tuple[str, ...] = ()

    def allows(self, url: str, agent: str) -> bool:
        if self.rules is None:
            return self.allow_all
        return bool(self.rules.can_fetch(url, agent))


class HostGate(Protocol):
    """Whose turn it is to ask a host. The local gate serves one process; a shared one
    (services.hostgate) serves every worker that shares a Redis."""

    def turn(self, host: str) -> AbstractContextManager[None]: ...

    def hold_off(self, host: str, seconds: float) -> None:
        """No turn on `host` starts for `seconds` from now (capped); never shortens a wait."""
        ...


@dataclass
class _HostSlot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_end: float = float("-inf")
    not_before: float = float("-inf")  # set by hold_off


class LocalHostGate:
    """One request at a time per host in this process, `delay` after the previous one ended."""

    def __init__(self, delay: float, *, max_hold_off: float = MAX_HOLD_OFF) -> None:
        self._delay = delay
        self._max_hold_off = max_hold_off
        self._slots: dict[str, _HostSlot] = {}
        self._guard = threading.Lock()

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        slot = self._slot(host)
        with slot.lock:
            # Re-checked after each sleep: a hold-off may have come in meanwhile.
            while (wait := self._next_time(slot) - time.monotonic()) > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                slot.last_end = time.monotonic()

    def hold_off(self, host: str, seconds: float) -> None:
        until = time.monotonic() + min(max(seconds, 0.0), self._max_hold_off)
        slot = self._slot(host)
        with self._guard:
            slot.not_before = max(slot.not_before, until)

    def _slot(self, host: str) -> _HostSlot:
        with self._guard:
            return self._slots.setdefault(host, _HostSlot())

    def _next_time(self, slot: _HostSlot) -> float:
        with self._guard:
            return max(slot.last_end + self._delay, slot.not_before)


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
        self._to_wire = {_origin(k): _origin(v) for k, v in settings.origin_map.items()}
        self._to_real = {v: k for k, v in self._to_wire.items()}
        self._agent_token = _product_token(settings.user_agent)
        self._backoff = (backoff_initial, backoff_max, backoff_jitter)
        self._retry_after_cap = retry_after_cap
        self._robots_ttl = robots_ttl
        self._robots_error_ttl = robots_error_ttl
        # A server dripping one byte per read timeout must not hold a worker forever.
        self._total_timeout = total_timeout or 5 * settings.fetch_timeout
        self._gate = gate or LocalHostGate(settings.crawl_delay)
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
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
        page = _page(url, final_url, reply, validators)
        log.info("fetched", url=url, status=reply.status, bytes=len(reply.body))
        return page

    def sitemaps(self, origin: str) -> tuple[str, ...]:
        """The Sitemap: lines of an origin's robots.txt (fetched once and cached)."""
        return self._robots_for(_source_url(origin, self._allowed)).sitemaps

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
        current = _source_url(url, self._allowed)
        for _ in range(MAX_REDIRECTS + 1):
            if robots and not self._robots_for(current).allows(current, self._agent_token):
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
            target = _normalize(self._real(urljoin(self._wire(url), location.strip())))
        except (PermanentFetchError, ValueError):
            raise PermanentFetchError(url, f"redirect to an invalid URL {location!r}") from None
        try:
            return _source_url(target, self._allowed)
        except PermanentFetchError as exc:
            reason = f"redirect to {target} leaves the source origins ({exc.reason})"
            raise PermanentFetchError(url, reason) from None

    def _robots_for(self, url: str) -> _Robots:
        origin = _origin(url)
        with self._guard:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:
            cached = self._robots.get(origin)
            if cached is None or cached.expires <= time.monotonic():
                cached = self._robots[origin] = self._fetch_robots(origin)
            return cached

    def _fetch_robots(self, origin: str) -> _Robots:
        """RFC 9309 section 2.3.1: 4xx means no rules; 5xx or unreachable means disallow
        all, remembered for a shorter time than a successful fetch so the origin recovers."""
        url = origin + "/robots.txt"
        now = time.monotonic()
        try:
            _, reply = self._follow(url, None, limit=ROBOTS_MAX_BYTES, robots=False, truncate=True)
        except PermanentFetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                log.info("robots.txt unavailable, allowing all", url=url, status=exc.status)
                return _Robots(None, True, now + self._robots_ttl)
            log.warning("robots.txt unusable, disallowing all", url=url, error=str(exc))
            return _Robots(None, False, now + self._robots_error_ttl)
        except TransientFetchError as exc:
            log.warning("robots.txt unreachable, disallowing all", url=url, error=str(exc))
            return _Robots(None, False, now + self._robots_error_ttl)
        rules = Protego.parse(reply.body.decode("utf-8", errors="replace"))
        sitemaps = tuple(self._real(s) for s in rules.sitemaps)
        return _Robots(rules, True, now + self._robots_ttl, sitemaps)

    # -- origin map ----------------------------------------------------------------------------
    def _wire(self, url: str) -> str:
        """Where a real-origin URL is sent. The Host header follows the mapped address, so
        any plain local server can stand in for the site; redirects come back through
        `_real`, whether they name the mapped address or the real origin."""
        return _moved(url, self._to_wire)

    def _real(self, url: str) -> str:
        return _moved(url, self._to_real)

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
        """Backoff hook: retry only transient errors, waiting what Retry-After asks."""
        if not isinstance(exc, TransientFetchError):
            return False
        if exc.retry_after is None:
            return True
        return min(exc.retry_after, self._retry_after_cap)

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
        """429 and 503 speak for the whole host (RFC 9110 section 10.2.3: Retry-After is how
        long the service expects to be unavailable), so every request to it waits, not only
        the retry of this URL: Retry-After when given, else the backoff before that retry. A
        500 or a timeout may be one broken page, and holds nothing."""
        if exc.status not in _HOST_BUSY_STATUSES:
            return
        seconds = backoff if exc.retry_after is None else exc.retry_after
        seconds = min(seconds, self._retry_after_cap)
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
            retry_after = _retry_after(response.headers.get("Retry-After"))
            raise TransientFetchError(url, f"HTTP {status}", status=status, retry_after=retry_after)
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


def _page(url: str, final_url: str, reply: _Reply, validators: Validators | None) -> Page:
    headers = reply.headers
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    if reply.status == 304 and validators is not None:
        # RFC 9110 section 15.4.5: a 304 may omit validators that have not changed.
        etag, modified = etag or validators.etag, modified or validators.last_modified
    return Page(
        url=url,
        final_url=final_url,
        status=reply.status,
        body=reply.body,
        etag=etag,
        last_modified=modified,
        content_type=headers.get("Content-Type"),
        not_modified=reply.status == 304,
    )


def normalize_source_url(url: str, settings: Settings) -> str:
    """`url` as the crawler names it (lower-case scheme and host, no default port, no
    fragment), if it is an http(s) URL on one of `settings.source_urls`: same scheme, host
    and port, no user name or password. Otherwise PermanentFetchError, whose `reason` says
    why in words fit for an API client. Pure: no network."""
    return _source_url(url, settings.allowed_origins)


def _source_url(url: str, allowed: frozenset[tuple[str, str, int]]) -> str:
    normalized = _normalize(url)
    key = origin_key(normalized)
    if key not in allowed:
        host = key[1]
        if host not in {h for _, h, _ in allowed}:
            raise PermanentFetchError(url, f"host {host} is not an allowed source host")
        sources = " ".join(sorted(format_origin(*k) for k in allowed))
        origin = format_origin(*key)
        raise PermanentFetchError(url, f"{origin} is not a source origin (those are {sources})")
    return normalized


def _normalize(url: str) -> str:
    """Lower-case scheme and host, drop default ports and fragments; reject anything that is
    not an absolute http(s) URL with a host, a valid port and no credentials. The URL is
    rebuilt from the parsed parts, so what is checked is what is sent."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = origin_key(url)
    except ValueError as exc:
        raise PermanentFetchError(url, f"invalid URL ({exc})") from None
    if parts.username is not None or parts.password is not None:
        raise PermanentFetchError(url, "invalid URL: credentials are not allowed")
    if port == 0:
        raise PermanentFetchError(url, "invalid URL: port 0")
    origin = format_origin(scheme, host, port)
    return urlunsplit(urlsplit(origin)._replace(path=parts.path or "/", query=parts.query))


def _origin(url: str) -> str:
    """scheme://host[:port] as `_normalize` writes it; origin-map keys are written the same
    way, so a lookup never misses on case or a spelled-out default port."""
    try:
        return format_origin(*origin_key(url))
    except ValueError:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower()


def _moved(url: str, table: dict[str, str]) -> str:
    """`url` with its origin swapped for the one `table` maps it to, if any. A URL with
    credentials or a bad port is left as it is, for `_normalize` to refuse."""
    try:
        parts = urlsplit(url)
        target = table.get(format_origin(*origin_key(url)))
    except ValueError:
        return url
    if target is None or parts.username is not None or parts.password is not None:
        return url
    moved = urlsplit(target)
    return urlunsplit(parts._replace(scheme=moved.scheme, netloc=moved.netloc))


def _retry_after(value: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _product_token(user_agent: str) -> str:
    """RFC 9309 section 2.2.1: robots.txt groups match the product token, e.g. nam-feeds."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


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
