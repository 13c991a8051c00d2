"""The deployment files: valid by the Compose specification and a Dockerfile linter (no
Docker engine needed), and each service's command starts and serves as a local process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from ruamel.yaml import YAML

from services.broker import Broker, broker_url
from tests.fixtures.site import SiteServer

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMPOSE: dict[str, Any] = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
APPS = ("worker", "beat", "web")


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is missing: pip install -e '.[test]' installs it")
    return str(path)


def test_compose_file_follows_the_compose_specification() -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_the_linter() -> None:
    result = subprocess.run(
        [_tool("hadolint"), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK ") for line in lines)
    installs = [line for line in lines if "pip install" in line]
    assert any("--require-hashes -r" in line and "requirements.lock" in line for line in installs)
    # the project itself on top of the locked set, resolving nothing more
    assert all("--require-hashes" in line or "--no-deps" in line for line in installs)
    for package in ("services", "workers", "feeds", "cli"):
        assert f"COPY {package} ./{package}" in lines, f"the image lacks the {package} package"


def test_every_image_is_pinned_to_an_exact_version() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    images = [line.split()[1] for line in lines if line.startswith("FROM ")]
    images += [service["image"] for service in COMPOSE["services"].values()]
    for image in images:
        name, _, tag = image.partition(":")
        assert re.fullmatch(r"\d+\.\d+\.\d+(-[a-z0-9.-]+)?", tag), f"{image} is not pinned"


def test_python_dependencies_are_locked_with_hashes() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.MULTILINE))
    entries = re.findall(r"^[A-Za-z0-9_.-]+==[^\n]*(?:\n    [^\n]*)*", lock, re.MULTILINE)
    assert len(entries) == len(pins) > 20
    assert all("--hash=sha256:" in entry for entry in entries), "an entry without a hash"
    with (ROOT / "pyproject.toml").open("rb") as project:
        wanted = tomllib.load(project)["project"]["dependencies"]
    names = {re.split(r"[<>=!;\[ ]", req, maxsplit=1)[0].lower() for req in wanted}
    locked = {name.lower().replace("_", "-") for name in pins}
    assert names - locked == set(), "runtime dependencies missing from requirements.lock"


def test_compose_refuses_to_start_without_an_admin_token() -> None:
    token = COMPOSE["services"]["web"]["environment"]["NAMFEEDS_ADMIN_TOKEN"]
    assert re.fullmatch(r"\$\{NAMFEEDS_ADMIN_TOKEN:\?[^}]+\}", token), token


def test_services_are_hardened() -> None:
    for name in ("redis", *APPS):
        service = COMPOSE["services"][name]
        assert service["read_only"] is True and "/tmp" in service["tmpfs"], name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["deploy"]["resources"]["limits"]["memory"], name
        options = service["logging"]["options"]
        assert service["logging"]["driver"] == "json-file" and options["max-size"], name
        assert int(options["max-file"]) >= 2, name


def test_worker_and_beat_health_checks_test_the_process_itself() -> None:
    for name in ("worker", "beat"):
        test = COMPOSE["services"][name]["healthcheck"]["test"]
        assert test == ["CMD", "nam-feeds", "healthcheck", name], test


def test_redis_is_durable_and_never_evicts() -> None:
    redis_service = COMPOSE["services"]["redis"]
    command = " ".join(redis_service["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert redis_service["image"].startswith("redis:7")
    volume = redis_service["volumes"][0].split(":")[0]
    assert volume in COMPOSE["volumes"], "Redis data must live in a named volume"


def test_apps_share_one_image_wait_for_health_and_read_an_env_file() -> None:
    services = COMPOSE["services"]
    assert {services[name]["build"] for name in APPS} == {"."}
    for name in (*APPS, "redis"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    for name in APPS:
        depends = services[name]["depends_on"]
        assert depends["redis"]["condition"] == "service_healthy"
        assert services[name]["env_file"][0]["path"] == ".env"
    assert services["beat"]["deploy"]["replicas"] == 1


def test_the_worker_writes_the_feed_files_that_nginx_reads_read_only() -> None:
    services = COMPOSE["services"]
    worker, nginx = services["worker"], services["nginx"]
    directory = worker["environment"]["NAMFEEDS_FEED_DIR"]
    assert worker["environment"]["NAMFEEDS_REDIS_URL"] == services["web"]["environment"][
        "NAMFEEDS_REDIS_URL"
    ]
    assert f"feeds:{directory}" in worker["volumes"] and "feeds" in COMPOSE["volumes"]
    assert f"feeds:{directory}:ro" in nginx["volumes"]
    # the volume is created with the worker's container, taking the image's owner of it
    assert nginx["depends_on"]["worker"]["condition"] == "service_started"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"install -d -o nam -g nam -m 0755 {directory}" in dockerfile
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert f"root {directory}/$feed_variant;" in conf


def test_nginx_finds_a_file_for_every_language_the_app_serves_and_no_other() -> None:
    from feeds.files import NO_LANGUAGE
    from services.model import LANGUAGES

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    variants = conf[conf.index("map $args $feed_variant {") :].split("}", 1)[0]
    match = re.search(r'"~\^lang=\(([a-z|]+)\)\$"\s+\$1;', variants)
    assert match, variants
    assert sorted(match[1].split("|")) == sorted(LANGUAGES)
    assert re.search(rf'""\s+{NO_LANGUAGE};', variants), "feeds with no query: the `any` directory"


def test_the_hub_is_told_after_nginx_can_have_seen_a_replaced_file() -> None:
    from feeds.files import SERVER_FILE_CACHE

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    valid = re.search(r"^\s*open_file_cache_valid (\d+)s;", conf, re.MULTILINE)
    assert valid and int(valid[1]) <= SERVER_FILE_CACHE


def test_admin_token_is_never_committed() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.fail("this test reads the git index: run it from a git checkout with git")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert ".env" not in tracked and ".env.example" in tracked
    example = (ROOT / ".env.example").read_text()
    assert "NAMFEEDS_ADMIN_TOKEN=\n" in example, "the example must leave the token empty"
    compose = (ROOT / "docker-compose.yml").read_text()
    # given no value: only taken from the environment or .env, required there
    values = re.findall(r"NAMFEEDS_ADMIN_TOKEN\s*[:=]\s*(\S+)", compose)
    assert values and all(v.startswith("${NAMFEEDS_ADMIN_TOKEN:?") for v in values), values


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _local(command: list[str]) -> list[str]:
    """The container's command, run from this environment's bin/ folder."""
    return [str(BIN / command[0]), *command[1:]]


def _wait(check: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("name", APPS)
def test_service_command_starts_and_serves(
    name: str, redis_url: str, site: SiteServer, tmp_path: Path
) -> None:
    command = _local(COMPOSE["services"][name]["command"])
    port = _free_port()
    if name == "web":
        command[command.index("--port") + 1] = str(port)
        command[command.index("--host") + 1] = "127.0.0.1"
    service = COMPOSE["services"][name]
    # the URL as compose gives it, options included, with the test's server in it
    options = service["environment"]["NAMFEEDS_REDIS_URL"].partition("?")[2]
    url = f"{redis_url}?{options}" if options else redis_url
    env = {**os.environ, **site.env(), "NAMFEEDS_REDIS_URL": url}
    env["NAMFEEDS_DATA_DIR"] = str(tmp_path)
    env["NAMFEEDS_ADMIN_TOKEN"] = "a-token-for-the-deploy-test"
    broker = redis.Redis.from_url(broker_url(redis_url))
    broker.flushdb()
    log = (tmp_path / f"{name}.log").open("wb")
    errors = (tmp_path / f"{name}.err").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=errors, start_new_session=True)
    try:
        if name == "worker":
            pinger = Broker(broker_url(redis_url))
            try:
                _wait(lambda: pinger.ping_workers(1.0) > 0, 60, "the worker to answer a ping")
            finally:
                pinger.close()
        elif name == "beat":
            _wait(lambda: broker.exists("redbeat::lock"), 60, "beat to take the schedule lock")
        else:
            _wait(lambda: _status(f"http://127.0.0.1:{port}/healthz") == 200, 60, "web /healthz")
        assert process.poll() is None, (tmp_path / f"{name}.err").read_text()
        check = _local(service["healthcheck"]["test"][1:])
        if check[0].endswith("nam-feeds"):  # worker and beat: their own heartbeat
            _wait(lambda: _healthy(check, env), 30, f"{name}'s health check to pass")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        errors.close()
        broker.flushdb()
        broker.close()
    _assert_json_lines(tmp_path / f"{name}.err")


def _assert_json_lines(path: Path) -> None:
    """Logs are structured: off a terminal, every line on stderr is one JSON record."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert lines, f"{path.name}: the service logged nothing"
    for line in lines:
        record = json.loads(line)
        assert {"event", "level", "timestamp"} <= record.keys(), line


def _healthy(command: list[str], env: dict[str, str]) -> bool:
    result = subprocess.run(command, env=env, capture_output=True, timeout=30, check=False)
    return result.returncode == 0


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0
