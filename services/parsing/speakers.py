"""Who speaks: narrowing an attribution to a name, and finding an interview's interviewee.

Pure; the resolver and mention finder (services.people) are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from services.model import Speaker
from services.parsing.blocks import Block

Resolver = Callable[[str], Speaker]
MentionFinder = Callable[[str], list[Speaker]]

INITIALLED = re.compile(r"^(?:[^\W\d_]\.\s?)+[^\W\d_]{2,}")
# Words that introduce the person being interviewed: `поговорило с Павлом Латушко`,
# `NAM-media interviews Pavel Latushka`, `размова з Паўлам Латушкам`.
_INTERVIEW_MARKER = re.compile(
    r"(?:\b(?:с|со|з|са|у|ў|with|to|interviews?|interviewed|интервью|інтэрв['’]ю)\s+)$",
    re.IGNORECASE,
)


# In a title, `с`/`with` may be a meeting (`Тихановская встретилась с Латушко`); only
# with a word for an interview does it name the interviewee.
_INTERVIEW_WORD = re.compile(
    r"интервью|interview|інтэрв['’]ю|разговор|размова|беседа|гутарка|поговори|пагутары|talk",
    re.IGNORECASE,
)


def narrow(name: str, resolve: Resolver) -> str:
    """The part of an attribution that is the person: `глава МИД Кабинета В. Ковалевский` is
    `В. Ковалевский`. The longest ending that names a known person wins, but a word dropped
    right before a lone surname must be a role (an acronym such as МИД), never a given name
    or an initial: `A. Latushka` and `Андрей Ковалевский` are other people with those
    surnames. An unknown name keeps at most its last two words (three with an initial)."""
    tokens = name.split()
    if len(tokens) <= 1:
        return name
    for size in range(len(tokens), 0, -1):
        candidate = " ".join(tokens[-size:])
        if not resolve(candidate).id:
            continue
        if size == 1 and _may_be_given_name(tokens[-2]):
            break
        return _ending(name, size)
    if len(tokens) <= 3:
        return name
    size = 3 if tokens[-3].endswith(".") or tokens[-2].endswith(".") else 2
    return _ending(name, size)


def _may_be_given_name(word: str) -> bool:
    """A capitalised word or an initial; acronyms (МИД, NAM) are roles, not names."""
    letters = word.rstrip(".")
    return bool(letters) and letters[0].isupper() and not (len(letters) > 1 and letters.isupper())


def _ending(name: str, words: int) -> str:
    """The last `words` words of `name`, as written."""
    parts = name.split()
    start = len(name)
    for part in reversed(parts[-words:]):
        start = name.rfind(part, 0, start)
    return name[start:]


def looks_like_person(name: str, resolve: Resolver) -> bool:
    """Known, initialled (`V. Kavaleuski`), or a given name and surname."""
    if resolve(name).id or INITIALLED.match(name):
        return True
    return 2 <= len(name.split()) <= 3


def find_interviewee(
    title: str, blocks: list[Block], find_mentions: MentionFinder
) -> Speaker | None:
    """The one person the title names, else the one the lead names. When the title or lead
    names several, only the one the lead says is being talked with counts (the interviewer
    may be named first); with no such word, nobody can tell who answers."""
    found = find_mentions(title)
    if len(found) == 1:
        return found[0]
    talked_with = _talked_with(title, found) if _INTERVIEW_WORD.search(title) else None
    if talked_with is not None:
        return talked_with  # `Алина Коушик взяла интервью у Павла Латушко`
    for block in blocks:
        if block.kind == "heading" or block.bold or block.italic:
            break
        if block.kind != "para":
            continue
        named = find_mentions(block.text)
        if (talked_with := _talked_with(block.text, named)) is not None:
            return talked_with
        if len(named) == 1 and not found:
            return named[0]
        if named:
            return None
    return None


def _talked_with(text: str, named: list[Speaker]) -> Speaker | None:
    """The one of `named` that `text` says is being talked with (`поговорило с Павлом
    Латушко`, `interviews Pavel Latushka`)."""
    for speaker in named:
        at = text.find(speaker.as_written)
        if at > 0 and _INTERVIEW_MARKER.search(text[:at]):
            return speaker
    return None
