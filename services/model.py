"""The domain model: a Post with its Sections and Answers, and its JSON form.

Pure: no I/O. The JSON form is the contract of `nam-feeds parse` (DESIGN.md, "Contracts"),
and also what storage keeps, so `from_json(to_json(p)) == p` must hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Cms = Literal["wix", "tilda"]
LANGUAGES = ("en", "ru", "be")


@dataclass(frozen=True)
class Speaker:
    """Who said an answer: the name as the page wrote it, and the person when known."""

    as_written: str
    id: str | None = None
    name: str | None = None  # the person's canonical name; None when unknown

    @property
    def display_name(self) -> str:
        return self.name or self.as_written

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.display_name, "as_written": self.as_written}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Speaker:
        person_id = data.get("id")
        return cls(
            as_written=data["as_written"],
            id=person_id,
            name=data.get("name") if person_id else None,
        )


@dataclass(frozen=True)
class Answer:
    """What one speaker said, without quotation marks or attribution; paragraphs joined by
    a blank line, inner quotes kept."""

    text: str
    speaker: Speaker | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker.to_dict() if self.speaker else None,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        speaker = data.get("speaker")
        return cls(text=data["text"], speaker=Speaker.from_dict(speaker) if speaker else None)


@dataclass(frozen=True)
class Section:
    """One topic of a post: a heading or a question (or both, or neither) and its answers."""

    heading: str | None = None
    question: str | None = None
    topics: tuple[str, ...] = ()
    answers: tuple[Answer, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "question": self.question,
            "topics": list(self.topics),
            "answers": [a.to_dict() for a in self.answers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Section:
        return cls(
            heading=data.get("heading"),
            question=data.get("question"),
            topics=tuple(data.get("topics", ())),
            answers=tuple(Answer.from_dict(a) for a in data.get("answers", ())),
        )


@dataclass(frozen=True)
class Post:
    """One page of the site. `id` is stable: it survives re-crawls, edits and other addresses."""

    url: str
    id: str
    cms: Cms
    title: str
    published: datetime | None
    modified: datetime | None
    language: str
    source: str | None = None
    categories: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    # hreflang alternates named by the page: language code -> URL
    alternates: tuple[tuple[str, str], ...] = field(default=())

    @property
    def speaker_ids(self) -> tuple[str, ...]:
        """Known people who answer in this post, in order of first answer."""
        seen: dict[str, None] = {}
        for section in self.sections:
            for answer in section.answers:
                if answer.speaker and answer.speaker.id:
                    seen.setdefault(answer.speaker.id)
        return tuple(seen)

    @property
    def topic_slugs(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for section in self.sections:
            for slug in section.topics:
                seen.setdefault(slug)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "id": self.id,
            "cms": self.cms,
            "title": self.title,
            "published": _iso(self.published),
            "modified": _iso(self.modified),
            "language": self.language,
            "source": self.source,
            "categories": list(self.categories),
            "sections": [s.to_dict() for s in self.sections],
            "alternates": dict(self.alternates),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Post:
        return cls(
            url=data["url"],
            id=data["id"],
            cms=data["cms"],
            title=data["title"],
            published=_parse_iso(data.get("published")),
            modified=_parse_iso(data.get("modified")),
            language=data["language"],
            source=data.get("source"),
            categories=tuple(data.get("categories", ())),
            sections=tuple(Section.from_dict(s) for s in data.get("sections", ())),
            alternates=tuple(sorted(data.get("alternates", {}).items())),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Post:
        return cls.from_dict(json.loads(text))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
