"""What /metrics reads that no other part keeps for it: fetch counters by outcome, the recent
crawl records, and how far each consumer group of the change stream lags behind.

Each read is one or two commands whatever the data size: the counters are one hash, the
crawl records a short capped list, and the lag comes from XINFO GROUPS (Redis 7 reports it;
on 6.2 it is counted from the group's last delivered id, capped at LAG_CAP).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from services.storage import _keys as keys
from services.storage._codec import as_text, int_hash, json_object, storage_errors

LAG_CAP = 10_000


@dataclass(frozen=True)
class GroupLag:
    group: str
    lag: int  # events not yet delivered to the group
    pending: int  # delivered, not yet acknowledged


class Gauges:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @storage_errors("counting a fetch")
    def count_fetch(self, outcome: str) -> None:
        self.client.hincrby(keys.FETCH_COUNTS, outcome, 1)

    @storage_errors("reading fetch counters")
    def fetch_counts(self) -> dict[str, int]:
        return int_hash(self.client.hgetall(keys.FETCH_COUNTS))

    @storage_errors("reading crawl records")
    def crawls(self) -> list[dict[str, Any]]:
        """The kept crawl records, newest first."""
        return [json_object(raw) for raw in self.client.lrange(keys.CRAWLS, 0, -1)]

    @storage_errors("reading the change stream's groups")
    def change_lag(self) -> list[GroupLag]:
        try:
            groups = self.client.xinfo_groups(keys.CHANGES)
        except redis.ResponseError:
            return []  # no stream yet: nothing was ever changed, nobody lags
        return [self._lag(group) for group in groups]

    def _lag(self, group: dict[Any, Any]) -> GroupLag:
        name = as_text(group["name"])
        pending = int(group.get("pending") or 0)
        lag = group.get("lag")
        if lag is None:  # Redis 6.2, or 7 when it cannot tell: count what is left
            start = "(" + as_text(group["last-delivered-id"])
            lag = len(self.client.xrange(keys.CHANGES, min=start, max="+", count=LAG_CAP) or [])
        return GroupLag(name, int(lag), pending)


__all__ = ["LAG_CAP", "Gauges", "GroupLag"]
