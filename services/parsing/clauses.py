"""A paragraph as quote spans and the narration between them, and who each span belongs to.

Pure. The grammar is small: a paragraph alternates narration and quotes; the narration
right before a quote may introduce its speaker (`Name said:`, `По словам Name,`, `As Name
noted,`, `Name:`), the narration right after it may name them (`, — отметил Name.`, `," said
Name.`, `," Name said.`), and narration between two quotes that names a speaker and ends
with a comma or a dash joins them into one answer (`«…, — подчеркнула Name, — …»`). A
quote inside a sentence of narration (a scare quote) belongs to nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.parsing import lexicon

_OPEN = {"«": "»", "„": "“", "“": "”", '"': '"'}
_SENTENCE_END = re.compile(r"(?:(?<=[^\W\d_]{2})|(?<=[»\"”)]))[.!?](?:\s+|$)")


@dataclass(frozen=True)
class Span:
    """One quotation: its text, and the narration on either side of it."""

    text: str
    before: str
    after: str


@dataclass(frozen=True)
class Utterance:
    text: str
    who: str | None  # the speaker phrase as written: a name, names, or a role
    merged: bool = False  # the quote was interrupted by its attribution


def quote_spans(text: str) -> list[Span] | None:
    """The paragraph's top-level quotations in order, or None when a quote never closes
    (an open quote belongs to the paragraphs after it, which this grammar does not read)."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in _OPEN and _opens(text, i):
            end = _close_of(text, i)
            if end is None:
                return None
            spans.append((i, end))
            i = end + 1
        else:
            i += 1
    out = []
    for n, (start, end) in enumerate(spans):
        left = spans[n - 1][1] + 1 if n else 0
        right = spans[n + 1][0] if n + 1 < len(spans) else len(text)
        out.append(Span(text[start + 1 : end].strip(), text[left:start], text[end + 1 : right]))
    return out


def _opens(text: str, i: int) -> bool:
    if text[i] in "«„":
        return True
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([—–-:") and not after.isspace()


def _close_of(text: str, start: int) -> int | None:
    """The mark that closes the quote opened at `start`; inner quotes of another kind nest,
    and a straight quote closes where it is followed by punctuation, a space or the end."""
    opener = text[start]
    closer = _OPEN[opener]
    depth = 0
    for i in range(start + 1, len(text)):
        char = text[i]
        if opener == "«" and char == "«":
            depth += 1
        elif char == closer:
            if opener != "«" and closer in '"”' and not _ends_word(text, i):
                continue
            if depth:
                depth -= 1
                continue
            return i
    return None


def _ends_word(text: str, i: int) -> bool:
    after = text[i + 1] if i + 1 < len(text) else " "
    return not after.isalnum()


def utterances(text: str) -> list[Utterance] | None:
    """Each quotation of a paragraph with the speaker phrase that attributes it, if any."""
    spans = quote_spans(text)
    if not spans:
        return None
    out: list[Utterance] = []
    carried: str | None = None  # a `Name said:` before several quotes speaks them all
    i = 0
    while i < len(spans):
        span = spans[i]
        lead = _before_clause(span.before)
        if lead is None and not _starts_utterance(span.before):
            i += 1
            continue  # a scare quote inside narration
        carried = lead or (carried if _joined(span.before) else None)
        body, who = _inner_clause(span.text)
        after, whole = _after_clause(span.after)
        merged = who is not None
        # `"…," said Name, "…"`: the narration between two quotes is only the attribution
        while after and whole and i + 1 < len(spans) and _continues(spans[i + 1]):
            body = _join(body, spans[i + 1].text, span.after)
            i += 1
            span, merged = spans[i], True
        out.append(Utterance(body, carried or who or after, merged))
        i += 1
    return out


def _continues(span: Span) -> bool:
    """The next quote has no attribution of its own."""
    return _before_clause(span.before) is None and _after_clause(span.after)[0] is None


_INNER = re.compile(
    r"^(?P<a>.+?[,.!?…])\s+[—–]\s+(?P<clause>[^—–«»\"“”]{3,140}?)(?P<end>[,.])\s+[—–]\s+(?P<b>\S.*)$",
    re.S,
)


def _inner_clause(text: str) -> tuple[str, str | None]:
    """`«…, — подчеркнула Name, — …»`: the attribution inside a quote, and the quote
    without it."""
    match = _INNER.match(text)
    if match is None:
        return text, None
    who = _around_verb(match.group("clause"))
    if who is None:
        return text, None
    clause = match.group("clause") + match.group("end")
    return _join(match.group("a"), match.group("b"), clause), who


def _starts_utterance(before: str) -> bool:
    """A quote opens an utterance at the start of a paragraph or sentence, after a colon or a
    dash; inside a sentence it is a phrase of narration."""
    stripped = before.rstrip()
    return not stripped or stripped[-1] in ".!?:—–-" or _joined(before)


def _joined(before: str) -> bool:
    return before.strip() in ("", "и", "і", "and", ",")


def _before_clause(narration: str) -> str | None:
    """The speaker introduced right before a quote, from the last sentence of narration."""
    last = _SENTENCE_END.split(narration.rstrip())[-1].strip().lstrip(".,;!? ")
    if not last.endswith((":", ",")):
        return None
    clause = last[:-1].strip().lstrip("—–- ").strip()
    if not clause or len(clause) > 160:
        return None
    intro = lexicon.INTRO.match(clause)
    if intro:
        return intro.group("who")
    as_ = lexicon.AS.match(clause)
    if as_:
        return _around_verb(as_.group("rest"))
    if not last.endswith(":"):
        return None
    return _around_verb(clause, allow_trailing=True) or (
        clause if len(clause.split()) <= 6 else None
    )


def _after_clause(narration: str) -> tuple[str | None, bool]:
    """The speaker named right after a quote, and whether that clause is all the narration
    there is before the next quote."""
    parts = _SENTENCE_END.split(narration, maxsplit=1)
    clause = parts[0]
    whole = len(parts) == 1 or not parts[1].strip(" —–-")
    stripped = clause.strip().lstrip(",.;").strip()
    dash = stripped[:1] in "—–-"
    stripped = stripped.lstrip("—–- ").rstrip(",—–- .").strip()
    if not stripped:
        return None, False
    if stripped.startswith("(") and stripped.endswith(")"):
        return stripped[1:-1].strip(), whole
    who = _around_verb(stripped)
    if who is None and dash and stripped[:1].isupper():
        who = stripped
    return who, whole


def _around_verb(clause: str, *, allow_trailing: bool = False) -> str | None:
    """`said Name`, `Name said`, `отметил Name`: the speaker phrase beside a speech verb.
    With `allow_trailing`, a few words may follow the verb (`скажет на форуме`)."""
    words = clause.split()
    for k, word in enumerate(words):
        if not lexicon.is_speech_verb(word):
            continue
        if k == 0:
            who = " ".join(words[1:]).split(",")[0].strip()
            return who or None
        if k == len(words) - 1 or (allow_trailing and len(words) - k <= 4):
            return " ".join(words[:k]).strip() or None
        if "," in words[k] or words[k + 1].lower() in ("that", "что", "што"):
            return None  # reported speech: `said that …`
        if len(words) - k <= 6 and any(w[:1].isupper() for w in words[:k]):
            return " ".join(words[:k])  # `Name told the press in Kyiv`
        return None
    return None


def _join(first: str, second: str, clause: str) -> str:
    """The two parts of an interrupted quote; a clause ending its sentence (`— сказал Name.
    —`) means the first part ended one too."""
    first = first.rstrip()
    if re.search(r"[^\W\d_]\.[\s\"“”«»]*[—–-]?\s*$", clause) and first.endswith(","):
        first = first[:-1] + "."
    return f"{first} {second.strip()}"
