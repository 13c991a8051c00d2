"""Politeness across processes: one request at a time per host, with the crawl delay between
them, for every worker process on every machine that shares the Redis.

A per-process lock is not enough once several workers crawl: each would keep its own turn.
The turn is a Redis lock per host (SET NX with an expiry, released only by its owner), and
the time the host may next be asked is kept beside it, measured on Redis's own clock so that
machines whose clocks disagree still space their requests.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from services import keys
from services.errors import StorageError

# Releases the lock only if we still own it: an expired lock taken over by another process
# must not be deleted by the late first owner.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local now = redis.call('TIME')
  local next_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[2])
  redis.call('SET', KEYS[2], next_ms, 'PX', tonumber(ARGV[2]) + 60000)
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisHostGate:
    """`with gate.turn(host): request()`: the caller holds the host until the block ends."""

    def __init__(
        self, client: redis.Redis, delay: float, *, hold_seconds: float, poll: float = 0.05
    ) -> None:
        self._client = client
        self._delay_ms = int(delay * 1000)
        self._hold_ms = int(hold_seconds * 1000)  # longer than any one request may take
        self._poll = poll
        self._release = client.register_script(_RELEASE_LUA)

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        lock, next_key = keys.host_lock(host), keys.host_next(host)
        token = uuid.uuid4().hex
        try:
            while not self._client.set(lock, token, nx=True, px=self._hold_ms):
                time.sleep(self._poll)
            wait_ms = self._wait_ms(next_key)
        except redis.RedisError as exc:
            raise StorageError(f"storage: taking the turn for {host} failed: {exc}") from exc
        if wait_ms > 0:
            time.sleep(wait_ms / 1000)
        try:
            yield
        finally:
            try:
                self._release(keys=[lock, next_key], args=[token, self._delay_ms])
            except redis.RedisError:
                pass  # the lock expires on its own; the next caller only waits longer

    def _wait_ms(self, next_key: str) -> int:
        raw = self._client.get(next_key)
        if raw is None:
            return 0
        seconds, micros = self._client.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        return int(raw) - now_ms
