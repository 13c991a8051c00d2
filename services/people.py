"""The people registry and matching of their names in any script, spelling or case form.

Pure: reads `services/data/people.json` once through importlib.resources and does no other I/O.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cyrtranslit
from rapidfuzz.distance import Levenshtein

from services.model import Speaker


@dataclass(frozen=True)
class Person:
    """A known speaker. Given names and surnames are listed separately so that full,
    initialled and reversed forms need not be; see `spellings` for the full set."""

    id: str
    name: str
    name_ru: str
    name_be: str
    gender: str = "m"
    given_names: tuple[str, ...] = ()
    surnames: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every surname alone, with each given name, and with each given name's initial."""
        forms: dict[str, None] = dict.fromkeys(self.surnames)
        for surname in self.surnames:
            for given in self.given_names:
                forms.setdefault(f"{given} {surname}")
                forms.setdefault(f"{given[0]}. {surname}")
        return tuple(forms)


def all_people() -> tuple[Person, ...]:
    return tuple(profile.person for profile in _profiles())


def get_person(person_id: str) -> Person | None:
    return _by_id().get(person_id)


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


# --- spelling keys ------------------------------------------------------------------------

_CYRILLIC = re.compile("[\u0400-\u04ff]")
# Before cyrtranslit's Belarusian table, which lacks the Russian-only letters; х becomes a
# Latin h so that a Latin x can always be read as "ks" (Alexander).
_CYRILLIC_FIRST = str.maketrans({"щ": "шч", "ъ": "", "х": "h"})
_LATIN_SPECIAL = str.maketrans(
    {"č": "ch", "š": "sh", "ž": "zh", "ł": "l", "x": "ks", "w": "v", "q": "k", "ß": "ss"}
)
_STRESS = re.compile("[\u0300\u0301]")
# One pass, leftmost alternative first: the longer letter groups must precede their parts.
_GROUPS = re.compile("szcz|shch|tsch|sch|tch|cz|sz|kh|ch|ck|tz|ts|ie|[cgjyo]")
_GROUP_KEYS = {
    "szcz": "sh", "shch": "sh", "sch": "sh", "sz": "sh", "tsch": "h", "tch": "h", "cz": "h",
    "kh": "h", "ch": "h", "g": "h", "ck": "k", "tz": "t", "ts": "t", "c": "t", "ie": "e",
    "j": "i", "y": "i", "o": "a",
}  # fmt: skip
_V_AS_U = re.compile("v(?![aeiu])")  # ў, ŭ, ow and ov before a consonant sound alike
_REPEATS = re.compile(r"(.)\1+")
_GIVEN_ENDING = re.compile("[aeiu]*m$|[aeiu]+$")
_FLEETING = re.compile("([^aeiu])[ae]([^aeiu])$")  # Павел -> Павла, Paval -> Paŭla
_FUZZY_MIN_GIVEN = 6


def _unstressed(text: str) -> str:
    """Belarusian and Russian text may carry stress marks; NFC afterwards keeps й, ё, ў whole."""
    return unicodedata.normalize("NFC", _STRESS.sub("", unicodedata.normalize("NFD", text)))


@lru_cache(maxsize=16384)
def _latin(word: str) -> str:
    """Plain a-z letters of a word in any script: Cyrillic through cyrtranslit's Belarusian
    table (it reads Russian too once щ and ъ are spelled out), diacritics dropped."""
    text = _unstressed(word).lower()
    if _CYRILLIC.search(text):
        text = cyrtranslit.to_latin(text.translate(_CYRILLIC_FIRST), "by")
    text = unicodedata.normalize("NFKD", text.translate(_LATIN_SPECIAL))
    return "".join(ch for ch in text if "a" <= ch <= "z")


@lru_cache(maxsize=16384)
def _key(word: str) -> str:
    """A coarse sound key: Kovalevsky, Kavaleŭski and Кавалеўскі all become kavaleuski."""
    folded = _GROUPS.sub(lambda m: _GROUP_KEYS[m.group()], _latin(word))
    return _REPEATS.sub(r"\1", _V_AS_U.sub("u", folded))


def _given_stems(key: str) -> set[str]:
    """A given name's key without its case ending (Святланы, Валерием, Ольгой), and for
    names like Pavel also the stem that loses its last vowel when declined."""
    stem = _GIVEN_ENDING.sub("", key)
    if stem != key:
        return {stem}
    return {stem, _V_AS_U.sub("u", _FLEETING.sub(r"\1\2", stem))}


# --- surnames and their case forms -------------------------------------------------------


@dataclass(frozen=True)
class _Paradigm:
    """How a surname's key ends in each case (after `_key` folding)."""

    nominative: tuple[str, ...]
    endings: tuple[str, ...]
    stem_suffix: str = ""
    # Endings that are also the nominative of the other gender (Азарова): accepted only in
    # Cyrillic, where names decline, and with a given name or initial that confirms the
    # person; in Latin script "Alexandra Azarova" is a woman.
    ambiguous: frozenset[str] = frozenset()


_ADJECTIVE_F = _Paradigm(("aia", "a"), ("aia", "a", "ai", "uiu", "aiu"), "sk")
_ADJECTIVE_M = _Paradigm(("i",), ("i", "aha", "amu", "im", "am"), "sk")
_OVA_F = _Paradigm(("ava",), ("ava", "avai", "avu", "avaiu"))
_OV_M = _Paradigm(("au",), ("au", "ava", "avu", "avim", "ave"), ambiguous=frozenset({"ava"}))
_A_M = _Paradigm(("a",), ("a", "i", "u", "am", "ai"))
_CONSONANT_M = _Paradigm(("",), ("", "a", "u", "am", "e"))
_FIXED = _Paradigm(("",), ("",))
_FUZZY_MIN_STEM = 8  # shorter stems have too many real neighbours (Garbuzova, Nazarov)


def _paradigm_for(gender: str, key: str) -> _Paradigm:
    if gender == "f":
        if key.endswith(("skaia", "ska")):
            return _ADJECTIVE_F
        return _OVA_F if key.endswith("ava") else _FIXED
    if key.endswith("ski"):
        return _ADJECTIVE_M
    if key.endswith("au"):
        return _OV_M
    return _A_M if key.endswith("a") else _CONSONANT_M


def _stem(key: str, paradigm: _Paradigm) -> str:
    for ending in sorted(paradigm.nominative, key=len, reverse=True):
        stem = key[: len(key) - len(ending)]
        if key.endswith(ending) and stem.endswith(paradigm.stem_suffix):
            return stem
    raise ValueError(f"people: surname key {key!r} does not decline like its canonical form")


@dataclass(frozen=True)
class _Profile:
    person: Person
    paradigm: _Paradigm
    stems: frozenset[str]
    given_latin: tuple[str, ...]
    given_stems: frozenset[str]


def _surname_match(key: str, profile: _Profile) -> bool | None:
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


# --- registry ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _profiles() -> tuple[_Profile, ...]:
    raw = json.loads(resources.files("services").joinpath("data/people.json").read_text("utf-8"))
    return tuple(_profile(_person(entry)) for entry in raw["people"])


@lru_cache(maxsize=1)
def _by_id() -> dict[str, Person]:
    return {profile.person.id: profile.person for profile in _profiles()}


def _person(entry: dict[str, object]) -> Person:
    def names(field: str) -> tuple[str, ...]:
        value = entry.get(field, [])
        return tuple(str(item) for item in value) if isinstance(value, list) else ()

    return Person(
        id=str(entry["id"]),
        name=str(entry["name"]),
        name_ru=str(entry["name_ru"]),
        name_be=str(entry["name_be"]),
        gender=str(entry.get("gender", "m")),
        given_names=names("given_names"),
        surnames=names("surnames"),
    )


def _profile(person: Person) -> _Profile:
    """Spellings in the data are nominative; the canonical names count as spellings too."""
    canonical = (person.name, person.name_ru, person.name_be)
    surnames = {*person.surnames, *(name.split()[-1] for name in canonical)}
    givens = {*person.given_names, *(name.split()[0] for name in canonical)}
    paradigm = _paradigm_for(person.gender, _key(person.name.split()[-1]))
    return _Profile(
        person=person,
        paradigm=paradigm,
        stems=frozenset(_stem(_key(surname), paradigm) for surname in surnames),
        given_latin=tuple(sorted({_latin(given) for given in givens})),
        given_stems=frozenset(stem for given in givens for stem in _given_stems(_key(given))),
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
     "hn", "hzha", "hospodin", "hospozha"}
)  # fmt: skip
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
        return _latin(self.text)

    @property
    def key(self) -> str:
        return _key(self.text)


def _tokens(text: str, pattern: re.Pattern[str] = _WORD) -> Iterator[_Token]:
    for match in pattern.finditer(text):
        word, end = match.group(), match.end()
        if _POSSESSIVE.search(word) and not _CYRILLIC.search(word):
            word, end = word[:-2], end - 2
        letters = len(_latin(word)) or 1
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


def _given_consistent(token: _Token, profile: _Profile) -> bool:
    if token.abbrev:
        return bool(token.latin) and any(g.startswith(token.latin) for g in profile.given_latin)
    stem = _GIVEN_ENDING.sub("", token.key)
    return stem in profile.given_stems or (
        len(stem) >= _FUZZY_MIN_GIVEN
        and any(
            known[0] == stem[0] and Levenshtein.distance(stem, known, score_cutoff=1) <= 1
            for known in profile.given_stems
        )
    )


def _match_name(text: str) -> _Profile | None:
    words = [t for t in _tokens(text) if t.latin not in _HONORIFICS]
    if not words or len(words) > 4:
        return None
    hits = [
        (index, profile, ambiguous)
        for index, word in enumerate(words)
        if not word.abbrev and len(word.key) >= 3
        for profile in _profiles()
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
    hits = [(p, a) for p in _profiles() if (a := _surname_match(token.key, p)) is not None]
    if len(hits) != 1:
        return None
    profile, ambiguous = hits[0]
    start, end, confirmed = token.start, token.end, False
    before = tokens[index - 1] if index > 0 else None
    if before is not None and _name_before(text, before, token):
        if _given_consistent(before, profile):
            start, confirmed = before.start, True
        elif before.abbrev or _names_someone_else(before, profile):
            return None  # "A. Latushka", "Alina Latushka": someone else
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    if not confirmed and after is not None and _name_before(text, token, after):
        if not after.abbrev and _given_consistent(after, profile):
            end, confirmed = after.end, True
    if ambiguous and not _declined(token, confirmed=confirmed):
        return None
    return Speaker(as_written=text[start:end], id=profile.person.id, name=profile.person.name)


def _declined(surname: _Token, *, confirmed: bool) -> bool:
    return confirmed and bool(_CYRILLIC.search(surname.text))


def _name_before(text: str, first: _Token, second: _Token) -> bool:
    """Whether `first` can be part of one name with `second`. In free text a lone letter is an
    initial only with its period: "с Латушко", "A Latushka interview" are not initials."""
    dotted = first.end > first.start + len(first.text)
    capital = first.text[:1].isupper() and (dotted or not first.abbrev)
    return capital and not text[first.end : second.start].strip()


def _names_someone_else(token: _Token, profile: _Profile) -> bool:
    return any(other is not profile and _given_consistent(token, other) for other in _profiles())
