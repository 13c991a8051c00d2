"""Links of one feed document beyond its entries: RFC 5005 archives and a WebSub hub.

Pure. The current document links `prev-archive` to the newest archive page, each archive
page links `prev-archive` to the next older one, `next-archive` to the next newer one and
`current` to the current document (RFC 5005 section 4), so a reader can walk back to the
first post. `hub` names the WebSub hub (W3C WebSub section 4) next to `self`.
"""

from __future__ import annotations

from dataclasses import dataclass

from feeds.render._entries import FeedSpec, Fmt

HISTORY_NS = "http://purl.org/syndication/history/1.0"


@dataclass(frozen=True)
class DocumentLinks:
    prev_archive: FeedSpec | None = None
    next_archive: FeedSpec | None = None
    hub: str | None = None

    def relations(self, spec: FeedSpec, fmt: Fmt, base_url: str) -> list[tuple[str, str]]:
        """(rel, absolute URL) of each link besides `self` and `alternate`, in a fixed order."""
        found: list[tuple[str, str]] = []
        if self.hub:
            found.append(("hub", self.hub))
        if spec.page is not None:
            found.append(("current", base_url + spec.current.path(fmt)))
        if self.prev_archive is not None:
            found.append(("prev-archive", base_url + self.prev_archive.path(fmt)))
        if self.next_archive is not None:
            found.append(("next-archive", base_url + self.next_archive.path(fmt)))
        return found


@dataclass(frozen=True)
class Document:
    """How one rendered document names itself: its path (self link), title and feed id."""

    path: str
    title: str
    feed_id: str
