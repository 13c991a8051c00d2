"""The parser's fast paths answer as the plain readings they replace did, on any text.

Each reference below is the earlier, simpler code, kept here only to check the faster one.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from services.parsing import language, lean, quotes

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


_OLD_OPENING = re.compile(
    rb"<(?:!--|(?:((?i:script|style))|((?i:title|textarea|xmp|iframe|noembed|noframes)))"
    rb"(?=[\s/>]))"
)
_NAMES = b"script SCRIPT Style title TEXTAREA xmp Iframe noembed NOFRAMES div span Table input nav"
_OPENERS = [b"<" + name for name in [*_NAMES.split(), b"!--", b"!doctype"]]
_FRAGMENTS = _OPENERS + [b"</", b"-->", b">", b" ", b"/", b"a", b"\n",
              b"ld+json", b"\xd0\xb0", b"<", b"s", b"n"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40))
def test_lean_finds_the_openings_the_plain_pattern_finds(parts: list[bytes]) -> None:
    html = b"".join(parts)
    found = [(m.span(), m.groups()) for m in lean._OPENING.finditer(html)]
    assert found == [(m.span(), m.groups()) for m in _OLD_OPENING.finditer(html)]


def _reference_one_name(candidate: str, allow_lowercase_lead: bool) -> str | None:
    candidate = quotes._strip_ends(candidate)
    tokens = candidate.replace(".", ". ").split()
    if allow_lowercase_lead:
        start = len(tokens)
        while start > 0 and _reference_name_token(tokens[start - 1]):
            start -= 1
        tokens = tokens[start:]
        limit = 6
    else:
        limit = 4
    if not 1 <= len(tokens) <= limit or not all(_reference_name_token(t) for t in tokens):
        return None
    if all(t.endswith(".") for t in tokens):
        return None
    return quotes._suffix_with(candidate, "".join(tokens))


def _reference_name_token(token: str) -> bool:
    token = re.sub("[\u0300-\u036f]", "", token)
    return token[:1].isupper() and bool(quotes._NAME_TOKEN.match(token))


_NAME_ALPHABET = "AaBbЛлТт.  \u0301\u00a0-'’,:;()1"


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=_NAME_ALPHABET, max_size=40), st.booleans())
def test_one_name_as_the_reference_reads_it(candidate: str, lowercase_lead: bool) -> None:
    assert quotes._one_name(candidate, lowercase_lead) == _reference_one_name(
        candidate, lowercase_lead
    )


def _reference_split_attribution(text: str) -> tuple[str, str | None]:
    window = max(0, len(text) - quotes._TAIL_WINDOW)
    for pattern in (quotes._PAREN_TAIL, quotes._DASH_TAIL, quotes._BARE_TAIL):
        match = pattern.search(text, window)
        if not match:
            continue
        before = quotes._trim(text[: match.start()])
        if not before or before[-1] not in quotes.CLOSERS:
            continue
        name = quotes.name_from(match.group(1))
        if name and quotes._names_the_speaker(match.group(1), name):
            return before, name
    return text, None


_TAIL_PARTS = ["«Мы работаем", "»", '"', "”", " ", ", ", " — ", " – ", "(", ")", ".", "said ",
               "С. Тихановская", "Pavel Latushka", "сказал ", "x" * 190, "¹"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_TAIL_PARTS), max_size=14))
def test_split_attribution_as_the_reference_splits(parts: list[str]) -> None:
    text = "".join(parts)
    assert quotes.split_attribution(text) == _reference_split_attribution(text)
