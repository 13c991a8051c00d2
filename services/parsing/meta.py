"""What a page says about itself in its head: JSON-LD, Open Graph, canonical, hreflang.

Pure. Both site builders write these; each module adds what only its own markup has.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

_ARTICLE_TYPES = frozenset(("blogposting", "newsarticle", "article", "reportagenewsarticle"))
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{1,40}$")
_OG_SUFFIX = re.compile(r"\s+\|\s+[^|]{1,40}$")  # `… | NAU`; a dash may belong to the title
# The site's audience and its editors are in Minsk; Tilda shows dates in the project's zone.
SITE_TZ = timezone(timedelta(hours=3), "Europe/Minsk")


@dataclass
class HeadMeta:
    title: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    language: str | None = None
    canonical: str | None = None
    alternates: dict[str, str] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)


def read_head(tree: LexborHTMLParser) -> HeadMeta:
    meta = HeadMeta()
    article = _json_ld_article(tree)
    og = {
        node.attributes.get("property") or node.attributes.get("name") or "": (
            node.attributes.get("content") or ""
        ).strip()
        for node in tree.css("meta[property], meta[name]")
    }
    og_title = _OG_SUFFIX.sub("", og.get("og:title") or "")
    meta.title = _first_text(article.get("headline"), og_title, _page_title(tree))
    meta.published = _first_time(article.get("datePublished"), og.get("article:published_time"))
    meta.modified = _first_time(article.get("dateModified"), og.get("article:modified_time"))
    meta.language = _lang_code(article.get("inLanguage")) or _lang_code(og.get("og:locale"))
    canonical = tree.css_first('link[rel="canonical"]')
    meta.canonical = (canonical.attributes.get("href") or None) if canonical else None
    for link in tree.css("link[rel=alternate][hreflang]"):
        lang = _lang_code(link.attributes.get("hreflang"))
        href = link.attributes.get("href")
        if lang and href:
            meta.alternates.setdefault(lang, href)
    section = article.get("articleSection")
    if isinstance(section, str):
        meta.sections = [section]
    elif isinstance(section, list):
        meta.sections = [s for s in section if isinstance(s, str)]
    return meta


def html_language(tree: LexborHTMLParser) -> str | None:
    html = tree.css_first("html")
    return _lang_code(html.attributes.get("lang")) if html else None


def _json_ld_article(tree: LexborHTMLParser) -> dict[str, Any]:
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text(deep=True) or "")
        except (ValueError, RecursionError):
            continue  # a broken or absurdly nested block tells us nothing; the others may
        for item in _json_ld_items(data):
            kind = item.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds):
                return item
    return {}


def _json_ld_items(data: Any) -> list[dict[str, Any]]:
    """The objects of a JSON-LD block: itself, a list of them, or one `@graph` level (the
    only nesting schema.org uses; deeper graphs are not followed)."""
    items = data if isinstance(data, list) else [data]
    found = [d for d in items if isinstance(d, dict)]
    for item in list(found):
        graph = item.get("@graph")
        graph_items = graph if isinstance(graph, list) else [graph]
        found.extend(d for d in graph_items if isinstance(d, dict))
    return found


def _page_title(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("title")
    if node is None:
        return None
    return _TITLE_SUFFIX.sub("", node.text(deep=True) or "").strip() or None


def _first_text(*values: object) -> str | None:
    for value in values:
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def _first_time(*values: object) -> datetime | None:
    for value in values:
        if isinstance(value, str) and value.strip():
            parsed = parse_iso_time(value.strip())
            if parsed:
                return parsed
    return None


def parse_iso_time(value: str) -> datetime | None:
    """An ISO 8601 time in UTC; a time with no zone is taken as the site's local time, and a
    bare day is kept at noon UTC (see dates.parse_shown_date)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) == 10:  # `2023-02-15`: a day, not midnight in some zone
        return datetime.combine(parsed.date(), time(12, 0), tzinfo=UTC)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SITE_TZ)
    return parsed.astimezone(UTC)


def _lang_code(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    if code == "x":  # x-default names no language
        return None
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def node_text(node: LexborNode | None) -> str:
    return " ".join((node.text(deep=True) or "").split()) if node is not None else ""
