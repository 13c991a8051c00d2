"""`nam-feeds up` as a newcomer runs it: a fresh clone installed into a new virtual
environment, no Redis configured, the mirror standing in for the site."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from tests.fixtures.site import SiteServer

ROOT = Path(__file__).resolve().parent.parent
POSTS_IN_MIRROR = 5  # the expected/ parses; the sitemap's Russian alternate is a 404


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install .` of a fresh clone into a new virtual environment; its bin/ folder."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.fail("this test clones the repository: run it from a git checkout with git")
    base = tmp_path_factory.mktemp("newcomer")
    clone = base / "nam-feeds"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", str(clone)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    return venv / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _marked_processes(marker: str) -> list[int]:
    """Processes whose environment carries the marker: everything `up` started inherits it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"NAMFEEDS_TEST_MARKER={marker}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


class Up:
    def __init__(self, bin_dir: Path, env: dict[str, str], port: int, log: Path) -> None:
        self.bin_dir, self.env, self.port, self.log = bin_dir, env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(self.bin_dir / "nam-feeds"), "up", "--port", str(self.port), *extra],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> float:
        """SIGINT, as Ctrl-C sends it; how long the command took to exit."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail(f"`nam-feeds up` ignored SIGINT for 15 s:\n{self.log.read_text()[-3000:]}")
        return time.monotonic() - started


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _all_feed_entries(port: int, deadline: float) -> int:
    count = -1
    while time.monotonic() < deadline:
        try:
            reply = httpx.get(f"http://127.0.0.1:{port}/feeds/all.atom", timeout=2)
            if reply.status_code == 200:
                count = len(feedparser.parse(reply.content).entries)
                if count >= POSTS_IN_MIRROR:
                    return count
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return count


@pytest.fixture
def up(installed: Path, site: SiteServer, tmp_path: Path) -> Iterator[tuple[Up, str]]:
    marker = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    env.update(site.env())
    env.pop("NAMFEEDS_REDIS_URL", None)
    env.update(
        NAMFEEDS_DATA_DIR=str(tmp_path / "data"),
        NAMFEEDS_TEST_MARKER=marker,
        NAMFEEDS_CRAWL_DELAY="0",
    )
    runner = Up(installed, env, _free_port(), tmp_path / "up.log")
    try:
        yield runner, marker
    finally:
        if runner.process and runner.process.poll() is None:
            os.killpg(runner.process.pid, signal.SIGKILL)
        for pid in _marked_processes(marker):
            os.kill(pid, signal.SIGKILL)


def test_up_crawls_serves_stops_cleanly_and_keeps_everything(
    up: tuple[Up, str], site: SiteServer
) -> None:
    runner, marker = up
    runner.start()
    entries = _all_feed_entries(runner.port, time.monotonic() + 120)
    log = runner.log.read_text(errors="replace")
    assert entries == POSTS_IN_MIRROR, f"the all feed held {entries} entries:\n{log[-3000:]}"
    assert f"http://127.0.0.1:{runner.port}/" in log
    assert len(_marked_processes(marker)) >= 4, "redis, worker, beat and web should be running"

    web = [pid for pid in _marked_processes(marker) if b"web" in _cmdline(pid)]
    assert len(web) == 1, "one web process"
    os.kill(web[0], signal.SIGKILL)  # a child that dies is reported and restarted
    assert _all_feed_entries(runner.port, time.monotonic() + 60) == POSTS_IN_MIRROR
    assert "web exited" in runner.log.read_text(errors="replace")

    took = runner.stop()
    assert took < 10, f"stopping took {took:.1f} s"
    assert runner.process is not None and runner.process.returncode == 0
    time.sleep(0.5)
    assert _marked_processes(marker) == [], "processes were left behind"

    site.reset()  # forget the first run's requests
    runner.start("--no-crawl")
    entries = _all_feed_entries(runner.port, time.monotonic() + 60)
    assert entries == POSTS_IN_MIRROR, "the posts did not survive a restart"
    assert [r for r in site.requests() if "/post/" in r.path] == [], "it crawled again"
    runner.stop()
    time.sleep(0.5)
    assert _marked_processes(marker) == []


def test_up_stops_everything_when_a_child_keeps_dying(up: tuple[Up, str]) -> None:
    runner, marker = up
    with socket.socket() as taken:  # the web app cannot bind its port, so it exits each time
        taken.bind(("127.0.0.1", runner.port))
        taken.listen()
        runner.start("--no-crawl")
        assert runner.process is not None
        try:
            code = runner.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            pytest.fail("`nam-feeds up` hung half-alive with a child that keeps dying")
    log = runner.log.read_text(errors="replace")
    assert code == 1, log[-3000:]
    assert "web keeps exiting" in log
    time.sleep(0.5)
    assert _marked_processes(marker) == [], "processes were left behind"
