"""Which feed and what goes in it: feed specs, render items, entries per feed kind, labels.

Pure: no network, no Redis, no `os`, no clock. Entry ids and `updated` come from the items
alone, so the same items give the same entries (DESIGN.md, "Feed entries").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from feeds.render._times import distinct_times
from services.model import LANGUAGES, Post, Section

Kind = Literal["all", "topic", "speaker"]
Fmt = Literal["atom", "rss", "json"]
FORMATS: tuple[Fmt, ...] = ("atom", "rss", "json")

DEFAULT_FEED_SIZE = 50
# RFC 4151 tag URIs. The date is the authority's, fixed forever: a post's own date can be
# corrected at the source, and readers treat a changed id as a new article.
TAG_AUTHORITY = "tag:belarus-nau.org,2023:"
# An empty feed still needs an `updated`; a fixed one keeps its bytes (and ETag) stable.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

_DIRS: dict[str, str] = {"topic": "topics", "speaker": "speakers"}
_KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]*\Z")


# An archive page (RFC 5005 section 4): `OPEN_PAGE` is the newest, still filling; pages 1, 2, …
# are full and never change their entries, oldest first.
OPEN_PAGE = 0
_ARCHIVE_RE = re.compile(r"(.+)/archive/(open|[1-9][0-9]{0,8})\Z")


@dataclass(frozen=True)
class FeedSpec:
    """Which feed: everything, one topic or one person, optionally in one language; and
    which document of it: the current one (`page` None) or an archive page."""

    kind: Kind
    key: str | None = None
    language: str | None = None
    page: int | None = None

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
        if self.page is not None and (isinstance(self.page, bool) or self.page < 0):
            raise ValueError(f"render: bad archive page {self.page!r}")

    @property
    def _base(self) -> str:
        base = "all" if self.kind == "all" else f"{_DIRS[self.kind]}/{self.key}"
        if self.page is None:
            return base
        return f"{base}/archive/{'open' if self.page == OPEN_PAGE else self.page}"

    @property
    def current(self) -> FeedSpec:
        """The feed's current document (RFC 5005 `current`): this spec without its page."""
        return replace(self, page=None)

    def archive(self, page: int) -> FeedSpec:
        return replace(self, page=page)

    @property
    def frozen(self) -> bool:
        """A full archive page: its entries never change, so it may be cached for long."""
        return self.page is not None and self.page != OPEN_PAGE

    @property
    def feed_key(self) -> str:
        """Stable storage key: `all`, `topics/ukraine`, `speakers/pavel-latushka@ru`,
        `all/archive/3@en`."""
        return f"{self._base}@{self.language}" if self.language else self._base

    @classmethod
    def from_feed_key(cls, text: str) -> FeedSpec:
        base, _, language = text.partition("@")
        lang = language or None
        page = None
        archived = _ARCHIVE_RE.match(base)
        if archived:
            base = archived.group(1)
            page = OPEN_PAGE if archived.group(2) == "open" else int(archived.group(2))
        if base == "all":
            return cls("all", None, lang, page)
        kind_dir, _, key = base.partition("/")
        kinds = {v: k for k, v in _DIRS.items()}
        if kind_dir not in kinds or not key:
            raise ValueError(f"render: bad feed key {text!r}")
        kind: Kind = "topic" if kinds[kind_dir] == "topic" else "speaker"
        return cls(kind, key, lang, page)

    def path(self, fmt: Fmt) -> str:
        """URL path under the public URL, e.g. `/feeds/topics/ukraine.rss?lang=ru`."""
        check_fmt(fmt)
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
    published: datetime | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for section in self.sections:
            for slug in section.topics:
                seen.setdefault(slug)
        return tuple(seen)


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
    entries = _distinct_dates(
        [
            entry
            for item in _latest_versions(items)
            if spec.language is None or item.post.language == spec.language
            if (entry := _entry_of(spec, item)) is not None
        ]
    )
    entries.sort(key=lambda e: e.id)
    entries.sort(key=lambda e: e.updated, reverse=True)
    return entries[:feed_size]


def _distinct_dates(entries: list[Entry]) -> list[Entry]:
    """Entries with updated and published times unique within the feed (see _times)."""
    updated = distinct_times({e.post.id: e.updated for e in entries})
    published = distinct_times({e.post.id: e.published for e in entries if e.published})
    return [
        replace(e, updated=updated[e.post.id], published=published.get(e.post.id)) for e in entries
    ]


def last_updated(entries: Sequence[Entry]) -> datetime:
    """The feed's `updated` / `lastBuildDate`, and a fit `Last-Modified` for serving it."""
    return max((e.updated for e in entries), default=EMPTY_FEED_UPDATED)


def _latest_versions(items: Iterable[RenderItem]) -> list[RenderItem]:
    # A post stored twice (a stale copy in a batch) must not give two entries with one id.
    latest: dict[str, RenderItem] = {}
    for item in items:
        known = latest.get(item.post.id)
        if known is None or (item.version, as_utc(item.updated)) > (
            known.version,
            as_utc(known.updated),
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
        updated=as_utc(item.updated),
        change_note=item.change_note,
        subject=spec.key,
        published=as_utc(post.published) if post.published else None,
    )


def _answers_by(post: Post, person_id: str) -> tuple[Section, ...]:
    """Each section the person answers in, keeping its heading and question for context."""
    held = []
    for section in post.sections:
        answers = tuple(a for a in section.answers if a.speaker and a.speaker.id == person_id)
        if answers:
            held.append(replace(section, answers=answers))
    return tuple(held)


def as_utc(value: datetime) -> datetime:
    """Stored times should be aware; a naive one is taken as UTC rather than as local time,
    which would make the bytes depend on the machine."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def check_fmt(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"render: unknown feed format {fmt!r}")
