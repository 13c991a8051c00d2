"""Who speaks: narrowing an attribution to a name, and finding an interview's interviewee.

Pure; the resolver and mention finder (services.people) are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from services.model import Speaker
from services.parsing import lexicon
from services.parsing.blocks import Block

Resolver = Callable[[str], Speaker]
MentionFinder = Callable[[str], list[Speaker]]

INITIALLED = re.compile(r"^(?:[^\W\d_]\.\s?)+[^\W\d_]{2,}")
# Words that introduce the person being interviewed: `поговорило с Павлом Латушко`,
# `NAM-media interviews Pavel Latushka`, `размова з Паўлам Латушкам`.
_INTERVIEW_MARKER = re.compile(
    r"(?:\b(?:с|со|з|са|with|interviews?|interviewed|интервью|інтэрв['’]ю)\s+)$",
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
    """The person the title names, else the one the lead names (preferring the one the lead
    says is being talked with, since the interviewer may be named first)."""
    found = find_mentions(title)
    if found:
        return found[0]
    for block in blocks:
        if block.kind == "heading" or block.bold or block.italic:
            break
        if block.kind != "para":
            continue
        found = find_mentions(block.text)
        for speaker in found:
            at = block.text.find(speaker.as_written)
            if at > 0 and _INTERVIEW_MARKER.search(block.text[:at]):
                return speaker
        if found:
            return found[0]
    return None


def mentioned_speaker(text: str, find_mentions: MentionFinder) -> Speaker | None:
    """One known person named in a paragraph that introduces a quote (`… said:`)."""
    found = find_mentions(text)
    return found[0] if len(found) == 1 else None


_JOINT = re.compile(r"\s+(?:and|и|і|&)\s+(?=[^\W\d_])")
_NAME_WORD = re.compile(r"^(?:[^\W\d_]\.?)+$|^[^\W\d_][^\W\d_'’\-]*$")


def speaker_of(who: str, resolve: Resolver) -> str | Speaker | None:
    """The speaker a phrase of attribution names: the name without the role around it
    (`глава МИД В. Ковалевский`), several names as written for the caller to split, or for
    a role with no name (`представитель Кабинета`, `Press secretary`) an unknown speaker
    recorded with the role as written. None when the phrase names nobody."""
    who = who.strip().strip(",:;")
    parts = _JOINT.split(who)
    if len(parts) > 1 and all(p.split() and all(map(_is_capitalised, p.split())) for p in parts):
        return who
    head = who.split(",")[0].strip()  # `Pavel Latushka, Deputy Head of the Cabinet`
    words = head.split()
    start = len(words)
    while start > 0 and _is_capitalised(words[start - 1]):
        start -= 1
    run = words[start:]
    has_role = any(lexicon.is_role_word(w) for w in words)
    if len(run) >= 2 or (run and resolve(run[0]).id):
        name = narrow(" ".join(run), resolve)
        if has_role and len(name.split()) == 1 and not resolve(name).id:
            return Speaker(as_written=head)
        return name
    if has_role and len(words) <= 8:
        return Speaker(as_written=head)
    return None


def _is_capitalised(word: str) -> bool:
    word = word.strip("().")
    return bool(word) and word[0].isupper() and bool(_NAME_WORD.match(word))
