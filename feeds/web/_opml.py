"""The OPML the service offers: each feed once, grouped as All, Topics and Speakers.

Pure: published feed specs and names in, OPML bytes out. The default list holds the feeds
in all languages only; `?lang=` gives one language's feeds instead. Listing both would
subscribe a reader to the same entries twice (a language feed shares its entries' ids with
the feed in all languages), and readers that keep one item per id, like newsboat, would
then show some feeds empty.
"""

from __future__ import annotations

from collections.abc import Sequence

from feeds.render import FeedGroup, FeedRef, FeedSpec, Fmt, Labels, render_opml
from feeds.web._pages import feed_title

GROUPS = (("all", "All"), ("topic", "Topics"), ("speaker", "Speakers"))


def opml_document(
    specs: Sequence[FeedSpec], labels: Labels, *, base_url: str, fmt: Fmt, language: str | None
) -> bytes:
    """The OPML of the published feeds in one language (None: all languages)."""
    chosen = [s for s in specs if s.language == language and s.page is None]
    groups: list[FeedGroup] = []
    for kind, title in GROUPS:
        refs: list[FeedRef] = [
            (feed_title(s, labels), base_url + s.path(fmt), html_url(s, base_url))
            for s in chosen
            if s.kind == kind
        ]
        if refs:
            groups.append((title, refs))
    name = "NAM-media feeds" + (f" ({language})" if language else "")
    return render_opml(groups=groups, title=name)


def html_url(spec: FeedSpec, base_url: str) -> str:
    """The feed's HTML page (all posts, one speaker's or one topic's), in its language."""
    path = {"all": "/all", "topic": f"/topics/{spec.key}", "speaker": f"/speakers/{spec.key}"}
    lang = f"?lang={spec.language}" if spec.language else ""
    return base_url + path[spec.kind] + lang
