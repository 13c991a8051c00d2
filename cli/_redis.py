"""Which Redis a command uses, found one way for all of them, and said on stderr.

The configured NAMFEEDS_REDIS_URL first; else the embedded Redis of the data dir: the one a
running `up` owns (left running), or, for the commands on stored data, one started for as
long as the command takes. The data dir is absolute (services.settings), so every command
finds the same store from any working directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from services.embedded_redis import EmbeddedRedis, redacted, running_server
from services.errors import ConfigError
from services.settings import Settings

log = structlog.get_logger(__name__)

NO_SHARED_REDIS = (
    "unset, and no `nam-feeds up` runs on {data_dir}: set NAMFEEDS_REDIS_URL to the Redis the "
    "workers share, or start `nam-feeds up` (with the same NAMFEEDS_DATA_DIR)"
)


@contextmanager
def data_redis(settings: Settings) -> Iterator[str]:
    """For commands on stored data (status, crawl, history): a Redis is always found."""
    if settings.redis_url is not None:
        _say_configured(settings.redis_url)
        yield settings.redis_url
        return
    with EmbeddedRedis(settings.data_dir) as server:
        whose = "of the running `nam-feeds up`" if not server.owned else "started for this command"
        log.info(
            f"redis: the embedded Redis {whose}, data in {server.data_dir}",
            url=redacted(server.url),
            data_dir=str(server.data_dir),
            shared=not server.owned,
        )
        yield server.url


def shared_redis(settings: Settings) -> str:
    """For workers, beat, web and recrawl, which must meet on one broker: the configured Redis
    or a running `up`'s; never a private one, whose queue nobody would read."""
    if settings.redis_url is not None:
        return settings.redis_url
    state = running_server(settings.data_dir)
    if state is None:
        raise ConfigError("NAMFEEDS_REDIS_URL", NO_SHARED_REDIS.format(data_dir=settings.data_dir))
    log.info(
        f"redis: the embedded Redis of the running `nam-feeds up` (process {state.owner}), "
        f"data in {settings.data_dir}",
        url=redacted(state.url),
        data_dir=str(settings.data_dir),
        owner=state.owner,
    )
    return state.url


def _say_configured(url: str) -> None:
    log.info(f"redis: NAMFEEDS_REDIS_URL {redacted(url)}", url=redacted(url))
