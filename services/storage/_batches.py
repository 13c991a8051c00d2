"""A crawl batch's bookkeeping in two round trips: what the store knows of its URLs, read
before the first request, and what the batch learnt, written after the last one.

An unchanged page then costs Redis no round trip of its own beyond its host's turn: its 304,
its fetch count, its queued mark and its job count go with the batch's one write. The write
is one transaction, so a worker killed mid-batch leaves none of it: the batch comes back
(late acks) and is crawled and counted once, as a whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.storage import _keys as keys
from services.storage._codec import json_fields, storage_errors
from services.storage._feeds import JobMixin
from services.storage._fetch import PIPELINE_CHUNK, deferral_of, fetch_state_of
from services.storage._outcomes import queue_not_modified
from services.storage._records import FetchState


@dataclass(frozen=True)
class Known:
    """What the store held for a URL before its crawl: its fetch state (None: never
    fetched) and, while the URL is deferred, (seconds left, reason)."""

    state: FetchState | None
    deferral: tuple[float, str] | None = None


@dataclass(frozen=True)
class NotModified:
    """A 304, as record_not_modified writes it."""

    url: str
    checked_at: datetime
    lastmod: datetime | None = None


@dataclass
class BatchRecord:
    """What a batch learnt, written at once by record_batch."""

    not_modified: list[NotModified]
    fetches: Counter[str]  # fetch counters by outcome (/metrics)
    released: list[str]  # URLs whose queued mark ends
    job_id: str | None = None
    job_outcomes: Counter[str] | None = None  # outcome value -> pages, for the job


class BatchMixin(JobMixin):
    """Store's reads and writes for a whole crawl batch."""

    @storage_errors("reading a batch's fetch states")
    def known_urls(self, urls: Sequence[str]) -> list[Known]:
        """Each URL's fetch state and deferral, in order: get_fetch_state and deferred for
        every URL of a batch, one round trip per PIPELINE_CHUNK."""
        found: list[Known] = []
        for start in range(0, len(urls), PIPELINE_CHUNK):
            pipe = self.client.pipeline(transaction=False)
            for url in urls[start : start + PIPELINE_CHUNK]:
                pipe.hgetall(keys.fetch_state(url))
                pipe.pttl(keys.deferred(url))
                pipe.get(keys.deferred(url))
            replies = pipe.execute()
            for at in range(0, len(replies), 3):
                raw, left, reason = replies[at : at + 3]
                state = fetch_state_of(raw) if raw else None
                found.append(Known(state, deferral_of(left, reason)))
        return found

    @storage_errors("recording a crawl batch")
    def record_batch(self, record: BatchRecord) -> bool:
        """Write what a batch learnt in one transaction; True when it finished its job."""
        pipe = self.client.pipeline(transaction=True)
        for checked in record.not_modified:
            queue_not_modified(pipe, checked.url, checked.checked_at, checked.lastmod)
        for outcome, count in record.fetches.items():
            pipe.hincrby(keys.FETCH_COUNTS, outcome, count)
        if record.released:
            pipe.delete(*(keys.queued(url) for url in record.released))
        job_outcomes = record.job_outcomes or Counter()
        counted = sum(job_outcomes.values())
        if record.job_id is None or not counted:
            if len(pipe):
                pipe.execute()
            return False
        job = keys.job(record.job_id)
        for outcome, count in job_outcomes.items():
            pipe.hincrby(job, outcome, count)
        pipe.hincrby(job, "done", counted)
        pipe.hget(job, "total")
        pipe.hset(job, mapping=json_fields({"updated_at": datetime.now(UTC)}))
        *_, done, total, _ = pipe.execute()
        finished = total is not None and int(done) >= int(total)
        if finished:
            self.update_job(record.job_id, status="done")
        return finished
