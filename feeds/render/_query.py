"""Query feeds: `all` filtered by speaker, topic, language and words, combined (AND).

Pure. A query picks the kind of entries, hence their ids: a speaker's entries when a speaker
is given, a topic's when only a topic is, else the posts' own, so an entry has the same id
here as in the feed it comes from. `q` matches the headings, questions and answers an entry
shows: each word of it must begin a word there (case-insensitively, so `санкци` finds
`санкции` and `санкций`), and a person's name, in any script or spelling the registry
knows, matches the entries where that person answers or is named in a heading or question
(`Латушко` finds Pavel Latushka).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from feeds.render._entries import DEFAULT_FEED_SIZE, Entry, FeedSpec, Fmt, RenderItem, entries_for
from services.model import LANGUAGES
from services.people import find_mentions

MAX_Q_CHARS = 200
MAX_Q_WORDS = 12
_WORD = re.compile(r"\w+")


class QueryError(ValueError):
    """A parameter value we cannot serve; the message says what is allowed."""


@dataclass(frozen=True)
class Query:
    speaker: str | None = None
    topic: str | None = None
    language: str | None = None
    words: tuple[str, ...] = ()  # case-folded, names taken out
    people: tuple[str, ...] = ()  # person ids named in q
    q: str | None = None  # as given, whitespace collapsed

    @property
    def spec(self) -> FeedSpec:
        if self.speaker:
            return FeedSpec("speaker", self.speaker, self.language)
        if self.topic:
            return FeedSpec("topic", self.topic, self.language)
        return FeedSpec("all", None, self.language)

    def path(self, fmt: Fmt) -> str:
        """The query's canonical URL path: parameters in a fixed order, empty ones left out."""
        params = {"speaker": self.speaker, "topic": self.topic, "lang": self.language, "q": self.q}
        given = [(k, v) for k, v in params.items() if v]
        return f"/feeds/all.{fmt}?{urlencode(given)}"

    def key(self) -> tuple[str | None, ...]:
        return (self.speaker, self.topic, self.language, self.q)


def parse_query(
    params: Mapping[str, str], *, people: Iterable[str], topics: Iterable[str]
) -> Query:
    """A Query from request parameters; QueryError names the parameter and what it takes."""
    speaker = _choice(params, "speaker", sorted(people))
    topic = _choice(params, "topic", sorted(topics))
    language = _choice(params, "lang", list(LANGUAGES))
    raw = params.get("q")
    if raw is None:
        return Query(speaker, topic, language)
    q = " ".join(raw.split())
    if not q or len(q) > MAX_Q_CHARS:
        raise QueryError(f"q must be 1 to {MAX_Q_CHARS} characters of text")
    if len(_WORD.findall(q)) > MAX_Q_WORDS:
        raise QueryError(f"q takes at most {MAX_Q_WORDS} words")
    if not _WORD.search(q):
        raise QueryError("q must hold at least one word (letters or digits)")
    people_named, words = _split_names(q)
    return Query(speaker, topic, language, words, people_named, q)


def _choice(params: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if value not in allowed:
        raise QueryError(f"{name} must be one of: {', '.join(allowed)}")
    return value


def _split_names(q: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(person ids, remaining words): a name in any case counts, so each word is capitalised
    before matching (find_mentions looks for capitalised names)."""
    capitalised = " ".join(w[:1].upper() + w[1:] for w in q.split())
    mentions = find_mentions(capitalised)
    named = {w.casefold() for m in mentions for w in _WORD.findall(m.as_written)}
    words = tuple(w.casefold() for w in _WORD.findall(q) if w.casefold() not in named)
    return tuple(m.id for m in mentions if m.id), tuple(dict.fromkeys(words))


def query_entries(
    query: Query, items: Iterable[RenderItem], *, feed_size: int = DEFAULT_FEED_SIZE
) -> list[Entry]:
    """The entries a query selects, newest first, at most `feed_size`."""
    everything = entries_for(query.spec, items, feed_size=1_000_000)
    chosen = [e for e in everything if matches(query, e)]
    return chosen[:feed_size]


def matches(query: Query, entry: Entry) -> bool:
    if query.topic and query.speaker and query.topic not in entry.topics:
        return False
    if not query.words and not query.people:
        return True
    text_words = _words_of(entry)
    if not all(any(t.startswith(w) for t in text_words) for w in query.words):
        return False
    return all(_features(entry, person) for person in query.people)


def _words_of(entry: Entry) -> set[str]:
    found: set[str] = set()
    for section in entry.sections:
        for text in (section.heading, section.question, *(a.text for a in section.answers)):
            if text:
                found.update(w.casefold() for w in _WORD.findall(text))
    return found


def _features(entry: Entry, person: str) -> bool:
    """The person answers in the entry, or a heading or question names them."""
    for section in entry.sections:
        if any(a.speaker and a.speaker.id == person for a in section.answers):
            return True
        for text in (section.heading, section.question):
            if text and any(m.id == person for m in find_mentions(text)):
                return True
    return False
