"""Statements: one speaker, no headings, several paragraphs of direct speech without quotes.

Pure. Read only when the Q&A rules found nothing, so that news, which looks the same, needs
a sign: a closing `— Name` line that signs the text, or a title that says it is a
statement of one person (`Statement by …`, `Заявление …`, `Заява …`).
"""

from __future__ import annotations

import re

from services.model import Answer, Section, Speaker
from services.parsing import cues, quotes
from services.parsing.blocks import Block
from services.parsing.speakers import MentionFinder, Resolver, looks_like_person

_STATEMENT_TITLE = re.compile(
    r"^(?:statement|address|appeal|заявление|обращение|заява|зварот)\b", re.IGNORECASE
)
_SIGNATURE = re.compile(r"^[—–]\s*\S")


def statement(
    blocks: list[Block], title: str, resolve: Resolver, find_mentions: MentionFinder
) -> Section | None:
    """The statement's one answer, or None when the post is not a statement."""
    if any(b.kind == "heading" or b.bold or b.italic for b in blocks):
        return None
    prose = [b.text for b in blocks if b.kind == "para" and not _aside(b.text)]
    if not prose or any(quotes.opens_quote(quotes.strip_dash(t)) for t in prose):
        return None
    speaker = _signature(prose[-1], resolve)
    if speaker is not None:
        prose = prose[:-1]
    elif _STATEMENT_TITLE.match(title):
        named = find_mentions(title)
        speaker = named[0] if len(named) == 1 else None
    if speaker is None:
        return None
    # The lead that introduces the speech (`… made a statement:`) is narration.
    words = [t for t in prose if not t.endswith(":")]
    if not words:
        return None
    return Section(answers=(Answer(text="\n\n".join(words), speaker=speaker),))


def _aside(text: str) -> bool:
    return cues.is_aside(text) or cues.is_hashtags(text) or cues.source_label(text) is not None


def _signature(text: str, resolve: Resolver) -> Speaker | None:
    """`— Pavel Latushka` (a role may follow after a comma) signing the text."""
    if not _SIGNATURE.match(text):
        return None
    name = quotes.looks_like_attribution(text)
    if not name or not looks_like_person(name, resolve):
        return None
    return resolve(name)
