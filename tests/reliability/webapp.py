"""`nam-feeds web` as a subprocess on a free port, its log kept in a file: the reliability
tests attack the real command, not an app object, and read what it logged."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class WebApp:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def run_web(redis_url: str, log: Path, **env: str) -> Iterator[WebApp]:
    port = free_port()
    environ = os.environ | {"NAMFEEDS_REDIS_URL": redis_url} | env
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "web", "--port", str(port)],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        app = WebApp(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait(app)
            yield app
        finally:
            process.terminate()
            process.wait(15)


def _wait(app: WebApp) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(app.url + "/healthz", timeout=1)
            return
        except httpx.TransportError as exc:
            if app.process.poll() is not None or time.monotonic() > deadline:
                log = app.log_text()[-2000:]
                raise AssertionError(f"nam-feeds web did not start: {log}") from exc
            time.sleep(0.1)
