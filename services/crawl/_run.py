"""One whole crawl in this process: discover, plan, then each page due, with a summary.

`nam-feeds crawl` runs this; the workers run the same steps as separate tasks. A page whose
server asked for a pause (Retry-After) is deferred until then: skipped, not fetched, and
listed as deferred rather than failed. Failures are summed up by their cause.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from services.crawl._plan import Due, plan_crawl
from services.crawl._step import Deps, Outcome, crawl_url
from services.errors import TransientFetchError
from services.fetch import DEFERRED, cause_of

log = structlog.get_logger(__name__)


@dataclass
class CrawlSummary:
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def as_dict(self) -> dict[str, object]:
        return {
            **{o.value: self.counts.get(o.value, 0) for o in Outcome},
            "skipped": self.counts.get("skipped", 0),
            "deferred": len(self.deferred),
            "failures": [{"url": u, "error": e} for u, e in self.failures],
            "failures_by_cause": dict(failures_by_cause(self.failures)),
        }


def failures_by_cause(failures: Iterable[tuple[str, str]]) -> list[tuple[str, int]]:
    """How many pages failed for each cause ("HTTP 500", "name did not resolve", …), the
    commonest first."""
    counted = Counter(cause_of(error) for _, error in failures)
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))


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
    deps.fetcher.new_crawl()
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
        outcome = _crawl_page(deps, page, force, summary)
        if outcome is not None:
            summary.counts[outcome.value] += 1
        if on_done:
            on_done(page.url, outcome or Outcome.FAILED)
    deps.store.record_crawl({"finished": datetime.now(UTC).isoformat(), **summary.as_dict()})
    return summary


def _crawl_page(deps: Deps, page: Due, force: bool, summary: CrawlSummary) -> Outcome | None:
    """One page's outcome, or None when it is deferred and was not asked for."""
    url = page.url
    deferral = deps.store.deferred(url)
    if deferral is not None:
        seconds, reason = deferral
        summary.deferred.append((url, f"{reason} ({seconds:.0f} s left)"))
        return None
    try:
        outcome = crawl_url(url, deps=deps, force=force, lastmod=page.lastmod)
    except TransientFetchError as exc:
        if exc.retry_after:
            # Asked to wait: nobody asks for the page until then, in this crawl or the next.
            deps.store.defer_url(url, exc.retry_after, exc.reason)
        if exc.reason.startswith(DEFERRED):
            summary.deferred.append((url, exc.reason))
            return None
        summary.failures.append((url, str(exc)))
        return Outcome.FAILED
    if outcome is Outcome.FAILED:
        state = deps.store.get_fetch_state(url)
        summary.failures.append((url, (state.error if state else None) or "failed"))
    return outcome
