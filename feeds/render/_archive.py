"""RFC 5005 archived feeds: which posts go on which archive page, and how pages link.

Pure. A feed's posts, newest first, split into: the current document (the newest
`page_size`), then archive pages numbered from the oldest. Pages 1..F hold `page_size`
posts each and are full for good: a new post only ever pushes the current document's oldest
post onto the open page (OPEN_PAGE), which becomes page F+1 once it is full. So a full page
keeps its posts, and can be served as immutable; only the open page and the current
document change as posts arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feeds.render._entries import OPEN_PAGE, FeedSpec
from feeds.render._links import DocumentLinks


@dataclass(frozen=True)
class ArchivePlan:
    """The archive pages of one feed: page number -> post ids (newest first on the page)."""

    spec: FeedSpec
    pages: dict[int, tuple[str, ...]]

    @property
    def full_pages(self) -> int:
        return sum(1 for page in self.pages if page != OPEN_PAGE)

    def newest_page(self) -> int | None:
        """The page the current document's prev-archive names: open, else the last full."""
        if OPEN_PAGE in self.pages:
            return OPEN_PAGE
        return self.full_pages or None

    def order(self) -> list[int]:
        """Pages from the oldest to the newest."""
        return list(range(1, self.full_pages + 1)) + (
            [OPEN_PAGE] if OPEN_PAGE in self.pages else []
        )

    def links(self, page: int | None, hub: str | None = None) -> DocumentLinks:
        """The links of the current document (page None) or of one archive page."""
        order = self.order()
        if page is None:
            newest = self.newest_page()
            prev = None if newest is None else self.spec.current.archive(newest)
            return DocumentLinks(prev_archive=prev, hub=hub)
        at = order.index(page)
        prev = self.spec.current.archive(order[at - 1]) if at > 0 else None
        nxt = self.spec.current.archive(order[at + 1]) if at + 1 < len(order) else None
        return DocumentLinks(prev_archive=prev, next_archive=nxt, hub=hub)

    def page_of(self, post_id: str) -> int | None:
        for page, ids in self.pages.items():
            if post_id in ids:
                return page
        return None


def plan_archive(spec: FeedSpec, newest_first: Sequence[str], page_size: int) -> ArchivePlan:
    """Pages of the posts after the newest `page_size` (the current document's)."""
    if page_size < 1:
        raise ValueError(f"render: page size must be positive, not {page_size}")
    oldest_first = list(newest_first[page_size:])[::-1]
    pages: dict[int, tuple[str, ...]] = {}
    full = len(oldest_first) // page_size
    for number in range(1, full + 1):
        chunk = oldest_first[(number - 1) * page_size : number * page_size]
        pages[number] = tuple(chunk[::-1])
    rest = oldest_first[full * page_size :]
    if rest:
        pages[OPEN_PAGE] = tuple(rest[::-1])
    return ArchivePlan(spec.current, pages)
