"""The records Store hands out and takes in, and the content hash that decides an edit.

Pure: frozen dataclasses and functions of a Post; reading them from Redis replies is the job of
the storage module that owns each record.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.model import Post

UpsertKind = Literal["new", "edited", "unchanged", "quarantined"]

# Fields that may change without a reader seeing a difference: a bumped modified time alone
# is not an edit, so it is left out of the content hash (and the stored JSON keeps the old one).
VOLATILE_FIELDS = frozenset({"modified"})


@dataclass(frozen=True)
class FetchInfo:
    """The fetch that produced a post; its validators are stored with the post."""

    url: str
    fetched_at: datetime
    status: int | None = 200
    etag: str | None = None
    last_modified: str | None = None  # the Last-Modified header as sent


@dataclass(frozen=True)
class FetchState:
    """What the crawler knows about one URL: validators, outcome, and sitemap lastmod."""

    etag: str | None = None
    last_modified: str | None = None
    status: int | None = None
    error: str | None = None
    fetched_at: datetime | None = None
    post_id: str | None = None
    lastmod: datetime | None = None


@dataclass(frozen=True)
class UpsertResult:
    kind: UpsertKind
    version: int
    updated: datetime
    event_id: str | None = None  # the change stream entry; None when unchanged
    # a quarantined version was dropped by this write (the page came back, or changed)
    released_quarantine: bool = False
    reason: str | None = None  # why the new parse was quarantined

    @property
    def changed(self) -> bool:
        """A new version was published; a quarantined one is kept back, so it is not."""
        return self.kind in ("new", "edited")


@dataclass(frozen=True)
class StoredPost:
    post: Post
    version: int
    updated: datetime
    first_seen: datetime
    content_hash: str


@dataclass(frozen=True)
class Version:
    number: int
    content_hash: str
    stored_at: datetime
    updated: datetime
    post: Post


@dataclass(frozen=True)
class ChangeEvent:
    """One entry of nam:changes: which post changed and which feeds it touched."""

    event_id: str
    post_id: str
    version: int
    kind: Literal["new", "edited"]
    updated: datetime
    url: str
    language_before: str | None
    language_after: str
    topics_before: tuple[str, ...] = ()
    topics_after: tuple[str, ...] = ()
    speakers_before: tuple[str, ...] = ()
    speakers_after: tuple[str, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        before = (self.language_before,) if self.language_before else ()
        return _union(before, (self.language_after,))

    @property
    def topics(self) -> tuple[str, ...]:
        """Topic feeds to re-render: the post left some and joined others."""
        return _union(self.topics_before, self.topics_after)

    @property
    def speakers(self) -> tuple[str, ...]:
        return _union(self.speakers_before, self.speakers_after)


@dataclass(frozen=True)
class Quarantined:
    """A new parse of a known post kept back as a broken page (see _suspicion)."""

    post: Post
    content_hash: str
    reason: str
    stored_at: datetime  # first crawl that saw this version
    seen_at: datetime  # last crawl that saw it
    base_version: int  # the published version it would have replaced
    answers: int
    text_bytes: int


@dataclass(frozen=True)
class StoredFeed:
    feed_key: str
    body: bytes
    etag: str
    last_modified: datetime
    content_type: str


def content_hash(post: Post) -> str:
    """SHA-256 of the post's canonical JSON without volatile fields: equal content, equal hash."""
    data = {k: v for k, v in post.to_dict().items() if k not in VOLATILE_FIELDS}
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def answer_counts(post: Post) -> dict[str, int]:
    """Known person id -> how many answers they give in the post."""
    counts = Counter(
        a.speaker.id for s in post.sections for a in s.answers if a.speaker and a.speaker.id
    )
    return dict(counts)


def _union(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for group in groups for v in group))
