"""A real Celery worker in a subprocess (`nam-feeds worker --pool solo`) on a real Redis.

No eager mode and no mocks: tasks go through the broker exactly as in production. Every
worker a test starts is stopped at teardown (SIGTERM to its process group, then SIGKILL), so
no test leaves an orphan behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from services.broker import broker_url
from services.settings import Settings
from tests.fixtures.site import SiteServer
from workers.app import make_celery

READY_TIMEOUT = 30.0
# What kombu and Celery keep in the broker's database; the data's `nam:` keys are elsewhere.
BROKER_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def clear_broker(redis_url: str) -> None:
    """Leftover messages from an earlier test would be run by this test's worker."""
    client = redis.Redis.from_url(broker_url(redis_url))
    try:
        doomed = [*BROKER_KEYS, *client.scan_iter(match="celery-task-meta-*", count=1000)]
        client.delete(*doomed)
    finally:
        client.close()


def broker_idle(redis_url: str) -> bool:
    """No message waiting and none delivered but unacknowledged."""
    client = redis.Redis.from_url(broker_url(redis_url))
    try:
        return client.llen("celery") == 0 and client.hlen("unacked") == 0
    finally:
        client.close()


class Worker:
    """One `nam-feeds worker` process, in its own session so a kill takes all of it."""

    def __init__(self, env: dict[str, str], log: Path, extra: list[str]) -> None:
        self.env = env
        self.log = log
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli", "worker", "--pool", "solo", *self.extra],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, app: Any) -> None:
        def answered() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.output()[-3000:]}")
            return bool(app.control.ping(timeout=0.3))

        wait_for(answered, READY_TIMEOUT, "the worker to answer a ping", every=0.1)

    def kill(self) -> None:
        """SIGKILL the whole worker: no warm shutdown, no message handed back."""
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(10)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


WorkerFactory = Callable[..., Worker]


def worker_env(site: SiteServer, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    return env | site.env(NAMFEEDS_REDIS_URL=redis_url, NAMFEEDS_FETCH_TIMEOUT="2") | extra


@pytest.fixture
def start_worker(tmp_path: Path, site_server: SiteServer) -> Iterator[WorkerFactory]:
    """start_worker(redis_url, *worker_args, **env) -> a ready Worker, stopped at teardown."""
    workers: list[Worker] = []

    def start(redis_url: str, *args: str, **env: str) -> Worker:
        log = tmp_path / f"worker-{len(workers)}.log"
        worker = Worker(worker_env(site_server, redis_url, **env), log, list(args))
        workers.append(worker)
        worker.start().wait_ready(client_app(redis_url))
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


_apps: dict[str, Any] = {}


def client_app(redis_url: str) -> Any:
    """A Celery app on the test's broker for sending tasks and pinging; cached per URL."""
    if redis_url not in _apps:
        _apps[redis_url] = make_celery(Settings(redis_url=redis_url), redis_url)
    return _apps[redis_url]
