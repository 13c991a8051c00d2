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

from services.discover_run import discover_report
from services.errors import FetchError, ParseError, TransientFetchError
from services.fetching import Fetcher, Validators
from services.hostgate import RedisHostGate
from services.model import Post
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


def crawl_url(
    url: str,
    *,
    deps: Deps,
    force: bool = False,
    now: datetime | None = None,
    lastmod: datetime | None = None,
) -> Outcome:
    """Fetch, parse and store one page. A transient failure is recorded and re-raised, so
    that the caller (Celery) can retry; anything else is recorded and reported as FAILED.
    `lastmod` is the sitemap's for this page, remembered once the page is read."""
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
        # When it was last checked, and against which lastmod, decides the next check.
        checked = replace(known or FetchState(), status=304, error=None, fetched_at=now)
        deps.store.set_fetch_state(url, replace(checked, lastmod=lastmod or checked.lastmod))
        log.debug("crawl.not_modified", url=url)
        return Outcome.NOT_MODIFIED
    try:
        # After a redirect the final address is the page's own (a renamed slug, say).
        post = parse_post(page.body, page.final_url or url)
    except ParseError as exc:
        _record_failure(deps.store, url, known, exc, page.status, now)
        return Outcome.FAILED
    post = _keep_known_id(deps.store, post)
    fetched = FetchInfo(
        url=url,
        fetched_at=now,
        status=page.status,
        etag=page.etag,
        last_modified=page.last_modified,
    )
    result = deps.store.upsert_post(post, fetched=fetched, now=now)
    if lastmod is not None:
        stored = deps.store.get_fetch_state(url) or FetchState()
        if stored.lastmod != lastmod:
            deps.store.set_fetch_state(url, replace(stored, lastmod=lastmod))
    log.info("crawl.stored", url=url, post_id=post.id, result=result.kind, version=result.version)
    return Outcome(result.kind)


def _keep_known_id(store: Store, post: Post) -> Post:
    """Ids never change: if this address already belongs to a stored post, the page keeps
    that post's id, even if the way we derive ids from markup found a different one."""
    known = store.post_id_for_url(post.url)
    return replace(post, id=known) if known and known != post.id else post


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
            "skipped": self.counts.get("skipped", 0),
            "failures": [{"url": u, "error": e} for u, e in self.failures],
        }


@dataclass(frozen=True)
class Due:
    """A page to request in this crawl, with the sitemap's lastmod for it (if any)."""

    url: str
    lastmod: datetime | None = None


@dataclass
class Plan:
    due: list[Due]
    skipped: list[str]  # unchanged by their sitemap lastmod, checked recently enough
    failures: list[tuple[str, str]]  # sitemaps or feeds that could not be read


def plan_crawl(
    deps: Deps, *, force: bool = False, every: bool = False, now: datetime | None = None
) -> Plan:
    """Discover every post URL and decide which ones this crawl requests (see is_due). A
    crawl asked for by hand passes `every`: each page gets at least a conditional request."""
    now = now or datetime.now(UTC)
    report = discover_report(deps.fetcher, deps.settings)
    plan = Plan(due=[], skipped=[], failures=list(report.failures))
    for found in report.urls:
        lastmod = parse_lastmod(found.lastmod)
        state = deps.store.get_fetch_state(found.url)
        revalidate_after = 0 if every else deps.settings.revalidate_after
        if is_due(state, lastmod, now=now, revalidate_after=revalidate_after, force=force):
            plan.due.append(Due(found.url, lastmod))
        else:
            plan.skipped.append(found.url)
    return plan


def is_due(
    state: FetchState | None,
    lastmod: datetime | None,
    *,
    now: datetime,
    revalidate_after: int,
    force: bool,
) -> bool:
    """Only pages whose sitemap lastmod changed are requested again, unless forced; a page
    whose last fetch failed, that no sitemap dates, or that was last checked
    `revalidate_after` seconds ago gets a conditional request anyway, in case an edit at the
    source did not touch the sitemap."""
    if force or state is None or lastmod is None:
        return True
    if state.error or state.status not in (200, 304) or state.lastmod != lastmod:
        return True
    if state.fetched_at is None:
        return True
    return (now - state.fetched_at).total_seconds() >= revalidate_after


def parse_lastmod(value: str | None) -> datetime | None:
    """A sitemap lastmod (W3C datetime: a day, or a time with a zone) as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def crawl_all(
    deps: Deps,
    *,
    urls: list[str] | None = None,
    force: bool = False,
    every: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[str, Outcome], None] | None = None,
) -> CrawlSummary:
    """A whole crawl in this process: discover (unless given URLs), then every page that is
    due with a conditional request, so an unchanged site costs a 304 per page at most."""
    summary = CrawlSummary()
    if urls is None:
        plan = plan_crawl(deps, force=force, every=every)
        summary.failures.extend(plan.failures)
        summary.counts["skipped"] = len(plan.skipped)
        due = plan.due
    else:
        due = [Due(url) for url in urls]
    if on_start:
        on_start(len(due))
    for page in due:
        url = page.url
        try:
            outcome = crawl_url(url, deps=deps, force=force, lastmod=page.lastmod)
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
