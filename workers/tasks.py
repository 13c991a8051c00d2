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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from services.crawl import Deps, Outcome, build_deps, parse_lastmod, plan_crawl
from services.crawl import crawl_url as crawl_one
from services.errors import TransientFetchError
from services.settings import Settings
from workers._publishing import DEBOUNCE, publish_once, request_publish

log = structlog.get_logger(__name__)

MAX_BACKOFF = 600.0  # seconds; a site down for longer is caught by the next discovery
# A queued crawl is expected to start within this grace (three visibility timeouts: time for
# a task lost with a killed worker to come back and run) plus its place in the queue times
# the pace of one page (the crawl delay, at least MIN_PACE).
QUEUED_GRACE_TIMEOUTS = 3
MIN_PACE = 0.1  # seconds a page costs a worker when no crawl delay applies
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
    """Find the pages due (services.crawl.plan_crawl) and enqueue one crawl_url each;
    returns how many were enqueued. A page whose crawl is still queued from the previous
    round is not queued again, so a site slower to crawl than the interval never piles up.
    The schedule leaves `every` off; a recrawl asked for by hand sets it."""
    deps = runtime(self.app)
    plan = plan_crawl(deps, force=force, every=every)
    deadlines = _queue_deadlines(self.app, len(plan.due))
    queued = [
        (due, deadline)
        for due, deadline in zip(plan.due, deadlines, strict=True)
        if force or deps.store.claim_queued(due.url, _seconds_until(deadline))
    ]
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
    for due, deadline in queued:
        lastmod = due.lastmod.isoformat() if due.lastmod else None
        # The message expires with its queued mark: a crawl lost or stuck past its deadline
        # is dropped by the worker, and the next discovery queues the page again.
        crawl_url.apply_async(
            args=(due.url,),
            kwargs={"force": force, "job_id": job_id, "lastmod": lastmod},
            expires=None if force else deadline,
        )
    log.info("discover.enqueued", urls=len(queued), skipped=len(plan.skipped), job_id=job_id)
    return len(queued)


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
            raise self.retry(exc=exc, countdown=_backoff(self, exc)) from exc
        log.warning("crawl.gave_up", url=url, retries=self.request.retries, error=str(exc))
    finally:
        if not retrying:
            deps.store.release_queued(url)
            if job_id:  # counted even when the crawl raised: the job must still finish
                deps.store.count_job_outcome(job_id, outcome)
    # A redelivered crawl may follow a worker killed between storing a change and asking
    # for its publish: the second run finds the post the same, so it asks anyway.
    if outcome in _CHANGED or (self.request.delivery_info or {}).get("redelivered"):
        request_publish(deps.store, lambda delay: publish.apply_async(countdown=delay))
    return outcome


def _queue_deadlines(app: Any, count: int) -> list[datetime]:
    """When each of `count` crawls queued now should have started, in queue order. A page's
    queued mark lives until then, so a lost task blocks its page for minutes, not for
    2 x NAMFEEDS_CRAWL_INTERVAL, while a long queue of live tasks is never queued twice."""
    now = datetime.now(UTC)
    grace = QUEUED_GRACE_TIMEOUTS * _visibility_timeout(app)
    pace = max(float(app.namfeeds_settings.crawl_delay), MIN_PACE)
    return [now + timedelta(seconds=grace + position * pace) for position in range(count)]


def _seconds_until(deadline: datetime) -> int:
    return max(1, int((deadline - datetime.now(UTC)).total_seconds()))


def _visibility_timeout(app: Any) -> float:
    return float(app.conf.broker_transport_options.get("visibility_timeout", MAX_BACKOFF))


def _backoff(task: Any, exc: TransientFetchError) -> float:
    """Exponential with full jitter, at least the server's Retry-After, and well inside the
    visibility timeout: a held (countdown) message past it would be delivered twice."""
    cap = min(MAX_BACKOFF, _visibility_timeout(task.app) / 2)
    wait = get_exponential_backoff_interval(2, task.request.retries, int(cap), full_jitter=True)
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
