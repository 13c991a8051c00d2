"""Feed rendering: stored posts in, Atom or RSS 2.0 bytes out (feedgen).

Pure: no network, no Redis, no `os`, no clock. Every date in the output comes from the items,
so the same items render to the same bytes, hence the same ETag (DESIGN.md, "Feed entries").
Which entries a feed holds is _entries' job; this module only writes them out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from feeds.render._entries import (
    DEFAULT_FEED_SIZE,
    TAG_AUTHORITY,
    Entry,
    FeedSpec,
    Fmt,
    Labels,
    RenderItem,
    as_utc,
    check_fmt,
    entries_for,
    last_updated,
)
from services.model import Post, Section

TOPIC_SCHEME = TAG_AUTHORITY + "topics"
CATEGORY_SCHEME = TAG_AUTHORITY + "categories"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "be": "Беларуская"}
_SOURCE_LINK = {"en": "Read the original post", "ru": "Читать на сайте", "be": "Чытаць на сайце"}
_FEED_SUBJECT = {"en": "all posts", "ru": "все публикации", "be": "усе публікацыі"}


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
) -> bytes:
    """One feed as bytes. Same items, same arguments: same bytes."""
    check_fmt(fmt)
    labels = labels or Labels()
    entries = entries_for(spec, items, feed_size=feed_size)
    title = _feed_title(spec, entries, labels, site_name)
    feed = _new_feed(spec, fmt, public_url.rstrip("/"), title)
    feed.author(name=site_name)
    feed.updated(last_updated(entries))
    for entry in entries:
        _add_entry(feed, entry, fmt, labels, site_name)
    if fmt == "atom":
        return bytes(feed.atom_str(pretty=True))
    return bytes(feed.rss_str(pretty=True))


def _new_feed(spec: FeedSpec, fmt: Fmt, base_url: str, title: str) -> FeedGenerator:
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(f"{TAG_AUTHORITY}feed/{spec.feed_key}")
    feed.title(title)
    feed.description(title)
    mime = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
    feed.link(href=base_url + spec.path(fmt), rel="self", type=mime)
    # feedgen takes the last link as the RSS channel link: the index page, not the feed.
    feed.link(href=base_url + "/", rel="alternate", type="text/html")
    feed.generator("nam-feeds")
    if spec.language:
        feed.language(spec.language)
    return feed


def _feed_title(spec: FeedSpec, entries: Sequence[Entry], labels: Labels, site_name: str) -> str:
    lang = spec.language
    if spec.kind == "topic":
        subject = labels.topic(spec.key or "", lang)
    elif spec.kind == "speaker":
        subject = _person_name(spec.key or "", lang, labels, entries)
    else:
        subject = _FEED_SUBJECT[lang or "en"]
    suffix = f" ({_LANGUAGE_NAMES[lang]})" if lang else ""
    return f"{site_name}: {subject}{suffix}"


def _person_name(
    person_id: str, language: str | None, labels: Labels, entries: Sequence[Entry]
) -> str:
    """The registry's name when given, else the canonical name the parser stored."""
    known = labels.person(person_id, language)
    if known:
        return known
    for entry in entries:
        for section in entry.sections:
            for answer in section.answers:
                if answer.speaker and answer.speaker.id == person_id:
                    return answer.speaker.display_name
    return person_id


def _add_entry(feed: FeedGenerator, entry: Entry, fmt: Fmt, labels: Labels, site: str) -> None:
    post = entry.post
    item = feed.add_entry(order="append")  # feedgen prepends by default
    item.guid(entry.id, permalink=False)
    item.title(_entry_title(entry, labels))
    item.updated(entry.updated)
    item.content(_content_html(entry), type="html")
    item.category(_categories(entry, labels))
    if fmt == "atom":
        item.register_extension("nam", _AtomEntryExtras, atom=True, rss=False)
        item.nam.language = post.language
        # Readers keep the last alternate link as the entry's link (feedparser and newsboat
        # both do), so the post's own page goes after its other language versions.
        item.nam.links = [
            {"href": url, "rel": "alternate", "type": "text/html", "hreflang": language}
            for language, url in [*_other_languages(post), (post.language, post.url)]
        ]
        item.author(name=post.source or site)
        if post.published:
            item.published(as_utc(post.published))
    else:
        item.link(href=post.url, rel="alternate")
        item.dc.dc_language(post.language)
        item.dc.dc_creator(post.source or site)
        # RSS items have no `updated`; dc:date carries it so readers can see an edit.
        item.dc.dc_date(entry.updated.isoformat())
        # RSS readers sort by pubDate; fall back to the change time rather than omit it.
        item.published(as_utc(post.published) if post.published else entry.updated)


def _entry_title(entry: Entry, labels: Labels) -> str:
    post = entry.post
    title = post.title or post.url
    # Readers that merge feeds show these side by side with the post's `all` entry.
    if entry.kind == "topic" and entry.subject:
        return f"{title} — {labels.topic(entry.subject, post.language)}"
    if entry.kind == "speaker" and entry.subject:
        return f"{_person_name(entry.subject, post.language, labels, [entry])}: {title}"
    return title


def _other_languages(post: Post) -> list[tuple[str, str]]:
    # Atom allows one alternate per (type, hreflang): the post's own link already has its own.
    return [(lang, url) for lang, url in post.alternates if lang != post.language and url]


def _categories(entry: Entry, labels: Labels) -> list[dict[str, str]]:
    language = entry.post.language
    cats = [{"term": c, "scheme": CATEGORY_SCHEME} for c in entry.post.categories]
    for slug in entry.topics:
        cats.append({"term": slug, "scheme": TOPIC_SCHEME, "label": labels.topic(slug, language)})
    return cats


def _content_html(entry: Entry) -> str:
    """Headings and questions, each answer under its speaker's name, then the source link."""
    parts = []
    if entry.change_note:
        parts.append(f"<p><em>{_esc(entry.change_note)}</em></p>")
    for section in entry.sections:
        parts.extend(_section_html(section))
    link_text = _SOURCE_LINK.get(entry.post.language, _SOURCE_LINK["en"])
    parts.append(f'<p><a href="{_esc(entry.post.url)}">{_esc(link_text)}</a></p>')
    return "\n".join(parts)


def _section_html(section: Section) -> list[str]:
    parts = []
    if section.heading:
        parts.append(f"<h3>{_esc(section.heading)}</h3>")
    if section.question:
        parts.append(f"<p><strong>{_esc(section.question)}</strong></p>")
    for answer in section.answers:
        if answer.speaker:
            parts.append(f"<p><strong>{_esc(answer.speaker.display_name)}:</strong></p>")
        paragraphs = (p.strip() for p in _PARAGRAPH_BREAK.split(answer.text))
        body = "".join(f"<p>{_esc(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p)
        parts.append(f"<blockquote>{body}</blockquote>")
    return parts


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
