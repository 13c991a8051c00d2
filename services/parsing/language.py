"""Which of the site's languages a text is in, when the markup does not say.

Pure. Tilda pages carry no language at all; the letters decide: Belarusian writes ў and і,
which Russian never does, and Russian writes и, щ and ъ, which Belarusian never does. In
Latin script, Łacinka's ŭ, ł, ć, ś, ź, ž, č, š tell Belarusian from English. Quotations
weigh little: a Belarusian post may quote a Russian source at length.
"""

from __future__ import annotations

import re

_BELARUSIAN = frozenset("ўЎіІ")
_RUSSIAN = frozenset("иИщЩъЪ")
_LACINKA = frozenset("ŭŬłŁćĆśŚźŹžŽčČšŠńŃ")
_QUOTED = re.compile(r"«[^«»]*»|„[^„“”]*[“”]|\"[^\"]*\"")


def detect_language(text: str) -> str:
    unquoted = _QUOTED.sub(" ", text)
    counts = _count(unquoted if _letters(unquoted) >= 40 else text)
    latin, cyrillic, be, ru, lacinka = counts
    if latin > cyrillic:
        return "be" if lacinka * 50 >= latin else "en"
    return "be" if be > ru else "ru"


def _letters(text: str) -> int:
    return sum(1 for char in text if char.isalpha())


def _count(text: str) -> tuple[int, int, int, int, int]:
    latin = cyrillic = be = ru = lacinka = 0
    for char in text:
        if "a" <= char <= "z" or "A" <= char <= "Z":
            latin += 1
        elif "\u0400" <= char <= "\u04ff":
            cyrillic += 1
            if char in _BELARUSIAN:
                be += 1
            elif char in _RUSSIAN:
                ru += 1
        elif char in _LACINKA:
            latin += 1
            lacinka += 1
    return latin, cyrillic, be, ru, lacinka
