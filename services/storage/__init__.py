"""Redis storage of posts, their history, fetch state, the change stream, feeds and jobs.

The only package that imports redis for data. Redis errors surface as StorageError; every
key is built in `keys`, under the `nam:` namespace.

    _store     Store, composed of the parts below over one client
    _upsert    writing a post: one Lua script, all or nothing
    _quarantine  writing a crawled post unless it looks broken; the quarantine it keeps
    _suspicion the rule that tells an edit from a broken page (pure)
    _scripts   the Lua scripts
    _posts     reading posts, versions, listings and counts
    _fetch     fetch state per URL and crawl summaries
    _outcomes  a 304 or a failure per URL, and the bounded index of failures
    _batches   a crawl batch's reads and writes, one round trip each
    _stream    the change stream through consumer groups
    _feeds     rendered feeds and admin jobs
    _heartbeats  which workers and beats are alive
    _gauges    fetch counters, crawl records and change-stream lag, for /metrics
    _records   the records handed in and out (pure)
    _codec     reply values to Python and back, Redis errors to StorageError
    _keys      every key, in one place (public as `keys`)
"""

from services.storage import _keys as keys
from services.storage._batches import BatchRecord, Known, NotModified
from services.storage._feeds import JOB_TTL_SECONDS
from services.storage._fetch import CRAWLS_KEPT
from services.storage._gauges import Gauges, GroupLag
from services.storage._heartbeats import BEAT_INTERVAL, BEAT_TIMEOUT, Beat, Heartbeats
from services.storage._outcomes import FAILURE_TTL, FAILURES_KEPT
from services.storage._records import (
    VOLATILE_FIELDS,
    ChangeEvent,
    FetchInfo,
    FetchState,
    Quarantined,
    StoredFeed,
    StoredPost,
    UpsertKind,
    UpsertResult,
    Version,
    answer_counts,
    content_hash,
)
from services.storage._store import Store
from services.storage._stream import STREAM_MAXLEN

__all__ = [
    "BEAT_INTERVAL",
    "BEAT_TIMEOUT",
    "CRAWLS_KEPT",
    "FAILURES_KEPT",
    "FAILURE_TTL",
    "JOB_TTL_SECONDS",
    "STREAM_MAXLEN",
    "VOLATILE_FIELDS",
    "BatchRecord",
    "Beat",
    "ChangeEvent",
    "FetchInfo",
    "FetchState",
    "Gauges",
    "GroupLag",
    "Heartbeats",
    "Known",
    "NotModified",
    "Quarantined",
    "Store",
    "StoredFeed",
    "StoredPost",
    "UpsertKind",
    "UpsertResult",
    "Version",
    "answer_counts",
    "content_hash",
    "keys",
]
