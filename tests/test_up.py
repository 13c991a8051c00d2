"""`nam-feeds up` as a newcomer runs it: a fresh clone installed into a new virtual
environment, no Redis configured, the mirror standing in for the site."""

from __future__ import annotations

import json
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

from cli._up import browser_url
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


def _left_behind(marker: str, redis_pids: set[int]) -> list[int]:
    """Marked processes, and the embedded Redis: it rewrites its process title over its
    environment, so the marker cannot find it."""
    return _marked_processes(marker) + [pid for pid in redis_pids if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_none_left(marker: str, redis_pids: set[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _left_behind(marker, redis_pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


class Up:
    def __init__(self, bin_dir: Path, env: dict[str, str], port: int, log: Path) -> None:
        self.bin_dir, self.env, self.port, self.log = bin_dir, env, port, log
        self.log_start = 0  # where this start's part of the log begins
        self.process: subprocess.Popen[bytes] | None = None
        self.redis_pids: set[int] = set()  # every embedded Redis it was seen running

    @property
    def data_dir(self) -> Path:
        return Path(self.env["NAMFEEDS_DATA_DIR"])

    def wait_serving(self, seconds: float = 60) -> None:
        """Until `up` says it is up and the index page answers; notes the embedded Redis's
        pid. (The page can answer before `up` has seen it does: a child that dies then is
        one that died while starting, which stops everything at once.)"""
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            if b"nam-feeds is up" not in self.log.read_bytes()[self.log_start :]:
                time.sleep(0.1)
                continue
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/", timeout=2).status_code == 200:
                    state = json.loads((self.data_dir / "embedded-redis.json").read_text())
                    self.redis_pids.add(int(state["pid"]))
                    return
            except (httpx.HTTPError, OSError, ValueError):
                pass
            time.sleep(0.2)
        pytest.fail(f"`nam-feeds up` did not serve:\n{self.log.read_text()[-3000:]}")

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def start(self, *extra: str) -> None:
        self.log_start = self.log.stat().st_size if self.log.exists() else 0
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
        for pid in _left_behind(marker, runner.redis_pids):
            os.kill(pid, signal.SIGKILL)


def test_up_crawls_serves_stops_cleanly_and_keeps_everything(
    up: tuple[Up, str], site: SiteServer
) -> None:
    runner, marker = up
    runner.start()
    runner.wait_serving()
    entries = _all_feed_entries(runner.port, time.monotonic() + 120)
    log = runner.log.read_text(errors="replace")
    assert entries == POSTS_IN_MIRROR, f"the all feed held {entries} entries:\n{log[-3000:]}"
    assert f"http://127.0.0.1:{runner.port}/" in log
    assert len(_marked_processes(marker)) >= 3, "worker, beat and web should be running"

    # `status` on the same data dir uses up's Redis and leaves it running (it used to shut
    # it down); the password it needs comes from the state file, never from the console
    status = subprocess.run(
        [str(runner.bin_dir / "nam-feeds"), "status"],
        env=runner.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["posts"] == POSTS_IN_MIRROR
    assert all(_alive(pid) for pid in runner.redis_pids), "status stopped up's Redis"
    assert ":***@" in log
    url = json.loads((runner.data_dir / "embedded-redis.json").read_text())["url"]
    password = url.split("@")[0].rpartition(":")[2]
    assert len(password) >= 32 and password not in log + status.stderr

    web = [pid for pid in _marked_processes(marker) if b"web" in _cmdline(pid)]
    assert len(web) == 1, "one web process"
    os.kill(web[0], signal.SIGKILL)  # a child that dies is reported and restarted
    assert _all_feed_entries(runner.port, time.monotonic() + 60) == POSTS_IN_MIRROR
    assert "web exited" in runner.log.read_text(errors="replace")

    took = runner.stop()
    assert took < 10, f"stopping took {took:.1f} s"
    assert runner.process is not None and runner.process.returncode == 0
    time.sleep(0.5)
    assert _left_behind(marker, runner.redis_pids) == [], "processes were left behind"

    site.reset()  # forget the first run's requests
    runner.start("--no-crawl")
    runner.wait_serving()
    entries = _all_feed_entries(runner.port, time.monotonic() + 60)
    assert entries == POSTS_IN_MIRROR, "the posts did not survive a restart"
    assert [r for r in site.requests() if "/post/" in r.path] == [], "it crawled again"
    runner.stop()
    time.sleep(0.5)
    assert _left_behind(marker, runner.redis_pids) == []


def test_a_port_in_use_stops_up_with_one_line_before_it_is_up(up: tuple[Up, str]) -> None:
    runner, marker = up
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", runner.port))
        taken.listen()
        runner.start("--no-crawl")
        assert runner.process is not None
        try:
            code = runner.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("`nam-feeds up` did not refuse a port in use")
    log = runner.log.read_text(errors="replace")
    assert code == 1, log[-3000:]
    assert f"cannot serve on 127.0.0.1:{runner.port}: Address already in use" in log
    assert "is up" not in log and "restarting" not in log
    assert _left_behind(marker, runner.redis_pids) == [], "processes were left behind"


def _web_pid(marker: str, other_than: int | None, seconds: float) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        web = [p for p in _marked_processes(marker) if b" web " in _cmdline(p) + b" "]
        web = [p for p in web if p != other_than and _alive(p)]
        if web:
            return web[0]
        time.sleep(0.1)
    return None


def test_up_stops_everything_when_a_child_keeps_dying(up: tuple[Up, str]) -> None:
    runner, marker = up
    runner.start("--no-crawl")
    runner.wait_serving()
    assert runner.process is not None
    pid = None
    for _ in range(4):  # MAX_RESTARTS is 3: the fourth death stops it all
        pid = _web_pid(marker, pid, 20)
        if pid is None:
            break
        os.kill(pid, signal.SIGKILL)
    try:
        code = runner.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("`nam-feeds up` hung half-alive with a child that keeps dying")
    log = runner.log.read_text(errors="replace")
    assert code == 1, log[-3000:]
    assert "web keeps exiting" in log, log[-3000:]
    time.sleep(0.5)
    assert _left_behind(marker, runner.redis_pids) == [], "processes were left behind"


def test_a_sigkilled_up_leaves_no_process_behind(up: tuple[Up, str]) -> None:
    """SIGKILL runs no cleanup: the children and Redis go by the kernel's parent-death
    signal, SIGTERM, which is Redis's clean shutdown."""
    runner, marker = up
    runner.start("--no-crawl")
    runner.wait_serving()
    assert len(_marked_processes(marker)) >= 4, "up, worker, beat and web should be running"
    runner.signal(signal.SIGKILL)
    assert runner.process is not None
    runner.process.wait()
    left = _wait_none_left(marker, runner.redis_pids, 8)
    assert left == [], [_cmdline(pid) for pid in left]
    runner.start("--no-crawl")  # the data dir is not locked by a ghost
    runner.wait_serving()
    runner.stop()


def test_more_signals_while_stopping_leave_no_orphan(up: tuple[Up, str]) -> None:
    """A second SIGTERM (an impatient supervisor) used to kill `up` before it stopped its
    children, leaving the embedded Redis orphaned."""
    runner, marker = up
    runner.start("--no-crawl")
    runner.wait_serving()
    assert runner.process is not None
    started = time.monotonic()
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGINT, signal.SIGTERM):
        runner.signal(sig)
        time.sleep(0.15)
    code = runner.process.wait(timeout=15)
    took = time.monotonic() - started
    log = runner.log.read_text(errors="replace")
    assert code == 0 and took < 10, f"code {code} after {took:.1f} s:\n{log[-3000:]}"
    assert "SIGTERM received, stopping" in log
    assert _wait_none_left(marker, runner.redis_pids, 2) == [], "processes were left behind"


def test_up_stops_with_a_message_when_its_redis_dies(up: tuple[Up, str]) -> None:
    runner, marker = up
    runner.start("--no-crawl")
    runner.wait_serving()
    assert runner.process is not None
    (redis_pid,) = runner.redis_pids
    os.kill(redis_pid, signal.SIGKILL)
    try:
        code = runner.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("`nam-feeds up` hung half-alive without its Redis")
    log = runner.log.read_text(errors="replace")
    assert code == 1, log[-3000:]
    assert "the embedded Redis exited" in log
    assert _wait_none_left(marker, runner.redis_pids, 2) == [], "processes were left behind"


def test_a_wildcard_host_still_gives_readers_an_address_they_can_open(
    up: tuple[Up, str],
) -> None:
    runner, _marker = up
    runner.start("--host", "0.0.0.0", "--no-crawl")
    runner.wait_serving()
    opml = httpx.get(f"http://127.0.0.1:{runner.port}/feeds.opml", timeout=5).text
    feed = httpx.get(f"http://127.0.0.1:{runner.port}/feeds/all.atom", timeout=5).text
    runner.stop()
    own = f"http://127.0.0.1:{runner.port}/"
    assert f"nam-feeds is up: feeds at {own}" in runner.log.read_text(errors="replace")
    assert f'xmlUrl="{own}feeds/all.atom' in opml
    assert f'href="{own}feeds/all.atom" rel="self"' in feed
    assert "0.0.0.0" not in opml + feed


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080"),
        ("0.0.0.0", "http://127.0.0.1:8080"),
        ("", "http://127.0.0.1:8080"),
        ("::", "http://127.0.0.1:8080"),
        ("::1", "http://[::1]:8080"),
        ("[::1]", "http://[::1]:8080"),
        ("feeds.example.org", "http://feeds.example.org:8080"),
    ],
)
def test_browser_url(host: str, url: str) -> None:
    assert browser_url(host, 8080) == url
