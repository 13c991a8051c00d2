"""One crawl step and one whole crawl: fetch, parse, store, through the edges.

`crawl_url` is what the Celery task and `nam-feeds crawl` both run, so the schedule, the CLI
and the HTTP API share one path. Stored posts are touched only by a successful parse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from services.discover_run import DiscoveredUrl, discover_report
from services.errors import FetchError, ParseError, TransientFetchError
from services.fetching import Fetcher, Validators
from services.hostgate import RedisHostGate
from services.parsing import parse_post
from services.settings import Settings
from services.storage import FetchInfo, FetchState, Store

log = structlog.get_logger(__name__)

# A host's turn is held at most this many read timeouts: longer than the fetcher's own
# deadline for one exchange (5 of them), so a live request never loses its turn.
FETCH_HOLD_FACTOR = 6


class Outcome(StrEnum):
    NEW = "new"
    EDITED = "edited"
    UNCHANGED = "unchanged"  # fetched and parsed, but the content is what we have
    NOT_MODIFIED = "not_modified"  # 304: not even parsed
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
        store.client, settings.crawl_delay, hold_seconds=FETCH_HOLD_FACTOR * settings.fetch_timeout
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


def crawl_url(url: str, *, deps: Deps, force: bool = False, now: datetime | None = None) -> Outcome:
    """Fetch, parse and store one page. A transient failure is recorded and re-raised, so
    that the caller (Celery) can retry; anything else is recorded and reported as FAILED."""
    now = now or datetime.now(UTC)
    known = deps.store.get_fetch_state(url)
    validators = None
    if known is not None and not force:
        validators = Validators(etag=known.etag, last_modified=known.last_modified)
    try:
        page = deps.fetcher.get(url, validators)
    except TransientFetchError as exc:
        _record_failure(deps.store, url, known, exc, exc.status, now)
        raise
    except FetchError as exc:
        _record_failure(deps.store, url, known, exc, exc.status, now)
        return Outcome.FAILED
    if page.not_modified:
        if known is not None and known.error:
            deps.store.set_fetch_state(url, replace(known, status=304, error=None, fetched_at=now))
        log.debug("crawl.not_modified", url=url)
        return Outcome.NOT_MODIFIED
    try:
        post = parse_post(page.body, url)
    except ParseError as exc:
        _record_failure(deps.store, url, known, exc, page.status, now)
        return Outcome.FAILED
    fetched = FetchInfo(
        url=url,
        fetched_at=now,
        status=page.status,
        etag=page.etag,
        last_modified=page.last_modified,
    )
    result = deps.store.upsert_post(post, fetched=fetched, now=now)
    log.info("crawl.stored", url=url, post_id=post.id, result=result.kind, version=result.version)
    return Outcome(result.kind)


def _record_failure(
    store: Store,
    url: str,
    known: FetchState | None,
    exc: Exception,
    status: int | None,
    now: datetime,
) -> None:
    """Keep the last good validators: the stored post is still the last good one."""
    state = replace(known or FetchState(), status=status, error=str(exc), fetched_at=now)
    store.set_fetch_state(url, state)
    log.warning("crawl.failed", url=url, status=status, error=str(exc))


@dataclass
class CrawlSummary:
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def as_dict(self) -> dict[str, object]:
        return {
            **{o.value: self.counts.get(o.value, 0) for o in Outcome},
            "failures": [{"url": u, "error": e} for u, e in self.failures],
        }


def discover_urls(deps: Deps) -> tuple[list[str], list[tuple[str, str]]]:
    """Every post URL the sources list, and the sitemaps or feeds that could not be read.
    Sitemap lastmods are kept in the fetch state for `status` and operators."""
    report = discover_report(deps.fetcher, deps.settings)
    for found in report.urls:
        _note_lastmod(deps.store, found)
    return [u.url for u in report.urls], list(report.failures)


def _note_lastmod(store: Store, found: DiscoveredUrl) -> None:
    if not found.lastmod:
        return
    try:
        lastmod = datetime.fromisoformat(found.lastmod.replace("Z", "+00:00"))
    except ValueError:
        return
    if lastmod.tzinfo is None:
        lastmod = lastmod.replace(tzinfo=UTC)
    known = store.get_fetch_state(found.url)
    if known is None or known.lastmod != lastmod:
        store.set_fetch_state(found.url, replace(known or FetchState(), lastmod=lastmod))


def crawl_all(
    deps: Deps,
    *,
    urls: list[str] | None = None,
    force: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[str, Outcome], None] | None = None,
) -> CrawlSummary:
    """A whole crawl in this process: discover (unless given URLs), then every page with a
    conditional request, so an unchanged site costs one 304 per page and no parse."""
    summary = CrawlSummary()
    if urls is None:
        urls, failures = discover_urls(deps)
        summary.failures.extend(failures)
    if on_start:
        on_start(len(urls))
    for url in urls:
        try:
            outcome = crawl_url(url, deps=deps, force=force)
        except TransientFetchError as exc:
            outcome = Outcome.FAILED
            summary.failures.append((url, str(exc)))
        else:
            if outcome is Outcome.FAILED:
                state = deps.store.get_fetch_state(url)
                summary.failures.append((url, (state.error if state else None) or "failed"))
        summary.counts[outcome.value] += 1
        if on_done:
            on_done(url, outcome)
    deps.store.record_crawl({"finished": datetime.now(UTC).isoformat(), **summary.as_dict()})
    return summary
