"""The change stream nam:changes read through consumer groups: read, acknowledge, reclaim.

Entries are appended only by the upsert script (_upsert), one per new or edited
post, naming the feeds it left and joined; here they become ChangeEvent records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import redis
from redis.typing import StreamIdT

from services.storage import _keys as keys
from services.storage._codec import as_text, as_time, storage_errors
from services.storage._records import ChangeEvent

STREAM_MAXLEN = 100_000  # approximate cap of nam:changes; far above a site's edits per day


class StreamMixin:
    """Store's consumer side of the change stream."""

    client: redis.Redis
    _groups: set[str]

    def _init_stream(self) -> None:
        # consumer groups known to exist, so read_changes does not XGROUP CREATE every call
        self._groups = set()

    @storage_errors("reading changes")
    def read_changes(
        self, group: str, consumer: str, count: int = 10, block_ms: int | None = None
    ) -> list[ChangeEvent]:
        """New events for a consumer group (created on first use, from the stream's start so
        a new publisher catches up). `block_ms=None` returns at once."""
        self._ensure_group(group)
        try:
            reply = self._xreadgroup(group, consumer, count, block_ms)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # the stream or group was deleted behind our back (a flush): create it again
            self._groups.discard(group)
            self._ensure_group(group)
            reply = self._xreadgroup(group, consumer, count, block_ms)
        return [_change_event(i, f) for i, f in _stream_entries(reply)]

    def _xreadgroup(self, group: str, consumer: str, count: int, block: int | None) -> Any:
        return self.client.xreadgroup(group, consumer, {keys.CHANGES: ">"}, count, block)

    def _ensure_group(self, group: str) -> None:
        if group in self._groups:
            return
        try:
            self.client.xgroup_create(keys.CHANGES, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(group)

    @storage_errors("acknowledging a change")
    def ack_change(self, group: str, event_id: str) -> bool:
        return bool(self.client.xack(keys.CHANGES, group, event_id))

    @storage_errors("claiming stale changes")
    def claim_stale_changes(
        self, group: str, consumer: str, *, min_idle_ms: int, count: int = 10
    ) -> list[ChangeEvent]:
        """Take over events another consumer read but never acknowledged (it died).

        XPENDING + XCLAIM rather than XAUTOCLAIM: XAUTOCLAIM answers [cursor, entries] on
        Redis 6.2 and [cursor, entries, deleted ids] on 7, and on 6.2 an entry trimmed from
        the stream comes back as a bare nil, without its id, so it could never be
        acknowledged. Here the ids come from XPENDING; one that XCLAIM does not return and
        that is gone from the stream is acknowledged, so it stops coming back."""
        self._ensure_group(group)
        try:
            pending: Any = self.client.xpending_range(
                keys.CHANGES, group, "-", "+", count, idle=min_idle_ms
            )
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # the stream or group was deleted behind our back: nothing is pending in it
            self._groups.discard(group)
            return []
        ids: list[str] = [as_text(entry["message_id"]) for entry in pending]
        if not ids:
            return []
        claimed: list[Any] = self.client.xclaim(
            keys.CHANGES, group, consumer, min_idle_ms, list[StreamIdT](ids)
        )
        events = [_change_event(i, f) for i, f in claimed if i is not None and f]
        returned = {e.event_id for e in events}
        for event_id in ids:
            # not returned: claimed by someone else meanwhile, or trimmed from the stream
            if event_id not in returned and not self.client.xrange(
                keys.CHANGES, event_id, event_id
            ):
                self.client.xack(keys.CHANGES, group, event_id)
        return events

    @storage_errors("counting pending changes")
    def pending_changes(self, group: str) -> int:
        """Events read by the group but not yet acknowledged."""
        self._ensure_group(group)
        return int(self.client.xpending(keys.CHANGES, group)["pending"])


def _change_event(event_id: bytes | str, fields: Mapping[Any, Any]) -> ChangeEvent:
    get = {as_text(k): as_text(v) for k, v in fields.items()}.__getitem__
    return ChangeEvent(
        event_id=as_text(event_id),
        post_id=get("post_id"),
        version=int(get("version")),
        kind="new" if get("kind") == "new" else "edited",
        updated=as_time(get("updated")),
        url=get("url"),
        language_before=get("language_before") or None,
        language_after=get("language_after"),
        topics_before=tuple(json.loads(get("topics_before"))),
        topics_after=tuple(json.loads(get("topics_after"))),
        speakers_before=tuple(json.loads(get("speakers_before"))),
        speakers_after=tuple(json.loads(get("speakers_after"))),
    )


def _stream_entries(reply: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """XREADGROUP entries of our one stream, from a RESP2 list or a RESP3 map."""
    if not reply:
        return []
    if isinstance(reply, dict):
        streams = list(reply.values())
        return list(streams[0][0]) if streams else []
    return list(reply[0][1])
