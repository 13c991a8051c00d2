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


# Lines around an article that are not anyone's words: `Read also:` links, bylines, image
# captions and calls to follow the outlet.
_ASIDE = re.compile(
    r"^(?:read\s+also|see\s+also|читайте\s+также|чытайце\s+таксама|читай\s+также|"
    r"interviewed\s+by|interview\s+by|text\s+by|photo\s+by|беседовал[аи]?|гутарыў|гутарыла|"
    r"(?:text|author|photo|photos|текст|автор|фото|тэкст|аўтар|фота)\s*:|"
    r"(?:follow|subscribe\s+to)\s+(?:nam|нау|us)|подписывайтесь|падпісвайцеся|"
    r"присоединяйтесь|далучайцеся)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^\d{1,2}\s*[.)]\s+(?=\S)")


def is_aside(text: str) -> bool:
    return len(text) <= 300 and _ASIDE.match(text) is not None


def without_number(question: str) -> str:
    """`1. What comes next?` is the question `What comes next?`."""
    return _NUMBER.sub("", question, count=1)


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
