"""The page without the text of its scripts and styles, which no rule of ours reads.

Pure. That text is most of a Wix page's bytes (600 KB of state and warm-up data in the
mirror's pages, against 10 to 20 KB of markup), and Lexbor would only copy it into nodes
nobody visits. JSON-LD scripts are kept (meta.py reads them); Wix's state blob is searched in
the original bytes, not the tree (wix.native_post_id).
"""

from __future__ import annotations

import re

from services.parsing.scan import skip_raw_text

# A comment, or the start of an element whose text holds no tags: a script or style (group
# 1), or a title, textarea and the like (group 2), whose text may hold `<script` and is kept.
# Each search below runs at about 3 GB/s, so that a Wix page costs about one pass over its
# bytes, a fifth of Lexbor's parse.
# The lookahead on the letter after `<` turns most tags (`<div`, `</a`, `<meta`) away before
# the case-insensitive names are tried, at a third of the cost.
_OPENING = re.compile(
    rb"<(?=[!sStTxXiInN])"
    rb"(?:!--|(?:((?i:script|style))|((?i:title|textarea|xmp|iframe|noembed|noframes)))"
    rb"(?=[\s/>]))"
)
# The end of a script's or style's text, or a `<!--` inside it, which changes where HTML
# ends a script (the standard's escaped script states): such a one is left whole for Lexbor.
_BODY_END = {
    name: re.compile(b"<(?:/(?i:" + name + rb")(?:[\s/>]|\Z)|!--)")
    for name in (b"script", b"style")
}
# A real start tag follows markup or text; `<script` right after a quote or `=` is inside an
# attribute's value, where cutting would take real content with it.
_AFTER_MARKUP = frozenset(b">\n\r\t ")


def lean_page(html: bytes) -> bytes:
    """`html` with the text of each script and style left out (their tags stay)."""
    kept: list[bytes] = []
    start = pos = 0
    while (match := _OPENING.search(html, pos)) is not None:
        name, kept_text = match.group(1), match.group(2)
        if kept_text is not None:
            pos = skip_raw_text(html, kept_text.lower(), match.end())
            continue
        if name is None:
            close = html.find(b"-->", match.end())
            pos = len(html) if close < 0 else close + 3
            continue
        tag_start = match.start()
        if tag_start and html[tag_start - 1] not in _AFTER_MARKUP:
            pos = match.end()  # inside an attribute's value: not a script at all
            continue
        name = name.lower()
        body = html.find(b">", match.end()) + 1
        end = _BODY_END[name].search(html, body) if body else None
        if end is None:
            break  # the rest of the page is this element's text
        if end.group(0) == b"<!--":
            pos = skip_raw_text(html, name, body)
            continue
        if b"ld+json" not in html[tag_start:body].lower():
            kept.append(html[start:body])
            start = end.start()
        pos = end.end()
    if not kept:
        return html
    kept.append(html[start:])
    return b"".join(kept)
