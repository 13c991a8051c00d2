"""/healthz from the heartbeats: a killed worker is reported within the heartbeat timeout,
by name, while beat and Redis stay healthy; the web process never pings the workers."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from services.storage import BEAT_TIMEOUT
from tests.operator.conftest import Running, clean_env, free_port, get_json, run_cli, wait_for


def test_healthz_reports_a_killed_worker_within_the_heartbeat_timeout(
    redis_url: str, redis_client: redis.Redis, start: Callable[..., Running]
) -> None:
    env = clean_env(NAMFEEDS_REDIS_URL=redis_url)
    port = free_port()
    web = start("web", "--port", str(port), env=env)
    worker = start("worker", "--pool", "solo", "--concurrency", "1", env=env)
    beat = start("beat", env=env)
    url = f"http://127.0.0.1:{port}/healthz"

    def healthy() -> dict[str, object] | None:
        for process in (web, worker, beat):
            assert process.process.poll() is None, process.output()[-3000:]
        body = get_json(url)
        return body if body and body["status"] == "ok" else None

    body = wait_for(healthy, 60, "/healthz to report every part healthy")
    assert body["workers"]["count"] == 1 and body["beat"]["count"] == 1
    check = run_cli("healthcheck", "beat", env=env)
    assert check.returncode == 0 and "beat on" in check.stdout, check.stderr

    worker.kill()
    killed = time.monotonic()

    def worker_down() -> dict[str, object] | None:
        body = get_json(url)
        return body if body and body["workers"]["status"] == "down" else None

    body = wait_for(worker_down, BEAT_TIMEOUT + 10, "/healthz to report the dead worker")
    took = time.monotonic() - killed
    assert took <= BEAT_TIMEOUT + 1.5, f"reported {took:.1f} s after the kill"
    assert body["status"] == "degraded" and body["unhealthy"] == ["workers"]
    assert body["beat"]["status"] == "ok" and body["redis"] == "ok"
    assert run_cli("healthcheck", "worker", env=env).returncode == 1

    beat.stop()  # a clean stop removes its beat at once
    body = wait_for(
        lambda: (b := get_json(url)) and b["beat"]["status"] == "down" and b, 5, "beat down"
    )
    assert body["unhealthy"] == ["workers", "beat"]
