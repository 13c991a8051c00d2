"""Feed rendering: stored posts in, Atom or RSS 2.0 bytes out (feedgen).

Pure: no network, no Redis, no `os`, no clock. Every date in the output comes from the items,
so the same items render to the same bytes, hence the same ETag (DESIGN.md, "Feed entries").
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from services.model import LANGUAGES, Post, Section

Kind = Literal["all", "topic", "speaker"]
Fmt = Literal["atom", "rss"]

DEFAULT_FEED_SIZE = 50
# RFC 4151 tag URIs. The date is the authority's, fixed forever: a post's own date can be
# corrected at the source, and readers treat a changed id as a new article.
TAG_AUTHORITY = "tag:belarus-nau.org,2023:"
TOPIC_SCHEME = TAG_AUTHORITY + "topics"
CATEGORY_SCHEME = TAG_AUTHORITY + "categories"
# An empty feed still needs an `updated`; a fixed one keeps its bytes (and ETag) stable.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

_DIRS: dict[str, str] = {"topic": "topics", "speaker": "speakers"}
_KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "be": "Беларуская"}
_SOURCE_LINK = {"en": "Read the original post", "ru": "Читать на сайте", "be": "Чытаць на сайце"}
_FEED_SUBJECT = {"en": "all posts", "ru": "все публикации", "be": "усе публікацыі"}


@dataclass(frozen=True)
class FeedSpec:
    """Which feed: everything, one topic or one person, optionally in one language."""

    kind: Kind
    key: str | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "all":
            if self.key is not None:
                raise ValueError("render: the all feed takes no key")
        elif self.kind in _DIRS:
            if not self.key or not _KEY_RE.match(self.key):
                raise ValueError(f"render: bad {self.kind} key {self.key!r}")
        else:
            raise ValueError(f"render: unknown feed kind {self.kind!r}")
        if self.language is not None and self.language not in LANGUAGES:
            raise ValueError(f"render: unknown language {self.language!r}")

    @property
    def _base(self) -> str:
        return "all" if self.kind == "all" else f"{_DIRS[self.kind]}/{self.key}"

    @property
    def feed_key(self) -> str:
        """Stable storage key: `all`, `topics/ukraine`, `speakers/pavel-latushka@ru`."""
        return f"{self._base}@{self.language}" if self.language else self._base

    @classmethod
    def from_feed_key(cls, text: str) -> FeedSpec:
        base, _, language = text.partition("@")
        kind_dir, _, key = base.partition("/")
        lang = language or None
        if base == "all":
            return cls("all", None, lang)
        kinds = {v: k for k, v in _DIRS.items()}
        if kind_dir not in kinds or not key:
            raise ValueError(f"render: bad feed key {text!r}")
        kind: Kind = "topic" if kinds[kind_dir] == "topic" else "speaker"
        return cls(kind, key, lang)

    def path(self, fmt: Fmt) -> str:
        """URL path under the public URL, e.g. `/feeds/topics/ukraine.rss?lang=ru`."""
        _check_fmt(fmt)
        path = f"/feeds/{self._base}.{fmt}"
        return f"{path}?lang={self.language}" if self.language else path


@dataclass(frozen=True)
class RenderItem:
    """A stored post with when it last changed; `change_note` is set after a source edit."""

    post: Post
    updated: datetime
    version: int = 1
    change_note: str | None = None


@dataclass(frozen=True)
class Entry:
    """One feed entry: the part of a post a feed shows (all of it, one topic, one person)."""

    id: str
    kind: Kind
    post: Post
    sections: tuple[Section, ...]
    updated: datetime
    change_note: str | None
    subject: str | None  # the topic slug or person id of the feed; None for `all`

    @property
    def topics(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for section in self.sections:
            for slug in section.topics:
                seen.setdefault(slug)
        return tuple(seen)


class PersonLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def name_ru(self) -> str | None: ...
    @property
    def name_be(self) -> str | None: ...


class TopicLike(Protocol):
    @property
    def slug(self) -> str: ...
    @property
    def names(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Labels:
    """Display names by language, passed in so rendering needs no registry (id -> lang -> name)."""

    people: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    topics: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def person(self, person_id: str, language: str | None) -> str | None:
        return _pick(self.people.get(person_id, {}), language)

    def topic(self, slug: str, language: str | None) -> str:
        return _pick(self.topics.get(slug, {}), language) or slug

    @classmethod
    def from_registries(cls, people: Iterable[PersonLike], topics: Iterable[TopicLike]) -> Labels:
        return cls(
            people={p.id: _person_names(p) for p in people},
            topics={t.slug: dict(t.names) for t in topics},
        )


def _person_names(person: PersonLike) -> dict[str, str]:
    names = {"en": person.name, "ru": person.name_ru, "be": person.name_be}
    return {lang: name for lang, name in names.items() if name}


def _pick(names: Mapping[str, str], language: str | None) -> str | None:
    return names.get(language or "en") or names.get("en") or next(iter(names.values()), None)


def entry_id(post_id: str, kind: Kind = "all", key: str | None = None) -> str:
    """The entry's `tag:` URI: from the post's stable id and the topic or person only."""
    base = f"{TAG_AUTHORITY}post/{quote(post_id, safe='-._~')}"
    if kind == "all" or key is None:
        return base
    return f"{base}/{kind}/{quote(key, safe='-._~')}"


def entries_for(
    spec: FeedSpec, items: Iterable[RenderItem], *, feed_size: int = DEFAULT_FEED_SIZE
) -> list[Entry]:
    """The entries of one feed: newest first by `updated`, ties by id, at most `feed_size`."""
    if feed_size < 1:
        raise ValueError(f"render: feed_size must be positive, not {feed_size}")
    entries = [
        entry
        for item in _latest_versions(items)
        if spec.language is None or item.post.language == spec.language
        if (entry := _entry_of(spec, item)) is not None
    ]
    entries.sort(key=lambda e: e.id)
    entries.sort(key=lambda e: e.updated, reverse=True)
    return entries[:feed_size]


def last_updated(entries: Sequence[Entry]) -> datetime:
    """The feed's `updated` / `lastBuildDate`, and a fit `Last-Modified` for serving it."""
    return max((e.updated for e in entries), default=EMPTY_FEED_UPDATED)


def _latest_versions(items: Iterable[RenderItem]) -> list[RenderItem]:
    # A post stored twice (a stale copy in a batch) must not give two entries with one id.
    latest: dict[str, RenderItem] = {}
    for item in items:
        known = latest.get(item.post.id)
        if known is None or (item.version, _utc(item.updated)) > (
            known.version,
            _utc(known.updated),
        ):
            latest[item.post.id] = item
    return list(latest.values())


def _entry_of(spec: FeedSpec, item: RenderItem) -> Entry | None:
    post = item.post
    if spec.kind == "all":
        sections = post.sections
    elif spec.kind == "topic":
        sections = tuple(s for s in post.sections if spec.key in s.topics)
    else:
        sections = _answers_by(post, spec.key or "")
    if spec.kind != "all" and not sections:
        return None
    return Entry(
        id=entry_id(post.id, spec.kind, spec.key),
        kind=spec.kind,
        post=post,
        sections=sections,
        updated=_utc(item.updated),
        change_note=item.change_note,
        subject=spec.key,
    )


def _answers_by(post: Post, person_id: str) -> tuple[Section, ...]:
    """Each section the person answers in, keeping its heading and question for context."""
    held = []
    for section in post.sections:
        answers = tuple(a for a in section.answers if a.speaker and a.speaker.id == person_id)
        if answers:
            held.append(replace(section, answers=answers))
    return tuple(held)


def _utc(value: datetime) -> datetime:
    # Stored times should be aware; a naive one is taken as UTC rather than as local time,
    # which would make the bytes depend on the machine.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _check_fmt(fmt: str) -> None:
    if fmt not in ("atom", "rss"):
        raise ValueError(f"render: unknown feed format {fmt!r}")


# ---------------------------------------------------------------- rendering


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
    _check_fmt(fmt)
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
            item.published(_utc(post.published))
    else:
        item.link(href=post.url, rel="alternate")
        item.dc.dc_language(post.language)
        item.dc.dc_creator(post.source or site)
        # RSS items have no `updated`; dc:date carries it so readers can see an edit.
        item.dc.dc_date(entry.updated.isoformat())
        # RSS readers sort by pubDate; fall back to the change time rather than omit it.
        item.published(_utc(post.published) if post.published else entry.updated)


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


# ---------------------------------------------------------------- change notes


def describe_change(old: Post, new: Post) -> str:
    """What an edit at the source changed, for the top of the edited entry."""
    changes = []
    if old.title != new.title:
        changes.append("title changed")
    old_sections, new_sections = _keyed_sections(old), _keyed_sections(new)
    changed = added = removed = 0
    for key in old_sections.keys() & new_sections.keys():
        c, a, r = _compare_answers(old_sections[key], new_sections[key])
        changed, added, removed = changed + c, added + a, removed + r
    for count, what in ((changed, "changed"), (added, "added"), (removed, "removed")):
        if count:
            changes.append(f"{_plural(count, 'answer')} {what}")
    changes += _section_changes(old_sections, new_sections)
    if not changes:
        changes.append(_minor_change(old, new))
    return "Edited at the source: " + ", ".join(changes)


_SectionKey = tuple[str, int]


def _keyed_sections(post: Post) -> dict[_SectionKey, Section]:
    # A section is known by its heading or question; repeats are told apart by occurrence.
    keyed: dict[_SectionKey, Section] = {}
    seen: dict[str, int] = {}
    for section in post.sections:
        label = section.heading or section.question or ""
        seen[label] = seen.get(label, -1) + 1
        keyed[(label, seen[label])] = section
    return keyed


def _compare_answers(old: Section, new: Section) -> tuple[int, int, int]:
    """(changed, added, removed) answers, paired by position within the section."""
    changed = sum(1 for a, b in zip(old.answers, new.answers, strict=False) if a != b)
    extra = len(new.answers) - len(old.answers)
    return changed, max(extra, 0), max(-extra, 0)


def _section_changes(old: dict[_SectionKey, Section], new: dict[_SectionKey, Section]) -> list[str]:
    notes = []
    for key in new:
        if key not in old:
            notes.append(_section_note(key[0], "added"))
    for key in old:
        if key not in new:
            notes.append(_section_note(key[0], "removed"))
    return notes


def _section_note(label: str, what: str) -> str:
    if not label:
        return f"a section {what}"
    short = label if len(label) <= 60 else label[:57].rstrip() + "…"
    return f'heading "{short}" {what}'


def _minor_change(old: Post, new: Post) -> str:
    if old.categories != new.categories:
        return "categories changed"
    if old.published != new.published:
        return "date corrected"
    if [s.topics for s in old.sections] != [s.topics for s in new.sections]:
        return "topics changed"
    return "details changed"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
