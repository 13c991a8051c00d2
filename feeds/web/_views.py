"""What the HTML pages show, as plain records: answer rows, listings and a post's outline.

Pure: stored posts, labels and a language in, records out; the handlers in _site fetch the
posts and the templates in _html lay the records out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from feeds.render import Labels
from feeds.web._html import FeedLink
from services.model import Post, Section

POSTS_PER_PAGE = 10
MAX_PAGE = 1000  # past this a page number is a crawler walking integers, not a reader


@dataclass(frozen=True)
class AnswerRow:
    """One answer as a listing shows it."""

    speaker: str | None  # None: not identified
    speaker_id: str | None
    context: str | None  # the section's question, else its heading
    text: str
    date: datetime | None
    post_id: str
    post_title: str
    source_url: str
    language: str


@dataclass(frozen=True)
class Listed:
    """A speaker, topic or language on the index: its page, names and feeds."""

    key: str
    name: str
    other_names: str
    links: tuple[FeedLink, ...]
    count: int | None = None


@dataclass(frozen=True)
class SectionView:
    heading: str | None
    question: str | None
    topics: tuple[tuple[str, str], ...]  # (slug, display name)
    answers: tuple[tuple[str | None, str | None, str], ...]  # (speaker id, name, text)


@dataclass(frozen=True)
class Paging:
    page: int
    has_newer: bool
    has_older: bool


def other_names(names: Iterable[str | None], shown: str) -> str:
    """The spellings in other scripts, once each, beside the one the page shows."""
    return " / ".join(dict.fromkeys(n for n in names if n and n != shown))


def speaker_name(labels: Labels, person_id: str | None, as_written: str, language: str) -> str:
    """The person's name in the page's language and script, else the page's own spelling."""
    if person_id:
        return labels.person(person_id, language) or as_written
    return as_written


def answer_rows(
    posts: Iterable[Post],
    labels: Labels,
    language: str,
    *,
    speaker: str | None = None,
    topic: str | None = None,
) -> list[AnswerRow]:
    """The answers of these posts in page order, only `speaker`'s or only those in sections
    of `topic` when given."""
    rows = []
    for post in posts:
        for section in post.sections:
            if topic is not None and topic not in section.topics:
                continue
            for answer in section.answers:
                person = answer.speaker.id if answer.speaker else None
                if speaker is not None and person != speaker:
                    continue
                name = (
                    speaker_name(labels, person, answer.speaker.as_written, language)
                    if answer.speaker
                    else None
                )
                rows.append(
                    AnswerRow(
                        speaker=name,
                        speaker_id=person,
                        context=section.question or section.heading,
                        text=answer.text,
                        date=post.published,
                        post_id=post.id,
                        post_title=post.title,
                        source_url=post.url,
                        language=post.language,
                    )
                )
    return rows


def sections_of(post: Post, labels: Labels, language: str) -> list[SectionView]:
    """A post's outline with names and topics in the page's language."""
    return [_section_view(s, labels, language) for s in post.sections]


def _section_view(section: Section, labels: Labels, language: str) -> SectionView:
    answers = tuple(
        (
            a.speaker.id if a.speaker else None,
            speaker_name(labels, a.speaker.id, a.speaker.as_written, language)
            if a.speaker
            else None,
            a.text,
        )
        for a in section.answers
    )
    topics = tuple((slug, labels.topic(slug, language)) for slug in section.topics)
    return SectionView(section.heading, section.question, topics, answers)


def page_number(raw: str | None) -> int | None:
    """`?page=` as a number from 1 to MAX_PAGE; None for anything else (a 404)."""
    if raw is None:
        return 1
    if not raw.isdigit() or len(raw) > 4:
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_PAGE else None


def window(posts: Sequence[Post], page: int) -> tuple[list[Post], Paging]:
    """This page's slice of posts fetched newest first up to one past the page's end."""
    start = (page - 1) * POSTS_PER_PAGE
    shown = list(posts[start : start + POSTS_PER_PAGE])
    return shown, Paging(page, page > 1, len(posts) > start + POSTS_PER_PAGE)
