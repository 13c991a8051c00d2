"""Matching people's names in any script, spelling or case form: attributions and mentions.

Pure: the registry (_registry) is package data read once; no other I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from services.model import Speaker
from services.people._keys import CYRILLIC, GIVEN_ENDING, latin, sound_key
from services.people._registry import (
    Person,
    Profile,
    all_people,
    common_given_stems,
    get_person,
    profiles,
)

_FUZZY_MIN_GIVEN = 6
_FUZZY_MIN_STEM = 8  # shorter stems have too many real neighbours (Garbuzova, Nazarov)


@lru_cache(maxsize=8192)
def resolve_speaker(as_written: str) -> Speaker:
    """The person an attribution names, or a Speaker with no id that keeps the text.

    A contradicting initial or given name, a surname of the other gender, or a surname
    matching two people gives no id: a wrong attribution is worse than a missing one.
    """
    cleaned = _clean(as_written)
    profile = _match_name(cleaned)
    if profile is None:
        # "Pavel Latushka, Deputy Head of the Cabinet": the name is the part before the role.
        head = _ROLE_SPLIT.split(cleaned, maxsplit=1)[0]
        profile = _match_name(head) if head != cleaned else None
    if profile is None:
        return Speaker(as_written=cleaned)
    return Speaker(as_written=cleaned, id=profile.person.id, name=profile.person.name)


def find_mentions(text: str) -> list[Speaker]:
    """Known people named in free text, in order of first mention, each once; `as_written`
    is the matched span (given name or initial included when it precedes the surname)."""
    tokens = list(_tokens(text, _TEXT_WORD))
    found: dict[str, Speaker] = {}
    for index, token in enumerate(tokens):
        if token.abbrev or not token.text[:1].isupper():
            continue
        mention = _mention_at(text, tokens, index)
        if mention is not None and mention.id and mention.id not in found:
            found[mention.id] = mention
    return list(found.values())


# --- surnames -----------------------------------------------------------------------------


def _surname_match(key: str, profile: Profile) -> bool | None:
    """None: not this person's surname; False: a sure match; True: a match that needs a
    given name to confirm it."""
    paradigm, result = profile.paradigm, None
    for ending in paradigm.endings:
        stem = key[: len(key) - len(ending)]
        if not key.endswith(ending) or not stem.endswith(paradigm.stem_suffix) or len(stem) < 3:
            continue
        if stem in profile.stems or _near(stem, profile.stems):
            if ending not in paradigm.ambiguous:
                return False
            result = True
    return result


def _near(stem: str, stems: frozenset[str]) -> bool:
    """One typo in a long stem (Tsikhanoskaya); never a different first letter."""
    return any(
        len(known) >= _FUZZY_MIN_STEM
        and known[0] == stem[0]
        and Levenshtein.distance(stem, known, score_cutoff=1) <= 1
        for known in stems
    )


# --- names as written ---------------------------------------------------------------------

_LETTER = r"[^\W\d_][\u0300-\u036f]*"
_WORD = re.compile(rf"(?:{_LETTER})+(?:[-'’ʼ](?:{_LETTER})+)*")
# Free text joins names with hyphens ("the Latushka-Tsikhanouskaya meeting").
_TEXT_WORD = re.compile(rf"(?:{_LETTER})+(?:['’ʼ](?:{_LETTER})+)*")
_POSSESSIVE = re.compile(r"['’ʼ]s$")
_FINAL_INITIAL = re.compile(r"(?:^|[\s.])[^\W\d_]\.$")
_ROLE_SPLIT = re.compile(r"\s*[,;(/–—]\s*|\s+-\s+")
_HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "miss", "dr", "sir", "madam", "pan", "pani", "spadar", "spadarynia",
     "spadarynja", "spadaryni", "spadara", "spadaru", "hn", "hzha", "hospodin", "hospozha",
     "herr", "frau", "mme", "madame", "monsieur"}
)  # fmt: skip
# Lithuanian given-name endings in key form: Pavelas, Aleksandras, Valerijus.
_LITHUANIAN_ENDING = re.compile("(?:iu|[aiu])s$")
# Patronymics in key form: -ovna/-eŭna, -ovich/-avič and their case forms.
_PATRONYMIC = re.compile(r"(?:a|e)un(?:a|i|ai|u|aiu)$|(?:a|e)vih(?:a|u|am|e)?$")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int  # includes an initial's period
    abbrev: bool

    @property
    def latin(self) -> str:
        return latin(self.text)

    @property
    def key(self) -> str:
        return sound_key(self.text)


def _tokens(text: str, pattern: re.Pattern[str] = _WORD) -> Iterator[_Token]:
    for match in pattern.finditer(text):
        word, end = match.group(), match.end()
        if _POSSESSIVE.search(word) and not CYRILLIC.search(word):
            word, end = word[:-2], end - 2
        letters = len(latin(word)) or 1
        dotted = text.startswith(".", end)
        abbrev = letters == 1 or (dotted and letters <= 3)
        yield _Token(word, match.start(), end + 1 if abbrev and dotted else end, abbrev)


def _clean(as_written: str) -> str:
    text, previous = as_written, None
    while text != previous:  # "(V. Kavaleuski)." has layers
        previous = text
        text = text.strip().strip("()[]").lstrip("-–—•*").rstrip(":,;")
        # A final period ends the sentence, unless it is an initial's ("Latushka P.").
        if text.endswith(".") and not _FINAL_INITIAL.search(text):
            text = text[:-1]
    return text


def _given_consistent(token: _Token, profile: Profile) -> bool:
    if token.abbrev:
        return bool(token.latin) and any(g.startswith(token.latin) for g in profile.given_latin)
    return any(_given_stem_matches(stem, profile) for stem in _given_token_stems(token))


def _given_token_stems(token: _Token) -> tuple[str, ...]:
    """The stem of a written given name; in Latin script also without a Lithuanian ending."""
    stem = GIVEN_ENDING.sub("", token.key)
    if CYRILLIC.search(token.text) or not _LITHUANIAN_ENDING.search(stem):
        return (stem,)
    return stem, GIVEN_ENDING.sub("", _LITHUANIAN_ENDING.sub("", stem))


def _given_stem_matches(stem: str, profile: Profile) -> bool:
    return stem in profile.given_stems or (
        len(stem) >= _FUZZY_MIN_GIVEN
        and any(
            known[0] == stem[0] and Levenshtein.distance(stem, known, score_cutoff=1) <= 1
            for known in profile.given_stems
        )
    )


def _match_name(text: str) -> Profile | None:
    words = [t for t in _tokens(text) if t.latin not in _HONORIFICS]
    if not words or len(words) > 4:
        return None
    hits = [
        (index, profile, ambiguous)
        for index, word in enumerate(words)
        if not word.abbrev and len(word.key) >= 3
        for profile in profiles()
        if (ambiguous := _surname_match(word.key, profile)) is not None
    ]
    if len({profile.person.id for _, profile, _ in hits}) != 1:
        return None
    index, profile, ambiguous = hits[0]
    rest = words[:index] + words[index + 1 :]
    if rest and not _given_consistent(rest[0], profile):
        return None
    # Further words may only be patronymics or their initials (В.В. Ковалевский).
    if any(not (w.abbrev or _PATRONYMIC.search(w.key)) for w in rest[1:]):
        return None
    return profile if not ambiguous or _declined(words[index], confirmed=bool(rest)) else None


def _mention_at(text: str, tokens: list[_Token], index: int) -> Speaker | None:
    token = tokens[index]
    hits = [(p, a) for p in profiles() if (a := _surname_match(token.key, p)) is not None]
    if len(hits) != 1:
        return None
    profile, ambiguous = hits[0]
    start, end, confirmed = token.start, token.end, False
    before = tokens[index - 1] if index > 0 else None
    if before is not None and _name_before(text, before, token):
        if _given_consistent(before, profile):
            start, confirmed = before.start, True
        elif before.abbrev or _names_someone_else(before, profile) or _common_given(before):
            return None  # "A. Latushka", "Alina Latushka", "Mykola Azarov": someone else
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    if not confirmed and after is not None and _name_before(text, token, after):
        if not after.abbrev and _given_consistent(after, profile):
            end, confirmed = after.end, True
    if ambiguous and not _declined(token, confirmed=confirmed):
        return None
    return Speaker(as_written=text[start:end], id=profile.person.id, name=profile.person.name)


def _declined(surname: _Token, *, confirmed: bool) -> bool:
    return confirmed and bool(CYRILLIC.search(surname.text))


def _name_before(text: str, first: _Token, second: _Token) -> bool:
    """Whether `first` can be part of one name with `second`. In free text a lone letter is an
    initial only with its period: "с Латушко", "A Latushka interview" are not initials."""
    dotted = first.end > first.start + len(first.text)
    capital = first.text[:1].isupper() and (dotted or not first.abbrev)
    return capital and not text[first.end : second.start].strip()


def _common_given(token: _Token) -> bool:
    """A common given name of someone outside the registry (Mykola, Андрей, Анастасия)."""
    return any(stem in common_given_stems() for stem in _given_token_stems(token))


def _names_someone_else(token: _Token, profile: Profile) -> bool:
    return any(other is not profile and _given_consistent(token, other) for other in profiles())


__all__ = ["Person", "all_people", "find_mentions", "get_person", "resolve_speaker"]
