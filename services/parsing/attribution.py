"""One paragraph's quotations, each with its speaker or question role: the grammar of
services.parsing.clauses applied to names and roles.

Pure; the resolver is passed in. Precision first: quotes that cannot be told apart (two
people introduce several quotes together) keep no speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.model import Speaker
from services.parsing import clauses, lexicon, quotes
from services.parsing.speakers import Resolver, speaker_of


@dataclass(frozen=True)
class Said:
    text: str
    speaker: str | Speaker | None
    question: bool = False  # a moderator's or journalist's quoted question


def attributed(text: str, resolve: Resolver) -> list[Said] | None:
    """The paragraph's answers, when the grammar attributes at least one of its quotes, or
    when a quote opens the paragraph and others follow; None leaves the paragraph to the
    simpler readings (a single quote, a quote running on to the next paragraphs)."""
    found = clauses.utterances(text)
    if not found:
        return None
    whos = [u.who for u in found]
    if not any(whos) and not (len(found) > 1 and quotes.opens_quote(text)):
        return None
    if len(found) == 1 and not found[0].merged and quotes.opens_quote(text):
        if not quotes.closes_early(text):
            return None  # one quote and its tail: quotes.shape_of reads those
    out = []
    for utterance in found:
        said = _said(utterance, resolve, shared=whos.count(utterance.who) > 1)
        if said is not None:
            out.append(said)
    return out or None


def _said(utterance: clauses.Utterance, resolve: Resolver, *, shared: bool) -> Said | None:
    text = utterance.text.strip().rstrip(",").strip()
    if not text:
        return None
    if utterance.who is None:
        return Said(text, None, question=text.endswith("?"))
    speaker = speaker_of(utterance.who, resolve)
    if speaker is None:
        return Said(text, None, question=text.endswith("?"))
    if isinstance(speaker, str) and shared and len(quotes.split_names(speaker)) > 1:
        return Said(text, None)  # several people, several quotes: whose is which?
    asker = isinstance(speaker, Speaker) and lexicon.asks(speaker.as_written)
    if asker and text.endswith("?"):
        return Said(text, None, question=True)
    return Said(text, speaker)


_ROLE_LINE = re.compile(r"^(?P<role>[^:«»\"“”„]{2,40}):\s*(?P<rest>\S.*)$", re.S)


def role_line(text: str, resolve: Resolver) -> Said | None:
    """`Moderator: Next question, about the army?` or `Пресс-секретарь: …` without quotes:
    a role with no name speaks, or asks the section's question."""
    match = _ROLE_LINE.match(text)
    if match is None:
        return None
    speaker = speaker_of(match.group("role"), resolve)
    if not isinstance(speaker, Speaker):
        return None
    rest = match.group("rest").strip()
    if lexicon.asks(speaker.as_written) and rest.endswith("?"):
        return Said(rest, None, question=True)
    return Said(rest, speaker)
