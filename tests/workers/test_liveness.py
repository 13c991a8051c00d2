"""Liveness after crashes: a worker outlives Redis restarts, a failed worker says so in its
exit status, beat's lock passes on within seconds, lost crawls do not block their pages for
long, and a job with no progress says "stalled"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from services.broker import broker_url
from services.storage import Store
from services.storage import _keys as keys
from tests.fixtures.site import SiteServer
from tests.workers.conftest import client_app, wait_for, worker_env
from tests.workers.processes import RedisProcess, Service
from workers import schedule
from workers.app import VISIBILITY_TIMEOUT

POST = "https://www.belarus-nau.org/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"


def _ping(redis_url: str) -> bool:
    try:
        return bool(client_app(redis_url).control.ping(timeout=0.5))
    except Exception:  # the broker is coming back: not yet
        return False


def test_worker_and_beat_survive_redis_restarts(site: SiteServer, tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "redis").start()
    env = worker_env(site, server.url)
    worker = Service("worker", ["worker", "--pool", "solo"], env, tmp_path / "w.log").start()
    beat = Service("beat", ["beat"], env, tmp_path / "b.log").start()
    try:
        wait_for(lambda: _ping(server.url), 30, "the worker to answer", every=0.2)
        wait_for(lambda: "Acquired lock" in beat.output(), 30, "beat to take its lock")
        # Beat keeps its lock through outages shorter than the lock's time; after a longer
        # one it may exit (non-zero) to wait for the lock again, which a supervisor handles.
        for down, beat_stays in ((0.1, True), (1.0, True), (3.0, False)):
            server.kill()
            time.sleep(down)
            server.start()
            wait_for(lambda: _ping(server.url), 30, "the worker after a Redis restart", every=0.2)
            assert worker.alive(), worker.output()[-3000:]
            time.sleep(1.5)  # beat wakes every second: it has used the new connection
            assert beat.alive() or not beat_stays, beat.output()[-3000:]
        outcome = client_app(server.url).send_task("nam.crawl_url", args=(POST,)).get(timeout=30)
        assert outcome == "new"
        assert "Unrecoverable error" not in worker.output()
    finally:
        worker.stop()
        beat.stop()
        server.stop()


# A worker whose start fails the way a broken connection step does, run as `nam-feeds worker`
# runs it. In a subprocess: a worker started in the test process would stay its global state.
_BROKEN_WORKER = """
import sys
from celery import bootsteps
from services.settings import Settings
from workers.app import make_celery, run_worker

class BrokenStep(bootsteps.StartStopStep):
    def start(self, worker):
        raise RuntimeError("a worker step failed")

app = make_celery(Settings(redis_url=sys.argv[1]), sys.argv[1])
app.steps["worker"].add(BrokenStep)
sys.exit(run_worker(app, ["--pool=solo"]))
"""


def test_a_worker_stopped_by_an_error_exits_non_zero(redis_url: str) -> None:
    # Celery logs "Unrecoverable error" and stops with status 1; app.worker_main dropped that
    # status, so the process exited 0 and a supervisor restarting on failure left it down.
    done = subprocess.run(
        [sys.executable, "-c", _BROKEN_WORKER, redis_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Unrecoverable error" in done.stderr, done.stderr[-3000:]
    assert done.returncode == 1, done.stderr[-3000:]


def _lock_acquired(service: Service) -> bool:
    return "Acquired lock" in service.output()


def test_beat_lock_is_taken_over_within_seconds(site: SiteServer, tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "redis").start()
    env = worker_env(site, server.url)
    first = Service("beat", ["beat", "--loglevel", "DEBUG"], env, tmp_path / "b1.log").start()
    second = Service("beat", ["beat", "--loglevel", "DEBUG"], env, tmp_path / "b2.log")
    try:
        wait_for(lambda: _lock_acquired(first), 30, "the first beat to take the lock")
        second.start()
        time.sleep(3)  # the second one is up and waiting on the lock
        assert not _lock_acquired(second)
        first.kill()
        killed = time.monotonic()
        bound = schedule.LOCK_TIMEOUT + schedule.MAX_LOOP_INTERVAL + 2
        wait_for(lambda: _lock_acquired(second), bound, "the second beat to take the lock")
        took = time.monotonic() - killed
        assert took <= bound, took
    finally:
        first.stop()
        second.stop()
        server.stop()


def test_queued_marks_live_minutes_not_half_an_hour(
    site: SiteServer, tmp_path: Path, start_worker: Any
) -> None:
    # A slow crawl (0.5 s between requests) so the marks are read while most crawls wait.
    server = RedisProcess(tmp_path / "redis").start()
    client = redis.Redis.from_url(server.url)
    try:
        start_worker(server.url, NAMFEEDS_CRAWL_DELAY="0.5")
        client_app(server.url).send_task("nam.discover")
        wait_for(lambda: list(client.scan_iter(match="nam:queued:*")), 30, "queued marks")
        ttls = [int(client.ttl(k)) for k in client.scan_iter(match="nam:queued:*")]
        assert ttls and all(0 < t <= 3 * VISIBILITY_TIMEOUT + 20 for t in ttls), ttls
        # each waiting message expires with its mark, so a lost one is dropped with it
        broker = redis.Redis.from_url(broker_url(server.url))

        def crawls() -> list[dict[str, Any]]:
            waiting = [json.loads(m)["headers"] for m in broker.lrange("celery", 0, -1)]
            held = [json.loads(m)[0]["headers"] for m in broker.hvals("unacked")]
            return [h for h in [*waiting, *held] if h["task"] == "nam.crawl_batch"]

        found = wait_for(crawls, 30, "queued crawls")
        assert all(h["expires"] for h in found), found
        broker.close()
    finally:
        client.close()
        server.stop()


def test_a_job_without_progress_is_stalled(store: Store) -> None:
    job_id = store.create_job("recrawl", {}, total=3)
    store.update_job(job_id, status="running")
    store.count_job_outcome(job_id, "new")
    assert (store.get_job(job_id) or {})["status"] == "running"
    long_ago = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="microseconds")
    store.client.hset(keys.job(job_id), "updated_at", json.dumps(long_ago))
    job = store.get_job(job_id) or {}
    assert job["status"] == "stalled" and job["idle_seconds"] >= 590, job
    store.count_job_outcome(job_id, "same")  # progress again
    assert (store.get_job(job_id) or {})["status"] == "running"


def test_worker_runs_without_the_event_steps(start_worker: Any, redis_url: str) -> None:
    worker = start_worker(redis_url)  # it answered a ping: the control channel is still on
    # mingle runs before the worker is ready and logs either line; gossip has no line of its own
    assert not re.search(r"mingle: (searching|all alone)", worker.output()), worker.output()
