"""One crawl step: fetch, parse and store one page, through the edges.

`crawl_url` is what the Celery task and `nam-feeds crawl` both run, so the schedule, the CLI
and the HTTP API share one path. Stored posts are touched only by a successful parse, and
not even then when the parse looks like a broken page (services.storage's quarantine).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from services.crawl._counted import counted
from services.crawl._ledger import Ledger
from services.errors import FetchError, ParseError, TransientFetchError
from services.fetch import DEFERRED, Fetcher, RedisHostGate, Validators
from services.model import Post
from services.parsing import parse_post
from services.settings import Settings
from services.storage import FetchInfo, Known, Store

log = structlog.get_logger(__name__)

# A host's turn is held a little longer than one exchange may take (its deadline bounds
# every socket operation), so a live request never loses its turn, and a dead worker's turn
# frees the host soon after.
FETCH_HOLD_MARGIN = 2.0


class Outcome(StrEnum):
    NEW = "new"
    EDITED = "edited"
    UNCHANGED = "unchanged"  # fetched and parsed, but the content is what we have
    NOT_MODIFIED = "not_modified"  # 304: not even parsed
    QUARANTINED = "quarantined"  # looks like a broken page: kept back, not published
    FAILED = "failed"


@dataclass(frozen=True)
class Deps:
    """What a crawl needs, built once per process and passed in."""

    settings: Settings
    fetcher: Fetcher
    store: Store


def build_deps(settings: Settings, redis_url: str) -> Deps:
    """The store, and a fetcher whose per-host turns are shared through the same Redis, so
    that every worker process together asks a host once at a time (DESIGN: politeness)."""
    store = Store.from_url(redis_url)
    gate = RedisHostGate(
        store.client, settings.crawl_delay, hold_seconds=settings.fetch_deadline + FETCH_HOLD_MARGIN
    )
    return Deps(settings, Fetcher(settings, gate=gate), store)


@contextmanager
def open_deps(settings: Settings, redis_url: str) -> Iterator[Deps]:
    deps = build_deps(settings, redis_url)
    try:
        yield deps
    finally:
        deps.fetcher.close()
        deps.store.close()


@counted
def crawl_url(
    url: str,
    *,
    deps: Deps,
    force: bool = False,
    now: datetime | None = None,
    lastmod: datetime | None = None,
    ledger: Ledger | None = None,
) -> Outcome:
    """Fetch, parse and store one page. A transient failure is recorded and re-raised, so
    that the caller (Celery) can retry; anything else is recorded and reported as FAILED.
    `lastmod` is the sitemap's for this page, remembered once the page is read. Within a
    batch, the `ledger` answers the store's reads and keeps a 304 for the batch's write."""
    now = now or datetime.now(UTC)
    read = ledger.known(url) if ledger else None
    _check_deferral(deps.store, url, read)
    known = read.state if read else deps.store.get_fetch_state(url)
    validators = None
    if known is not None and not force:
        validators = Validators(etag=known.etag, last_modified=known.last_modified)
    try:
        page = deps.fetcher.get(url, validators)
    except TransientFetchError as exc:
        _record_failure(deps.store, url, exc, exc.status, now, lastmod)
        if _deferred_by_server(exc, deps.settings):
            # A pause longer than retrying may wait: nobody asks for the page until it ends.
            deps.store.defer_url(url, exc.retry_after or 0.0, exc.reason)
        raise
    except FetchError as exc:
        _record_failure(deps.store, url, exc, exc.status, now, lastmod)
        return Outcome.FAILED
    if page.not_modified:
        if ledger:
            ledger.not_modified(url, now=now, lastmod=lastmod)
        else:
            deps.store.record_not_modified(url, now=now, lastmod=lastmod)
        log.debug("crawl.not_modified", url=url)
        return Outcome.NOT_MODIFIED
    deps.fetcher.let_go()  # a batch keeps its host between 304s, not while it parses
    try:
        # After a redirect the final address is the page's own (a renamed slug, say).
        post = parse_post(page.body, page.final_url or url)
    except ParseError as exc:
        _record_failure(deps.store, url, exc, page.status, now, lastmod)
        return Outcome.FAILED
    post = _keep_known_id(deps.store, post)
    fetched = FetchInfo(
        url=url,
        fetched_at=now,
        status=page.status,
        etag=page.etag,
        last_modified=page.last_modified,
    )
    result = deps.store.store_crawled(post, fetched=fetched, now=now, lastmod=lastmod)
    if result.kind == "quarantined":
        log.warning("crawl.quarantined", url=url, post_id=post.id, reason=result.reason)
    elif result.released_quarantine:
        log.info("crawl.quarantine_released", url=url, post_id=post.id, result=result.kind)
    log.info("crawl.stored", url=url, post_id=post.id, result=result.kind, version=result.version)
    return Outcome(result.kind)


def _deferred_by_server(exc: TransientFetchError, settings: Settings) -> bool:
    waits = exc.retry_after is not None and exc.retry_after > settings.retry_budget
    return waits and not exc.reason.startswith(DEFERRED)


def _check_deferral(store: Store, url: str, read: Known | None) -> None:
    """A deferred page is not asked for, and its recorded cause stays as it was; the
    TransientFetchError carries how long is left, for a retry to wait that long."""
    deferral = read.deferral if read else store.deferred(url)
    if deferral is not None:
        seconds, reason = deferral
        raise TransientFetchError(
            url, f"{DEFERRED} for {seconds:.0f} s more ({reason})", retry_after=seconds
        )


def _keep_known_id(store: Store, post: Post) -> Post:
    """Ids never change: if this address already belongs to a stored post, the page keeps
    that post's id, even if the way we derive ids from markup found a different one."""
    known = store.post_id_for_url(post.url)
    return replace(post, id=known) if known and known != post.id else post


def _record_failure(
    store: Store,
    url: str,
    exc: Exception,
    status: int | None,
    now: datetime,
    lastmod: datetime | None,
) -> None:
    """Keep the last good validators: the stored post is still the last good one."""
    store.record_failure(url, error=str(exc), status=status, now=now, lastmod=lastmod)
    log.warning("crawl.failed", url=url, status=status, error=str(exc))
