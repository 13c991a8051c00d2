"""Who owns the embedded Redis of a data dir: the lock, the state file, and stale servers.

One process owns the server of a data dir: it holds an flock on embedded-redis.lock while the
server runs and records its own pid, the server's pid and URL in embedded-redis.json. Another
command on the same data dir (`status` while `up` runs) finds the lock held and uses the
running server without ever stopping it. The kernel drops the lock when its holder dies, so a
server listed while the lock is free has lost its owner: it is stale and is stopped cleanly
before a new one starts (two servers appending to one AOF would corrupt it; SIGTERM, Redis's
clean shutdown, flushes the AOF, so nothing is lost).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from services.embedded_redis._probe import server_answers
from services.embedded_redis._processes import is_program, send_signal, wait_gone

STATE_FILE = "embedded-redis.json"  # 0600: the URL carries the password
LOCK_FILE = "embedded-redis.lock"  # flock held by the owner while its server runs
PID_FILE = "redis.pid"  # written by Redis itself (--pidfile)
_PROGRAM = b"redis-server"


class OwnerLock:
    """An flock on LOCK_FILE, which names its holder's pid for the others to read. The kernel
    drops it when the holder dies, however it dies, so a free lock means no owner."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> OwnerLock | None:
        """The lock, or None when another open file (another process) holds it."""
        fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)  # O_CLOEXEC
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None


def lock_owner(data_dir: Path) -> int | None:
    try:
        return int((data_dir / LOCK_FILE).read_text().strip())
    except (OSError, ValueError):
        return None  # gone, or its new holder has not written its pid yet


@dataclass(frozen=True)
class ServerState:
    pid: int  # the server
    owner: int | None  # the process that started it; None in a state file from before owners
    url: str


def write_state(data_dir: Path, state: ServerState) -> None:
    """Atomically, and readable by us alone: the URL carries the server's password."""
    tmp = data_dir / (STATE_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(fd, 0o600)  # a tmp file left by an older version may have other modes
        json.dump({"pid": state.pid, "owner": state.owner, "url": state.url}, out)
    tmp.replace(data_dir / STATE_FILE)


def read_state(data_dir: Path) -> ServerState | None:
    try:
        raw = json.loads((data_dir / STATE_FILE).read_text())
        owner = raw.get("owner")
        return ServerState(int(raw["pid"]), None if owner is None else int(owner), str(raw["url"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def running_server(data_dir: Path) -> ServerState | None:
    """The server a live owner runs in `data_dir`, if it answers; nothing is created, locked
    or started, so a command that only needs a running `up` can look without side effects."""
    data_dir = data_dir.resolve()
    state = read_state(data_dir)
    owner = lock_owner(data_dir)
    if state is None or owner is None or state.owner != owner:
        return None
    if not is_redis_process(state.pid, data_dir) or not server_answers(state.url):
        return None
    return state


def remove_state(data_dir: Path) -> None:
    (data_dir / STATE_FILE).unlink(missing_ok=True)


def is_redis_process(pid: int, data_dir: Path | None = None) -> bool:
    """A live redis-server; with `data_dir`, one working there (we start it with that cwd)."""
    return is_program(pid, _PROGRAM, data_dir)


def stop_stale_server(data_dir: Path, *, timeout: float = 10.0) -> bool:
    """Stop a server an earlier owner started in `data_dir` and never stopped. Call it only
    while holding the lock: a server whose owner is alive is never stale.

    Only a live redis-server working in `data_dir` is touched, so a recycled pid of another
    program (or another Redis) is left alone. Without our state file, Redis's own pid file
    still finds it. Returns whether a server was stopped."""
    state = read_state(data_dir)
    pid = state.pid if state else _read_pid_file(data_dir)
    if pid is None or not is_redis_process(pid, data_dir):
        remove_state(data_dir)
        return False
    send_signal(pid, signal.SIGTERM)
    if not wait_gone(pid, _PROGRAM, timeout):
        send_signal(pid, signal.SIGKILL)
        wait_gone(pid, _PROGRAM, timeout)
    remove_state(data_dir)
    return True


def _read_pid_file(data_dir: Path) -> int | None:
    try:
        return int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


__all__ = [
    "LOCK_FILE",
    "PID_FILE",
    "STATE_FILE",
    "OwnerLock",
    "ServerState",
    "is_redis_process",
    "lock_owner",
    "read_state",
    "remove_state",
    "running_server",
    "stop_stale_server",
    "write_state",
]
