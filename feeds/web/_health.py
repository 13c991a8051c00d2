"""/healthz: Redis, the workers and beat, from the heartbeats they keep in Redis.

One Redis round trip and no broadcast to the workers, so it answers in milliseconds. The web
process can serve while a worker or beat is down, so that is 200 with status "degraded" and
the part named; only a Redis it cannot read, which leaves nothing to serve, is 503.
"""

from __future__ import annotations

from typing import Any

from services.errors import StorageError
from services.storage import BEAT_TIMEOUT, Beat, Heartbeats, Store

PARTS = {"workers": "worker", "beat": "beat"}


def health_report(store: Store) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): each part with its live processes and its freshest beat."""
    try:
        beats = Heartbeats(store.client).read()
    except StorageError as exc:
        return 503, {"status": "down", "redis": str(exc)}
    parts = {key: _part(beats, part) for key, part in PARTS.items()}
    healthy = all(p["status"] == "ok" for p in parts.values())
    unhealthy = [key for key, p in parts.items() if p["status"] != "ok"]
    body: dict[str, Any] = {"status": "ok" if healthy else "degraded", "redis": "ok", **parts}
    if unhealthy:
        body["unhealthy"] = unhealthy
    return 200, body


def _part(beats: list[Beat], part: str) -> dict[str, Any]:
    mine = [b for b in beats if b.part == part]
    alive = [b for b in mine if b.age <= BEAT_TIMEOUT]
    last = min((b.age for b in mine), default=None)
    return {
        "status": "ok" if alive else "down",
        "count": len(alive),
        "last_beat_seconds": None if last is None else round(last, 1),
        "timeout_seconds": BEAT_TIMEOUT,
    }
