"""/healthz latency against its floor: a bare ASGI app under uvicorn returning fixed JSON.

Run: python -m bench.health   (goal: median under 20 ms; it reads the heartbeats in one Redis
round trip instead of pinging the workers). The real `nam-feeds web` runs as a subprocess over
an embedded Redis holding a worker's and a beat's heartbeats, access log on as deployed; the
floor runs the same way. One keep-alive client asks each REQUESTS times, one at a time, so the
numbers are latencies, not throughput.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import wait_until_answers
from services.embedded_redis import EmbeddedRedis
from services.storage import Heartbeats, Store

REQUESTS = 500
GOAL_MS = 20.0
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _floor_app(scope: dict[str, object], receive: object, send: object) -> None:
    assert callable(send)
    body = b'{"status":"ok"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"15")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _serve_floor(port: int) -> None:
    import uvicorn

    uvicorn.run(_floor_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _latencies(url: str) -> list[float]:
    with httpx.Client(timeout=5) as client:
        for _ in range(50):  # warm-up, discarded
            client.get(url)
        times = []
        for _ in range(REQUESTS):
            start = time.perf_counter()
            reply = client.get(url)
            times.append(time.perf_counter() - start)
            if reply.status_code != 200:
                raise SystemExit(f"bench: {url} answered {reply.status_code}")
    return times


def _row(name: str, times: list[float]) -> tuple[float, str]:
    median = statistics.median(times) * 1e3
    p95 = statistics.quantiles(times, n=20)[-1] * 1e3
    return median, f"{name:9} median {median:7.2f} ms   p95 {p95:7.2f} ms"


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and print it; also returns the figures (milliseconds, and the
    ratio to the floor) for a caller that collects every benchmark's."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve-floor", type=int, metavar="PORT")
    args, _rest = parser.parse_known_args(argv)  # a caller's own options are not ours
    if args.serve_floor:
        _serve_floor(args.serve_floor)
        return {}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis:
        return _run(redis.url, Path(tmp))


def _run(redis_url: str, tmp: Path) -> dict[str, float]:
    store = Store.from_url(redis_url)
    beats = Heartbeats(store.client)
    beats.beat("worker", "bench:1")
    beats.beat("beat", "bench:2")
    web_port, floor_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    env["NAMFEEDS_REDIS_URL"] = redis_url
    with (tmp / "web.log").open("wb") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "cli", "web", "--port", str(web_port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    floor = subprocess.Popen(
        [sys.executable, "-m", "bench.health", "--serve-floor", str(floor_port)], cwd=ROOT
    )
    try:
        health_url = f"http://127.0.0.1:{web_port}/healthz"
        floor_url = f"http://127.0.0.1:{floor_port}/"
        wait_until_answers(health_url, web, timeout=60)
        wait_until_answers(floor_url, floor, timeout=60)
        print(httpx.get(health_url).text)
        health_median, health_line = _row("/healthz", _latencies(health_url))
        floor_median, floor_line = _row("floor", _latencies(floor_url))
        print(health_line)
        print(floor_line)
        verdict = "meets" if health_median < GOAL_MS else "misses"
        ratio = health_median / floor_median
        print(f"/healthz median is {ratio:.2f}x the floor's; {verdict} the {GOAL_MS:g} ms goal")
        return {"healthz_median_ms": health_median, "floor_median_ms": floor_median, "ratio": ratio}
    finally:
        for process in (web, floor):
            process.terminate()
            process.wait(10)
        store.close()


if __name__ == "__main__":
    main()
