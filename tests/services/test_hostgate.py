"""Politeness across processes: fetchers that share only a Redis still ask one host once at
a time, with the crawl delay between requests, and a host's Retry-After holds off all of them.
The hold-off tests run against both gates, the in-process one and the Redis one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import redis

from services.errors import TransientFetchError
from services.fetch import Fetcher, HostGate, HostHeldOff, LocalHostGate, RedisHostGate
from services.storage import _keys as keys
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


def test_retry_after_told_to_one_fetcher_holds_off_the_others(
    site: SiteServer, redis_url: str
) -> None:
    # Two workers: the first is told 503 Retry-After: 1, the second's next request to the
    # same host (another page) waits that second too.
    busy = "/fault/503?retry_after=1"
    settings = site.settings(max_retries=0)
    first, second = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    try:
        told = Fetcher(settings, gate=RedisHostGate(first, 0.0, hold_seconds=30))
        other = Fetcher(settings, gate=RedisHostGate(second, 0.0, hold_seconds=30))
        with told, other:
            other.get(site.url(HOST, "/robots.txt"))
            with pytest.raises(TransientFetchError):
                told.get(site.url(HOST, busy))
            other.get(site.url(HOST, PAGE))
    finally:
        first.close()
        second.close()
    [busy_at] = [r.time for r in site.requests(path=busy)]
    [page_at] = [r.time for r in site.requests(path=PAGE)]
    assert page_at - busy_at >= 0.98


def test_the_lock_outlasts_a_wait_longer_than_its_hold(redis_client: redis.Redis) -> None:
    # Hold 0.2 s, crawl delay 0.6 s: the second turn sleeps past the hold, and must still own
    # the host, with a full hold left, when its request starts.
    gate = RedisHostGate(redis_client, 0.6, hold_seconds=0.2)
    lock = keys.host_lock(HOST)
    with gate.turn(HOST):
        pass
    seen: dict[str, object] = {}

    def second_turn() -> None:
        with gate.turn(HOST):
            seen["ttl_at_request"] = redis_client.pttl(lock)

    thread = threading.Thread(target=second_turn)
    thread.start()
    time.sleep(0.4)  # past the hold, still within the delay
    taken_by_another = redis_client.set(lock, "other", nx=True, px=5000)
    thread.join(timeout=10)
    assert not taken_by_another
    assert isinstance(seen["ttl_at_request"], int) and seen["ttl_at_request"] > 150


@pytest.fixture(params=["local", "redis"])
def make_gate(request: pytest.FixtureRequest, redis_client: redis.Redis) -> Callable[..., HostGate]:
    def make(delay: float = 0.0, max_hold_off: float = 600.0) -> HostGate:
        if request.param == "local":
            return LocalHostGate(delay, max_hold_off=max_hold_off)
        return RedisHostGate(redis_client, delay, hold_seconds=5, max_hold_off=max_hold_off)

    return make


def _turn_wait(gate: HostGate, host: str = HOST) -> float:
    start = time.monotonic()
    with gate.turn(host):
        return time.monotonic() - start


def test_hold_off_delays_the_next_turn_on_that_host_only(
    make_gate: Callable[..., HostGate],
) -> None:
    gate = make_gate()
    gate.hold_off(HOST, 0.5)
    assert _turn_wait(gate, "belarus-nau.org") < 0.2
    assert _turn_wait(gate) >= 0.45
    assert _turn_wait(gate) < 0.2


def test_hold_off_never_shortens_a_wait(make_gate: Callable[..., HostGate]) -> None:
    gate = make_gate()
    gate.hold_off(HOST, 0.5)
    gate.hold_off(HOST, 0.05)
    assert _turn_wait(gate) >= 0.45


def test_hold_off_within_a_turn_outlasts_its_release(make_gate: Callable[..., HostGate]) -> None:
    # The fetcher holds off while it still holds the turn; releasing the turn (which sets the
    # next time to now + delay) must not undo that.
    gate = make_gate(delay=0.05)
    with gate.turn(HOST):
        gate.hold_off(HOST, 0.5)
    assert _turn_wait(gate) >= 0.45


def test_hold_off_is_capped(make_gate: Callable[..., HostGate]) -> None:
    gate = make_gate(max_hold_off=0.3)
    gate.hold_off(HOST, 3600)
    assert 0.25 <= _turn_wait(gate) < 2


def test_a_turn_further_off_than_the_caller_waits_is_refused_at_once(
    make_gate: Callable[..., HostGate],
) -> None:
    # A host that asked for an hour is not slept through: the caller is told how long is
    # left, at once, and a caller willing to wait (or another host) still gets a turn.
    gate = make_gate(max_hold_off=86400)
    gate.hold_off(HOST, 3600)
    start = time.monotonic()
    with pytest.raises(HostHeldOff) as caught, gate.turn(HOST, max_wait=60):
        pass
    assert time.monotonic() - start < 0.5
    assert caught.value.host == HOST and 3590 < caught.value.seconds <= 3600
    assert _turn_wait(gate, "belarus-nau.org") < 0.2


def test_a_refused_turn_leaves_the_host_free(redis_client: redis.Redis) -> None:
    gate = RedisHostGate(redis_client, 0.0, hold_seconds=5)
    gate.hold_off(HOST, 30)
    with pytest.raises(HostHeldOff), gate.turn(HOST, max_wait=1):
        pass
    assert redis_client.get(keys.host_lock(HOST)) is None
    assert 25_000 < int(redis_client.get(keys.host_next(HOST)) or 0) - _redis_ms(redis_client)


def _redis_ms(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000
