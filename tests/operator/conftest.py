"""Run `nam-feeds` as a user does: a subprocess with an environment of its own, its printed
text and exit code checked. Long-running commands get their own session, so that a kill
takes everything they started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

NAM_FEEDS = [sys.executable, "-m", "cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**settings: str) -> dict[str, str]:
    """The caller's environment without any NAMFEEDS_* variable, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    env.update(settings)
    return env


def run_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NAM_FEEDS, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


class Running:
    """One long-running `nam-feeds` command, its output in a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*NAM_FEEDS, *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self._signal(sig)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(10)
        return self.process.returncode

    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """Start a long-running command; whatever is still running at teardown is killed."""
    started: list[Running] = []

    def run(*args: str, env: dict[str, str], name: str | None = None) -> Running:
        log = tmp_path / f"{name or args[0]}-{len(started)}.log"
        running = Running(list(args), env, log)
        started.append(running)
        return running

    yield run
    for running in started:
        if running.process.poll() is None:
            running.kill()


def get_json(url: str) -> dict[str, Any] | None:
    try:
        reply = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None
    body: dict[str, Any] = reply.json()
    return body
