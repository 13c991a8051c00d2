"""Quotation marks and attributions in one paragraph of text.

Pure. The site quotes answers with "…", «…» or “…”, nests „…“ or «…» inside, and sometimes
leaves an inner quote unclosed (the Feb 14 digest has `as a "trade. We …`), so the outer
quote is judged by where the paragraph starts and ends, not by balancing every mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPENERS = frozenset("\"«“„”'")
CLOSERS = frozenset("\"»”“'")
_AMBIGUOUS = frozenset("\"“”'")
_TRAILING = " \t\n.,;:"
_LEADING_DASH = re.compile(r"^[—–-]\s*")
_PAREN_TAIL = re.compile(r"\(\s*([^()]{2,90}?)\s*\)[\s.,;]*$")
_DASH_TAIL = re.compile(r"[\s,]*[—–]\s*([^—–()\"«»“”„]{2,120}?)[\s.]*$")
# a name right after the closing mark, with no parentheses or dash: `"…" A. Azarov.`
_BARE_TAIL = re.compile(r"(?<=[»\"”])[\s,]+([^—–()\"«»“”„]{2,60}?)[\s.]*$")
_NAME_TOKEN = re.compile(r"^(?:[^\W\d_]\.)+$|^[^\W\d_][^\W\d_'’.\-]*(?:[-'’][^\W\d_]+)*\.?$")
_NAME_PREFIX = re.compile(r"^(?P<name>[^\W\d_][^:«\"“„\n]{1,60}?)\s*:\s*(?P<rest>\S.*)$", re.S)


@dataclass(frozen=True)
class QuoteShape:
    """How a paragraph that opens with a quotation mark ends."""

    body: str  # the quoted text without its outer marks (so far, for an open quote)
    closed: bool  # the quote ends in this paragraph
    attribution: str | None  # a name after the quote, when the paragraph carries one


def strip_dash(text: str) -> str:
    return _LEADING_DASH.sub("", text, count=1)


def opens_quote(text: str) -> bool:
    return len(text) > 1 and text[0] in OPENERS and text[0] != "'"


def split_attribution(text: str) -> tuple[str, str | None]:
    """`"…". (V. Kavaleuski)` or `«…», — В. Ковалевский` into the quote and the name."""
    for pattern in (_PAREN_TAIL, _DASH_TAIL, _BARE_TAIL):
        match = pattern.search(text)
        if not match:
            continue
        before = text[: match.start()].rstrip(_TRAILING)
        name = name_from(match.group(1))
        if name and before and before[-1] in CLOSERS:
            return before, name
    return text, None


def shape_of(text: str) -> QuoteShape:
    """The shape of a paragraph that opens with a quote: closed here (with or without a name
    after it) or still open, its remaining paragraphs to follow."""
    quoted, name = split_attribution(text)
    trimmed = quoted.rstrip(_TRAILING)
    if len(trimmed) > 1 and trimmed[-1] in CLOSERS:
        return QuoteShape(trimmed[1:-1].strip(), True, name)
    return QuoteShape(text[1:].strip(), False, None)


def ends_quote(text: str) -> QuoteShape | None:
    """A continuation paragraph that closes an open quote, or None if it does not."""
    quoted, name = split_attribution(text)
    trimmed = quoted.rstrip(_TRAILING)
    if trimmed and trimmed[-1] in CLOSERS:
        return QuoteShape(trimmed[:-1].strip(), True, name)
    return None


def closes_early(text: str) -> bool:
    """The opening quote is closed before the paragraph ends and prose follows it
    (`"Trade" is a word …`): a quoted phrase in narration, not the start of an answer."""
    depth = 0
    for i, char in enumerate(text):
        if char not in OPENERS and char not in CLOSERS:
            continue
        if _is_opener(text, i):
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                rest = text[i + 1 :].strip(_TRAILING)
                return len(rest) > 0 and not rest.startswith("(")
    return False


def _is_opener(text: str, i: int) -> bool:
    char = text[i]
    if char in "«„":
        return True
    if char == "»":
        return False
    if char not in _AMBIGUOUS:
        return False
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([—–-«„") and not after.isspace()


def name_prefix(text: str) -> tuple[str, str] | None:
    """`Name: rest`, where Name looks like a person's name."""
    match = _NAME_PREFIX.match(text)
    if not match:
        return None
    name = name_from(match.group("name"), allow_lowercase_lead=False)
    return (name, match.group("rest").strip()) if name else None


def name_from(candidate: str, *, allow_lowercase_lead: bool = True) -> str | None:
    """The name in an attribution, or None if there is none.

    A role after a comma goes (`V. Kavaleuski, Minister of …`). With `allow_lowercase_lead`,
    so does whatever precedes the capitalised words at the end (`said V. Kavaleuski`,
    `заявил представитель Кабинета по иностранным делам Валерий Ковалевский`); a capitalised
    role may remain (`глава МИД В. Ковалевский`), which the resolver narrows down later."""
    candidate = candidate.split(",")[0].strip().strip(".:;").strip()
    if len(candidate) > 90:
        return None
    tokens = candidate.replace(".", ". ").split()
    if allow_lowercase_lead:
        start = len(tokens)
        while start > 0 and _is_name_token(tokens[start - 1]):
            start -= 1
        tokens = tokens[start:]
        limit = 6
    else:
        limit = 4
    if not 1 <= len(tokens) <= limit or not all(_is_name_token(t) for t in tokens):
        return None
    if all(t.endswith(".") for t in tokens):
        return None  # initials alone name nobody
    return _suffix_with(candidate, "".join(tokens))


def _is_name_token(token: str) -> bool:
    return token[:1].isupper() and bool(_NAME_TOKEN.match(token))


def _suffix_with(text: str, compact: str) -> str:
    """The end of `text` that holds exactly the characters of `compact`, spaces aside."""
    needed, i = len(compact), len(text)
    while needed and i:
        i -= 1
        if not text[i].isspace():
            needed -= 1
    return text[i:].strip()


def looks_like_attribution(text: str) -> str | None:
    """A paragraph that is only a name: `(S. Tsikhanouskaya)`, `— В. Ковалевский`, `V. Azarau.`"""
    text = strip_dash(text.strip())
    if text.startswith("(") and text.rstrip(".; ").endswith(")"):
        return name_from(text.rstrip(".; ")[1:-1])
    name = text.split(",")[0]  # a role may follow: `— Pavel Latushka, Deputy Head of …`
    if len(name) > 60:
        return None
    return name_from(name, allow_lowercase_lead=False)
