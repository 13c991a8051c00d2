"""Politeness across processes: one request at a time per host, with the crawl delay between
them, for every worker process on every machine that shares the Redis.

A per-process lock is not enough once several workers crawl: each would keep its own turn.
The turn is a Redis lock per host (SET NX with an expiry, released only by its owner), and
the time the host may next be asked is kept beside it, measured on Redis's own clock so that
machines whose clocks disagree still space their requests. A host's Retry-After moves that
time for every worker (`hold_off`), not only for the one that was told.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
import structlog

from services.errors import StorageError
from services.fetch._turns import MAX_HOLD_OFF, HostHeldOff
from services.storage import keys

log = structlog.get_logger(__name__)

# Time on Redis's clock, in milliseconds (TIME answers seconds and microseconds).
_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Takes the lock if it is free and answers as _PREPARE_LUA does, in one round trip: -2 when
# another process holds it.
_TAKE_LUA = (
    """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -2 end
"""
    + _NOW_MS
    + """
local wait = tonumber(redis.call('GET', KEYS[2]) or '0') - now
if wait < 0 then wait = 0 end
if wait > 0 then redis.call('PEXPIRE', KEYS[1], wait + tonumber(ARGV[2])) end
return wait
"""
)
_BUSY = -2

# Called by the lock's owner before each sleep and once more before the request: how long to
# wait still (-1: the lock is no longer ours), with the lock extended to cover that wait and
# then the whole hold, so a long crawl delay or Retry-After cannot let it expire mid-request.
_PREPARE_LUA = (
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
"""
    + _NOW_MS
    + """
local wait = tonumber(redis.call('GET', KEYS[2]) or '0') - now
if wait < 0 then wait = 0 end
redis.call('PEXPIRE', KEYS[1], wait + tonumber(ARGV[2]))
return wait
"""
)

# Releases the lock only if we still own it: an expired lock taken over by another process
# must not be deleted by the late first owner. The next turn comes after the crawl delay, or
# later if a hold-off asked for more.
_RELEASE_LUA = (
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
"""
    + _NOW_MS
    + """
local next_ms = math.max(now + tonumber(ARGV[2]), tonumber(redis.call('GET', KEYS[2]) or '0'))
redis.call('SET', KEYS[2], next_ms, 'PX', next_ms - now + 60000)
return redis.call('DEL', KEYS[1])
"""
)

# Moves the host's next time to at least now + ARGV[1] ms; never earlier than it was.
_HOLD_OFF_LUA = (
    _NOW_MS
    + """
local target = now + tonumber(ARGV[1])
if target <= tonumber(redis.call('GET', KEYS[1]) or '0') then return 0 end
redis.call('SET', KEYS[1], target, 'PX', tonumber(ARGV[1]) + 60000)
return 1
"""
)

# Drops the lock if we own it, leaving the host's next time alone.
_GIVE_BACK_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""


class RedisHostGate:
    """`with gate.turn(host): request()`: the caller holds the host until the block ends.

    `hold_seconds` bounds one request; the lock is held that long after any wait for the
    host's next time, however long that wait was. A caller that finds the host busy asks
    again after `first_poll` seconds, then twice as long each time up to `poll`: a turn held
    for one quick request is taken over within a millisecond or two of its end, while a
    turn held through a long crawl delay costs a waiter a request every `poll` seconds."""

    def __init__(
        self,
        client: redis.Redis,
        delay: float,
        *,
        hold_seconds: float,
        poll: float = 0.05,
        first_poll: float = 0.001,
        max_hold_off: float = MAX_HOLD_OFF,
    ) -> None:
        self._client = client
        self._delay_ms = int(delay * 1000)
        self._hold_ms = int(hold_seconds * 1000)  # longer than any one request may take
        self._poll = poll
        self._first_poll = min(first_poll, poll)
        self._max_hold_off = max_hold_off
        self._take_script = client.register_script(_TAKE_LUA)
        self._prepare = client.register_script(_PREPARE_LUA)
        self._release = client.register_script(_RELEASE_LUA)
        self._hold_off = client.register_script(_HOLD_OFF_LUA)
        self._give_back_script = client.register_script(_GIVE_BACK_LUA)

    @contextmanager
    def turn(self, host: str, max_wait: float | None = None) -> Iterator[None]:
        lock, next_key = keys.host_lock(host), keys.host_next(host)
        token = uuid.uuid4().hex
        try:
            self._take(host, lock, next_key, token, max_wait)
        except redis.RedisError as exc:
            raise StorageError(f"storage: taking the turn for {host} failed: {exc}") from exc
        try:
            yield
        finally:
            try:
                self._release(keys=[lock, next_key], args=[token, self._delay_ms])
            except redis.RedisError:
                pass  # the lock expires on its own; the next caller only waits longer

    def hold_off(self, host: str, seconds: float) -> None:
        """Nobody asks `host` for `seconds` (at most `max_hold_off`) from now, on Redis's
        clock; an earlier hold-off that ends later stands."""
        wait_ms = int(min(max(seconds, 0.0), self._max_hold_off) * 1000)
        if wait_ms <= 0:
            return
        try:
            self._hold_off(keys=[keys.host_next(host)], args=[wait_ms])
        except redis.RedisError as exc:
            # Advisory: the URL that was told still waits its Retry-After, and the fetch
            # error it came with must not turn into a storage error.
            log.warning("hostgate.hold_off_failed", host=host, error=str(exc))

    def _take(
        self, host: str, lock: str, next_key: str, token: str, max_wait: float | None
    ) -> None:
        """Own the lock and sleep until the host's next time, re-checking after each sleep (a
        hold-off may have moved it); a lock lost meanwhile is taken again. A wait past
        `max_wait` gives the lock back at once and raises HostHeldOff."""
        while True:
            wait_ms = self._take_free(lock, next_key, token)
            while wait_ms > 0:
                if max_wait is not None and wait_ms > max_wait * 1000:
                    self._give_back(lock, token)
                    raise HostHeldOff(host, wait_ms / 1000)
                time.sleep(wait_ms / 1000)
                wait_ms = self._still_to_wait(lock, next_key, token)
            if wait_ms == 0:
                return

    def _take_free(self, lock: str, next_key: str, token: str) -> int:
        """Wait for the lock to be free and take it; how long the host's next time is off."""
        pause = self._first_poll
        while (wait_ms := self._try_take(lock, next_key, token)) == _BUSY:
            time.sleep(pause)
            pause = min(2 * pause, self._poll)
        return wait_ms

    def _try_take(self, lock: str, next_key: str, token: str) -> int:
        return int(self._take_script(keys=[lock, next_key], args=[token, self._hold_ms]))

    def _give_back(self, lock: str, token: str) -> None:
        """Drop the lock without touching the host's next time: no request was made."""
        self._give_back_script(keys=[lock], args=[token])

    def _still_to_wait(self, lock: str, next_key: str, token: str) -> int:
        return int(self._prepare(keys=[lock, next_key], args=[token, self._hold_ms]))
