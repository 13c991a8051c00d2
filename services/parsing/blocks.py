"""Markup to plain blocks: paragraphs, headings and empty lines, with what was bold.

Pure. Both site builders share this walker; each says where its article is and what counts as
an empty line. Scripts, forms and media never become text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from selectolax.lexbor import LexborNode

BlockKind = Literal["para", "heading", "empty"]


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str = ""
    bold: bool = False  # every visible character is bold
    bold_lead: str = ""  # the bold run a partly bold paragraph starts with
    italic: bool = False  # every visible character is in italics


EMPTY = Block("empty")

_SKIP = frozenset(
    "script style noscript iframe svg button img figure video audio picture form input "
    "select textarea template canvas object embed nav footer aside".split()
)
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_INLINE = frozenset(
    "span a strong b em i u s sub sup mark small code font abbr q cite time wbr".split()
)
_BOLD_TAGS = frozenset(("strong", "b"))
_ITALIC_TAGS = frozenset(("em", "i"))
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)")
_ITALIC_STYLE = re.compile(r"font-style\s*:\s*italic")
BOLD, ITALIC = 1, 2
# Punctuation outside the bold (`<b>Sanctions</b>:`) does not make a heading plain text.
_STYLE_NEUTRAL = re.compile(r"^[\s:;.,!?…—–\-()«»\"“”„]*$")
# A zero-width space still parts words (`A.\u200bAzarov`), so it counts as a space.
_SPACES = re.compile(r"[ \t\r\n\f\u00a0\u200b\u2009\u202f]+")
# Most text needs neither folding nor deleting; a character-class search finds out at C speed
# where a substitution would visit every word.
_UNUSUAL = re.compile(
    "[\t\r\n\f\u00a0\u200b\u2009\u202f\u00ad\u200c\u200d\u200e\u200f\u2060\ufeff]"
)
# Invisible characters editors paste in: soft hyphens, zero-width joiners, BOMs.
# Deleted, not turned into spaces: `Ковалев\u00adский` is one word.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200c\u200d\u200e\u200f\u2060\ufeff"))

# Asked only of elements that held no text: is this one an empty line of the article?
EmptyLineTest = Callable[[LexborNode], bool]
# Asked of block elements: is this media (an image with its caption, a gallery, a video)?
MediaTest = Callable[[LexborNode], bool]


class _Collector:
    """Accumulates inline text into paragraphs; two line breaks in a row end a paragraph."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._parts: list[tuple[str, int]] = []  # text and its BOLD | ITALIC style
        self._breaks = 0

    def text(self, text: str, style: int) -> None:
        if "  " in text or _UNUSUAL.search(text):
            text = _SPACES.sub(" ", text.translate(_INVISIBLE))
        if not text.strip():
            if self._parts:
                self._parts.append((" ", style))
            return
        if self._breaks == 1:
            self._parts.append(("\n", style))
        self._breaks = 0
        self._parts.append((text, style))

    def line_break(self) -> None:
        if not self._parts:
            return
        self._breaks += 1
        if self._breaks >= 2:
            self.flush()

    def flush(self) -> bool:
        """Close the paragraph in progress; say whether it held any text."""
        if not self._parts:
            self._breaks = 0
            return False
        parts, self._parts, self._breaks = self._parts, [], 0
        if len(parts) == 1:
            return self._flush_one(*parts[0])
        text = _join_lines("".join(t for t, _ in parts))
        if not text:
            return False
        parts = _glue(parts)
        styled = [(t, st) for t, st in parts if not _STYLE_NEUTRAL.match(t)]
        bold = bool(styled) and all(st & BOLD for _, st in styled)
        italic = bool(styled) and all(st & ITALIC for _, st in styled)
        lead = "" if bold else _bold_lead(parts)
        self.blocks.append(Block("para", text, bold, lead, italic))
        return True

    def _flush_one(self, part: str, style: int) -> bool:
        """A paragraph of one style run, most of them: what flush's general case works out
        for it, without the lists (gluing and a bold lead need two runs)."""
        text = _join_lines(part)
        if not text:
            return False
        if _STYLE_NEUTRAL.match(part):
            lead = text if style & BOLD else ""  # `<b>:</b>` leads with itself
            self.blocks.append(Block("para", text, False, lead, False))
        else:
            self.blocks.append(Block("para", text, bool(style & BOLD), "", bool(style & ITALIC)))
        return True

    def heading(self, text: str) -> None:
        self.flush()
        text = _SPACES.sub(" ", text.translate(_INVISIBLE)).strip()
        if text:
            self.blocks.append(Block("heading", text, True))

    def empty_line(self) -> None:
        self.flush()
        if self.blocks and self.blocks[-1].kind != "empty":
            self.blocks.append(EMPTY)


def _glue(parts: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The end of a word left outside its bold (`<b>Relations with Ukrain</b>e:`) is bold."""
    glued = list(parts)
    for i in range(1, len(glued)):
        text, style = glued[i]
        before, before_style = glued[i - 1]
        if (
            before_style & BOLD
            and not style & BOLD
            and before[-1:].isalnum()
            and text[:1].isalnum()
            and not any(c.isspace() for c in text)
        ):
            glued[i] = (text, style | BOLD)
    return glued


def _bold_lead(parts: list[tuple[str, int]]) -> str:
    """The bold words a paragraph starts with, and the punctuation right after them."""
    lead: list[str] = []
    for text, style in parts:
        if style & BOLD or (lead and _STYLE_NEUTRAL.match(text) and text.strip()):
            lead.append(text)
        elif text.strip():
            break
    return _join_lines("".join(lead)) if any(t.strip() for t in lead) else ""


def _join_lines(text: str) -> str:
    """Text whose runs of spaces are already folded, with its lines trimmed."""
    if "\n" not in text:
        return text.strip()
    lines = (line.strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _style(node: LexborNode, inherited: int) -> int:
    tag = node.tag
    if tag in _BOLD_TAGS:
        return inherited | BOLD
    if tag in _ITALIC_TAGS:
        return inherited | ITALIC
    if tag not in ("span", "p", "div"):
        return inherited
    # `attributes` is one dict at C speed; `attrs.get` builds a view and decodes on each call.
    style = node.attributes.get("style")
    if not style:
        return inherited
    if _BOLD_STYLE.search(style):
        inherited |= BOLD
    if _ITALIC_STYLE.search(style):
        inherited |= ITALIC
    return inherited


def _walk(
    root: LexborNode, out: _Collector, style: int, is_empty_line: EmptyLineTest, is_media: MediaTest
) -> None:
    """Depth first, in reading order, with a stack of our own rather than Python's: a page
    nested deeper than the interpreter's recursion limit is still only a long loop."""
    # Each level: its children still to visit, its style, and for a block element the node
    # and how many blocks there were before it (an element that added none may be an empty line).
    stack: list[tuple[Iterator[LexborNode], int, LexborNode | None, int]] = [
        (root.iter(include_text=True), style, None, 0)
    ]
    while stack:
        children, style, block, before = stack[-1]
        for child in children:
            tag = child.tag
            if tag == "-text":
                out.text(child.text_content or "", style)
            elif tag == "br":
                out.line_break()
            elif tag is None or tag.startswith("-") or tag in _SKIP:
                continue
            elif tag in _HEADINGS:
                out.heading(_heading_text(child))
            elif tag in _INLINE:
                stack.append((child.iter(include_text=True), _style(child, style), None, 0))
                break
            elif child.first_child is None:
                if is_empty_line(child):  # Wix's empty-line marker, Tilda's empty text block
                    out.empty_line()
            elif is_media(child):
                continue
            else:
                out.flush()
                inner = child.iter(include_text=True)
                stack.append((inner, _style(child, style), child, len(out.blocks)))
                break
        else:
            stack.pop()
            if block is not None:
                out.flush()
                if len(out.blocks) == before and is_empty_line(block):
                    out.empty_line()


def _heading_text(node: LexborNode) -> str:
    """A heading's text, a line break in it read as a space (`Sanctions<br>and borders`)."""
    if node.css_first("br") is None:
        return node.text(deep=True) or ""
    parts = []
    for child in node.traverse(include_text=True):
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.tag == "br":
            parts.append(" ")
    return "".join(parts)


def _no_media(node: LexborNode) -> bool:
    return False


def extract_blocks(
    container: LexborNode, is_empty_line: EmptyLineTest, is_media: MediaTest = _no_media
) -> list[Block]:
    """The article's blocks in reading order. Empty lines close sections, so they are kept,
    but never two in a row and never first."""
    out = _Collector()
    _walk(container, out, _style(container, 0), is_empty_line, is_media)
    out.flush()
    blocks = out.blocks
    while blocks and blocks[-1].kind == "empty":
        blocks.pop()
    return blocks
