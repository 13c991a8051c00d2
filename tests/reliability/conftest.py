"""The whole deployment as real processes for crash tests: Redis (AOF), worker, beat, web.

`Deployment` starts each one the way a supervisor would and brings back whatever the test
kills or whatever ends on its own, recording how each ended. Nothing is mocked: the worker
crawls the mirror over HTTP, the web app serves what publishing stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.storage import Store
from tests.fixtures.site import SiteServer
from tests.workers.conftest import clear_broker, client_app, worker_env
from tests.workers.processes import RedisProcess, Service, free_port

# A lost task comes back after this many seconds (the worker's visibility timeout), so a
# round that kills the worker settles in seconds; production keeps workers.app's value.
VISIBILITY = 3
CRAWL_INTERVAL = 10  # the shortest NAMFEEDS_CRAWL_INTERVAL allowed: beat discovers this often


class Deployment:
    """Redis, one worker, one beat and the web app, each restartable."""

    def __init__(self, site: SiteServer, tmp: Path) -> None:
        self.redis = RedisProcess(tmp / "redis")
        self.web_port = free_port()
        env = worker_env(site, self.redis.url, NAMFEEDS_CRAWL_INTERVAL=str(CRAWL_INTERVAL))
        worker_args = ["worker", "--pool", "solo", "--visibility-timeout", str(VISIBILITY)]
        web_args = ["web", "--port", str(self.web_port)]
        self.services = {
            "worker": Service("worker", worker_args, env, tmp / "worker.log"),
            "beat": Service("beat", ["beat"], env, tmp / "beat.log"),
            "web": Service("web", web_args, env, tmp / "web.log"),
        }
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.web_port}", timeout=3)
        self.store: Store | None = None

    @property
    def url(self) -> str:
        return self.redis.url

    def start(self) -> None:
        self.redis.start()
        clear_broker(self.url)
        self.store = Store.from_url(self.url)
        for service in self.services.values():
            service.start()

    def kill(self, victim: str) -> None:
        if victim == "redis":
            self.redis.kill()
        else:
            self.services[victim].kill()

    def bring_back(self, victim: str) -> None:
        if victim == "redis":
            self.redis.start()
        else:
            self.services[victim].start()

    def supervise(self) -> list[str]:
        """Restart every service that ended on its own; their names."""
        if not self.redis.answers() and self.redis.process and self.redis.process.poll():
            self.redis.start()
        return [name for name, s in self.services.items() if s.restart_if_dead()]

    def worker_answers(self) -> bool:
        try:
            return bool(client_app(self.url).control.ping(timeout=0.5))
        except Exception:  # the broker is on its way back
            return False

    def web_answers(self) -> bool:
        try:
            return self.http.get("/feeds/all.atom").status_code == 200
        except httpx.HTTPError:
            return False

    def wait_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.supervise()
            if self.worker_answers() and self.web_answers():
                return
            time.sleep(0.2)
        raise AssertionError(f"the deployment did not come up:\n{self.tails()}")

    def tails(self, size: int = 2500) -> str:
        parts = [f"== redis\n{self.redis.log_tail()}"]
        for name, service in self.services.items():
            parts.append(f"== {name} (exits {service.exits})\n{service.output()[-size:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        self.http.close()
        for service in self.services.values():
            service.stop()
        if self.store is not None:
            self.store.close()
        self.redis.stop()


@pytest.fixture
def deployment(site: SiteServer, tmp_path: Path) -> Iterator[Deployment]:
    running = Deployment(site, tmp_path)
    try:
        running.start()
        running.wait_up()
        yield running
    finally:
        running.stop()
