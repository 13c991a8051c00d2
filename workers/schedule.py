"""The beat schedule, built from settings: pure data, no broker.

Exactly one scheduler runs even when two beats are started: the app uses celery-redbeat,
whose RedBeatScheduler keeps the schedule in Redis and holds a lock there
(`redbeat_lock_timeout`); a second beat waits on the lock and takes over only when the first
stops renewing it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.settings import Settings

# Publishing is triggered by each changed post; the minutely run is a safety net for events
# whose publish task was lost (a worker killed between upsert and enqueue).
PUBLISH_EVERY = timedelta(minutes=1)

SCHEDULER = "redbeat.RedBeatScheduler"
# Beat wakes at least this often and RedBeat renews its lock on each wake; a beat waiting for
# the lock polls it as often. The lock outlives five wakes, so a busy beat keeps it, and a
# dead holder's lock is taken over within LOCK_TIMEOUT + MAX_LOOP_INTERVAL seconds (30 s
# wakes made that 150 s). A wake costs one small Redis round trip.
MAX_LOOP_INTERVAL = 1
LOCK_TIMEOUT = 5 * MAX_LOOP_INTERVAL


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        "discover": {
            "task": "nam.discover",
            "schedule": timedelta(seconds=settings.crawl_interval),
            "kwargs": {"force": False},
        },
        "publish": {
            "task": "nam.publish",
            "schedule": PUBLISH_EVERY,
        },
    }
