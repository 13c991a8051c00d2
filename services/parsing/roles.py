"""Who a phrase of attribution names: the name without the role around it, or the role.

Pure; the resolver is passed in. Precision first: a name that is the object of the phrase
(`adviser to Sviatlana Tsikhanouskaya`, `советник Павла Латушко`, `сказал он Павлу
Латушко`) is not the speaker, and neither is a name after a relative clause begins (`a
volunteer who met Latushka`); those phrases name an unknown speaker, by their role.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from services import people
from services.model import Speaker
from services.parsing import lexicon
from services.parsing.speakers import MentionFinder, Resolver, narrow

_JOINT = re.compile(r"\s+(?:and|и|і|&)\s+(?=[^\W\d_])")
_NAME_WORD = re.compile(r"^(?:[^\W\d_]\.?)+$|^[^\W\d_][^\W\d_'’\-]*$")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
# A relative or time clause starts: whatever name follows is not the speaker.
_CLAUSE_START = frozenset(
    """who which whom whose that after before when while который которая которое которые
    которого которой которым после перед когда які якая якое якія якога якой пасля перад
    калі""".split()
)
# A preposition right before a name makes it an object: `adviser to …`, `встретился с …`.
_OBJECT_MARK = frozenset(
    "to of for with by at from about для с со о об про к у от з са пра да ад".split()
)


def speaker_of(who: str, resolve: Resolver, *, nominative: bool = True) -> str | Speaker | None:
    """The speaker a phrase of attribution names: the name without the role around it
    (`глава МИД В. Ковалевский`), several names as written for the caller to split, or for
    a role with no name (`представитель Кабинета`, `Press secretary`) an unknown speaker
    recorded with the role as written. None when the phrase names nobody. `nominative`:
    the phrase is the subject (`сказал Name`), not a genitive (`По словам Name`)."""
    who = who.strip().strip(",:;")
    parts = _JOINT.split(who)
    if len(parts) > 1 and all(p.split() and all(map(_is_capitalised, p.split())) for p in parts):
        return who
    words = _until_clause(who.split(",")[0].split())  # `Pavel Latushka, Deputy Head …`
    head = " ".join(words)
    start = len(words)
    while start > 0 and _is_capitalised(words[start - 1]):
        start -= 1
    run = words[start:]
    has_role = any(lexicon.is_role_word(w) for w in words)
    role = Speaker(as_written=head) if has_role and len(words) <= 8 else None
    if not (len(run) >= 2 or (run and resolve(run[0]).id)):
        return role
    if start and words[start - 1].lower() in _OBJECT_MARK:
        return role
    name = narrow(" ".join(run), resolve)
    found = resolve(name)
    if not found.id:
        if has_role and len(name.split()) == 1:
            return role
        # `премьер Украины Николай Азаров`: a given name and surname, the rest is the role
        return name if len(name.split()) <= 2 or name.split()[-3].endswith(".") else _last(name, 2)
    before = words[len(words) - len(name.split()) - 1] if len(words) > len(name.split()) else ""
    if before and lexicon.is_relational(before):
        return role  # `советник Латушко`: the adviser, or Latushka? Nobody can tell.
    if nominative and not _nominative(name, found.id):
        return role  # `сказал он Павлу Латушко`: Latushka is spoken to
    return name


def _until_clause(words: list[str]) -> list[str]:
    for i, word in enumerate(words):
        if i and word.lower() in _CLAUSE_START:
            return words[:i]
    return words


def _is_capitalised(word: str) -> bool:
    word = word.strip("().")
    return bool(word) and word[0].isupper() and bool(_NAME_WORD.match(word))


def _fold(word: str) -> str:
    text = unicodedata.normalize("NFD", word.lower().strip(".,"))
    return unicodedata.normalize("NFC", re.sub("[\u0300\u0301]", "", text)).replace("ё", "е")


@lru_cache(maxsize=64)
def _nominative_spellings(person_id: str) -> frozenset[str]:
    person = people.get_person(person_id)
    if person is None:
        return frozenset()
    names = (*person.given_names, *person.surnames, person.name_ru, person.name_be)
    return frozenset(_fold(word) for name in names for word in name.split())


def _nominative(name: str, person_id: str) -> bool:
    """Every word of a Cyrillic name is a nominative spelling of the person's names (Latin
    names do not decline here); Russian words the registry lacks are asked of pymorphy3."""
    known = _nominative_spellings(person_id)
    for word in name.split():
        if word.endswith(".") or not _CYRILLIC.search(word) or _fold(word) in known:
            continue
        if not lexicon.may_be_nominative(word):
            return False
    return True


_PRONOUNS = {"he": "m", "он": "m", "ён": "m", "she": "f", "она": "f", "яна": "f"}
_SUBJECT_WORDS = 4  # the person opens the narration: `Pavel Latushka said …`


def pronoun_speaker(who: str, context: str, find_mentions: MentionFinder) -> Speaker | None:
    """`«…», — добавил он`: the one known person the narration opens with, when the pronoun
    fits them; anyone else mentioned, or a narration about someone else, leaves it unknown."""
    gender = _PRONOUNS.get(who.strip().lower())
    if gender is None or not context:
        return None
    named = find_mentions(context)
    if len(named) != 1 or named[0].id is None:
        return None
    person = people.get_person(named[0].id)
    opening = " ".join(context.split()[:_SUBJECT_WORDS])
    if person is None or person.gender != gender or named[0].as_written not in opening:
        return None
    if _other_names(context, named[0].as_written):
        return None
    return named[0]


_PLACE_MARK = frozenset("in at from to into в во на из у ў з са ад да".split())


def same_speaker(who: str, previous: Speaker | None) -> Speaker | None:
    """`«…», — добавил он` right after an answer by a known person: them, if the pronoun
    fits."""
    gender = _PRONOUNS.get(who.strip().lower())
    if gender is None or previous is None or previous.id is None:
        return None
    person = people.get_person(previous.id)
    return previous if person is not None and person.gender == gender else None


def _other_names(context: str, known: str) -> bool:
    """A capitalised word other than the known name and sentence openings that may be
    another person, who could be the `he` as well; `в Вильнюсе`, `in Warsaw` are places."""
    words = context.replace(known, " ").split()
    for i, word in enumerate(words):
        if not i or not word[:1].isupper() or words[i - 1].endswith((".", "!", "?")):
            continue
        if words[i - 1].lower() not in _PLACE_MARK:
            return True
    return False


def _last(name: str, words: int) -> str:
    return " ".join(name.split()[-words:])
