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


# Everything read_head looks at, found in one selector pass (each query walks the whole
# tree) and told apart below as the single selectors would, in document order.
_HEAD_NODES = (
    'meta[property], meta[name], link[rel="canonical"], link[rel=alternate][hreflang], '
    'script[type="application/ld+json"], title'
)


def _attr_is(attrs: dict[str, str | None], name: str, value: str) -> bool:
    """`[name=value]` as the selector engine matches it: ASCII letters in any case."""
    found = attrs.get(name)
    return found is not None and found.isascii() and found.lower() == value


def read_head(tree: LexborHTMLParser) -> HeadMeta:
    meta = HeadMeta()
    og: dict[str, str] = {}
    scripts: list[LexborNode] = []
    canonical = title = None
    for node in tree.css(_HEAD_NODES):
        tag, attrs = node.tag, node.attributes  # one dict: each attrs.get decodes anew
        if tag == "meta":
            og[attrs.get("property") or attrs.get("name") or ""] = (
                attrs.get("content") or ""
            ).strip()
        elif tag == "script":
            scripts.append(node)
        elif tag == "title":
            title = title or node
        elif _attr_is(attrs, "rel", "canonical"):
            canonical = canonical or node
        else:  # link[rel=alternate][hreflang]
            lang = _lang_code(attrs.get("hreflang"))
            href = attrs.get("href")
            if lang and href:
                meta.alternates.setdefault(lang, href)
    article = _json_ld_article(scripts)
    og_title = _OG_SUFFIX.sub("", og.get("og:title") or "")
    # the <title> only when the others say nothing: trimming its suffix is a regex's scan
    meta.title = _first_text(article.get("headline"), og_title) or _first_text(_page_title(title))
    meta.published = _first_time(article.get("datePublished"), og.get("article:published_time"))
    meta.modified = _first_time(article.get("dateModified"), og.get("article:modified_time"))
    meta.language = _lang_code(article.get("inLanguage")) or _lang_code(og.get("og:locale"))
    meta.canonical = (canonical.attrs.get("href") or None) if canonical else None
    section = article.get("articleSection")
    if isinstance(section, str):
        meta.sections = [section]
    elif isinstance(section, list):
        meta.sections = [s for s in section if isinstance(s, str)]
    return meta


def html_language(tree: LexborHTMLParser) -> str | None:
    html = tree.css_first("html")
    return _lang_code(html.attrs.get("lang")) if html else None


def _json_ld_article(scripts: list[LexborNode]) -> dict[str, Any]:
    for script in scripts:
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


def _page_title(node: LexborNode | None) -> str | None:
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
