"""Where posts are listed: sitemaps, the Wix blog RSS and post-URL shapes.

Pure: bytes in, values out; no network, no clock. Malformed XML raises ParseError rather than
returning nothing, so a broken sitemap is reported instead of silently hiding its posts; the
caller decides whether to carry on (_discover does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NoReturn
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from services.errors import ParseError

_XHTML = "http://www.w3.org/1999/xhtml"
_ATOM = "http://www.w3.org/2005/Atom"
# Wix: /post/<slug> for the site's primary language (Russian), /<lang>/post/<slug> otherwise.
_WIX_POST = re.compile(r"^/(?:[a-z]{2}(?:-[a-z]{2,4})?/)?post/[^/]+/?$", re.IGNORECASE)
# Tilda: /tpost/<id>-<slug>; the id is lower-case letters and digits.
_TILDA_POST = re.compile(r"^/tpost/[a-z0-9]+-[^/]+/?$", re.IGNORECASE)

PostKind = Literal["wix", "tilda"]
MAX_URL_LENGTH = 2048  # real post URLs are under 300 characters, even percent-encoded


@dataclass(frozen=True)
class Alternate:
    """A language version named by `<xhtml:link rel="alternate" hreflang=…>`."""

    hreflang: str
    href: str


@dataclass(frozen=True)
class SitemapEntry:
    """A child sitemap named by a sitemap index."""

    loc: str
    lastmod: str | None


@dataclass(frozen=True)
class SitemapUrl:
    """A page named by a urlset, with its language versions. `lastmod` is as written
    (a W3C datetime, often just a date) and describes `loc` only, not the alternates."""

    loc: str
    lastmod: str | None
    alternates: tuple[Alternate, ...] = ()


@dataclass(frozen=True)
class SitemapResult:
    """A sitemap index yields `sitemaps`, a urlset yields `urls`; never both. `dropped`
    counts the entries past the reader's limit, which were not read."""

    sitemaps: tuple[SitemapEntry, ...] = ()
    urls: tuple[SitemapUrl, ...] = ()
    dropped: int = 0

    @property
    def is_index(self) -> bool:
        return bool(self.sitemaps)


def urls_from_sitemap(
    xml: bytes, *, url: str = "sitemap", limit: int | None = None
) -> SitemapResult:
    """Read a sitemap (sitemaps.org protocol 0.9) or sitemap index; `url` only names the
    document in errors. At most `limit` entries are read; the rest are only counted."""
    root = _parse_xml(xml, url)
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = [e for e in root if _local(e.tag) == "sitemap"]
        entries = (_sitemap_entry(e) for e in children[:limit])
        return SitemapResult(
            sitemaps=tuple(e for e in entries if e is not None),
            dropped=_past(children, limit),
        )
    if kind == "urlset":
        children = [e for e in root if _local(e.tag) == "url"]
        urls = (_sitemap_url(e) for e in children[:limit])
        return SitemapResult(
            urls=tuple(u for u in urls if u is not None), dropped=_past(children, limit)
        )
    raise ParseError(url, f"<{kind}> is not a sitemap root")


def _past(children: list[ET.Element], limit: int | None) -> int:
    return 0 if limit is None else max(0, len(children) - limit)


def urls_from_feed(xml: bytes, *, url: str = "feed") -> tuple[str, ...]:
    """Item links of an RSS 2.0 feed (Wix's blog-feed.xml), or entry links of an Atom feed."""
    root = _parse_xml(xml, url)
    if _local(root.tag) not in ("rss", "feed", "RDF"):
        raise ParseError(url, f"<{_local(root.tag)}> is not a feed root")
    links: list[str] = []
    for element in root.iter():
        name = _local(element.tag)
        if name == "item":
            link = _child_text(element, "link")
            if link:
                links.append(link)
        elif name == "entry" and _namespace(element.tag) == _ATOM:
            links.extend(_atom_link(element))
    return tuple(dict.fromkeys(links))


def post_kind(url: str) -> PostKind | None:
    """Which CMS's post page a URL is, by its path shape; None for any other page, and for
    anything a post address never has (a query, credentials, another scheme, a huge length)."""
    if len(url) > MAX_URL_LENGTH:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.query or "@" in parts.netloc:
        return None
    path = parts.path
    if _TILDA_POST.match(path):
        return "tilda"
    if _WIX_POST.match(path):
        return "wix"
    return None


def is_post_url(url: str) -> bool:
    return post_kind(url) is not None


# -- XML -----------------------------------------------------------------------------------------
class _NoDoctype(ET.TreeBuilder):
    """Sitemaps and feeds never need a DTD; refusing one up front rules out entity expansion
    (billion laughs) and external entities whatever the expat version."""

    def doctype(self, name: str | None, pubid: str | None, system: str | None) -> NoReturn:
        raise _DoctypeRefused()


class _DoctypeRefused(Exception):
    pass


def _parse_xml(xml: bytes, url: str) -> ET.Element:
    if not xml.strip():
        raise ParseError(url, "empty XML document")
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(xml)
        root = parser.close()
    except _DoctypeRefused:
        raise ParseError(url, "XML with a DOCTYPE is refused") from None
    except ET.ParseError as exc:
        raise ParseError(url, f"malformed XML ({exc})") from None
    if not isinstance(root, ET.Element):
        raise ParseError(url, "XML without a root element")
    return root


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _child_text(element: ET.Element, name: str) -> str | None:
    """Text of the first direct child with this local name in the element's own namespace
    or none, so <image:loc> inside <image:image> never passes for a page's <loc>."""
    own = _namespace(element.tag)
    for child in element:
        if _local(child.tag) == name and _namespace(child.tag) in (own, ""):
            text = (child.text or "").strip()
            return text or None
    return None


def _sitemap_entry(element: ET.Element) -> SitemapEntry | None:
    loc = _child_text(element, "loc")
    return SitemapEntry(loc, _child_text(element, "lastmod")) if loc else None


def _sitemap_url(element: ET.Element) -> SitemapUrl | None:
    loc = _child_text(element, "loc")
    if not loc:
        return None
    alternates = tuple(_alternates(element))
    return SitemapUrl(loc, _child_text(element, "lastmod"), alternates)


def _alternates(element: ET.Element) -> list[Alternate]:
    found: list[Alternate] = []
    for child in element:
        if _local(child.tag) != "link" or _namespace(child.tag) != _XHTML:
            continue
        rel, lang, href = (child.get(a, "").strip() for a in ("rel", "hreflang", "href"))
        if rel == "alternate" and lang and href:
            found.append(Alternate(lang, href))
    return found


def _atom_link(entry: ET.Element) -> list[str]:
    for child in entry:
        if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate":
            href = child.get("href", "").strip()
            return [href] if href else []
    return []
