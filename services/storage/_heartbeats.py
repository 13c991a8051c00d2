"""Heartbeats of the long-running processes (workers, beat): who is alive, by Redis's clock.

Each process writes its beat every few seconds into one hash, field `<part>:<host>:<pid>`,
value the Redis server's time; a reader compares against the same clock, so hosts whose
clocks disagree cannot make a dead process look alive. Reading is one round trip whatever
the number of processes, which is what lets /healthz answer in milliseconds. Fields of
processes that stopped without removing theirs are pruned once they are a day old.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from redis.commands.core import Script

from services.storage import _keys as keys
from services.storage._codec import as_text, storage_errors

BEAT_INTERVAL = 5.0  # seconds between two beats of one process
BEAT_TIMEOUT = 15.0  # three missed beats: the process is taken for dead
PRUNE_AFTER_SECONDS = 86400

# TIME inside the script: the writer's clock plays no part. Old fields go in the same step.
_BEAT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.3f', now))
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if now - tonumber(all[i + 1]) > tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], all[i]) end
end
return 1
"""


@dataclass(frozen=True)
class Beat:
    part: str  # "worker" or "beat"
    name: str  # host:pid
    age: float  # seconds since its last beat, by Redis's clock


class Heartbeats:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._beat: Script = client.register_script(_BEAT_LUA)

    @storage_errors("writing a heartbeat")
    def beat(self, part: str, name: str) -> None:
        self._beat(keys=[keys.HEARTBEATS], args=[f"{part}:{name}", PRUNE_AFTER_SECONDS])

    @storage_errors("removing a heartbeat")
    def remove(self, part: str, name: str) -> None:
        self.client.hdel(keys.HEARTBEATS, f"{part}:{name}")

    @storage_errors("reading heartbeats")
    def read(self) -> list[Beat]:
        pipe = self.client.pipeline(transaction=False)
        pipe.time()
        pipe.hgetall(keys.HEARTBEATS)
        (seconds, micros), fields = pipe.execute()
        now = seconds + micros / 1e6
        beats = []
        for field, value in fields.items():
            part, _, name = as_text(field).partition(":")
            beats.append(Beat(part, name, max(0.0, now - float(as_text(value)))))
        return sorted(beats, key=lambda b: (b.part, b.age))


__all__ = ["BEAT_INTERVAL", "BEAT_TIMEOUT", "PRUNE_AFTER_SECONDS", "Beat", "Heartbeats"]
