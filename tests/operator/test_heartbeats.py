"""Heartbeats in Redis: ages by Redis's clock, removal on a clean stop, old fields pruned."""

from __future__ import annotations

import redis

from services.storage import Heartbeats
from services.storage import _keys as keys


def test_a_beat_is_fresh_and_named(redis_client: redis.Redis) -> None:
    beats = Heartbeats(redis_client)
    beats.beat("worker", "host-a:12")
    (beat,) = beats.read()
    assert (beat.part, beat.name) == ("worker", "host-a:12") and 0 <= beat.age < 2


def test_age_is_measured_on_redis_s_clock(redis_client: redis.Redis) -> None:
    seconds, _micros = redis_client.time()
    redis_client.hset(keys.HEARTBEATS, "beat:host-b:7", f"{seconds - 40}.000")
    (beat,) = Heartbeats(redis_client).read()
    assert 39 <= beat.age <= 42


def test_a_removed_beat_is_gone_and_day_old_ones_are_pruned(redis_client: redis.Redis) -> None:
    seconds, _micros = redis_client.time()
    redis_client.hset(keys.HEARTBEATS, "worker:gone:1", f"{seconds - 2 * 86400}.000")
    beats = Heartbeats(redis_client)
    beats.beat("worker", "host-a:1")
    beats.beat("beat", "host-a:2")
    beats.remove("worker", "host-a:1")
    assert [(b.part, b.name) for b in beats.read()] == [("beat", "host-a:2")]
