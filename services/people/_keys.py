"""Spelling keys for names: one coarse Latin key for a word in any script, spelling or case.

Pure: no I/O. Kovalevsky, Kavaleŭski and Кавалеўскі all key to kavaleuski, so the people
registry and the name matcher compare keys, never the words as written.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import cyrtranslit

CYRILLIC = re.compile("[\u0400-\u04ff]")
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
GIVEN_ENDING = re.compile("[aeiu]*m$|[aeiu]+$")
_FLEETING = re.compile("([^aeiu])[ae]([^aeiu])$")  # Павел -> Павла, Paval -> Paŭla


def _unstressed(text: str) -> str:
    """Belarusian and Russian text may carry stress marks; NFC afterwards keeps й, ё, ў whole."""
    return unicodedata.normalize("NFC", _STRESS.sub("", unicodedata.normalize("NFD", text)))


@lru_cache(maxsize=16384)
def latin(word: str) -> str:
    """Plain a-z letters of a word in any script: Cyrillic through cyrtranslit's Belarusian
    table (it reads Russian too once щ and ъ are spelled out), diacritics dropped."""
    text = _unstressed(word).lower()
    if CYRILLIC.search(text):
        text = cyrtranslit.to_latin(text.translate(_CYRILLIC_FIRST), "by")
    text = unicodedata.normalize("NFKD", text.translate(_LATIN_SPECIAL))
    return "".join(ch for ch in text if "a" <= ch <= "z")


@lru_cache(maxsize=16384)
def sound_key(word: str) -> str:
    """A coarse sound key: Kovalevsky, Kavaleŭski and Кавалеўскі all become kavaleuski."""
    folded = _GROUPS.sub(lambda m: _GROUP_KEYS[m.group()], latin(word))
    return _REPEATS.sub(r"\1", _V_AS_U.sub("u", folded))


def given_stems(key: str) -> set[str]:
    """A given name's key without its case ending (Святланы, Валерием, Ольгой), and for
    names like Pavel also the stem that loses its last vowel when declined."""
    stem = GIVEN_ENDING.sub("", key)
    if stem != key:
        return {stem}
    return {stem, _V_AS_U.sub("u", _FLEETING.sub(r"\1\2", stem))}


__all__ = ["CYRILLIC", "GIVEN_ENDING", "given_stems", "latin", "sound_key"]
