"""Wix blog post pages (`/post/<slug>`, `/en/post/<slug>`, `/be/post/<slug>`) to a RawPage.

Pure. Only the article's own rich-content viewer counts: "Recent Posts" cards and comments
reuse the same hooks (`post-title`, `post-description`, `content-viewer`) outside it.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.parsing.blocks import extract_blocks
from services.parsing.dates import parse_shown_date
from services.parsing.meta import html_language, node_text, read_head
from services.parsing.page import RawPage

_CONTENT = (
    'article[data-hook="post"] [data-hook="post-description"] [data-id="content-viewer"]',
    'article[data-hook="post"] [data-id="content-viewer"]',
    'article [data-hook="post-content"]',
)
_PATH_LANGUAGE = re.compile(r"^/(en|be|ru)/")
_POST_ID = re.compile(
    rb'"post"\s*:\s*\{\s*"id"\s*:\s*"([0-9a-f]{24})"\s*,\s*"title"\s*:\s*"((?:[^"\\]|\\.){1,1000})"'
)


def looks_like_wix(tree: LexborHTMLParser, url: str) -> bool:
    generator = tree.css_first('meta[name="generator"]')
    if generator is not None and "wix" in (generator.attrs.get("content") or "").lower():
        return True
    return tree.css_first('article[data-hook="post"]') is not None


_MEDIA_HOOKS = ("image", "gallery", "video", "caption", "embed", "divider", "file", "giphy")


def _is_media(node: LexborNode) -> bool:
    """Wix's viewers for images (with their captions), galleries, videos and embeds."""
    if node.tag not in ("div", "figure", "span"):
        return False
    hook = (node.attributes.get("data-hook") or "").lower()  # one dict, not attrs' view
    return bool(hook) and any(word in hook for word in _MEDIA_HOOKS)


def _is_empty_line(node: LexborNode) -> bool:
    # The rich-content viewer follows each block with a marker naming its type; an empty
    # line is its own `div`, not a `p` (shared/site/README.md).
    if node.tag == "p":
        return True
    return node.tag == "div" and node.attributes.get("type") == "empty-line"


def native_post_id(html: bytes, title: str) -> str | None:
    """Wix's own id of the post, from the page's state blob (also the guid of the site's own
    RSS feed). It survives a renamed slug, which a URL-derived id would not; it is taken
    only when the blob's title is the page's, so a related post's id is never picked up."""
    match = _POST_ID.search(html)
    if match is None:
        return None
    try:
        blob_title = json.loads(b'"' + match.group(2) + b'"')
    except ValueError:
        return None
    if " ".join(str(blob_title).split()) != " ".join(title.split()):
        return None
    return match.group(1).decode("ascii")


def extract(tree: LexborHTMLParser, url: str, html: bytes = b"") -> RawPage | None:
    content = next((n for sel in _CONTENT if (n := tree.css_first(sel)) is not None), None)
    if content is None:
        return None
    head = read_head(tree)
    article = tree.css_first('article[data-hook="post"]') or content
    title = node_text(article.css_first("h1")) or head.title
    published = head.published
    if published is None:
        shown = article.css_first('[data-hook="time-ago"]')
        if shown is not None:
            label = shown.attrs.get("title") or node_text(shown)
            published = parse_shown_date(label, ["en", "ru", "be"])
    categories = [
        text
        for node in article.css('[data-hook="category-label-list__item"]')
        if (text := node_text(node))
    ]
    return RawPage(
        native_id=native_post_id(html, title) if html and title else None,
        title=title,
        published=published,
        modified=head.modified,
        language=_language(tree, head.canonical or url, head.alternates, head.language),
        canonical=head.canonical,
        categories=categories or head.sections,
        blocks=extract_blocks(content, _is_empty_line, _is_media),
        alternates=head.alternates,
    )


def _language(
    tree: LexborHTMLParser, url: str, alternates: dict[str, str], declared: str | None
) -> str | None:
    """The hreflang entry that points at this very page is the site's own word on it; the
    URL prefix is next (Wix puts the main language, Russian, at the root)."""
    path = urlsplit(url).path
    for lang, href in alternates.items():
        if urlsplit(href).path == path:
            return lang
    match = _PATH_LANGUAGE.match(path)
    if match:
        return match.group(1)
    return html_language(tree) or declared or ("ru" if "/post/" in path else None)
