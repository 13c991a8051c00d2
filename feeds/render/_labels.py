"""Display names by language for people and topics, handed to rendering as plain data.

Pure: the registries are read by the caller (feeds.publish); rendering only looks names up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


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
