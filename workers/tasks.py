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
from datetime import UTC, datetime
from typing import Any

import structlog
from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from services.crawl import Deps, Outcome, build_deps, discover_urls
from services.crawl import crawl_url as crawl_one
from services.errors import TransientFetchError

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
    not share the parent's sockets (httpx pool, Redis connections)."""
    global _runtime
    if _runtime is not None and _runtime[0] == os.getpid():
        return _runtime[1]
    deps = build_deps(app.namfeeds_settings, app.namfeeds_redis_url)
    atexit.register(deps.fetcher.close)
    atexit.register(deps.store.close)
    _runtime = (os.getpid(), deps)
    return deps


@_task("nam.discover")
def discover(self: Any, force: bool = False, job_id: str | None = None) -> int:
    """Find every post URL and enqueue one crawl_url each; returns how many were enqueued.
    Run twice, it enqueues twice, and the second round of crawls finds nothing to write."""
    deps = runtime(self.app)
    urls, failures = discover_urls(deps)
    if job_id:
        deps.store.update_job(
            job_id,
            status="running",
            total=len(urls),
            done=0,
            discovery_failures=[{"url": u, "error": e} for u, e in failures],
        )
    deps.store.record_crawl(
        {
            "started": datetime.now(UTC).isoformat(),
            "mode": "worker",
            "urls": len(urls),
            "failures": [{"url": u, "error": e} for u, e in failures],
        }
    )
    for url in urls:
        crawl_url.apply_async(args=(url,), kwargs={"force": force, "job_id": job_id})
    log.info("discover.enqueued", urls=len(urls), failures=len(failures), job_id=job_id)
    return len(urls)


@_task("nam.crawl_url")
def crawl_url(self: Any, url: str, force: bool = False, job_id: str | None = None) -> str:
    """Fetch, parse and store one page; returns the Outcome's value. Transient failures are
    retried with exponential backoff (honouring Retry-After) up to settings.max_retries."""
    deps = runtime(self.app)
    try:
        outcome = crawl_one(url, deps=deps, force=force).value
    except TransientFetchError as exc:
        if self.request.retries < deps.settings.max_retries:
            raise self.retry(exc=exc, countdown=_backoff(self, exc)) from exc
        log.warning("crawl.gave_up", url=url, retries=self.request.retries, error=str(exc))
        outcome = Outcome.FAILED.value
    if outcome in _CHANGED:
        publish.delay()
    if job_id:
        deps.store.count_job_outcome(job_id, outcome)
    return outcome


def _backoff(task: Any, exc: TransientFetchError) -> float:
    """Exponential with full jitter, at least the server's Retry-After, and well inside the
    visibility timeout: a held (countdown) message past it would be delivered twice."""
    visibility = task.app.conf.broker_transport_options.get("visibility_timeout", MAX_BACKOFF)
    cap = min(MAX_BACKOFF, float(visibility) / 2)
    wait = get_exponential_backoff_interval(2, task.request.retries, int(cap), full_jitter=True)
    return min(cap, max(float(wait), exc.retry_after or 0.0, 1.0))


@_task("nam.publish")
def publish(self: Any) -> int:
    """Re-render the feeds touched by pending change events; returns how many were rendered.
    Safe to run any number of times: events are consumed through a consumer group."""
    from feeds.publish import publish_changes  # the feeds layer, loaded when first used

    deps = runtime(self.app)
    # one consumer name for every worker: an event a dead worker read is still pending
    # under it, so the next run (or publish_changes' stale claim) picks it up
    rendered: int = publish_changes(deps.store, deps.settings)
    return rendered
