"""Settings: one frozen object built from NAMFEEDS_* environment variables.

Entry points call `Settings.from_env()` once and pass the object down; no other module reads
the environment. A bad value raises ConfigError naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self, TypeVar
from urllib.parse import SplitResult, parse_qsl, urlsplit

from services.errors import ConfigError

DEFAULT_SOURCE_URLS = ("https://www.belarus-nau.org", "https://belarus-nau.org")
DEFAULT_USER_AGENT = "nam-feeds/0.1 (feeds of NAM-media posts; polite crawler)"
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIS_DATABASES = 16  # Redis's default `databases`: numbers 0..15

T = TypeVar("T")
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Settings:
    redis_url: str | None = None  # None: start an embedded Redis under data_dir
    source_urls: tuple[str, ...] = DEFAULT_SOURCE_URLS
    origin_map: Mapping[str, str] = field(default_factory=dict)
    public_url: str = "http://127.0.0.1:8080"
    admin_token: str | None = None
    crawl_interval: int = 900
    crawl_delay: float = 1.0
    feed_size: int = 50
    data_dir: Path = Path("data")
    user_agent: str = DEFAULT_USER_AGENT
    fetch_timeout: float = 10.0
    max_body_bytes: int = 5 * 1024 * 1024
    max_retries: int = 4
    # One exchange (connect, headers and body) ends by this many seconds, however the
    # server drips; retries stop when a URL, or the whole crawl, has spent its budget.
    fetch_deadline: float = 30.0
    retry_budget: float = 60.0
    crawl_retry_budget: float = 600.0
    # A page whose sitemap lastmod is unchanged is still revalidated (a conditional request)
    # once its last fetch is this many seconds old; 0 revalidates on every crawl.
    revalidate_after: int = 86400

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Hosts of the source origins. Fetching checks the finer `allowed_origins`."""
        return frozenset(urlsplit(u).hostname or "" for u in self.source_urls)

    @property
    def allowed_origins(self) -> frozenset[tuple[str, str, int]]:
        """(scheme, host, port) of each source origin, default ports filled in: a URL on an
        allowed host but another scheme or port (http://host:22) is not a source URL."""
        found = set()
        for url in self.source_urls:
            try:
                found.add(origin_key(url))
            except ValueError:
                continue  # from_env rejects these; a hand-built Settings just allows less
        return frozenset(found)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        defaults = cls()

        def get(name: str, parse: Callable[[str, str], T], default: T) -> T:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            return parse(name, raw.strip())

        fetch_timeout = get("NAMFEEDS_FETCH_TIMEOUT", _float_between(0.1, 300.0), 10.0)
        settings = cls(
            redis_url=get("NAMFEEDS_REDIS_URL", _redis_url, None),
            source_urls=get("NAMFEEDS_SOURCE_URLS", _origins, defaults.source_urls),
            origin_map=get("NAMFEEDS_ORIGIN_MAP", _origin_map, {}),
            public_url=get("NAMFEEDS_PUBLIC_URL", _base_url, defaults.public_url),
            admin_token=get("NAMFEEDS_ADMIN_TOKEN", _token, None),
            crawl_interval=get("NAMFEEDS_CRAWL_INTERVAL", _int_between(10, 7 * 86400), 900),
            crawl_delay=get("NAMFEEDS_CRAWL_DELAY", _float_between(0.0, 60.0), 1.0),
            feed_size=get("NAMFEEDS_FEED_SIZE", _int_between(1, 1000), 50),
            data_dir=get("NAMFEEDS_DATA_DIR", _data_dir, defaults.data_dir),
            user_agent=get("NAMFEEDS_USER_AGENT", _user_agent, defaults.user_agent),
            fetch_timeout=fetch_timeout,
            max_body_bytes=get(
                "NAMFEEDS_MAX_BODY_BYTES", _int_between(1024, 1 << 30), defaults.max_body_bytes
            ),
            max_retries=get("NAMFEEDS_MAX_RETRIES", _int_between(0, 20), 4),
            # Unset, three read timeouts: a short timeout means a short exchange too.
            fetch_deadline=get(
                "NAMFEEDS_FETCH_DEADLINE", _float_between(0.1, 3600.0), 3 * fetch_timeout
            ),
            retry_budget=get("NAMFEEDS_RETRY_BUDGET", _float_between(0.0, 86400.0), 60.0),
            crawl_retry_budget=get(
                "NAMFEEDS_CRAWL_RETRY_BUDGET", _float_between(0.0, 86400.0), 600.0
            ),
            revalidate_after=get(
                "NAMFEEDS_REVALIDATE_AFTER", _int_between(0, 30 * 86400), defaults.revalidate_after
            ),
        )
        _check_origin_map(settings)
        return settings


def origin_key(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, lower-cased, default port filled in. Raises
    ValueError for anything else, including an out-of-range port."""
    parts = urlsplit(url.strip())
    scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port  # .port may raise
    if scheme not in DEFAULT_PORTS or not host:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    return scheme, host, DEFAULT_PORTS[scheme] if port is None else port


def _check_origin_map(settings: Settings) -> None:
    """A mapped origin that is not a source origin is never fetched: a typo, so say so."""
    sources = set(settings.source_urls)
    for origin in settings.origin_map:
        if origin not in sources:
            raise ConfigError(
                "NAMFEEDS_ORIGIN_MAP",
                f"{origin} is not one of NAMFEEDS_SOURCE_URLS ({' '.join(settings.source_urls)})",
            )


def _redis_url(name: str, value: str) -> str:
    """redis://[:password@]host[:port][/db], rediss://…, unix:///path[?db=N]. Messages never
    echo the whole URL: it may hold a password."""
    parts = _split(name, value, "the URL")
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(name, "not a redis://, rediss:// or unix:// URL")
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "unix":
        if not parts.path:
            raise ConfigError(name, "a unix:// URL needs the socket's path")
    else:
        _redis_db(name, parts.path.strip("/"))
    _redis_db(name, query.get("db", ""))
    return value


def _redis_db(name: str, db: str) -> None:
    if db == "":
        return
    if not (db.isascii() and db.isdigit()) or int(db) >= REDIS_DATABASES:
        raise ConfigError(name, f"database {db!r} is not a number from 0 to {REDIS_DATABASES - 1}")


def _split(name: str, value: str, what: str) -> SplitResult:
    """urlsplit, with the port checked (it is parsed lazily and raises ValueError)."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(name, f"{what} {_shown(value)} is invalid ({exc})") from None
    if port == 0:
        raise ConfigError(name, f"{what} {_shown(value)} has port 0")
    return parts


def _shown(value: str) -> str:
    """The value as a message may show it: without a password."""
    parts = urlsplit(value)
    if parts.password is None:
        return repr(value)
    return repr(value.replace(f":{parts.password}@", ":***@", 1))


def _origin(name: str, value: str) -> str:
    """scheme://host[:port], lower-cased, the default port left out, so that the same origin
    written two ways is one key."""
    parts = _split(name, value, "origin")
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(name, f"{value!r} is not an http(s) origin such as https://host")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(name, f"origin {_shown(value)} must not carry a user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(name, f"{value!r} must be an origin, with no path or query")
    scheme, host, port = origin_key(value)
    return format_origin(scheme, host, port)


def format_origin(scheme: str, host: str, port: int) -> str:
    """The inverse of origin_key: scheme://host with a non-default port, IPv6 in brackets."""
    netloc = f"[{host}]" if ":" in host else host
    return (
        f"{scheme}://{netloc}"
        if DEFAULT_PORTS.get(scheme) == port
        else f"{scheme}://{netloc}:{port}"
    )


def _origins(name: str, value: str) -> tuple[str, ...]:
    return tuple(_origin(name, v) for v in value.split())


def _origin_map(name: str, value: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in value.split(";"))):
        source, sep, target = item.partition("=")
        if not sep:
            raise ConfigError(name, f"{item!r} is not of the form https://host=http://addr:port")
        mapping[_origin(name, source)] = _origin(name, target)
    return mapping


def _base_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(name, f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


def _token(name: str, value: str) -> str:
    if len(value) < 16:
        raise ConfigError(name, "the token must be at least 16 characters long")
    return value


def _user_agent(name: str, value: str) -> str:
    # An HTTP header value; httpx encodes it as ASCII and refuses anything else.
    if not all(" " <= c <= "~" for c in value):
        raise ConfigError(name, "must be printable ASCII (no control characters, DEL or accents)")
    return value


def _data_dir(name: str, value: str) -> Path:
    """The directory need not exist yet, but it must be creatable: the nearest existing
    path on the way to it has to be a directory."""
    path = Path(value)
    for existing in (path, *path.parents):
        try:
            if not existing.exists():
                continue
            if not existing.is_dir():
                raise ConfigError(name, f"{existing} exists and is not a directory")
        except OSError as exc:
            raise ConfigError(name, f"{existing} cannot be checked ({exc})") from None
        break
    return path


def _int_between(low: int, high: int) -> Callable[[str, str], int]:
    return _number_between(int, "a whole number", low, high)


def _float_between(low: float, high: float) -> Callable[[str, str], float]:
    return _number_between(float, "a number", low, high)


def _number_between(
    kind: Callable[[str], N], noun: str, low: N, high: N
) -> Callable[[str, str], N]:
    def parse(name: str, value: str) -> N:
        try:
            number = kind(value)
        except ValueError:
            raise ConfigError(name, f"{value!r} is not {noun}") from None
        if not low <= number <= high:
            raise ConfigError(name, f"{number} is outside {low}..{high}")
        return number

    return parse
