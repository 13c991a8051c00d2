"""Politeness across processes: one request at a time per host, with the crawl delay between
them, for every worker process on every machine that shares the Redis.

A per-process lock is not enough once several workers crawl: each would keep its own turn.
The turn is a Redis lock per host (SET NX with an expiry, released only by its owner), and
the time the host may next be asked is kept beside it, measured on Redis's own clock so that
machines whose clocks disagree still space their requests. A host's Retry-After moves that
time for every worker (`hold_off`), not only for the one that was told.

Within `keeping()`, a thread that ends a turn keeps the host's lock for its next request
rather than giving it up and taking it again: a crawl batch of one host's pages then costs
Redis one take and one release, and its requests follow each other with the crawl delay
measured locally (nobody else can ask the host meanwhile). A kept lock is taken for two holds
and used while one hold is left, so a killed keeper frees the host within two holds; it is
kept KEEP_SECONDS at most, so another worker never waits long for it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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
# another process holds it. A caller that finds it held leaves its token as the host's waiter
# (KEYS[3], for ARGV[4] ms); a keeper (ARGV[3] = '1') lets another waiter go first, so it
# never takes the host back the instant it gives it up while others poll.
_TAKE_LUA = (
    """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[4])
  return -2
end
local waiter = redis.call('GET', KEYS[3])
if waiter and waiter ~= ARGV[1] and ARGV[3] == '1' then return -2 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if waiter == ARGV[1] then redis.call('DEL', KEYS[3]) end
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


# The longest a host is kept for one thread's requests: another worker (an edit's crawl)
# waits for the host that long at most. A crawl delay longer than this keeps nothing.
KEEP_SECONDS = 0.5


@dataclass
class _Kept:
    """A host's lock kept between this thread's requests (times on the monotonic clock)."""

    token: str
    taken: float
    expires: float  # the lock lives at least until then
    last_end: float = 0.0  # end of the last request


class _Keeping(threading.local):
    kept: dict[str, _Kept] | None = None  # None: not keeping
    given_up: set[str] | None = None  # hosts held off during the turn: released at its end


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
        self._keeping = _Keeping()

    @contextmanager
    def keeping(self) -> Iterator[None]:
        """This thread keeps each host's lock between its turns until the block ends."""
        if self._keeping.kept is not None:
            yield  # already keeping: the outer block releases
            return
        self._keeping.kept, self._keeping.given_up = {}, set()
        try:
            yield
        finally:
            self.let_go()
            self._keeping.kept = None

    def let_go(self) -> None:
        """Release the hosts this thread keeps (it goes on keeping the next ones): before
        work that holds no request, such as parsing a page, so others may ask meanwhile."""
        kept = self._keeping.kept or {}
        while kept:
            host, held = kept.popitem()
            self._release_lock(host, held.token)

    @contextmanager
    def turn(self, host: str, max_wait: float | None = None) -> Iterator[None]:
        kept = self._keeping.kept
        held = self._reuse(host, kept.pop(host, None)) if kept is not None else None
        if held is None:
            held = self._take_turn(host, max_wait, keep=kept is not None)
        try:
            yield
        finally:
            given_up = self._keeping.given_up or set()
            if kept is not None and host not in given_up:
                held.last_end = time.monotonic()
                kept[host] = held
            else:
                given_up.discard(host)
                self._release_lock(host, held.token)

    def _reuse(self, host: str, held: _Kept | None) -> _Kept | None:
        """A kept lock, after the crawl delay since its last request, if it still has a whole
        hold left then and was taken at most KEEP_SECONDS before; else None, released."""
        if held is None:
            return None
        start = max(time.monotonic(), held.last_end + self._delay_ms / 1000)
        if start - held.taken > KEEP_SECONDS or start + self._hold_ms / 1000 > held.expires:
            self._release_lock(host, held.token)
            return None
        if (wait := start - time.monotonic()) > 0:
            time.sleep(wait)
        return held

    def _take_turn(self, host: str, max_wait: float | None, *, keep: bool) -> _Kept:
        lock, next_key = keys.host_lock(host), keys.host_next(host)
        token = uuid.uuid4().hex
        hold_ms = 2 * self._hold_ms if keep else self._hold_ms
        started = time.monotonic()
        try:
            self._take(host, lock, next_key, token, max_wait, hold_ms)
        except redis.RedisError as exc:
            raise StorageError(f"storage: taking the turn for {host} failed: {exc}") from exc
        return _Kept(token, taken=time.monotonic(), expires=started + hold_ms / 1000)

    def _release_lock(self, host: str, token: str) -> None:
        try:
            self._release(
                keys=[keys.host_lock(host), keys.host_next(host)], args=[token, self._delay_ms]
            )
        except redis.RedisError:
            pass  # the lock expires on its own; the next caller only waits longer

    def hold_off(self, host: str, seconds: float) -> None:
        """Nobody asks `host` for `seconds` (at most `max_hold_off`) from now, on Redis's
        clock; an earlier hold-off that ends later stands."""
        wait_ms = int(min(max(seconds, 0.0), self._max_hold_off) * 1000)
        if wait_ms <= 0:
            return
        if self._keeping.given_up is not None:
            self._keeping.given_up.add(host)  # a kept lock would skip the pause: release it
        try:
            self._hold_off(keys=[keys.host_next(host)], args=[wait_ms])
        except redis.RedisError as exc:
            # Advisory: the URL that was told still waits its Retry-After, and the fetch
            # error it came with must not turn into a storage error.
            log.warning("hostgate.hold_off_failed", host=host, error=str(exc))

    def _take(
        self,
        host: str,
        lock: str,
        next_key: str,
        token: str,
        max_wait: float | None,
        hold_ms: int,
    ) -> None:
        """Own the lock and sleep until the host's next time, re-checking after each sleep (a
        hold-off may have moved it); a lock lost meanwhile is taken again. A wait past
        `max_wait` gives the lock back at once and raises HostHeldOff."""
        while True:
            wait_ms = self._take_free(host, lock, next_key, token, hold_ms)
            while wait_ms > 0:
                if max_wait is not None and wait_ms > max_wait * 1000:
                    self._give_back(lock, token)
                    raise HostHeldOff(host, wait_ms / 1000)
                time.sleep(wait_ms / 1000)
                wait_ms = self._still_to_wait(lock, next_key, token, hold_ms)
            if wait_ms == 0:
                return

    def _take_free(self, host: str, lock: str, next_key: str, token: str, hold_ms: int) -> int:
        """Wait for the lock to be free and take it; how long the host's next time is off."""
        pause = self._first_poll
        while (wait_ms := self._try_take(host, lock, next_key, token, hold_ms)) == _BUSY:
            time.sleep(pause)
            pause = min(2 * pause, self._poll)
        return wait_ms

    def _try_take(self, host: str, lock: str, next_key: str, token: str, hold_ms: int) -> int:
        # A keeper (it asks for two holds) defers to waiters; a waiter's mark outlives its
        # next poll.
        polite = "1" if hold_ms > self._hold_ms else "0"
        wanted = keys.host_wanted(host)
        waiting_ms = int(3 * self._poll * 1000)
        args: list[str | int] = [token, hold_ms, polite, waiting_ms]
        return int(self._take_script(keys=[lock, next_key, wanted], args=args))

    def _give_back(self, lock: str, token: str) -> None:
        """Drop the lock without touching the host's next time: no request was made."""
        self._give_back_script(keys=[lock], args=[token])

    def _still_to_wait(self, lock: str, next_key: str, token: str, hold_ms: int) -> int:
        return int(self._prepare(keys=[lock, next_key], args=[token, hold_ms]))
