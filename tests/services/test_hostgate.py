"""Politeness across processes: fetchers that share only a Redis still ask one host once at
a time, with the crawl delay between requests."""

from __future__ import annotations

import threading
import time

import redis

from services import keys
from services.fetching import Fetcher
from services.hostgate import RedisHostGate
from tests.fixtures.site import SiteServer

HOST = "www.belarus-nau.org"
PAGE = "/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"


def test_fetchers_sharing_a_redis_take_turns_with_the_delay(
    site: SiteServer, redis_url: str
) -> None:
    delay = 0.2
    settings = site.settings(crawl_delay=delay)
    errors: list[BaseException] = []

    def crawl(worker: int) -> None:
        # Each thread stands for a worker process: its own Redis client, gate and fetcher.
        client = redis.Redis.from_url(redis_url)
        gate = RedisHostGate(client, delay, hold_seconds=30)
        try:
            with Fetcher(settings, gate=gate) as fetcher:
                for _ in range(3):
                    fetcher.get(site.url(HOST, f"{PAGE}?w={worker}"))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=crawl, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    arrivals = sorted(r.time for r in site.requests(host=HOST) if r.path.startswith(PAGE))
    assert len(arrivals) == 9
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) >= delay * 0.9, f"requests {min(gaps):.3f} s apart, delay is {delay} s"


def test_a_late_owner_does_not_release_a_lock_taken_over_by_another(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        gate = RedisHostGate(client, 0.0, hold_seconds=0.2)
        with gate.turn("example.org"):
            time.sleep(0.3)  # our hold expires; another process takes the turn
            assert client.set(keys.host_lock("example.org"), "other", nx=True, px=5000)
        assert client.get(keys.host_lock("example.org")) == b"other"
    finally:
        client.delete(keys.host_lock("example.org"), keys.host_next("example.org"))
        client.close()
