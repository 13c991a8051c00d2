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
from services.parsing.roles import pronoun_speaker, same_speaker, speaker_of
from services.parsing.speakers import MentionFinder, Resolver


@dataclass(frozen=True)
class Said:
    text: str
    speaker: str | Speaker | None
    question: bool = False  # a moderator's or journalist's quoted question


def attributed(
    text: str,
    resolve: Resolver,
    find_mentions: MentionFinder,
    previous: str = "",
    previous_speaker: Speaker | None = None,
) -> list[Said] | None:
    """The paragraph's answers, when the grammar attributes at least one of its quotes, or
    when a quote opens the paragraph and others follow; None leaves the paragraph to the
    simpler readings (a single quote, a quote running on to the next paragraphs).
    `previous` is the narration paragraph before it, where `he said` may find who he is, and
    `previous_speaker` the known speaker of the answer just before it."""
    if not _may_attribute(text):
        return None
    found = clauses.utterances(text)
    if not found:
        return None
    whos = [u.who for u in found]
    asked = any(u.text.rstrip().endswith("?") for u in found)
    if not any(whos) and not asked and not (len(found) > 1 and quotes.opens_quote(text)):
        return None
    if len(found) == 1 and not found[0].merged and quotes.opens_quote(text):
        if not quotes.closes_early(text):
            return None  # one quote and its tail: quotes.shape_of reads those
    out = []
    for utterance in found:
        said = _said(utterance, resolve, shared=whos.count(utterance.who) > 1)
        if said is not None and said.speaker is None and not said.question and utterance.who:
            context = utterance.context.strip() or previous
            if context:
                speaker = pronoun_speaker(utterance.who, context, find_mentions)
            else:
                speaker = same_speaker(utterance.who, previous_speaker)
            said = Said(said.text, speaker)
        if said is not None:
            out.append(said)
    return out or None


_MARKS = re.compile('[«„“"]')
# `«…, — подчеркнула Name, — …»`: a dash right after punctuation, then a speech verb
_DASHED = re.compile(r"[,.!?…]\s+[—–]\s+([^\W\d_]+)")


def _may_attribute(text: str) -> bool:
    """Cheap test first: most paragraphs are a single quote with its tail, which
    quotes.shape_of reads, or hold no quote at all."""
    if not quotes.opens_quote(text):
        return _MARKS.search(text) is not None
    if quotes.closes_early(text):
        return True
    return any(lexicon.is_speech_verb(m.group(1)) for m in _DASHED.finditer(text))


def _said(utterance: clauses.Utterance, resolve: Resolver, *, shared: bool) -> Said | None:
    text = utterance.text.strip().rstrip(",").strip()
    if not text:
        return None
    if utterance.who is None or utterance.who == clauses.UNKNOWN:
        return Said(text, None, question=text.endswith("?"))
    speaker = speaker_of(utterance.who, resolve, nominative=not utterance.oblique)
    if speaker is None:
        return Said(text, None, question=text.endswith("?"))
    if isinstance(speaker, str) and shared and len(quotes.split_names(speaker)) > 1:
        return Said(text, None)  # several people, several quotes: whose is which?
    asker = isinstance(speaker, Speaker) and lexicon.asks(speaker.as_written)
    if asker and text.endswith("?"):
        return Said(text, None, question=True)
    return Said(text, speaker)


# Russian and Belarusian direct speech set off by dashes, not quotes:
# `— Мы работаем, — сказал Павел Латушко. — И будем работать.`
_DASH_SPEECH = re.compile(
    r"^[—–]\s*(?P<a>\S.*?[,!?…])\s+[—–]\s+(?P<clause>[^—–]{3,140}?)"
    r"(?:(?P<end>[.,])\s+[—–]\s+(?P<b>\S.*)|\.?)$",
    re.S,
)


def dash_speech(text: str, resolve: Resolver) -> Said | None:
    """Speech between dashes with its attribution clause; None unless the clause has a
    speech verb beside its speaker."""
    match = _DASH_SPEECH.match(text)
    if match is None:
        return None
    who = clauses.beside_verb(match.group("clause").strip())
    if who is None:
        return None
    speaker = speaker_of(who, resolve)  # None for `сказал он`: someone, but unnamed
    body = match.group("a")
    if match.group("b"):
        body = clauses.join_parts(
            body, match.group("b"), match.group("clause") + match.group("end")
        )
    return Said(body.rstrip(",").strip(), speaker)


_ROLE_LINE = re.compile(r"^(?P<role>[^:«»\"“”„]{2,40}):\s*(?P<rest>\S.*)$", re.S)


def role_line(text: str, resolve: Resolver) -> Said | None:
    """`Moderator: Next question, about the army?` or `Пресс-секретарь: …` without quotes:
    a role with no name speaks, or asks the section's question; so does an outlet's label
    (`NAM-media: …?`)."""
    match = _ROLE_LINE.match(text)
    if match is None:
        return None
    label, rest = match.group("role").strip(), match.group("rest").strip()
    speaker = speaker_of(label, resolve)
    if speaker is None and rest.endswith("?") and len(label.split()) <= 4:
        return Said(rest, None, question=True)  # `NAM-media: What next?` in a transcript
    if not isinstance(speaker, Speaker):
        return None
    if lexicon.asks(speaker.as_written) and rest.endswith("?"):
        return Said(rest, None, question=True)
    return Said(rest, speaker)


def introduced(narration: str, resolve: Resolver) -> str | Speaker | None:
    """The speaker a narration paragraph ending with a colon introduces, by the same clause
    rules as within a paragraph: `A journalist asked Pavel Latushka:` introduces the
    journalist, never Latushka."""
    who = clauses.introducer(narration)
    return speaker_of(who, resolve) if who else None
