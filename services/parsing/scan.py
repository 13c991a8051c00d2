"""One pass over a page's tags, nesting them roughly as HTML's tree builder would.

Pure. It follows the rules that decide how deep the stack of open elements grows, and where it
must guess it guesses deeper: void elements and those closed by their next sibling do not
nest; `/>` closes only inside SVG and MathML; an end tag closes only an element open and in
scope, and a formatting end tag (`</b>`) leaves a block opened inside it open, as the
standard's adoption agency does; attributes, comments and the text of scripts, styles and
titles hold no tags. Each rule answers an attack that hid nesting from a simpler count
(tests/services/test_parsing_robustness.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The rest of a tag up to its `>`: quotes start a value only after `=`, as in HTML
# (`<div a"b>` ends at its `>`). A tag with no `>` runs to the end of the page, as it does
# for Lexbor; were that a failed match, the search would retry at every later `<` and cost
# the square of the page (16,000 `<a x=1 ` took 33 s). Possessive, so each is one pass.
_TAG_REST = rb"""(?:[^>=]++|=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]*+))*+(?:>|\Z)"""
# A whole start tag (group 1 is its name, group 2 its attributes), a whole end tag (group 3),
# or the start of a comment, in one match: the regex engine does the tokenizing, and a
# literal `<` first lets it look for each at memchr speed.
_TOKEN = re.compile(
    rb"<(?:([A-Za-z][^\s/>]*)(" + _TAG_REST + rb")|/([A-Za-z][^\s/>]*)" + _TAG_REST + rb"|!--)"
)
# `-->` or `--!>` ends a comment; `<!-->` and `<!--->` are whole comments.
_COMMENT_END = re.compile(rb"--!?>")
_VOID = frozenset(
    b"area base br col embed hr img input link meta source track wbr param keygen frame "
    b"basefont bgsound image".split()
)
# Closed by their next sibling, never nested in themselves: counted as elements, not levels.
_IMPLIED = frozenset(
    b"p li dt dd option optgroup tr td th thead tbody tfoot rb rt rp rtc colgroup caption "
    b"html head body".split()
)
# Start tags of blocks, which HTML opens without first opening again the formatting elements
# a block closed (the text inside them will).
_NO_REOPEN = frozenset(
    b"address article aside blockquote center details dialog dir div dl fieldset figcaption "
    b"figure footer header hgroup main menu nav ol p search section summary ul h1 h2 h3 h4 h5 "
    b"h6 pre listing form li dd dt plaintext table hr".split()
)
_FORMATTING = frozenset(b"a b big code em font i nobr s small strike strong tt u".split())
# An end tag inside one of these does not reach an element opened outside it (the standard's
# "has an element in scope"): it is ignored, and nesting goes on.
_SCOPE = frozenset(b"applet html table marquee object template".split())
# Text up to their own end tag, whatever it looks like (raw text and RCDATA elements).
_RAW_TEXT = frozenset(b"script style textarea title xmp iframe noembed noframes".split())
_FOREIGN = frozenset((b"svg", b"math"))
# An HTML start tag inside SVG or MathML leaves foreign content (the standard's list).
_BREAKOUT = frozenset(
    b"b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i "
    b"img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt "
    b"u ul var".split()
)
_NOT_PUSHED = _VOID | _IMPLIED
# Every name whose start or end tag is not a plain push or pop.
_SPECIAL = _VOID | _IMPLIED | _FORMATTING | _SCOPE | _RAW_TEXT | _FOREIGN
# Case-blind in the name only: a pattern that starts with a literal `</` is searched at memchr
# speed (`<` is rare in a Wix page's JSON), where IGNORECASE on the whole would crawl.
_RAW_END = {name: re.compile(b"</(?i:" + name + rb")(?:[\s/>]|\Z)") for name in _RAW_TEXT}


@dataclass
class Scan:
    """What one pass over a page found, as far as it went (it stops at a broken limit)."""

    depth: int = 0
    elements: int = 0


class _OpenElements:
    """The stack of open elements, by name, with where each name, scope boundary, foreign
    root and non-formatting element is, so that each tag costs O(1) however deep.

    It also counts the formatting elements a block closed before their own end tag, which
    HTML opens again before the next text or inline tag (the standard's "reconstruct the
    active formatting elements"): 900 `<b>`s left open in one `<div>` made 5,000
    `<div>x</div>` cost Lexbor 12 s and 1.6 GB. As in the standard's Noah's Ark clause, at
    most three of one tag and attributes are kept; an end tag for one that is not open is
    ignored, which can only count more.
    """

    def __init__(self) -> None:
        self.names: list[bytes] = []
        self.at: dict[bytes, list[int]] = {}
        self.scopes: list[int] = []
        self.foreign: list[int] = []
        self.blocks: list[int] = []
        self.active: dict[int, bytes] = {}  # open formatting elements: index -> tag and attributes
        self.missing: dict[bytes, int] = {}  # closed by a block, to be opened again
        self.missing_count = 0

    def push(self, name: bytes, key: bytes = b"") -> None:
        index = len(self.names)
        self.names.append(name)
        self.at.setdefault(name, []).append(index)
        for kind, marks in ((_SCOPE, self.scopes), (_FOREIGN, self.foreign)):
            if name in kind:
                marks.append(index)
        if name in _FORMATTING:
            self.active[index] = key or name
        else:
            self.blocks.append(index)

    def close(self, name: bytes) -> None:
        """Pop down to `name` if it is open and in scope; otherwise the tag closes nothing."""
        found = self.at.get(name)
        if not found or (self.scopes and found[-1] < self.scopes[-1]):
            return
        if name in _FORMATTING:
            self.active.pop(found[-1], None)  # ended by its own tag: never opened again
            if self.blocks and self.blocks[-1] > found[-1]:
                return  # the adoption agency keeps the block open: assume nothing closes
        self.pop_to(found[-1])

    def pop_to(self, index: int) -> None:
        while len(self.names) > index:
            name = self.names.pop()
            self.at[name].pop()
            top = len(self.names)
            for marks in (self.scopes, self.foreign, self.blocks):
                if marks and marks[-1] == top:
                    marks.pop()
            key = self.active.pop(top, None)
            if key is not None and self.missing.get(key, 0) < 3:
                self.missing[key] = self.missing.get(key, 0) + 1
                self.missing_count += 1

    def reopen(self) -> int:
        """Open again every formatting element a block closed; how many were made."""
        made, self.missing_count = self.missing_count, 0
        missing, self.missing = self.missing, {}
        for key, count in missing.items():
            name = key.split(b" ", 1)[0]
            for _ in range(count):
                self.push(name, key)
        return made


def scan_page(html: bytes, max_depth: int, max_elements: int) -> Scan:
    """The deepest nesting and the number of elements, stopping once either passes its limit.

    The common tags (a plain element opening, or closing the one opened last) are handled
    inline: a whole Wix page has thousands, and each method call costs as much as the
    regex match."""
    stack = _OpenElements()
    names, at, special = stack.names, stack.at, _SPECIAL
    elements = deepest = pos = 0
    while (match := _TOKEN.search(html, pos)) is not None:
        start, rest, end = match.groups()
        if stack.missing_count and (
            match.start() > pos or (start is not None and start.lower() not in _NO_REOPEN)
        ):
            elements += stack.reopen()  # after text, or before an inline start tag
            if elements > max_elements:
                break
        pos = match.end()
        if end is not None:
            name = end.lower()
            if names and names[-1] == name and (name not in special or name in _FORMATTING):
                names.pop()
                at[name].pop()
                if name in _FORMATTING:
                    stack.active.pop(len(names), None)  # ended by its own tag: not reopened
                else:
                    stack.blocks.pop()
            elif name not in _NOT_PUSHED:  # `</p>` and `</li>` close nothing we count
                stack.close(name)
            continue
        if start is None:
            pos = _comment_end(html, pos)
            continue
        elements += 1
        if elements > max_elements:
            break
        name = start.lower()
        if name in _NOT_PUSHED and not stack.foreign:
            continue  # `<p>`, `<li>`, `<br>`: an element, not a level
        if stack.foreign or (name in special and name not in _FORMATTING):
            key = name + b" " + rest if name in _FORMATTING else b""
            pos = _open(html, name, key, pos, stack)
        elif name in _FORMATTING:
            depth = len(names)
            stack.active[depth] = name + b" " + rest
            names.append(name)
            at.setdefault(name, []).append(depth)
        else:
            depth = len(names)
            stack.blocks.append(depth)
            names.append(name)
            at.setdefault(name, []).append(depth)
        if len(names) > deepest:
            deepest = len(names)
            if deepest > max_depth:
                break
    return Scan(deepest, elements)


def _comment_end(html: bytes, pos: int) -> int:
    for abrupt in (b">", b"->"):
        if html.startswith(abrupt, pos):
            return pos + len(abrupt)
    close = _COMMENT_END.search(html, pos)
    return len(html) if close is None else close.end()


def _open(html: bytes, name: bytes, key: bytes, pos: int, stack: _OpenElements) -> int:
    """Account for one start tag that ends at `pos`; return where scanning goes on."""
    if stack.foreign and name in _BREAKOUT:
        stack.pop_to(stack.foreign[0])
    if name in _VOID or name in _IMPLIED:
        return pos
    if (stack.foreign or name in _FOREIGN) and html[pos - 2 : pos] == b"/>":
        return pos  # only foreign content honours `/>`; in HTML `<div/>` opens a div
    if name in _RAW_TEXT:
        return skip_raw_text(html, name, pos)
    stack.push(name, key)
    return pos


def skip_raw_text(html: bytes, name: bytes, pos: int) -> int:
    """Past the end tag of the script, style or title whose text starts at `pos`."""
    close = _RAW_END[name].search(html, pos)
    return len(html) if close is None else close.end()
