"""Feed rendering: stored posts in, Atom or RSS 2.0 bytes out (feedgen); JSON Feed in _json.

Pure: no network, no Redis, no `os`, no clock. Every date in the output comes from the items,
so the same items render to the same bytes, hence the same ETag (DESIGN.md, "Feed entries").
Which entries a feed holds is _entries' job, what they say is _content's; this module only
writes them out, in the shape the W3C Feed Validator accepts without a warning: one date per
RSS item (pubDate, no dc:date beside it), the channel's <language>, atom:link rel=self.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from feeds.render._content import (
    content_html,
    entry_authors,
    entry_title,
    other_languages,
)
from feeds.render._entries import (
    DEFAULT_FEED_SIZE,
    TAG_AUTHORITY,
    Entry,
    FeedSpec,
    Fmt,
    RenderItem,
    check_fmt,
    entries_for,
    last_updated,
)
from feeds.render._json import render_json
from feeds.render._labels import Labels
from feeds.render._links import HISTORY_NS, Document, DocumentLinks
from feeds.render._titles import feed_title

TOPIC_SCHEME = TAG_AUTHORITY + "topics"
CATEGORY_SCHEME = TAG_AUTHORITY + "categories"
_ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MIME = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


class _FeedExtras(BaseExtension):  # type: ignore[misc]
    """Feed-level links feedgen cannot write in RSS (it writes only rel=self there), and the
    RFC 5005 `fh:archive` marker of an archive page."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str, str]] = []  # rel, href, type
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS} if self.archive else {}

    def extend_atom(self, feed: Any) -> Any:
        self._add(feed, "link")
        return feed

    def extend_rss(self, feed: Any) -> Any:
        self._add(feed[0], f"{{{_ATOM_NS}}}link")  # the channel
        return feed

    def _add(self, parent: Any, tag: str) -> None:
        for rel, href, mime in self.links:
            if mime:
                xml_elem(tag, parent, rel=rel, href=href, type=mime)
            else:
                xml_elem(tag, parent, rel=rel, href=href)
        if self.archive:
            xml_elem(f"{{{HISTORY_NS}}}archive", parent)


class _AtomEntryExtras(BaseEntryExtension):  # type: ignore[misc]
    """What feedgen 1.0 cannot write on an Atom entry: `xml:lang` (it has no per-entry
    language), and links with rel/type/hreflang (its entry writer drops every link attribute
    but href)."""

    def __init__(self) -> None:
        self.language: str | None = None
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: Any) -> Any:
        if self.language:
            entry.attrib[_XML_LANG] = self.language
        for link in self.links:
            xml_elem("link", entry, **link)
        return entry


def render_feed(
    spec: FeedSpec,
    items: Iterable[RenderItem],
    *,
    fmt: Fmt,
    public_url: str,
    feed_size: int = DEFAULT_FEED_SIZE,
    labels: Labels | None = None,
    site_name: str = "NAM-media",
    links: DocumentLinks | None = None,
    entries: Sequence[Entry] | None = None,
    self_path: str | None = None,
    title: str | None = None,
) -> bytes:
    """One feed document as bytes. Same items, same arguments: same bytes.

    `entries` (chosen by the caller, as a query feed does) replace those of `items`;
    `self_path` and `title` name such a feed, whose id is then built from its path."""
    check_fmt(fmt)
    labels = labels or Labels()
    if entries is None:
        entries = entries_for(spec, items, feed_size=feed_size)
    doc = Document(
        path=self_path or spec.path(fmt),
        title=title or feed_title(spec, entries, labels, site_name),
        feed_id=f"{TAG_AUTHORITY}feed" + (self_path or f"/{spec.feed_key}"),
    )
    if fmt == "json":
        return render_json(
            spec,
            entries,
            public_url=public_url,
            labels=labels,
            site_name=site_name,
            links=links,
            doc=doc,
        )
    base_url = public_url.rstrip("/")
    feed = _new_feed(spec, fmt, base_url, doc)
    _add_links(feed, spec, fmt, base_url, links or DocumentLinks())
    feed.author(name=site_name)
    feed.updated(last_updated(entries))
    for entry in entries:
        _add_entry(feed, entry, fmt, labels, site_name)
    if fmt == "atom":
        return bytes(feed.atom_str(pretty=True))
    return bytes(feed.rss_str(pretty=True))


def _new_feed(spec: FeedSpec, fmt: Fmt, base_url: str, doc: Document) -> FeedGenerator:
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(doc.feed_id)
    feed.title(doc.title)
    feed.description(doc.title)
    feed.link(href=base_url + doc.path, rel="self", type=MIME[fmt])
    # feedgen takes the last link as the RSS channel link: the index page, not the feed.
    feed.link(href=base_url + "/", rel="alternate", type="text/html")
    feed.generator("nam-feeds")
    # The feed's own text (title, description) is in this language; entries carry theirs.
    feed.language(spec.language or "en")
    return feed


def _add_links(
    feed: FeedGenerator, spec: FeedSpec, fmt: Fmt, base_url: str, links: DocumentLinks
) -> None:
    found = links.relations(spec, fmt, base_url)
    if not found and spec.page is None:
        return
    feed.register_extension("namfeed", _FeedExtras, atom=True, rss=True)
    feed.namfeed.links = [(rel, href, _link_type(rel, fmt)) for rel, href in found]
    feed.namfeed.archive = spec.page is not None


def _link_type(rel: str, fmt: Fmt) -> str:
    return "" if rel == "hub" else MIME[fmt]  # a hub is an endpoint, not a document


def _add_entry(feed: FeedGenerator, entry: Entry, fmt: Fmt, labels: Labels, site: str) -> None:
    post = entry.post
    item = feed.add_entry(order="append")  # feedgen prepends by default
    item.guid(entry.id, permalink=False)
    item.title(entry_title(entry, labels))
    item.updated(entry.updated)
    item.content(content_html(entry, labels), type="html")
    item.category(categories(entry, labels))
    authors = entry_authors(entry, labels, site)
    if fmt == "atom":
        item.register_extension("nam", _AtomEntryExtras, atom=True, rss=False)
        item.nam.language = post.language
        # Readers keep the last alternate link as the entry's link (feedparser and newsboat
        # both do), so the post's own page goes after its other language versions.
        item.nam.links = [
            {"href": url, "rel": "alternate", "type": "text/html", "hreflang": language}
            for language, url in [*other_languages(post), (post.language, post.url)]
        ]
        for name in authors:
            item.author(name=name)
        if entry.published:
            item.published(entry.published)
    else:
        item.link(href=post.url, rel="alternate")
        item.dc.dc_language(post.language)
        # RSS <author> must be an e-mail address; dc:creator carries a name.
        item.dc.dc_creator(authors)
        # One date per item (a pubDate beside a dc:date is a validator warning): when it was
        # published, or when it was first seen if the page gave no date.
        item.published(entry.published or entry.updated)


def categories(entry: Entry, labels: Labels) -> list[dict[str, str]]:
    """The site's categories, then the topics: the slug as term, the name in the entry's
    language as label (RSS shows the label, so it is the text of <category>)."""
    language = entry.post.language
    cats = [{"term": c, "scheme": CATEGORY_SCHEME} for c in entry.post.categories]
    for slug in entry.topics:
        cats.append({"term": slug, "scheme": TOPIC_SCHEME, "label": labels.topic(slug, language)})
    return cats
