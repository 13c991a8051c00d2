"""The bold run a paragraph starts with: a heading, a speaker or a question, and the rest.

Pure. Digests put the topic in bold at the start of the paragraph that answers it
(`<b>Sanctions:</b> "…"`, `1. <b>О санкциях.</b> «…»`), interviews the question
(`<b>What next?</b> We …`); the rest of the paragraph is read as a paragraph of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from services.parsing import quotes
from services.parsing.blocks import Block

_NUMBER = re.compile(r"^\d{1,2}\s*[.)]\s+")
_SHORT_TITLE = 8  # words: a numbered item's bold title, not a bold sentence of the answer


@dataclass(frozen=True)
class Lead:
    kind: Literal["colon", "question", "title"]
    text: str
    rest: str


def bold_lead(block: Block) -> Lead | None:
    """The bold lead of a partly bold paragraph, when it heads or introduces the rest."""
    lead, text = block.bold_lead, block.text
    numbered = _NUMBER.match(text)
    if numbered and not text.startswith(lead):
        text = text[numbered.end() :]  # `1. <b>О санкциях.</b>`: the number outside the bold
    if not lead.endswith((":", "?")) and ":" in lead and text.startswith(lead):
        # the bold ran on past the heading into the quote: `<b>Sanctions: "We</b> must`
        cut = lead.rindex(":") + 1
        if quotes.opens_quote(text[cut:].strip()):
            lead = lead[:cut]
    rest = text[len(lead) :].strip() if text.startswith(lead) else ""
    if not rest:
        return None
    if lead.endswith(":"):
        return Lead("colon", lead, rest)
    if lead.endswith("?"):
        return Lead("question", quotes.strip_dash(lead), rest)
    title = _NUMBER.sub("", lead).rstrip(" .").strip()
    numbered_lead = numbered is not None or _NUMBER.match(lead) is not None
    if numbered_lead and lead.endswith(".") and 0 < len(title.split()) <= _SHORT_TITLE:
        return Lead("title", title, rest)
    return None
