"""Exactly one scheduler: with two beats started, crawls are scheduled once per interval."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from services.broker import broker_url
from tests.fixtures.site import SiteServer
from tests.workers.conftest import clear_broker

INTERVAL = 10  # the shortest NAMFEEDS_CRAWL_INTERVAL allowed
WATCH = 3 * INTERVAL + 3


def _scheduled_discovers(client: redis.Redis) -> int:
    """Messages waiting in Celery's default queue (no worker runs here) for nam.discover."""
    count = 0
    for raw in client.lrange("celery", 0, -1):
        if json.loads(raw)["headers"]["task"] == "nam.discover":
            count += 1
    return count


def test_two_beats_schedule_each_crawl_once(
    site: SiteServer, redis_url: str, tmp_path: Path
) -> None:
    clear_broker(redis_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    env |= site.env(NAMFEEDS_REDIS_URL=redis_url, NAMFEEDS_CRAWL_INTERVAL=str(INTERVAL))
    beats = []
    for n in range(2):
        with (tmp_path / f"beat{n}.err").open("wb") as err:  # the child keeps its own copy
            beats.append(
                subprocess.Popen(
                    [sys.executable, "-m", "cli", "beat"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    start_new_session=True,
                )
            )
    client = redis.Redis.from_url(broker_url(redis_url))
    try:
        time.sleep(WATCH)
        assert all(beat.poll() is None for beat in beats), "a beat exited"
        scheduled = _scheduled_discovers(client)
    finally:
        for beat in beats:
            os.killpg(beat.pid, signal.SIGTERM)
        for beat in beats:
            beat.wait(timeout=15)
        client.close()
        clear_broker(redis_url)
    # One scheduler ticks three times in the window (one more if it also runs at start);
    # two independent schedulers would have queued twice as many.
    assert 2 <= scheduled <= 4, scheduled
    holders = [
        n
        for n in range(2)
        if "Acquired lock" in (tmp_path / f"beat{n}.err").read_text(errors="replace")
    ]
    assert len(holders) == 1, holders
