"""The parser's fast paths answer as the plain readings they replace did, on any text.

Each reference below is the earlier, simpler code, kept here only to check the faster one.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from services.parsing import language

# Letters the language rules count, with quotes, spaces and punctuation around them.
_ALPHABET = "aAzZ ,.!?\"«»„“”'ŭłćśźžčšńŬŁабвиИщъўЎіІ ёЁ—\n"
texts = st.text(alphabet=_ALPHABET, max_size=120) | st.text(max_size=60)

_QUOTED = re.compile(r"«[^«»]*»|„[^„“”]*[“”]|\"[^\"]*\"")
_LACINKA = re.compile("[ŭŬłŁćĆśŚźŹžŽčČšŠńŃ]")
_NOT_ASCII_LETTER = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha())
_NOT_CYRILLIC_LEAD = bytes(b for b in range(256) if b not in (0xD0, 0xD1, 0xD2, 0xD3))


def _reference_language(text: str) -> str:
    text = text[: language.SAMPLE]
    unquoted = _QUOTED.sub(" ", text)
    counted = unquoted if sum(_latin_and_cyrillic(unquoted)) >= 40 else text
    latin, cyrillic = _latin_and_cyrillic(counted)
    if latin > cyrillic:
        return "be" if len(_LACINKA.findall(counted)) * 50 >= latin else "en"
    be = sum(counted.count(letter) for letter in "ўЎіІ")
    return "be" if be > sum(counted.count(letter) for letter in "иИщЩъЪ") else "ru"


def _latin_and_cyrillic(text: str) -> tuple[int, int]:
    raw = text.encode("utf-8", "ignore")
    latin = len(raw.translate(None, _NOT_ASCII_LETTER)) + len(_LACINKA.findall(text))
    return latin, len(raw.translate(None, _NOT_CYRILLIC_LEAD))


@settings(max_examples=400, deadline=None)
@given(texts)
def test_language_as_the_reference_decides(text: str) -> None:
    assert language.detect_language(text) == _reference_language(text)


def test_language_fast_paths_on_known_texts() -> None:
    assert language.detect_language("The Cabinet said so.") == "en"
    assert language.detect_language("123 ... !!") == "ru"  # no letters: the default
    assert language.detect_language("Łacinka: ŭ ł ć ś ź ž č š") == "be"
    assert language.detect_language("Мы працуем і будзем працаваць ў Вільні") == "be"
