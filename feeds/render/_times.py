"""Distinct entry times: no two entries of a feed share a date because the source was coarse.

Pure. Tilda pages show only a day and Wix pages only minutes, so several posts of one day
(or one minute) come out with the same time, and readers that sort or deduplicate by date
(and the W3C validator, "Two entries with the same value for atom:updated") trip over them.
The source never gave seconds, so the seconds are ours: a time on a whole minute gets a
number of seconds from a hash of the entry id. The minute a reader shows stays the source's,
the time is the same on every render whatever else the feed holds, and it differs between
entries; the rare hash collision takes the next free second, in (time, id) order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta


def distinct_times(times: Mapping[str, datetime]) -> dict[str, datetime]:
    """The same keys, each time unique to the whole second (what RSS dates can show)."""
    taken: set[datetime] = set()
    result: dict[str, datetime] = {}
    for key, value in sorted(times.items(), key=lambda kv: (kv[1], kv[0])):
        moved = value + timedelta(seconds=_seconds_of(key)) if _coarse(value) else value
        while _whole_second(moved) in taken:
            moved += timedelta(seconds=1)
        taken.add(_whole_second(moved))
        result[key] = moved
    return result


def _coarse(value: datetime) -> bool:
    return value.second == 0 and value.microsecond == 0


def _seconds_of(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 60


def _whole_second(value: datetime) -> datetime:
    return value.replace(microsecond=0)
