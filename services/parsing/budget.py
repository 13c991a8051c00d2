"""How deep and how large a page may be, checked on its bytes before Lexbor parses them.

Pure. Lexbor cannot be interrupted, and its parse time grows faster than the nesting: about
1 ms at 1,000 nested `<div>`s, 0.1 s at 12,500 and 40 s at 100,000. So the tags are counted
first, by a scan that follows the parts of HTML's tree building that decide nesting (void and
self-closing elements, end tags that close nothing, scope boundaries, raw text, comments,
leaving SVG), and a page past either limit is refused with a ParseError.

The limits, against the mirror's pages (tests/data/site, walking Lexbor's tree): the deepest
nests 21 elements and the largest holds 274. They are trimmed of menus and footers, so the
limits leave room for those many times over: 1,000 levels (about 50 times the deepest) and
100,000 elements (several hundred times the largest). At those limits Lexbor takes about
1 ms and 40 ms (and 60 MB) on this machine.
"""

from __future__ import annotations

import re

MAX_DEPTH = 1_000
MAX_ELEMENTS = 100_000

# A start tag (group 1 is its name), an end tag (group 2), or a comment. Comments are skipped
# whole, at C speed; an unclosed one hides the rest of the page from Lexbor too.
_TOKEN = re.compile(rb"<(?:([A-Za-z][^\s/>]*)|/([A-Za-z][^\s/>]*)|!--)")
_COMMENT_END = b"-->"
_VOID = frozenset(
    b"area base br col embed hr img input link meta source track wbr param keygen frame "
    b"basefont bgsound image".split()
)
# Closed by their next sibling, never nested in themselves: counted as elements, not levels.
_IMPLIED = frozenset(
    b"p li dt dd option optgroup tr td th thead tbody tfoot rb rt rp rtc colgroup caption "
    b"html head body".split()
)
# An end tag inside one of these does not reach an element opened outside it (the HTML
# standard's "has an element in scope"): the end tag is ignored, and nesting goes on.
_SCOPE = frozenset(b"applet caption html table td th marquee object template".split())
# Text up to their own end tag, whatever it looks like (RCDATA and raw text elements).
_RAW_TEXT = frozenset(b"script style textarea title xmp iframe noembed noframes".split())
_FOREIGN = frozenset((b"svg", b"math"))
# An HTML start tag inside SVG or MathML leaves foreign content (the standard's list).
_BREAKOUT = frozenset(
    b"b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i "
    b"img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt "
    b"u ul var".split()
)
# Counting `<` costs a third of Lexbor's parse on a Wix page's 600 KB of inline scripts, and
# such a page is scanned anyway; on a small page the count spares the scan.
_SMALL = 64 * 1024
_TAG_NAME_END = frozenset(b" \t\n\r\f/>")


class BudgetExceeded(ValueError):
    """The page is deeper or larger than any real post page; the reason says which."""


class _OpenElements:
    """The stack of open elements, by name, with where each name and scope boundary is."""

    def __init__(self) -> None:
        self.names: list[bytes] = []
        self.at: dict[bytes, list[int]] = {}
        self.scopes: list[int] = []
        self.foreign: list[int] = []

    def push(self, name: bytes) -> None:
        index = len(self.names)
        self.names.append(name)
        self.at.setdefault(name, []).append(index)
        if name in _SCOPE:
            self.scopes.append(index)
        if name in _FOREIGN:
            self.foreign.append(index)

    def close(self, name: bytes) -> None:
        """Pop down to `name` if it is open and in scope; otherwise the tag closes nothing."""
        found = self.at.get(name)
        if not found or (self.scopes and found[-1] < self.scopes[-1]):
            return
        self.pop_to(found[-1])

    def pop_to(self, index: int) -> None:
        while len(self.names) > index:
            name = self.names.pop()
            self.at[name].pop()
            top = len(self.names)
            if self.scopes and self.scopes[-1] == top:
                self.scopes.pop()
            if self.foreign and self.foreign[-1] == top:
                self.foreign.pop()


def check_budget(html: bytes) -> None:
    """Raise BudgetExceeded if the page nests deeper than MAX_DEPTH or holds more than
    MAX_ELEMENTS elements. Over-counting is the safe side: a miscounted real page still
    sits far below the limits, while under-counting would let a hostile one through."""
    if len(html) <= _SMALL and html.count(b"<") <= MAX_DEPTH:
        return  # too few tags to break either limit, found at C speed
    depth, elements = measure(html, MAX_DEPTH, MAX_ELEMENTS)
    if elements > MAX_ELEMENTS:
        raise BudgetExceeded(f"the page holds more than {MAX_ELEMENTS} elements")
    if depth > MAX_DEPTH:
        raise BudgetExceeded(f"the page nests deeper than {MAX_DEPTH} elements")


def measure(html: bytes, max_depth: int, max_elements: int) -> tuple[int, int]:
    """The deepest nesting and the number of elements, as far as the scan went: it stops
    as soon as either passes its limit."""
    stack = _OpenElements()
    elements = deepest = 0
    pos = 0
    search = _TOKEN.search
    while (match := search(html, pos)) is not None:
        pos = match.end()
        start, end = match.group(1), match.group(2)
        if end is not None:
            stack.close(end.lower())
        elif start is None:
            close = html.find(_COMMENT_END, pos)
            pos = len(html) if close < 0 else close + 3
        else:
            elements += 1
            pos = _open(html, start.lower(), pos, stack)
            deepest = max(deepest, len(stack.names))
            if elements > max_elements or deepest > max_depth:
                break
    return deepest, elements


def _open(html: bytes, name: bytes, pos: int, stack: _OpenElements) -> int:
    """Account for one start tag; return where scanning goes on."""
    if stack.foreign and name in _BREAKOUT:
        stack.pop_to(stack.foreign[0])
    if name in _VOID or name in _IMPLIED:
        return pos
    if stack.foreign or name in _FOREIGN:
        # Only foreign content honours `/>`; in HTML `<div/>` opens a div.
        tag_end = html.find(b">", pos)
        if tag_end > 0 and html[tag_end - 1 : tag_end] == b"/":
            return tag_end + 1
    if name in _RAW_TEXT:
        return _raw_text_end(html, name, pos)
    stack.push(name)
    return pos


def _raw_text_end(html: bytes, name: bytes, pos: int) -> int:
    """Where the text of a script or style ends. A plain find of `</` runs at memchr speed
    over a Wix page's 600 KB of inline scripts, where a case-blind regex would crawl."""
    size = len(name)
    while (pos := html.find(b"</", pos)) >= 0:
        pos += 2
        if html[pos : pos + size].lower() == name and (
            pos + size == len(html) or html[pos + size] in _TAG_NAME_END
        ):
            return pos + size
    return len(html)
