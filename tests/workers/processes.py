"""Real processes a test kills and brings back, as a supervisor (systemd) would.

`RedisProcess` is a redis-server on a fixed port with AOF (`appendfsync always`), so a
SIGKILL loses nothing acknowledged and a restart comes back at the same address with the
same data. `Service` is one `nam-feeds <command>` in its own session, so a kill takes all of
it (a worker's pool processes included).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

from services.embedded_redis import find_redis_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass


class RedisProcess:
    """A restartable Redis on one port; its data and AOF in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.binary = find_redis_server().path
        self.process: subprocess.Popen[bytes] | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> RedisProcess:
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--maxmemory-policy", "noeviction",
        ]  # fmt: skip
        with (self.data_dir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers():
                return self
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited: {self.log_tail()}")
            time.sleep(0.02)
        raise AssertionError(f"redis-server did not answer within {timeout:g} s")

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        if self.process is not None:
            _kill_group(self.process, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            _kill_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self) -> str:
        log = self.data_dir / "redis.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


class Service:
    """`python -m cli <args>` with `env`; its output appended to `log` across restarts."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.exits: list[int] = []  # exit statuses of runs that ended on their own

    def start(self) -> Service:
        with self.log.open("ab") as out:
            out.write(f"---- start {self.starts} of {self.name}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli", *self.args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no message handed back."""
        if self.process is not None:
            _kill_group(self.process, signal.SIGKILL)
            self.process.wait(10)

    def restart_if_dead(self) -> bool:
        """Bring the service back if it ended on its own; True if it had."""
        if self.process is None or self.alive():
            return False
        self.exits.append(int(self.process.returncode))
        self.start()
        return True

    def stop(self) -> None:
        if self.process is None:
            return
        _kill_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
