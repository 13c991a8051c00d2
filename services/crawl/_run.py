"""One whole crawl in this process: discover, plan, then each page due, with a summary.

`nam-feeds crawl` runs this; the workers run the same steps as separate tasks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.crawl._plan import Due, plan_crawl
from services.crawl._step import Deps, Outcome, crawl_url
from services.errors import TransientFetchError


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
