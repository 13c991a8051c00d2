"""The Celery app: a Redis broker beside the data, late acks, and the beat scheduler's lock.

`make_celery` is what entry points call. The module attribute `app` (for
`celery -A workers.app worker`) is built on first access from NAMFEEDS_* variables, so
importing this module never needs a configured Redis.

Broker database: the broker lives on the same Redis server as the data, in the next database
number: data in db N, broker in db (N + 1) mod 16. The data namespace (`nam:`) and kombu's
keys (`celery`, `unacked`, `_kombu.*`, `redbeat:*`) would not collide in one database either,
but a separate number lets an operator flush the queues without touching the system of record.
"""

from __future__ import annotations

import sys
from typing import Any

from celery import Celery

from services.broker import broker_url
from services.errors import ConfigError, NamFeedsError
from services.settings import Settings
from workers import schedule

# Longer than any task: a message unacknowledged this long is handed to another worker.
# The slowest task is a discovery walk (a few dozen requests at NAMFEEDS_CRAWL_DELAY).
VISIBILITY_TIMEOUT = 3600

NO_REDIS = (
    "set NAMFEEDS_REDIS_URL to the Redis the workers share, or run `nam-feeds up`, which "
    "starts one; a worker never starts its own Redis, as its queue would be private"
)


def make_celery(
    settings: Settings,
    redis_url: str,
    *,
    visibility_timeout: float = VISIBILITY_TIMEOUT,
) -> Any:
    """A configured app with the tasks of workers.tasks registered.

    `settings` and `redis_url` (the data's Redis) are kept on the app for `tasks.runtime()`.
    A short `visibility_timeout` (tests) also shortens kombu's restore sweep, which would
    otherwise look for abandoned messages only every 100 s."""
    broker = broker_url(redis_url)
    app = Celery("nam-feeds", broker=broker, include=["workers.tasks"])
    app.conf.update(
        # Results are JSON primitives and nobody waits on them except tests and the API,
        # which read job records instead; keeping them in the broker's db is harmless.
        result_backend=broker,
        result_expires=86400,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(visibility_timeout),
        result_backend_transport_options={"visibility_timeout": visibility_timeout},
        worker_hijack_root_logger=False,
        beat_schedule=schedule.beat_schedule(settings),
        beat_scheduler=schedule.SCHEDULER,
        beat_max_loop_interval=schedule.MAX_LOOP_INTERVAL,
        redbeat_redis_url=broker,
        redbeat_lock_timeout=schedule.LOCK_TIMEOUT,
        timezone="UTC",
    )
    app.namfeeds_settings = settings
    app.namfeeds_redis_url = redis_url
    return app


def _transport_options(visibility_timeout: float) -> dict[str, float]:
    # kombu sweeps for expired unacked messages every interval * throttle seconds (10 * 10
    # by default); one sweep per fifth of the timeout bounds redelivery at ~1.2 timeouts.
    interval = min(60.0, max(1.0, visibility_timeout / 5))
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": interval,
        "unacked_restore_throttle": 1,
    }


def app_from_env() -> Any:
    """The app for `celery -A workers.app`, from the environment; ConfigError without Redis."""
    settings = Settings.from_env()
    if settings.redis_url is None:
        raise ConfigError("NAMFEEDS_REDIS_URL", f"unset: {NO_REDIS}")
    return make_celery(settings, settings.redis_url)


_app: Any = None


def __getattr__(name: str) -> Any:
    # PEP 562: `workers.app.app` is built on first use, so that importing make_celery (CLI,
    # tests) does not require NAMFEEDS_REDIS_URL.
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        try:
            _app = app_from_env()
        except NamFeedsError as exc:
            # the celery command would print a traceback; one line is what an operator needs
            sys.exit(f"nam-feeds: {exc}")
        _app.set_default()
    return _app
