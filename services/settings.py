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
from urllib.parse import urlsplit

from services.errors import ConfigError

DEFAULT_SOURCE_URLS = ("https://www.belarus-nau.org", "https://belarus-nau.org")
DEFAULT_USER_AGENT = "nam-feeds/0.1 (feeds of NAM-media posts; polite crawler)"

T = TypeVar("T")


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

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Hosts the crawler may fetch from: those of the source origins."""
        return frozenset(urlsplit(u).hostname or "" for u in self.source_urls)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        defaults = cls()

        def get(name: str, parse: Callable[[str, str], T], default: T) -> T:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            return parse(name, raw.strip())

        return cls(
            redis_url=get("NAMFEEDS_REDIS_URL", _redis_url, None),
            source_urls=get("NAMFEEDS_SOURCE_URLS", _origins, defaults.source_urls),
            origin_map=get("NAMFEEDS_ORIGIN_MAP", _origin_map, {}),
            public_url=get("NAMFEEDS_PUBLIC_URL", _base_url, defaults.public_url),
            admin_token=get("NAMFEEDS_ADMIN_TOKEN", _token, None),
            crawl_interval=get("NAMFEEDS_CRAWL_INTERVAL", _int_between(10, 7 * 86400), 900),
            crawl_delay=get("NAMFEEDS_CRAWL_DELAY", _float_between(0.0, 60.0), 1.0),
            feed_size=get("NAMFEEDS_FEED_SIZE", _int_between(1, 1000), 50),
            data_dir=get("NAMFEEDS_DATA_DIR", lambda _n, v: Path(v), defaults.data_dir),
            user_agent=get("NAMFEEDS_USER_AGENT", _user_agent, defaults.user_agent),
            fetch_timeout=get("NAMFEEDS_FETCH_TIMEOUT", _float_between(0.1, 300.0), 10.0),
            max_body_bytes=get(
                "NAMFEEDS_MAX_BODY_BYTES", _int_between(1024, 1 << 30), defaults.max_body_bytes
            ),
            max_retries=get("NAMFEEDS_MAX_RETRIES", _int_between(0, 20), 4),
        )


def _redis_url(name: str, value: str) -> str:
    scheme = urlsplit(value).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(name, f"{value!r} is not a redis://, rediss:// or unix:// URL")
    return value


def _origin(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(name, f"{value!r} is not an http(s) origin such as https://host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(name, f"{value!r} must be an origin, with no path or query")
    return f"{parts.scheme}://{parts.netloc}".lower()


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
    if any(ord(c) < 32 for c in value):
        raise ConfigError(name, "control characters are not allowed")
    return value


def _int_between(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(name, f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ConfigError(name, f"{number} is outside {low}..{high}")
        return number

    return parse


def _float_between(low: float, high: float) -> Callable[[str, str], float]:
    def parse(name: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(name, f"{value!r} is not a number") from None
        if not low <= number <= high:
            raise ConfigError(name, f"{number} is outside {low}..{high}")
        return number

    return parse
