"""The people registry: who may be named, and how each surname declines.

Pure: reads `services/data/people.json` once through importlib.resources and does no other
I/O. Each person comes with a Profile of precomputed sound keys for services.people to match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from services.people._keys import given_stems, latin, sound_key


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
    return tuple(profile.person for profile in profiles())


def get_person(person_id: str) -> Person | None:
    return _by_id().get(person_id)


# --- surnames and their case forms -------------------------------------------------------


@dataclass(frozen=True)
class Paradigm:
    """How a surname's key ends in each case (after `sound_key` folding)."""

    nominative: tuple[str, ...]
    endings: tuple[str, ...]
    stem_suffix: str = ""
    # Endings that are also the nominative of the other gender (Азарова): accepted only in
    # Cyrillic, where names decline, and with a given name or initial that confirms the
    # person; in Latin script "Alexandra Azarova" is a woman.
    ambiguous: frozenset[str] = frozenset()


_ADJECTIVE_F = Paradigm(("aia", "a"), ("aia", "a", "ai", "uiu", "aiu"), "sk")
_ADJECTIVE_M = Paradigm(("i",), ("i", "aha", "amu", "im", "am"), "sk")
_OVA_F = Paradigm(("ava",), ("ava", "avai", "avu", "avaiu"))
_OV_M = Paradigm(("au",), ("au", "ava", "avu", "avim", "ave"), ambiguous=frozenset({"ava"}))
_A_M = Paradigm(("a",), ("a", "i", "u", "am", "ai"))
_CONSONANT_M = Paradigm(("",), ("", "a", "u", "am", "e"))
_FIXED = Paradigm(("",), ("",))


def _paradigm_for(gender: str, key: str) -> Paradigm:
    if gender == "f":
        if key.endswith(("skaia", "ska")):
            return _ADJECTIVE_F
        return _OVA_F if key.endswith("ava") else _FIXED
    if key.endswith("ski"):
        return _ADJECTIVE_M
    if key.endswith("au"):
        return _OV_M
    return _A_M if key.endswith("a") else _CONSONANT_M


def _stem(key: str, paradigm: Paradigm) -> str:
    for ending in sorted(paradigm.nominative, key=len, reverse=True):
        stem = key[: len(key) - len(ending)]
        if key.endswith(ending) and stem.endswith(paradigm.stem_suffix):
            return stem
    raise ValueError(f"people: surname key {key!r} does not decline like its canonical form")


@dataclass(frozen=True)
class Profile:
    person: Person
    paradigm: Paradigm
    stems: frozenset[str]
    given_latin: tuple[str, ...]
    given_stems: frozenset[str]


# --- registry ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _raw() -> dict[str, list[object]]:
    data = json.loads(resources.files("services").joinpath("data/people.json").read_text("utf-8"))
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=1)
def profiles() -> tuple[Profile, ...]:
    return tuple(_profile(_person(entry)) for entry in _raw()["people"] if isinstance(entry, dict))


@lru_cache(maxsize=1)
def common_given_stems() -> frozenset[str]:
    """Stems of common given names of people who are not in the registry: a namesake's given
    name before a registered surname ("Mykola Azarov") means someone else."""
    return frozenset(
        stem
        for given in _raw().get("common_given_names", [])
        for stem in given_stems(sound_key(str(given)))
    )


@lru_cache(maxsize=1)
def _by_id() -> dict[str, Person]:
    return {profile.person.id: profile.person for profile in profiles()}


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


def _profile(person: Person) -> Profile:
    """Spellings in the data are nominative; the canonical names count as spellings too."""
    canonical = (person.name, person.name_ru, person.name_be)
    surnames = {*person.surnames, *(name.split()[-1] for name in canonical)}
    givens = {*person.given_names, *(name.split()[0] for name in canonical)}
    paradigm = _paradigm_for(person.gender, sound_key(person.name.split()[-1]))
    return Profile(
        person=person,
        paradigm=paradigm,
        stems=frozenset(_stem(sound_key(surname), paradigm) for surname in surnames),
        given_latin=tuple(sorted({latin(given) for given in givens})),
        given_stems=frozenset(stem for given in givens for stem in given_stems(sound_key(given))),
    )


__all__ = [
    "Paradigm",
    "Person",
    "Profile",
    "all_people",
    "common_given_stems",
    "get_person",
    "profiles",
]
