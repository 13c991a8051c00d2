"""How deep and how large a page may be, checked on its bytes before Lexbor parses them.

Pure. Lexbor cannot be interrupted, and its parse time grows faster than the nesting: about
1 ms at 1,000 nested `<div>`s, 0.1 s at 12,500 and 40 s at 100,000. So the tags are counted
first (scan.py, which nests them as HTML's tree builder would, guessing deeper where it must),
and a page past either limit is refused with a ParseError.

The limits, against the mirror's pages (tests/data/site, walking Lexbor's tree): the deepest
nests 21 elements and the largest holds 274. They are trimmed of menus and footers, so the
limits leave room for those many times over: 1,000 levels (about 50 times the deepest) and
100,000 elements (several hundred times the largest). At those limits Lexbor takes about
1 ms and 40 ms (and 60 MB) on this machine.
"""

from __future__ import annotations

from services.parsing.scan import scan_page

MAX_DEPTH = 1_000
MAX_ELEMENTS = 100_000


class BudgetExceeded(ValueError):
    """The page is deeper or larger than any real post page; the reason says which."""


def check_budget(html: bytes) -> None:
    """Raise BudgetExceeded if the page nests deeper than MAX_DEPTH or holds more than
    MAX_ELEMENTS elements. Over-counting is the safe side: a miscounted real page still sits
    far below the limits, where under-counting would let a hostile one through."""
    if html.count(b"<") <= MAX_DEPTH:
        # Found at C speed: too few tags to nest past the limit, and even with every
        # formatting element opened again after every block (scan.py), Lexbor makes at most
        # about 125,000 nodes of them: measured 0.1 s and 60 MB.
        return
    scan = scan_page(html, MAX_DEPTH, MAX_ELEMENTS)
    if scan.elements > MAX_ELEMENTS:
        raise BudgetExceeded(f"the page holds more than {MAX_ELEMENTS} elements")
    if scan.depth > MAX_DEPTH:
        raise BudgetExceeded(f"the page nests deeper than {MAX_DEPTH} elements")
