"""What a block's shape says on its own: a heading, a question, the source line, a transcript
label, a line of hashtags. Pure."""

from __future__ import annotations

import re

from services.parsing import quotes
from services.parsing.blocks import Block

_SOURCE = re.compile(
    r"^(?:source|sources|джерела|источник|крыніца|крыніцы|krynica|krynicy)\s*[:—–-]\s*"
    r"(?P<label>.{2,60})$",
    re.IGNORECASE,
)
# Transcript labels: `Q: …?` / `Вопрос: …`, `A: …` / `Адказ: …`. A single letter needs the
# colon right after it, so that `A. Azarov:` stays a speaker.
_LABEL = re.compile(
    r"^(?:(?P<q>question|вопрос|пытанне|q)|(?P<a>answer|ответ|адказ|a))\s*:\s*(?=\S)",
    re.IGNORECASE,
)
_HEADING_MAX = 250
_HASHTAGS = re.compile(r"(?:#[^\W_][\w-]*\s*)+")


def source_label(text: str) -> str | None:
    """`Source: NAM-media`, `Источник: НАУ-медиа`, `Крыніца — НАУ-медыя`: the label."""
    if len(text) > 80:
        return None
    match = _SOURCE.match(text)
    return match.group("label").strip().rstrip(".") if match else None


def transcript_label(text: str) -> re.Match[str] | None:
    """`Q:`/`A:` and their Russian and Belarusian words; group `q` is set for a question."""
    return _LABEL.match(text)


def is_hashtags(text: str) -> bool:
    return _HASHTAGS.fullmatch(text) is not None


def is_question(block: Block) -> bool:
    emphasised = block.kind == "heading" or block.bold or block.italic
    return emphasised and block.text.rstrip().endswith("?")


def is_heading(block: Block) -> bool:
    if block.kind == "heading":
        return True
    if not block.bold or len(block.text) > _HEADING_MAX:
        return False
    if quotes.opens_quote(block.text):
        return False
    return block.text.endswith(":") or not block.text.endswith((".", "!", "…"))
