"""`nam-feeds up`: everything in one command, as child processes of this one.

Redis (embedded when none is configured), a worker, one beat and the web app. A child that
dies is restarted a few times, then the whole command stops with a message, so it never hangs
half-alive. Ctrl-C or SIGTERM stops every child, then Redis last, so nothing is lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

import click
import structlog

from services.broker import Broker, broker_url
from services.redis_server import EmbeddedRedis
from services.settings import Settings

log = structlog.get_logger(__name__)

STOP_SECONDS = 8.0  # children get this long to finish; the command must end within 10 s
MAX_RESTARTS = 3  # per child, within RESTART_WINDOW seconds
RESTART_WINDOW = 60.0


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)

    def start(self, env: dict[str, str]) -> None:
        # A session of its own: Ctrl-C reaches only this supervisor, which then stops the
        # children in order instead of all of them racing Redis.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "feeds.cli", *self.args], env=env, start_new_session=True
        )

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()


class _Stop(Exception):
    pass


def _children(host: str, port: int) -> list[Child]:
    return [
        Child("worker", ["worker", "--concurrency", "2"]),
        Child("beat", ["beat"]),
        Child("web", ["web", "--host", host, "--port", str(port)]),
    ]


def run_up(settings: Settings, host: str, port: int, *, first_crawl: bool = True) -> int:
    """Start everything, supervise it, and stop it all on a signal. Returns the exit code."""
    redis = None
    redis_url = settings.redis_url
    if redis_url is None:
        redis = EmbeddedRedis(settings.data_dir)
        redis_url = redis.start()
        click.echo(f"nam-feeds: embedded Redis at {redis_url}, data in {settings.data_dir}")
    env = {**os.environ, "NAMFEEDS_REDIS_URL": redis_url}
    # Feed self links and the OPML must name the address this command serves, unless the
    # operator said otherwise (a proxy in front, say).
    env.setdefault("NAMFEEDS_PUBLIC_URL", f"http://{host}:{port}")
    children = _children(host, port)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise _Stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        for child in children:
            child.start(env)
        if first_crawl:
            _enqueue_first_crawl(redis_url)
        click.echo(f"nam-feeds is up: feeds at http://{host}:{port}/ (Ctrl-C stops it)")
        code = _supervise(children, env)
    except _Stop as stop:
        click.echo(f"nam-feeds: {stop} received, stopping")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop_all(children)
        if redis is not None:
            redis.stop()
    return code


def _enqueue_first_crawl(redis_url: str) -> None:
    broker = Broker(broker_url(redis_url))
    try:
        broker.send_task("nam.discover", {"force": False})
    finally:
        broker.close()


def _supervise(children: Sequence[Child], env: dict[str, str]) -> int:
    while True:
        time.sleep(0.5)
        for child in children:
            code = child.exit_code()
            if code is None:
                continue
            now = time.monotonic()
            while child.restarts and now - child.restarts[0] > RESTART_WINDOW:
                child.restarts.popleft()
            if len(child.restarts) >= MAX_RESTARTS:
                click.echo(
                    f"nam-feeds: {child.name} keeps exiting (last code {code}); stopping all",
                    err=True,
                )
                return 1
            click.echo(f"nam-feeds: {child.name} exited with code {code}; restarting", err=True)
            child.restarts.append(now)
            child.start(env)


def _stop_all(children: Sequence[Child]) -> None:
    running = [c.process for c in children if c.process and c.process.poll() is None]
    for process in running:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
        # Anything left in the group (a pool process whose parent already exited) goes too.
        _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """The whole group: a Celery worker's pool processes must go with it."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
