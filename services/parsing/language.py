"""Which of the site's languages a text is in, when the markup does not say.

Pure. Tilda pages carry no language at all; the letters decide: Belarusian writes ў and і,
which Russian never does, and Russian writes и, щ and ъ, which Belarusian never does. In
Latin script, Łacinka's ŭ, ł, ć, ś, ź, ž, č, š tell Belarusian from English. Quotations
weigh little: a Belarusian post may quote a Russian source at length.
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"«[^«»]*»|„[^„“”]*[“”]|\"[^\"]*\"")
# Counted by the regex engine, not a Python loop over each character: a fifth of a Tilda
# page's parse went to counting letters one by one.
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile("[a-zA-ZŭŬłŁćĆśŚźŹžŽčČšŠńŃ]")
_LACINKA = re.compile("[ŭŬłŁćĆśŚźŹžŽčČšŠńŃ]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_BELARUSIAN = re.compile("[ўЎіІ]")
_RUSSIAN = re.compile("[иИщЩъЪ]")


def detect_language(text: str) -> str:
    unquoted = _QUOTED.sub(" ", text)
    counted = unquoted if _count(_LETTER, unquoted) >= 40 else text
    latin, cyrillic = _count(_LATIN, counted), _count(_CYRILLIC, counted)
    if latin > cyrillic:
        return "be" if _count(_LACINKA, counted) * 50 >= latin else "en"
    return "be" if _count(_BELARUSIAN, counted) > _count(_RUSSIAN, counted) else "ru"


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))
