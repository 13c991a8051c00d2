"""`parse_post(html, url) -> Post`: one saved page of the site to the model.

Pure: bytes and a URL in, a Post out, or ParseError. It leaves out the script text no rule
reads (lean.py), checks the page's depth and size before Lexbor parses it (budget.py),
detects the site builder, lets that module find the article and its metadata, then builds
sections from the article's blocks.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser

from services import people, topics
from services.errors import ParseError
from services.model import Cms, Post, Section
from services.parsing import qa, tilda, wix
from services.parsing.budget import BudgetExceeded, check_budget
from services.parsing.lean import lean_page
from services.parsing.page import RawPage

MAX_PAGE_BYTES = 50 * 1024 * 1024
_TILDA_ID = re.compile(r"/tpost/([0-9a-z]+)-", re.IGNORECASE)
_LANGUAGES = frozenset(("en", "ru", "be"))


def parse_post(html: bytes, url: str) -> Post:
    """Parse one post page. `url` is where the page lives on the real site (not a mirror).

    Whatever the bytes, the answer is a Post or a ParseError, so that a crawl records the
    failure against this URL and goes on: a bug that a strange page trips in one of the
    parser's rules is that page's failure, not the crawl's."""
    _check_url(url)
    if not isinstance(html, bytes | bytearray):
        raise ParseError(url, "the page must be bytes")
    if len(html) > MAX_PAGE_BYTES:
        raise ParseError(url, f"the page is larger than {MAX_PAGE_BYTES} bytes")
    if not html or html.isspace():
        raise ParseError(url, "the page is empty")
    page = bytes(html)
    try:
        lean = lean_page(page)
        check_budget(lean)  # Lexbor sees the lean page, so that is what must fit the budget
        return _parse(lean, page, url)
    except BudgetExceeded as exc:
        raise ParseError(url, str(exc)) from None
    except ParseError:
        raise
    except Exception as exc:  # RecursionError, MemoryError, or a rule's own bug
        detail = f"{type(exc).__name__}: {exc}"[:200]
        raise ParseError(url, f"the parser failed on this page ({detail})") from exc


def _parse(lean: bytes, html: bytes, url: str) -> Post:
    try:
        # encoding=True honours a BOM or a <meta charset> (a cp1251 page); UTF-8 costs nothing
        tree = LexborHTMLParser(lean, encoding=True)
    except Exception as exc:  # selectolax raises bare errors on bytes it cannot decode
        raise ParseError(url, f"not readable as HTML ({exc})") from exc
    cms, raw = _extract(tree, url, html)
    if raw is None:
        raise ParseError(url, f"no {cms} article content found: not a post page")
    if not raw.title:
        raise ParseError(url, "the post has no title")
    return _build(raw, cms, url)


def _check_url(url: str) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParseError(str(url), "the URL must be an absolute http(s) URL")


def _extract(tree: LexborHTMLParser, url: str, html: bytes) -> tuple[Cms, RawPage | None]:
    # Tilda's markers are quicker to look for than Wix's, and `/tpost/` is Tilda's address.
    if "/tpost/" in url and tilda.looks_like_tilda(tree, ""):
        return "tilda", tilda.extract(tree, url)
    if wix.looks_like_wix(tree, url):
        return "wix", wix.extract(tree, url, html)
    if tilda.looks_like_tilda(tree, url):
        return "tilda", tilda.extract(tree, url)
    raise ParseError(url, "neither a Wix nor a Tilda page")


def _build(raw: RawPage, cms: Cms, url: str) -> Post:
    canonical = _same_site(raw.canonical, url) or url
    language = raw.language if raw.language in _LANGUAGES else "ru"
    source, sections = qa.build_sections(
        raw.blocks,
        resolve=people.resolve_speaker,
        find_mentions=people.find_mentions,
        title=raw.title or "",
    )
    # Built whole rather than through dataclasses.replace, which looks up the fields anew.
    tagged = tuple(
        Section(
            heading=s.heading,
            question=s.question,
            topics=topics.classify_section(
                s.heading, s.question, [a.text for a in s.answers], language
            ),
            answers=s.answers,
        )
        for s in sections
    )
    return Post(
        url=canonical,
        id=post_id(canonical, cms, raw.native_id),
        cms=cms,
        title=raw.title or "",
        published=raw.published,
        modified=raw.modified,
        language=language,
        source=source,
        categories=tuple(dict.fromkeys(raw.categories)),
        sections=tagged,
        alternates=tuple(sorted(raw.alternates.items())),
    )


def _same_site(candidate: str | None, url: str) -> str | None:
    """The page's canonical URL, when it names the same site, `www.` or not (a copied
    page's canonical pointing elsewhere must not redirect our ids)."""
    if not candidate:
        return None
    try:
        parts, base = urlsplit(candidate), urlsplit(url)
    except ValueError:  # `http://[broken/…`: not a URL at all
        return None
    if parts.scheme in ("http", "https") and _site(parts.hostname) == _site(base.hostname):
        return candidate
    return None


def _site(host: str | None) -> str:
    host = (host or "").lower()
    return host[4:] if host.startswith("www.") else host


def post_id(url: str, cms: Cms, native_id: str | None = None) -> str:
    """A stable id from what never changes about a post.

    Wix shows its own post id in the page's state; Tilda puts its own in the URL
    (`/tpost/<id>-<slug>`). Failing those, the path, without the host, so that the same post
    served from a mirror, or over http, keeps its id.
    """
    if native_id:
        return f"{cms}-{native_id}"
    path = unquote(urlsplit(url).path).rstrip("/").lower()
    if cms == "tilda":
        match = _TILDA_ID.search(path)
        if match:
            return f"tilda-{match.group(1)}"
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:20]
    return f"{cms}-{digest}"
