"""Which of the site's languages a text is in, when the markup does not say.

Pure. Tilda pages carry no language at all; the letters decide: Belarusian writes ў and і,
which Russian never does, and Russian writes и, щ and ъ, which Belarusian never does. In
Latin script, Łacinka's ŭ, ł, ć, ś, ź, ž, č, š tell Belarusian from English. Quotations
weigh little: a Belarusian post may quote a Russian source at length.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"«[^«»]*»|„[^„“”]*[“”]|\"[^\"]*\"")
_LACINKA_LETTERS = "ŭŬłŁćĆśŚźŹžŽčČšŠńŃ"
_ASCII_LETTER = re.compile("[A-Za-z]")
_BELARUSIAN = "ўЎіІ"
_RUSSIAN = "иИщЩъЪ"
# Letters are counted in the UTF-8 bytes by deleting every other byte, at C speed: a regex
# that yields each letter as a match cost a fifth of a Tilda page's parse. Cyrillic's
# U+0400-U+04FF start with the bytes D0-D3, one per letter.
_NOT_ASCII_LETTER = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha())
_NOT_CYRILLIC_LEAD = bytes(b for b in range(256) if b not in (0xD0, 0xD1, 0xD2, 0xD3))
# A few paragraphs decide as well as a whole post, at a fraction of the cost.
SAMPLE = 3000


def detect_language(text: str) -> str:
    text = text[:SAMPLE]
    if text.isascii():
        # No Cyrillic and no Łacinka, quoted or not: English if it has letters at all.
        return "en" if _ASCII_LETTER.search(text) else "ru"
    unquoted = _QUOTED.sub(" ", text)
    latin, cyrillic, lacinka = _letters(unquoted)
    if latin + cyrillic < 40:
        latin, cyrillic, lacinka = _letters(text)
        counted = text
    else:
        counted = unquoted
    if latin > cyrillic:
        return "be" if lacinka * 50 >= latin else "en"
    be = sum(counted.count(letter) for letter in _BELARUSIAN)
    return "be" if be > sum(counted.count(letter) for letter in _RUSSIAN) else "ru"


def _letters(text: str) -> tuple[int, int, int]:
    """Latin letters (Łacinka's among them), Cyrillic letters, and Łacinka's own letters."""
    raw = text.encode("utf-8", "ignore")
    # str.count per letter: a pass at C speed each, where a regex's findall builds a list
    lacinka = sum(text.count(letter) for letter in _LACINKA_LETTERS) if not text.isascii() else 0
    latin = len(raw.translate(None, _NOT_ASCII_LETTER)) + lacinka
    return latin, len(raw.translate(None, _NOT_CYRILLIC_LEAD)), lacinka
