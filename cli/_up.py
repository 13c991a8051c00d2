"""`nam-feeds up`: everything in one command, as child processes of this one.

Redis (embedded when none is configured), a worker, one beat and the web app. A child that
dies is restarted a few times, then the whole command stops with a message; so does the
embedded Redis dying, so it never hangs half-alive. Ctrl-C or SIGTERM stops every child, then
Redis last, so nothing is lost, within 10 s; more signals meanwhile do not cut that short.
On Linux the children also die with this process when it is killed outright (SIGKILL).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

import click
import structlog

from cli._checks import StartupError, check_data_dir, check_port, check_redis
from services.broker import Broker, broker_url
from services.embedded_redis import LOG_FILE, EmbeddedRedis, die_with_parent, redacted
from services.settings import Settings, unknown_variables

log = structlog.get_logger(__name__)

# The command must end within 10 s of Ctrl-C: children get STOP_SECONDS to finish (then
# SIGKILL), the embedded Redis REDIS_STOP_SECONDS to flush its AOF (then SIGKILL).
STOP_SECONDS = 6.0
REDIS_STOP_SECONDS = 3.0
WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")
MAX_RESTARTS = 3  # per child, within RESTART_WINDOW seconds
RESTART_WINDOW = 60.0
# The web process publishes every feed before it binds; a big store takes a while.
SERVING_TIMEOUT = 120.0


def say(message: str, *, error: bool = False, **fields: object) -> None:
    """A line for the operator: plain text on a terminal, else a JSON log record like every
    other line `up` and its children print, so a log shipper reads one format."""
    if sys.stderr.isatty():
        prefix = "" if message.startswith("nam-feeds") else "nam-feeds: "
        click.echo(prefix + message, err=error)
    elif error:
        log.error(message, **fields)
    else:
        log.info(message, **fields)


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)

    def start(self, env: dict[str, str]) -> None:
        # A session of its own: Ctrl-C reaches only this supervisor, which then stops the
        # children in order instead of all of them racing Redis.
        # The kernel sends it SIGTERM if this supervisor is killed outright, so no child
        # outlives `up` (SIGKILL runs no cleanup of ours).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", *self.args],
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent(),
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
    """Start everything, supervise it, and stop it all on a signal. Returns the exit code.

    SIGINT and SIGTERM stay ignored once stopping starts, also after it: the command exits
    next, and a late Ctrl-C must turn neither the stop nor the exit code into a traceback."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _on_stop_signal)
    redis: EmbeddedRedis | None = None
    children: list[Child] = []
    code = 0
    try:
        _check(settings, host, port)
        redis_url = settings.redis_url
        if redis_url is None:
            # share=False: a data dir whose Redis another command owns is refused, as that
            # command would take the server away when it ends
            redis = EmbeddedRedis(settings.data_dir, share=False, stop_timeout=REDIS_STOP_SECONDS)
            redis_url = redis.start()
            say(
                f"embedded Redis at {redacted(redis_url)}, data in {settings.data_dir}",
                url=redacted(redis_url),
                data_dir=str(settings.data_dir),
            )
        else:
            say(f"Redis at {redacted(redis_url)} (NAMFEEDS_REDIS_URL)", url=redacted(redis_url))
        address = browser_url(host, port)
        env = _child_env(redis_url, address)
        children = _children(host, port)
        for child in children:
            child.start(env)
        if not _wait_serving(host, port, children):
            return 1
        if first_crawl:
            _enqueue_first_crawl(redis_url)
        say(f"nam-feeds is up: feeds at {address}/ (Ctrl-C stops it)", address=address)
        code = _supervise(children, env, redis)
    except StartupError as problem:
        say(str(problem), error=True)
        code = 1
    except _Stop as stop:
        say(f"{stop} received, stopping", signal=str(stop))
    finally:
        _ignore_stop_signals()  # a second Ctrl-C must not orphan what is being stopped
        _stop_all(children)
        if redis is not None:
            redis.stop()
    return code


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _check(settings: Settings, host: str, port: int) -> None:
    check_port(host, port)
    if settings.redis_url is None:
        check_data_dir(settings.data_dir)
    else:
        check_redis(settings.redis_url)


def _child_env(redis_url: str, address: str) -> dict[str, str]:
    """What the children run with. Unknown NAMFEEDS_* variables were warned about once, by
    this process; each child would only repeat the warning."""
    unknown = {name for name, _closest in unknown_variables(os.environ)}
    env = {k: v for k, v in os.environ.items() if k not in unknown}
    env["NAMFEEDS_REDIS_URL"] = redis_url
    # Feed self links and the OPML must name an address readers can open, unless the
    # operator said otherwise (a proxy in front, say).
    env.setdefault("NAMFEEDS_PUBLIC_URL", address)
    return env


def _wait_serving(host: str, port: int, children: Sequence[Child]) -> bool:
    """Until the web process accepts connections: "is up" must be true when it is printed.
    False, said once, when a child exits first or the port stays closed."""
    target = "127.0.0.1" if host in WILDCARD_HOSTS else host.strip("[]")
    deadline = time.monotonic() + SERVING_TIMEOUT
    while time.monotonic() < deadline:
        for child in children:
            code = child.exit_code()
            if code is not None:
                say(f"{child.name} exited with code {code} while starting", error=True)
                return False
        try:
            socket.create_connection((target, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    say(f"the web process did not listen on {host}:{port} within {SERVING_TIMEOUT:g} s", error=True)
    return False


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    _ignore_stop_signals()
    raise _Stop(signal.Signals(signum).name)


def _ignore_stop_signals() -> None:
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def browser_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server bound to `host`: a wildcard address
    (0.0.0.0, ::) is not one to open, and an IPv6 literal needs brackets (RFC 3986)."""
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _enqueue_first_crawl(redis_url: str) -> None:
    broker = Broker(broker_url(redis_url))
    try:
        broker.send_task("nam.discover", {"force": False})
    finally:
        broker.close()


def _supervise(children: Sequence[Child], env: dict[str, str], redis: EmbeddedRedis | None) -> int:
    while True:
        time.sleep(0.5)
        if redis is not None and not redis.running:
            say(
                f"the embedded Redis exited (see {redis.data_dir / LOG_FILE}); stopping all",
                error=True,
            )
            return 1
        for child in children:
            if not _restart_if_exited(child, env):
                return 1


def _restart_if_exited(child: Child, env: dict[str, str]) -> bool:
    """Restart a child that exited; False when it keeps exiting and everything should stop."""
    code = child.exit_code()
    if code is None:
        return True
    now = time.monotonic()
    while child.restarts and now - child.restarts[0] > RESTART_WINDOW:
        child.restarts.popleft()
    if len(child.restarts) >= MAX_RESTARTS:
        say(f"{child.name} keeps exiting (last code {code}); stopping all", error=True)
        return False
    say(f"{child.name} exited with code {code}; restarting", error=True, child=child.name)
    child.restarts.append(now)
    child.start(env)
    return True


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
