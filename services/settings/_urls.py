"""Parsers of URL values (Redis, origins, base URLs) and the origin keys fetching compares.
Messages never echo a password."""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, urlsplit

import redis

from services.errors import ConfigError

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIS_DATABASES = 16  # Redis's default `databases`: numbers 0..15


def origin_key(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, lower-cased, default port filled in. Raises
    ValueError for anything else, including an out-of-range port."""
    parts = urlsplit(url.strip())
    scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port  # .port may raise
    if scheme not in DEFAULT_PORTS or not host:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    return scheme, host, DEFAULT_PORTS[scheme] if port is None else port


def redis_url(name: str, value: str) -> str:
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
    _redis_options(name, value)
    return value


def _redis_options(name: str, value: str) -> None:
    """The query options (`?socket_timeout=2`) as redis-py will read them: a bad value or an
    unknown option fails here, not as a traceback in whichever process connects first.
    Building a connection object opens no socket."""
    try:
        pool = redis.ConnectionPool.from_url(value)
        pool.connection_class(**pool.connection_kwargs)
    except TypeError as exc:
        unknown = str(exc).rpartition("argument ")[2] or str(exc)
        raise ConfigError(name, f"the URL has an unknown option {unknown}") from None
    except (ValueError, redis.RedisError) as exc:
        raise ConfigError(name, f"the URL's options are invalid: {exc}") from None


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
        raise ConfigError(name, f"{what} {shown(value)} is invalid ({exc})") from None
    if port == 0:
        raise ConfigError(name, f"{what} {shown(value)} has port 0")
    return parts


def shown(value: str) -> str:
    """The value as a message may show it: without a password, even when it does not parse."""
    try:
        password = urlsplit(value).password
    except ValueError:
        scheme, sep, rest = value.partition("://")
        return repr(f"{scheme}{sep}***@{rest.rpartition('@')[2]}") if "@" in rest else repr(value)
    if password is None:
        return repr(value)
    return repr(value.replace(f":{password}@", ":***@", 1))


def _origin(name: str, value: str) -> str:
    """scheme://host[:port], lower-cased, the default port left out, so that the same origin
    written two ways is one key."""
    parts = _split(name, value, "origin")
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(name, f"{value!r} is not an http(s) origin such as https://host")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(name, f"origin {shown(value)} must not carry a user name or password")
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


def origins(name: str, value: str) -> tuple[str, ...]:
    return tuple(_origin(name, v) for v in value.split())


def origin_map(name: str, value: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in value.split(";"))):
        source, sep, target = item.partition("=")
        if not sep:
            raise ConfigError(name, f"{item!r} is not of the form https://host=http://addr:port")
        mapping[_origin(name, source)] = _origin(name, target)
    return mapping


def base_url(name: str, value: str) -> str:
    parts = _split(name, value, "the URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(name, f"{value!r} is not an http(s) URL")
    return value.rstrip("/")
