"""Which of the site's languages a text is in, when the markup does not say.

Pure. Tilda pages carry no language at all; the letters decide: Belarusian writes ў and і,
which Russian never does, and Russian writes и, щ and ъ, which Belarusian never does.
"""

from __future__ import annotations

_BELARUSIAN = frozenset("ўЎіІ")
_RUSSIAN = frozenset("иИщЩъЪ")


def detect_language(text: str) -> str:
    latin = cyrillic = be = ru = 0
    for char in text:
        if "a" <= char <= "z" or "A" <= char <= "Z":
            latin += 1
        elif "\u0400" <= char <= "\u04ff":
            cyrillic += 1
            if char in _BELARUSIAN:
                be += 1
            elif char in _RUSSIAN:
                ru += 1
    if latin > cyrillic:
        return "en"
    return "be" if be > ru else "ru"
