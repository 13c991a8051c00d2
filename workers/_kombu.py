"""A worker that survives its broker going away, where kombu's Redis transport does not.

When the broker connection drops, Celery closes the old channel, and the channel tries to put
its unacknowledged messages back through a transport whose client is already released. kombu
then raises AttributeError (`'NoneType' object has no attribute 'hostname'`), which Celery
takes as unrecoverable: the worker stops. Skipping that one restore loses nothing: the
messages stay in Redis's unacked index, and the visibility timeout hands them to a worker
again (VISIBILITY_TIMEOUT in workers.app).
"""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger(__name__)


def tolerate_released_transport() -> None:
    """Patch kombu's Redis QoS once per process (idempotent)."""
    from kombu.transport import redis as kombu_redis

    qos: Any = kombu_redis.QoS
    if getattr(qos.restore_unacked, "_namfeeds", False):
        return
    original = qos.restore_unacked

    def restore_unacked(self: Any, client: Any = None) -> Any:
        if client is None and getattr(self.channel.connection, "client", None) is None:
            log.info("worker.restore_deferred", reason="broker connection already released")
            return None
        return original(self, client)

    restore_unacked._namfeeds = True  # type: ignore[attr-defined]
    qos.restore_unacked = restore_unacked
