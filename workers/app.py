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
from collections.abc import Sequence
from typing import Any

from celery import Celery
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from services.broker import broker_url
from services.errors import ConfigError, NamFeedsError
from services.settings import Settings
from workers import schedule
from workers._kombu import tolerate_released_transport

# A message unacknowledged this long is handed to another worker: the time a task lost with a
# killed worker takes to come back. It must stay longer than any task, since a task still
# running past it is delivered a second time (harmless, tasks are idempotent, but wasted).
# The slowest task is a discovery walk, a dozen requests at NAMFEEDS_CRAWL_DELAY; retry
# countdowns are kept under half of it (tasks._backoff).
VISIBILITY_TIMEOUT = 60
# How often a worker looks for messages past the timeout; kombu's default (10 s * 10) would
# add up to 100 s to every redelivery.
RESTORE_EVERY = 5.0
# Worker steps that serve only Celery's cluster events, which nothing here uses. Gossip's
# channel can be closed after its connection when Redis goes away; kombu then reads the closed
# connection's `hostname` (`Unrecoverable error: AttributeError ... 'hostname'`, the trace of
# celery/kombu#582) and the worker stops. Mingle and heartbeats go for the same reason.
WORKER_FLAGS = ("--without-gossip", "--without-mingle", "--without-heartbeat")

# Beat's own Redis client (the schedule and the lock) retries a lost connection for about
# two minutes, a second apart at most: by default it gave up within a second of a Redis
# restart and beat exited. A lock that expired meanwhile is not renewed (redis-py's Lock
# refuses) and beat exits to wait for it again, so two beats never both schedule.
BEAT_REDIS_RETRIES = 120
BEAT_REDIS_BACKOFF_CAP = 1.0

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
    tolerate_released_transport()
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
        # Redis may be down for longer than Celery's 100 default attempts (a restart that
        # replays a large AOF): a worker keeps trying, it never gives up and exits.
        broker_connection_max_retries=None,
        # A task running when the broker connection drops can no longer be acknowledged; it
        # is delivered again anyway, so it is stopped rather than finished twice.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_transport_options=_transport_options(visibility_timeout),
        result_backend_transport_options={"visibility_timeout": visibility_timeout},
        worker_hijack_root_logger=False,
        beat_schedule=schedule.beat_schedule(settings),
        beat_scheduler=schedule.SCHEDULER,
        beat_max_loop_interval=schedule.MAX_LOOP_INTERVAL,
        redbeat_redis_url=broker,
        redbeat_redis_options={
            "retry": Retry(ExponentialBackoff(cap=BEAT_REDIS_BACKOFF_CAP), BEAT_REDIS_RETRIES)
        },
        redbeat_lock_timeout=schedule.LOCK_TIMEOUT,
        timezone="UTC",
    )
    app.namfeeds_settings = settings
    app.namfeeds_redis_url = redis_url
    return app


def _transport_options(visibility_timeout: float) -> dict[str, float]:
    # kombu sweeps for expired unacked messages every interval * throttle seconds (10 * 10
    # by default); a sweep every RESTORE_EVERY s (or a fifth of a shorter timeout) bounds
    # redelivery at the timeout plus a few seconds.
    interval = min(RESTORE_EVERY, max(1.0, visibility_timeout / 5))
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": interval,
        "unacked_restore_throttle": 1,
    }


def run_worker(app: Any, args: list[str], *, options: Sequence[str] = ()) -> int:
    """Run `celery worker` on `app` with `args` (and celery's own `options` before the
    sub-command); its exit status. Celery's app.worker_main and app.start drop the status
    that click hands back, so a worker stopped by an unrecoverable error exited 0, and a
    supervisor restarting on failure left it down."""
    return run_celery(app, [*options, "worker", *args, *WORKER_FLAGS])


def run_celery(app: Any, argv: list[str]) -> int:
    """Run a `celery` sub-command (worker, beat) on `app`; its exit status, 0 on success.
    What app.start does, keeping the status."""
    from celery.bin.celery import celery as command

    command.params[0].default = app  # the --app option, as app.start sets it
    try:
        code = command.main(args=argv, standalone_mode=False)
    finally:
        command.params[0].default = None
    return code if isinstance(code, int) else 0


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
