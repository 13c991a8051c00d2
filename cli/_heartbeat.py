"""Heartbeats for the worker and beat commands, and `nam-feeds healthcheck` that reads them.

A daemon thread of the process beats every BEAT_INTERVAL seconds while Celery runs: started
by Celery's own "ready" signals, so a worker that never connected to its broker has no beat,
and removed on a clean stop, so /healthz sees a stopped worker at once and a killed one within
BEAT_TIMEOUT.
"""

from __future__ import annotations

import atexit
import os
import socket
import sys
import threading

import click
import structlog

from services.errors import StorageError
from services.storage import BEAT_INTERVAL, BEAT_TIMEOUT, Heartbeats, Store

log = structlog.get_logger(__name__)


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class HeartbeatThread(threading.Thread):
    def __init__(self, redis_url: str, part: str, interval: float = BEAT_INTERVAL) -> None:
        super().__init__(name=f"heartbeat-{part}", daemon=True)
        self.redis_url, self.part, self.interval = redis_url, part, interval
        self.beat_name = process_name()
        self._stopping = threading.Event()
        self._store: Store | None = None

    def run(self) -> None:
        self._store = Store.from_url(self.redis_url)
        beats, failing = Heartbeats(self._store.client), False
        while not self._stopping.is_set():
            try:
                beats.beat(self.part, self.beat_name)
                failing = False
            except StorageError as exc:
                if not failing:  # once per outage, not every few seconds
                    log.warning("heartbeat.failed", part=self.part, error=str(exc))
                failing = True
            self._stopping.wait(self.interval)

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=2)
        try:
            store = Store.from_url(self.redis_url)
            Heartbeats(store.client).remove(self.part, self.beat_name)
            store.close()
        except StorageError:
            pass  # Redis is gone: the beat ages out instead


def keep_heartbeat(redis_url: str, part: str) -> None:
    """Beat as `part` once Celery says this process is ready; stop on its shutdown."""
    from celery import signals

    thread = HeartbeatThread(redis_url, part)

    def start(**_: object) -> None:
        if not thread.is_alive():
            thread.start()
            atexit.register(thread.stop)

    ready = signals.worker_ready if part == "worker" else signals.beat_init
    ready.connect(start, weak=False)
    if part == "worker":
        signals.worker_shutdown.connect(lambda **_: thread.stop(), weak=False)


@click.command()
@click.argument("part", type=click.Choice(["worker", "beat"]))
def healthcheck(part: str) -> None:
    """Exit 0 if a PART on this host has beaten within the heartbeat timeout (for container
    health checks: it tests that process itself, not only Redis)."""
    from cli._redis import shared_redis
    from services.settings import Settings

    store = Store.from_url(shared_redis(Settings.from_env()))
    try:
        host = socket.gethostname()
        mine = [b for b in Heartbeats(store.client).read() if b.part == part]
        mine = [b for b in mine if b.name.rpartition(":")[0] == host]
    finally:
        store.close()
    fresh = [b for b in mine if b.age <= BEAT_TIMEOUT]
    if not fresh:
        last = f"last beat {min(b.age for b in mine):.0f} s ago" if mine else "no beat at all"
        click.echo(f"nam-feeds: no live {part} on {host} ({last})", err=True)
        sys.exit(1)
    click.echo(f"{part} on {host}: last beat {fresh[0].age:.1f} s ago")
