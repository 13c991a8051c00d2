"""A host kept between one worker's requests (RedisHostGate.keeping, for a batch of one
host's pages): one take and one release for the lot, the crawl delay still between requests,
another worker kept waiting KEEP_SECONDS at most, a Retry-After still obeyed, and a killed
keeper's lock gone within two holds."""

from __future__ import annotations

import threading
import time
from typing import Any

import redis

from services.fetch import RedisHostGate
from services.fetch._shared_turns import KEEP_SECONDS
from services.storage import keys

HOST = "www.belarus-nau.org"


class CountingConnection(redis.Connection):
    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


def test_kept_turns_cost_one_take_and_one_release(redis_client: redis.Redis) -> None:
    kwargs = redis_client.get_connection_kwargs()
    pool = redis.ConnectionPool(connection_class=CountingConnection, **kwargs)
    client = redis.Redis(connection_pool=pool)
    try:
        gate = RedisHostGate(client, 0.0, hold_seconds=5)
        with gate.keeping(), gate.turn(HOST):
            pass  # connects, and loads the scripts
        CountingConnection.sent = 0
        with gate.keeping():
            for _ in range(10):
                with gate.turn(HOST):
                    assert redis_client.get(keys.host_lock(HOST)) is not None
            assert redis_client.get(keys.host_lock(HOST)) is not None  # kept between turns
        assert CountingConnection.sent == 2
        assert redis_client.get(keys.host_lock(HOST)) is None  # released with the block
    finally:
        client.close()


def test_kept_turns_are_still_the_crawl_delay_apart(redis_client: redis.Redis) -> None:
    delay = 0.1
    gate = RedisHostGate(redis_client, delay, hold_seconds=5)
    starts = []
    with gate.keeping():
        for _ in range(4):
            with gate.turn(HOST):
                starts.append(time.monotonic())
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= delay * 0.95, gaps


def test_another_worker_waits_for_a_kept_host_keep_seconds_at_most(
    redis_url: str, redis_client: redis.Redis
) -> None:
    keeper_client = redis.Redis.from_url(redis_url)
    stop = threading.Event()

    def keep_asking() -> None:
        gate = RedisHostGate(keeper_client, 0.0, hold_seconds=5)
        with gate.keeping():
            while not stop.is_set():
                with gate.turn(HOST):
                    time.sleep(0.01)  # one quick request after another

    keeper = threading.Thread(target=keep_asking)
    keeper.start()
    try:
        time.sleep(0.1)
        assert redis_client.get(keys.host_lock(HOST)) is not None
        other = RedisHostGate(redis_client, 0.0, hold_seconds=5)
        start = time.monotonic()
        with other.turn(HOST):
            waited = time.monotonic() - start
    finally:
        stop.set()
        keeper.join(timeout=10)
        keeper_client.close()
    assert waited < KEEP_SECONDS + 0.3


def test_a_hold_off_in_a_kept_turn_is_obeyed_by_the_next(redis_client: redis.Redis) -> None:
    gate = RedisHostGate(redis_client, 0.0, hold_seconds=5)
    with gate.keeping():
        with gate.turn(HOST):
            gate.hold_off(HOST, 0.5)  # a 503 with Retry-After: the kept lock is given up
        start = time.monotonic()
        with gate.turn(HOST):
            waited = time.monotonic() - start
    assert waited >= 0.45


def test_a_killed_keepers_lock_expires_within_two_holds(redis_client: redis.Redis) -> None:
    gate = RedisHostGate(redis_client, 0.0, hold_seconds=0.3)
    kept = gate.keeping()
    kept.__enter__()  # the worker dies inside the block: it never releases
    with gate.turn(HOST):
        pass
    ttl = redis_client.pttl(keys.host_lock(HOST))
    assert isinstance(ttl, int) and 0 < ttl <= 600
    time.sleep(0.7)
    assert redis_client.get(keys.host_lock(HOST)) is None


def test_letting_go_frees_the_host_while_keeping_goes_on(redis_client: redis.Redis) -> None:
    # A batch lets its host go before it parses a page: another worker may ask meanwhile.
    gate = RedisHostGate(redis_client, 0.0, hold_seconds=5)
    with gate.keeping():
        with gate.turn(HOST):
            pass
        gate.let_go()
        assert redis_client.get(keys.host_lock(HOST)) is None
        with gate.turn(HOST):
            pass
        assert redis_client.get(keys.host_lock(HOST)) is not None
    assert redis_client.get(keys.host_lock(HOST)) is None
