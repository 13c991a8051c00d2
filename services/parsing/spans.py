"""Quotation spans in one paragraph: where each top-level quote opens and closes.

Pure. Guillemets nest (`«… «…» …»`); straight and curly quotes close where punctuation, a
space or the end follows them, so an unbalanced inner quote (`a "dialogue. We …"`) stays
inside the outer one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = {"«": "»", "„": "“", "“": "”", '"': '"'}
_OPENER = re.compile('[«„“"]')
_GUILLEMETS = re.compile("[«»]")
# A paragraph of speech holds a few quotes; the grammar's work grows with their number.
MAX_SPANS = 24


@dataclass(frozen=True)
class Span:
    """One quotation: its text, and the narration on either side of it."""

    text: str
    before: str
    after: str


def quote_spans(text: str) -> list[Span] | None:
    """The paragraph's top-level quotations in order, or None when a quote never closes
    (an open quote belongs to the paragraphs after it, which this grammar does not read) or
    when there are more than MAX_SPANS of them."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while (found := _OPENER.search(text, pos)) is not None:
        i = found.start()
        if not _opens(text, i):
            pos = i + 1
            continue
        end = _close_of(text, i)
        if end is None:
            return None
        spans.append((i, end))
        if len(spans) > MAX_SPANS:
            return None  # not speech but a list of titles, or hostile input: leave it alone
        pos = end + 1
    out = []
    for n, (start, end) in enumerate(spans):
        left = spans[n - 1][1] + 1 if n else 0
        right = spans[n + 1][0] if n + 1 < len(spans) else len(text)
        out.append(Span(text[start + 1 : end].strip(), text[left:start], text[end + 1 : right]))
    return out


def _opens(text: str, i: int) -> bool:
    if text[i] in "«„":
        return True
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([—–-:") and not after.isspace()


def _close_of(text: str, start: int) -> int | None:
    """The mark that closes the quote opened at `start`: guillemets nest, and a straight or
    curly quote closes where punctuation, a space or the end follows it (an unbalanced inner
    quote, `a "dialogue. We …"`, stays inside)."""
    if text[start] == "«":
        depth = 0
        for mark in _GUILLEMETS.finditer(text, start + 1):
            if mark.group() == "«":
                depth += 1
            elif depth:
                depth -= 1
            else:
                return mark.start()
        return None
    closer = _OPEN[text[start]]
    i = text.find(closer, start + 1)
    while i != -1 and closer in '"”' and not _ends_word(text, i):
        i = text.find(closer, i + 1)
    return None if i == -1 else i


def _ends_word(text: str, i: int) -> bool:
    after = text[i + 1] if i + 1 < len(text) else " "
    return not after.isalnum()
