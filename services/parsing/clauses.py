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
from services.parsing.spans import Span, quote_spans

_SENTENCE_END = re.compile(r"(?:(?<=[^\W\d_]{2})|(?<=[»\"”)]))[.!?](?:\s+|$)")


# The speaker phrase of a quote that is introduced as speech but by nobody one can name.
UNKNOWN = "?"


@dataclass(frozen=True)
class Utterance:
    text: str
    who: str | None  # the speaker phrase as written: a name, names, or a role
    merged: bool = False  # the quote was interrupted by its attribution
    oblique: bool = False  # the speaker is named in the genitive: `По словам Name,`
    context: str = ""  # the narration of the paragraph before the quote


def utterances(text: str) -> list[Utterance] | None:
    """Each quotation of a paragraph with the speaker phrase that attributes it, if any."""
    spans = quote_spans(text)
    if not spans:
        return None
    spans = _adjacent_merged(spans)
    out: list[Utterance] = []
    carried: str | None = None  # a `Name said:` before several quotes speaks them all
    oblique = False
    i = 0
    while i < len(spans):
        span = spans[i]
        lead = _before_clause(span.before)
        if lead is None and not _starts_utterance(span.before):
            i += 1
            continue  # a scare quote inside narration
        if lead is not None:
            oblique = lexicon.INTRO.match(_last_clause(span.before)) is not None
        elif not _joined(span.before):
            carried = None
        carried = lead or carried
        body, who = _inner_clause(span.text)
        after, whole = _after_clause(span.after)
        merged = who is not None
        # `"…," said Name, "…"`: the narration between two quotes is only the attribution
        while after and whole and i + 1 < len(spans) and _continues(spans[i + 1]):
            body = join_parts(body, spans[i + 1].text, span.after)
            i += 1
            span, merged = spans[i], True
        speaker = carried or who or after
        context = "".join(s.before for s in spans[: i + 1]) if speaker else ""
        out.append(Utterance(body, speaker, merged, carried is not None and oblique, context))
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
    if "—" not in text and "–" not in text:
        return text, None
    match = _INNER.match(text)
    if match is None:
        return text, None
    who = beside_verb(match.group("clause"))
    if who is None:
        return text, None
    clause = match.group("clause") + match.group("end")
    return join_parts(match.group("a"), match.group("b"), clause), who


def _starts_utterance(before: str) -> bool:
    """A quote opens an utterance at the start of a paragraph or sentence, after a colon or a
    dash; inside a sentence it is a phrase of narration."""
    stripped = before.rstrip()
    return not stripped or stripped[-1] in ".!?:—–-" or _joined(before)


def _joined(before: str) -> bool:
    return before.strip() in ("", "и", "і", "and", ",")


def _introduced(who: str) -> str:
    """After `По словам`, `According to`: the person, or the name in apposition to a role
    (`the Cabinet's representative for defence, Valery Sakhashchyk`). A clause after a comma
    (`По словам Тихановской, Латушко сказал:`) gives two readings: nobody's, then."""
    parts = [p.strip() for p in who.split(",") if p.strip()]
    if len(parts) <= 1:
        return who
    if any(lexicon.is_speech_verb(w) for p in parts[1:] for w in p.split()):
        return UNKNOWN
    named = [p for p in parts if len(p.split()) <= 4 and all(w[:1].isupper() for w in p.split())]
    return named[-1] if len(named) == 1 else parts[0]


def _last_clause(narration: str) -> str:
    """The last sentence of the narration before a quote, without its final mark."""
    last = _SENTENCE_END.split(narration.rstrip())[-1].strip().lstrip(".,;!? ")
    return last[:-1].strip().lstrip("—–- ").strip()


def _before_clause(narration: str) -> str | None:
    """The speaker introduced right before a quote, from the last sentence of narration."""
    last = _SENTENCE_END.split(narration.rstrip())[-1].strip().lstrip(".,;!? ")
    if not last.endswith((":", ",")):
        return None
    clause = _last_clause(narration)
    if not clause or len(clause) > 160:
        return None
    intro = lexicon.INTRO.match(clause)
    if intro:
        return _introduced(intro.group("who"))
    as_ = lexicon.AS.match(clause)
    if as_:
        return beside_verb(as_.group("rest"))
    if not last.endswith(":"):
        return None
    # The speaker is the subject of the clause right before the colon: `Отвечая Латушко,
    # Тихановская сказала:`, `"…," said A, while B added:`.
    nearest = _CONJUNCTION.sub("", re.split(r"[,;]", clause)[-1].strip())
    return beside_verb(nearest, allow_trailing=True) or (
        nearest if _bare_speaker(nearest) else None
    )


_CONJUNCTION = re.compile(r"^(?:while|whereas|and|but|а|и|но|і|але|затым|then)\s+", re.I)


def _bare_speaker(phrase: str) -> bool:
    """`Name:` or `Role …:` with no verb: only names and initials, or a role first; never a
    sentence such as `Tsikhanouskaya thanked Latushka`."""
    words = phrase.split()
    if not 1 <= len(words) <= 8:
        return False
    return lexicon.is_role_word(words[0]) or (
        len(words) <= 4 and all(w[:1].isupper() for w in words)
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
    who = beside_verb(stripped)
    if who is None and dash and stripped[:1].isupper():
        who = stripped
    return who, whole


def beside_verb(clause: str, *, allow_trailing: bool = False) -> str | None:
    """`said Name`, `Name said`, `отметил Name`: the speaker phrase beside a speech verb.
    With `allow_trailing`, a few words may follow the verb (`скажет на форуме`)."""
    words = clause.split()
    for k, word in enumerate(words):
        if not lexicon.is_speech_verb(word):
            continue
        if k == 0:
            if lexicon.takes_listener(word):
                return None
            who = " ".join(words[1:]).split(",")[0].strip()
            return who or None
        if not _subject(words[:k]) and words[k + 1 : k + 2] and words[k + 1][:1].isupper():
            # `На встрече выступил Павел Латушко:`: the subject follows the verb
            return " ".join(words[k + 1 :]).split(",")[0].strip()
        if k == len(words) - 1 or (allow_trailing and len(words) - k <= 4):
            return " ".join(words[:k]).strip() or None
        if "," in words[k] or words[k + 1].lower() in ("that", "что", "што"):
            return None  # reported speech: `said that …`
        named = any(w[:1].isupper() or lexicon.is_role_word(w) for w in words[:k])
        if len(words) - k <= 6 and named:
            return " ".join(words[:k])  # `Name told the press in Kyiv`
        return None
    return None


_OPENING_WORDS = frozenset(
    """на в во у ў з с со по па при пры после пасля затем потом тады потым вот это гэта
    сегодня сёння вчера учора также таксама here then today yesterday also at in on after
    later""".split()
)


def _subject(words: list[str]) -> bool:
    """Words before a verb that may be its subject: a name or a role, not an opening such as
    `На встрече`, `Then`."""
    for i, word in enumerate(words):
        if lexicon.is_role_word(word):
            return True
        if word[:1].isupper() and (i or word.lower() not in _OPENING_WORDS):
            return True
    return False


def introducer(narration: str) -> str | None:
    """The speaker phrase a paragraph ending with a colon introduces for the quote in the
    next paragraph (`Светлана Тихановская обратилась к участникам:`)."""
    who = _before_clause(narration)
    return None if who == UNKNOWN else who


def _adjacent_merged(spans: list[Span]) -> list[Span]:
    """`«…». «…». (Name)`: quotes with nothing but punctuation between them are one."""
    merged = [spans[0]]
    for span in spans[1:]:
        last = merged[-1]
        if span.before.strip(" .,;!?…") or not span.before.strip():
            merged.append(span)
            continue
        if not _starts_utterance(last.before):
            merged.append(span)  # `calls them "extremists". "They are …"`: a phrase, then speech
            continue
        text = join_parts(last.text, span.text, span.before)
        merged[-1] = Span(text, last.before, span.after)
    return merged


def join_parts(first: str, second: str, clause: str) -> str:
    """The two parts of an interrupted quote; a clause ending its sentence (`— сказал Name.
    —`, `». «`) means the first part ended one too."""
    first = first.rstrip()
    if re.search(r"(?:[^\W\d_]|^|[»\"”])\.[\s\"“”«»]*[—–-]?\s*$", clause.strip()):
        if first.endswith(","):
            first = first[:-1]
        if not first.endswith((".", "!", "?", "…")):
            first += "."
    return f"{first} {second.strip()}"
