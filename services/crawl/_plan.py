"""The crawl plan: which discovered pages a crawl requests, and which it skips.

Only the store's fetch state and the sitemaps' lastmod decide, so a scheduled crawl of an
unchanged site costs discovery and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.crawl._discover import discover_report
from services.crawl._step import Deps
from services.storage import FetchState

_GONE = (404, 410)  # the sitemap lists a page the site does not have: no use asking each time
_SETTLED = (200, 304, *_GONE)


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
    deferred: list[str] = field(default_factory=list)  # due, past the cap: the next crawl


def plan_crawl(
    deps: Deps, *, force: bool = False, every: bool = False, now: datetime | None = None
) -> Plan:
    """Discover every post URL and decide which ones this crawl requests (see is_due). A
    crawl asked for by hand passes `every`: each page gets at least a conditional request."""
    now = now or datetime.now(UTC)
    report = discover_report(deps.fetcher, deps.settings)
    plan = Plan(due=[], skipped=[], failures=list(report.failures))
    states = deps.store.get_fetch_states([found.url for found in report.urls])
    revalidate_after = 0 if every else deps.settings.revalidate_after
    for found, state in zip(report.urls, states, strict=True):
        lastmod = parse_lastmod(found.lastmod)
        if is_due(state, lastmod, now=now, revalidate_after=revalidate_after, force=force):
            plan.due.append(Due(found.url, lastmod))
        else:
            plan.skipped.append(found.url)
    _cap(plan, deps.settings.max_urls_per_crawl)
    return plan


def _cap(plan: Plan, most: int) -> None:
    """Request at most `most` pages: those checked now are not due in the next crawl, so the
    deferred ones take their turn then."""
    if len(plan.due) <= most:
        return
    plan.deferred = [d.url for d in plan.due[most:]]
    del plan.due[most:]
    message = (
        f"discovery: {len(plan.deferred)} pages due past NAMFEEDS_MAX_URLS_PER_CRAWL={most} "
        "wait for the next crawl"
    )
    plan.failures.append(("discovery", message))


def is_due(
    state: FetchState | None,
    lastmod: datetime | None,
    *,
    now: datetime,
    revalidate_after: int,
    force: bool,
) -> bool:
    """Only pages whose sitemap lastmod changed are requested again, unless forced; a page
    never fetched or whose last fetch failed for a passing reason (a 5xx, a timeout) is
    requested anyway. Any other page, dated by a sitemap or not (hreflang alternates have no
    lastmod), or gone (404/410), is asked again once its last check is `revalidate_after`
    seconds old, in case an edit at the source did not touch the sitemap: so an unchanged
    site costs a scheduled crawl its discovery alone."""
    if force or state is None:
        return True
    if state.status not in _SETTLED or (state.error and state.status not in _GONE):
        return True
    if lastmod is not None and state.lastmod != lastmod:
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
