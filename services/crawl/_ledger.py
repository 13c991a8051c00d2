"""A crawl batch's bookkeeping, kept aside so that its pages cost two round trips in all.

`crawl_url(..., ledger=ledger)` takes a URL's fetch state and deferral from the ledger, read
for the whole batch before its first request, and leaves its 304 and its fetch count there
instead of writing each; the batch adds each page's end (queued mark, job count) and writes it
all in one transaction with `flush` (services.storage's record_batch). A page that stores a
post or a failure still writes that at once: an edit is in its feeds without waiting for the
rest of its batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from services.storage import BatchRecord, Known, NotModified, Store


class Ledger:
    def __init__(self, store: Store, urls: Sequence[str], job_id: str | None = None) -> None:
        self._store = store
        self._job_id = job_id
        self._known = dict(zip(urls, store.known_urls(urls), strict=True))
        self._record = self._empty()

    def known(self, url: str) -> Known | None:
        """What the store held for `url` when the batch began; asked once per URL, so a URL
        listed twice reads the store again after its first crawl."""
        return self._known.pop(url, None)

    def not_modified(self, url: str, *, now: datetime, lastmod: datetime | None) -> None:
        self._record.not_modified.append(NotModified(url, now, lastmod))

    def count_fetch(self, outcome: str) -> None:
        self._record.fetches[outcome] += 1

    def page_done(self, url: str, outcome: str) -> None:
        """The page's crawl is over (not handed to a retry): its queued mark ends and its
        job counts it."""
        self._record.released.append(url)
        if self._record.job_outcomes is not None:
            self._record.job_outcomes[outcome] += 1

    def flush(self) -> bool:
        """Write what was kept, in one transaction; True when it finished the job."""
        record, self._record = self._record, self._empty()
        return self._store.record_batch(record)

    def _empty(self) -> BatchRecord:
        return BatchRecord([], Counter(), [], self._job_id, Counter())
