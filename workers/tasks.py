"""Thin Celery tasks: acks, retries and enqueueing live here; the work lives in
services.crawl and feeds.publish.

Arguments and results are JSON primitives. Every task is idempotent, because with late acks
a message comes back after a crash: a page crawled twice is a 304 or an upsert of the same
content hash, which writes nothing and emits no change event.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import structlog
from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from services.crawl import Deps, Ledger, Outcome, build_deps, parse_lastmod, plan_crawl
from services.crawl import crawl_url as crawl_one
from services.errors import TransientFetchError
from services.settings import Settings
from workers._publishing import DEBOUNCE, publish_once, request_publish
from workers._queueing import alternate_hosts, batch_size, deadlines, host_batches, seconds_until

log = structlog.get_logger(__name__)

MAX_BACKOFF = 600.0  # seconds; a site down for longer is caught by the next discovery
_CHANGED = (Outcome.NEW.value, Outcome.EDITED.value)

_runtime: tuple[int, Deps] | None = None


def _task(name: str) -> Callable[[Callable[..., Any]], Any]:
    """shared_task, typed for mypy (celery ships no stubs); bound, so tasks reach their app.
    shared_task rather than app.task: the tasks belong to whichever app make_celery built."""
    decorate: Callable[[Callable[..., Any]], Any] = shared_task(bind=True, name=name)
    return decorate


def runtime(app: Any) -> Deps:
    """Deps for this worker process, built on first use. Keyed by pid: a prefork child must
    not share the parent's sockets (httpx pool, Redis connections).

    The worker's fetcher does not retry by itself: the task retries instead, with a
    countdown that frees the worker slot, rather than sleeping through backoffs in it; and
    two layers of retries would multiply the requests a failing page costs the site."""
    global _runtime
    if _runtime is not None and _runtime[0] == os.getpid():
        return _runtime[1]
    settings: Settings = app.namfeeds_settings
    deps = build_deps(replace(settings, max_retries=0), app.namfeeds_redis_url)
    atexit.register(deps.fetcher.close)
    atexit.register(deps.store.close)
    _runtime = (os.getpid(), deps)
    return deps


@_task("nam.discover")
def discover(self: Any, force: bool = False, job_id: str | None = None, every: bool = False) -> int:
    """Find the pages due (services.crawl.plan_crawl) and enqueue them a few to a
    nam.crawl_batch; returns how many pages were enqueued. A page whose crawl is still queued
    from the previous round is not queued again, so a site slower to crawl than the interval
    never piles up. The schedule leaves `every` off; a recrawl asked for by hand sets it."""
    deps = runtime(self.app)
    plan = plan_crawl(deps, force=force, every=every)
    queued = _claim(self.app, deps, alternate_hosts(plan.due), force=force)
    failures = [{"url": u, "error": e} for u, e in plan.failures]
    if job_id:
        deps.store.update_job(
            job_id,
            status="running" if queued else "done",
            total=len(queued),
            done=0,
            skipped=len(plan.skipped),
            discovery_failures=failures,
        )
    deps.store.record_crawl(
        {
            "started": datetime.now(UTC).isoformat(),
            "mode": "worker",
            "urls": len(queued),
            "skipped": len(plan.skipped),
            "failures": failures,
        }
    )
    size = batch_size(self.app.namfeeds_settings.crawl_delay)
    for batch in host_batches(queued, size, lambda pair: pair[0].url):
        # The message expires with its pages' queued marks: a crawl lost or stuck past its
        # deadline is dropped by the worker, and the next discovery queues the pages again.
        crawl_batch.apply_async(
            kwargs={
                "urls": [due.url for due, _ in batch],
                "lastmods": [due.lastmod.isoformat() if due.lastmod else None for due, _ in batch],
                "force": force,
                "job_id": job_id,
            },
            expires=None if force else max(deadline for _, deadline in batch),
        )
    log.info("discover.enqueued", urls=len(queued), skipped=len(plan.skipped), job_id=job_id)
    return len(queued)


def _claim(app: Any, deps: Deps, pages: list[Any], *, force: bool) -> list[tuple[Any, datetime]]:
    """The pages not queued yet, each with the time by which its crawl should have started;
    a forced crawl takes them all and marks none."""
    delay = float(app.namfeeds_settings.crawl_delay)
    times = deadlines(
        datetime.now(UTC), len(pages), visibility=_visibility_timeout(app), crawl_delay=delay
    )
    paired = list(zip(pages, times, strict=True))
    if force:
        return paired
    now = datetime.now(UTC)
    claims = [(due.url, seconds_until(deadline, now)) for due, deadline in paired]
    claimed = deps.store.claim_queued_many(claims)
    return [pair for pair, ok in zip(paired, claimed, strict=True) if ok]


@_task("nam.crawl_batch")
def crawl_batch(
    self: Any,
    urls: list[str],
    lastmods: list[str | None] | None = None,
    force: bool = False,
    job_id: str | None = None,
) -> list[str]:
    """Crawl a few pages in one task (what nam.crawl_url does for each); their Outcome values.
    A page that fails transiently is handed to a nam.crawl_url of its own, with a countdown,
    so the rest of the batch is not held back or crawled again."""
    deps = runtime(self.app)
    # The batch's reads before its first request and its bookkeeping in one write after the
    # last: an unchanged page costs no round trip of its own but its host's turn.
    ledger = Ledger(deps.store, urls, job_id)
    outcomes = []
    try:
        with _keeping(deps, urls):
            for url, lastmod in zip(urls, lastmods or [None] * len(urls), strict=True):
                outcomes.append(_crawl_in_batch(self, deps, ledger, url, force, job_id, lastmod))
    finally:
        ledger.flush()
    if set(outcomes) & set(_CHANGED) or _redelivered(self):
        request_publish(deps.store, lambda delay: publish.apply_async(countdown=delay))
    return outcomes


def _keeping(deps: Deps, urls: list[str]) -> AbstractContextManager[None]:
    """A batch of one host's pages keeps the host's turn between its requests; one of
    several hosts (queued before batches were by host) would hold them all, so keeps none."""
    if len({urlsplit(url).netloc for url in urls}) == 1:
        return deps.fetcher.keeping_turns()
    return nullcontext()


def _crawl_in_batch(
    task: Any,
    deps: Deps,
    ledger: Ledger,
    url: str,
    force: bool,
    job_id: str | None,
    lastmod: str | None,
) -> str:
    outcome = Outcome.FAILED.value
    handed_off = False
    try:
        found = crawl_one(
            url, deps=deps, force=force, lastmod=parse_lastmod(lastmod), ledger=ledger
        )
        outcome = found.value
    except TransientFetchError as exc:
        if task.app.namfeeds_settings.max_retries > 0:
            handed_off = True
            crawl_url.apply_async(
                args=(url,),
                kwargs={"force": force, "job_id": job_id, "lastmod": lastmod},
                countdown=_backoff(task.app, 0, exc),
            )
            return "retrying"
        log.warning("crawl.gave_up", url=url, retries=0, error=str(exc))
    finally:
        if not handed_off:  # counted even when the crawl raised: the job must still finish
            ledger.page_done(url, outcome)
    return outcome


@_task("nam.crawl_url")
def crawl_url(
    self: Any,
    url: str,
    force: bool = False,
    job_id: str | None = None,
    lastmod: str | None = None,
) -> str:
    """Fetch, parse and store one page; returns the Outcome's value. Transient failures are
    retried with exponential backoff (honouring Retry-After) up to settings.max_retries."""
    deps = runtime(self.app)
    outcome = Outcome.FAILED.value
    retrying = False
    try:
        outcome = crawl_one(url, deps=deps, force=force, lastmod=parse_lastmod(lastmod)).value
    except TransientFetchError as exc:
        if self.request.retries < self.app.namfeeds_settings.max_retries:
            retrying = True
            countdown = _backoff(self.app, self.request.retries, exc)
            raise self.retry(exc=exc, countdown=countdown) from exc
        log.warning("crawl.gave_up", url=url, retries=self.request.retries, error=str(exc))
    finally:
        if not retrying:
            deps.store.release_queued(url)
            if job_id:  # counted even when the crawl raised: the job must still finish
                deps.store.count_job_outcome(job_id, outcome)
    if outcome in _CHANGED or _redelivered(self):
        request_publish(deps.store, lambda delay: publish.apply_async(countdown=delay))
    return outcome


def _redelivered(task: Any) -> bool:
    """A redelivered crawl may follow a worker killed between storing a change and asking
    for its publish: the second run finds the post the same, so it asks anyway."""
    return bool((task.request.delivery_info or {}).get("redelivered"))


def _visibility_timeout(app: Any) -> float:
    return float(app.conf.broker_transport_options.get("visibility_timeout", MAX_BACKOFF))


def _backoff(app: Any, retries: int, exc: TransientFetchError) -> float:
    """Exponential with full jitter, at least the server's Retry-After, and well inside the
    visibility timeout: a held (countdown) message past it would be delivered twice."""
    cap = min(MAX_BACKOFF, _visibility_timeout(app) / 2)
    wait = get_exponential_backoff_interval(2, retries, int(cap), full_jitter=True)
    return min(cap, max(float(wait), exc.retry_after or 0.0, 1.0))


@_task("nam.publish")
def publish(self: Any) -> int:
    """Re-render the feeds touched by pending change events; returns how many events were
    published. Safe to run any number of times: events are consumed through a consumer
    group, and one run at a time renders (workers._publishing); a run that finds another
    one going comes back after DEBOUNCE seconds instead of waiting in a worker slot."""
    deps = runtime(self.app)
    published = publish_once(deps.store, deps.settings)
    if published is None:
        publish.apply_async(countdown=DEBOUNCE)
        return 0
    return published
