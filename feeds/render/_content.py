"""What an entry says, whatever the format: its title, authors, names and HTML content.

Pure. People are named in the entry's own language and script (Павел Латушко in a Russian
entry, Павел Латушка in a Belarusian one, Pavel Latushka in an English one), from Labels;
a speaker the registry does not know keeps the name as the page wrote it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from feeds.render._entries import Entry
from feeds.render._labels import Labels
from services.model import Post, Section, Speaker

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SOURCE_LINK = {"en": "Read the original post", "ru": "Читать на сайте", "be": "Чытаць на сайце"}


def speaker_name(speaker: Speaker, language: str, labels: Labels) -> str:
    if speaker.id:
        return labels.person(speaker.id, language) or speaker.display_name
    return speaker.display_name


def person_name(
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


def entry_title(entry: Entry, labels: Labels) -> str:
    post = entry.post
    title = post.title or post.url
    # Readers that merge feeds show these side by side with the post's `all` entry.
    if entry.kind == "topic" and entry.subject:
        return f"{title} — {labels.topic(entry.subject, post.language)}"
    if entry.kind == "speaker" and entry.subject:
        return f"{person_name(entry.subject, post.language, labels, [entry])}: {title}"
    return title


def entry_authors(entry: Entry, labels: Labels, site: str) -> list[str]:
    """A speaker feed's entry is by that speaker; the others are the source's."""
    if entry.kind == "speaker" and entry.subject:
        return [person_name(entry.subject, entry.post.language, labels, [entry])]
    return [entry.post.source or site]


def other_languages(post: Post) -> list[tuple[str, str]]:
    """The post's other language versions (hreflang) as (language, URL)."""
    return [(lang, url) for lang, url in post.alternates if lang != post.language and url]


def content_html(entry: Entry, labels: Labels) -> str:
    """Headings and questions, each answer under its speaker's name, then the source link."""
    parts = []
    if entry.change_note:
        parts.append(f"<p><em>{_esc(entry.change_note)}</em></p>")
    for section in entry.sections:
        parts.extend(_section_html(section, entry.post.language, labels))
    link_text = _SOURCE_LINK.get(entry.post.language, _SOURCE_LINK["en"])
    parts.append(f'<p><a href="{_esc(entry.post.url)}">{_esc(link_text)}</a></p>')
    return "\n".join(parts)


def answer_paragraphs(text: str) -> list[str]:
    return [p for p in (p.strip() for p in _PARAGRAPH_BREAK.split(text)) if p]


def _section_html(section: Section, language: str, labels: Labels) -> list[str]:
    parts = []
    if section.heading:
        parts.append(f"<h3>{_esc(section.heading)}</h3>")
    if section.question:
        parts.append(f"<p><strong>{_esc(section.question)}</strong></p>")
    for answer in section.answers:
        if answer.speaker:
            name = speaker_name(answer.speaker, language, labels)
            parts.append(f"<p><strong>{_esc(name)}:</strong></p>")
        body = "".join(
            f"<p>{_esc(p).replace(chr(10), '<br>')}</p>" for p in answer_paragraphs(answer.text)
        )
        parts.append(f"<blockquote>{body}</blockquote>")
    return parts


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
