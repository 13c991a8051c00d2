"""The Settings object and how it is read from the environment (see the package docstring)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Self, TypeVar
from urllib.parse import urlsplit

import platformdirs

from services.errors import ConfigError
from services.settings._urls import base_url as _base_url
from services.settings._urls import origin_key
from services.settings._urls import origin_map as _origin_map
from services.settings._urls import origins as _origins
from services.settings._urls import redis_url as _redis_url

DEFAULT_SOURCE_URLS = ("https://www.belarus-nau.org", "https://belarus-nau.org")
DEFAULT_USER_AGENT = "nam-feeds/0.1 (feeds of NAM-media posts; polite crawler)"
PREFIX = "NAMFEEDS_"
# NAMFEEDS_* names that are not settings of the program: docker-compose.yml's published port,
# and the test suite's and benchmarks' own variables.
OTHER_VARIABLES = frozenset({"NAMFEEDS_PORT"})
OTHER_PREFIXES = ("NAMFEEDS_TEST_", "NAMFEEDS_BENCH_")


def default_data_dir() -> Path:
    """The per-user data directory (~/.local/share/nam-feeds on Linux): the same store from
    any working directory, where a relative `data` would be a new one in each."""
    return Path(platformdirs.user_data_dir("nam-feeds", appauthor=False))


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
    data_dir: Path = field(default_factory=default_data_dir)  # absolute
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
    # Discovery reads at most this many entries of one sitemap, and queues at most this many
    # post pages per crawl, so a hostile or broken sitemap cannot flood the queue.
    max_urls_per_crawl: int = 20_000
    max_urls_per_sitemap: int = 50_000
    websub_hub: str | None = None  # a WebSub hub to ping when feeds change; None: no hub
    # One structured line per HTTP request; off where a proxy in front logs them already
    # (it costs the in-memory feed path a sixth to a third of its peak rate).
    access_log: bool = True
    # Where publish runs also write every feed as a file (feeds.files), for a static server
    # in front; None: Redis only.
    feed_dir: Path | None = None

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

        def get(
            name: str, parse: Callable[[str, str], T], default: T, *, blank_ok: bool = True
        ) -> T:
            raw = env.get(name)
            if raw is None:
                return default
            if raw.strip() == "":
                if not blank_ok:
                    raise ConfigError(name, "is set but blank; unset it or give a value")
                return default
            return parse(name, raw.strip())

        fetch_timeout = get("NAMFEEDS_FETCH_TIMEOUT", _float_between(0.1, 300.0), 10.0)
        settings = cls(
            redis_url=get("NAMFEEDS_REDIS_URL", _redis_url, None),
            source_urls=get("NAMFEEDS_SOURCE_URLS", _origins, defaults.source_urls),
            origin_map=get("NAMFEEDS_ORIGIN_MAP", _origin_map, {}),
            public_url=get("NAMFEEDS_PUBLIC_URL", _base_url, defaults.public_url),
            # blank is an error: a token of spaces would silently leave the admin API closed
            admin_token=get("NAMFEEDS_ADMIN_TOKEN", _token, None, blank_ok=False),
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
            max_urls_per_crawl=get(
                "NAMFEEDS_MAX_URLS_PER_CRAWL",
                _int_between(1, 10_000_000),
                defaults.max_urls_per_crawl,
            ),
            max_urls_per_sitemap=get(
                "NAMFEEDS_MAX_URLS_PER_SITEMAP",
                _int_between(1, 10_000_000),
                defaults.max_urls_per_sitemap,
            ),
            websub_hub=get("NAMFEEDS_WEBSUB_HUB", _base_url, None),
            access_log=get("NAMFEEDS_ACCESS_LOG", _switch, True),
            feed_dir=get("NAMFEEDS_FEED_DIR", _data_dir, None),
        )
        _check_origin_map(settings)
        return settings


def variable_names() -> tuple[str, ...]:
    """Every NAMFEEDS_* setting, by the naming rule: a field `x_y` is NAMFEEDS_X_Y."""
    return tuple(PREFIX + f.name.upper() for f in fields(Settings))


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """NAMFEEDS_* variables that no setting reads, each with the closest real name (or None):
    a misspelled NAMFEEDS_CRAWL_DELEY would otherwise be ignored without a word."""
    known = variable_names()
    found = []
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in known or name in OTHER_VARIABLES:
            continue
        if name.startswith(OTHER_PREFIXES):
            continue
        # compared without the shared prefix, which would make every name look close
        tails = [k.removeprefix(PREFIX) for k in known]
        close = difflib.get_close_matches(name.removeprefix(PREFIX), tails, n=1, cutoff=0.6)
        found.append((name, PREFIX + close[0] if close else None))
    return found


def _check_origin_map(settings: Settings) -> None:
    """A mapped origin that is not a source origin is never fetched: a typo, so say so."""
    sources = set(settings.source_urls)
    for origin in settings.origin_map:
        if origin not in sources:
            raise ConfigError(
                "NAMFEEDS_ORIGIN_MAP",
                f"{origin} is not one of NAMFEEDS_SOURCE_URLS ({' '.join(settings.source_urls)})",
            )


def _token(name: str, value: str) -> str:
    # It is compared with an Authorization header, which carries visible ASCII only.
    if not all("!" <= c <= "~" for c in value):
        raise ConfigError(name, "the token must be visible ASCII, with no spaces or accents")
    if len(value) < 16:
        raise ConfigError(name, "the token must be at least 16 characters long")
    return value


_SWITCH = {"1": True, "true": True, "yes": True, "on": True}
_SWITCH |= {"0": False, "false": False, "no": False, "off": False}


def _switch(name: str, value: str) -> bool:
    try:
        return _SWITCH[value.lower()]
    except KeyError:
        raise ConfigError(name, f"{value!r} is not one of on, off (or true, false, 1, 0)") from None


def _user_agent(name: str, value: str) -> str:
    # An HTTP header value; httpx encodes it as ASCII and refuses anything else.
    if not all(" " <= c <= "~" for c in value):
        raise ConfigError(name, "must be printable ASCII (no control characters, DEL or accents)")
    return value


def _data_dir(name: str, value: str) -> Path:
    """The directory need not exist yet, but it must be creatable: the nearest existing
    path on the way to it has to be a directory. Made absolute once, here: every process
    then names the same directory whatever its working directory."""
    path = Path(value).expanduser().absolute()
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
