"""Tilda feed post pages (`/tpost/<id>-<slug>`) to a RawPage.

Pure. Tilda writes a post's text as one block with `<br /><br />` between paragraphs or as one
block per paragraph, and mixes both; the block walker splits on double breaks. Its pages say
nothing of their language, and show the date as a day in the site's local time.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.parsing.blocks import extract_blocks
from services.parsing.dates import parse_shown_date
from services.parsing.language import detect_language
from services.parsing.meta import html_language, node_text, read_head
from services.parsing.page import RawPage

_CONTENT = (".js-feed-post-text", ".t-feed__post-popup__text", "#feed-text")
_POPUP = ".t-feed__post-popup"


def looks_like_tilda(tree: LexborHTMLParser, url: str) -> bool:
    if tree.css_first(_POPUP) is not None or tree.css_first(".t-records") is not None:
        return True
    return "/tpost/" in url


def _is_empty_line(node: LexborNode) -> bool:
    if node.tag == "p":
        return True
    if node.tag != "div" or "t-redactor__text" not in (node.attributes.get("class") or ""):
        return False
    # a text block that holds only an image is media between paragraphs, not an empty line
    return node.css_first("img, figure, iframe, video, picture") is None


def extract(tree: LexborHTMLParser, url: str) -> RawPage | None:
    content = next((n for sel in _CONTENT if (n := tree.css_first(sel)) is not None), None)
    if content is None:
        return None
    head = read_head(tree)
    popup = tree.css_first(_POPUP) or content
    title = node_text(popup.css_first(".js-feed-post-title")) or head.title
    blocks = extract_blocks(content, _is_empty_line)
    # A Tilda project writes one `lang` on every page whatever the post's language, so the
    # letters decide; the markup only breaks a tie for a post with no text to go by.
    text = " ".join([title or "", *(b.text for b in blocks[:20])])
    language = (
        detect_language(text) if text.strip() else (html_language(tree) or head.language or "ru")
    )
    published = head.published
    if published is None:
        shown = node_text(popup.css_first(".js-feed-post-date"))
        languages = list(dict.fromkeys([language, "ru", "be", "en"]))
        published = parse_shown_date(shown, languages) if shown else None
    categories = [
        text for node in popup.css(".t-feed__post-popup__tag") if (text := node_text(node))
    ]
    return RawPage(
        title=title,
        published=published,
        modified=head.modified,
        language=language,
        canonical=head.canonical,
        categories=categories or head.sections,
        blocks=blocks,
        alternates=head.alternates,
    )
