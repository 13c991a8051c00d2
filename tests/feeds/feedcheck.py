"""The checks the W3C Feed Validator documents, for Atom, RSS 2.0 and JSON Feed 1.1.

The validator is not packaged for PyPI or Debian, so its documented errors and warnings are
checked here, each named as in its message list: SelfDoesntMatchLocation, DuplicateEntries,
DuplicateUpdated, DuplicateAtomLink, DuplicateItemSemantics, MissingAtomSelfLink,
InvalidRFC2822Date, IncorrectDOW, InvalidRFC3339Date, ImplausibleDate, InvalidLanguage,
InvalidPermalink, ContainsRelRef, SecurityRisk, UnregisteredAtomLinkRel, MisplacedMetadata,
MissingElement, MissingTextualContent. Each function returns the problems found; a valid
feed gives none. JSON Feed follows https://jsonfeed.org/version/1.1 (required fields, types,
and `_`-prefixed extensions).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# IANA link relations the feeds use (RFC 4287, RFC 5005, WebSub); others would be warned about
REGISTERED_RELS = {"alternate", "self", "related", "via", "enclosure", "hub", "current"}
REGISTERED_RELS |= {"prev-archive", "next-archive", "first", "last", "next", "previous"}
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
# RFC 4151 with RFC 2396's URI characters: no space, no non-ASCII, no `#` but a fragment's
_TAG_URI = re.compile(r"tag:[a-z0-9.-]+,\d{4}(-\d\d(-\d\d)?)?:[0-9A-Za-z;/?:@&=+$.\-_!~*'()%,]*\Z")
_RISKY_TAGS = {"script", "object", "embed", "iframe", "form", "style", "meta", "link"}
_RSS_ITEM_CORE = {"title", "link", "description", "author", "category", "comments"}
_RSS_ITEM_CORE |= {"enclosure", "guid", "pubDate", "source"}


def atom_problems(body: bytes, url: str) -> list[str]:
    root = ET.fromstring(body)
    problems = _expect(root.tag == f"{ATOM}feed", "not an Atom feed")
    problems += _language(root.get(XML_LANG), "feed xml:lang")
    problems += _required(root, ["id", "title", "updated"], ATOM, "feed")
    problems += _tag_uri(root.findtext(f"{ATOM}id"), "feed id")
    problems += _atom_links(root, url, feed=True)
    if root.find(f"{ATOM}author/{ATOM}name") is None:
        problems.append("MissingElement: feed author")
    problems += _misplaced(root, f"{ATOM}entry")
    entries = root.findall(f"{ATOM}entry")
    problems += _duplicates([e.findtext(f"{ATOM}id") for e in entries], "DuplicateEntries")
    problems += _duplicates([e.findtext(f"{ATOM}updated") for e in entries], "DuplicateUpdated")
    for value in [root.findtext(f"{ATOM}updated")]:
        problems += _rfc3339(value, "feed updated")
    for entry in entries:
        problems += _atom_entry(entry)
    return problems


def _atom_entry(entry: ET.Element) -> list[str]:
    where = f"entry {entry.findtext(f'{ATOM}id')}"
    problems = _required(entry, ["id", "title", "updated"], ATOM, where)
    problems += _tag_uri(entry.findtext(f"{ATOM}id"), where)
    problems += _rfc3339(entry.findtext(f"{ATOM}updated"), f"{where} updated")
    if entry.find(f"{ATOM}published") is not None:
        problems += _rfc3339(entry.findtext(f"{ATOM}published"), f"{where} published")
    content = entry.find(f"{ATOM}content")
    if content is None or not (content.text or "").strip():
        problems.append(f"MissingTextualContent: {where}")
    else:
        problems += _html(content.text or "", where)
    problems += _atom_links(entry, None, feed=False)
    for category in entry.findall(f"{ATOM}category"):
        problems += _expect(bool(category.get("term")), f"MissingAttribute: {where} category term")
    return problems


def _atom_links(parent: ET.Element, url: str | None, *, feed: bool) -> list[str]:
    problems: list[str] = []
    alternates: list[tuple[str | None, str | None]] = []
    for link in parent.findall(f"{ATOM}link"):
        rel, href = link.get("rel", "alternate"), link.get("href") or ""
        problems += _expect(rel in REGISTERED_RELS, f"UnregisteredAtomLinkRel: {rel}")
        problems += _absolute(href, f"link rel={rel}")
        if rel == "alternate":
            alternates.append((link.get("type"), link.get("hreflang")))
        if rel == "self" and url is not None:
            problems += _expect(href == url, f"SelfDoesntMatchLocation: {href} != {url}")
    problems += _duplicates(alternates, "DuplicateAtomLink")
    if feed:
        rels = [link.get("rel") for link in parent.findall(f"{ATOM}link")]
        problems += _expect(rels.count("self") == 1, "MissingSelf: feed link rel=self")
    return problems


def rss_problems(body: bytes, url: str) -> list[str]:
    root = ET.fromstring(body)
    problems = _expect(root.tag == "rss" and root.get("version") == "2.0", "not RSS 2.0")
    channel = root.find("channel")
    if channel is None:
        return [*problems, "MissingElement: channel"]
    problems += _required(channel, ["title", "link", "description"], "", "channel")
    problems += _absolute(channel.findtext("link") or "", "channel link")
    problems += _language(channel.findtext("language"), "channel language")
    problems += _expect(channel.find(f"{DC}language") is None, "DuplicateSemantics: language")
    selfs = [a for a in channel.findall(f"{ATOM}link") if a.get("rel") == "self"]
    problems += _expect(len(selfs) == 1, "MissingAtomSelfLink")
    problems += [f"SelfDoesntMatchLocation: {a.get('href')}" for a in selfs if a.get("href") != url]
    for link in channel.findall(f"{ATOM}link"):
        problems += _expect(link.get("rel") in REGISTERED_RELS, "UnregisteredAtomLinkRel")
    if channel.find("lastBuildDate") is not None:
        problems += _rfc822(channel.findtext("lastBuildDate"), "lastBuildDate")
    problems += _misplaced(channel, "item")
    items = channel.findall("item")
    problems += _duplicates([i.findtext("guid") for i in items], "DuplicateValue: guid")
    problems += _duplicates([i.findtext("pubDate") for i in items], "duplicate pubDate")
    for item in items:
        problems += _rss_item(item)
    return problems


def _rss_item(item: ET.Element) -> list[str]:
    where = f"item {item.findtext('guid')}"
    problems = _expect(
        bool(item.findtext("title") or item.findtext("description")),
        f"ItemMustContainTitleOrDescription: {where}",
    )
    guid = item.find("guid")
    if guid is None:
        problems.append(f"MissingGuid: {where}")
    elif guid.get("isPermaLink", "true") != "false":
        problems += _absolute(guid.text or "", f"InvalidPermalink: {where}")
    problems += _rfc822(item.findtext("pubDate"), f"{where} pubDate")
    for core, ext in (("pubDate", f"{DC}date"), ("author", f"{DC}creator")):
        both = item.find(core) is not None and item.find(ext) is not None
        problems += _expect(not both, f"DuplicateItemSemantics: {where} {core} and {ext}")
    both = item.find("category") is not None and item.find(f"{DC}subject") is not None
    problems += _expect(not both, f"DuplicateItemSemantics: {where} category and dc:subject")
    problems += _absolute(item.findtext("link") or "", f"{where} link")
    problems += _html(item.findtext("description") or "", where)
    problems += _html(item.findtext(f"{CONTENT}encoded") or "", where)
    for child in item:
        if not child.tag.startswith("{"):
            problems += _expect(child.tag in _RSS_ITEM_CORE, f"UndefinedElement: {child.tag}")
    return problems


def json_problems(body: bytes, url: str) -> list[str]:
    import json

    feed: Any = json.loads(body)
    problems = _expect(feed.get("version") == "https://jsonfeed.org/version/1.1", "version")
    problems += _expect(isinstance(feed.get("title"), str) and feed["title"] != "", "title")
    problems += _expect(isinstance(feed.get("items"), list), "items must be an array")
    problems += _expect(feed.get("feed_url") == url, f"feed_url {feed.get('feed_url')} != {url}")
    for key in ("home_page_url", "next_url"):
        if key in feed:
            problems += _absolute(feed[key], key)
    known = {"version", "title", "home_page_url", "feed_url", "description", "user_comment"}
    known |= {"next_url", "icon", "favicon", "authors", "language", "expired", "hubs", "items"}
    problems += [f"unknown top-level key {k}" for k in feed if k not in known and k[:1] != "_"]
    for hub in feed.get("hubs", []):
        problems += _expect(isinstance(hub.get("type"), str) and "url" in hub, "hub type/url")
    items = feed.get("items") or []
    problems += _duplicates([i.get("id") for i in items], "duplicate item id")
    for item in items:
        problems += _json_item(item)
    return problems


def _json_item(item: dict[str, Any]) -> list[str]:
    where = f"item {item.get('id')}"
    problems = _expect(isinstance(item.get("id"), str) and item["id"] != "", f"{where}: id")
    has_content = isinstance(item.get("content_html"), str) or isinstance(
        item.get("content_text"), str
    )
    problems += _expect(has_content, f"{where}: content_html or content_text")
    problems += _html(item.get("content_html") or "", where)
    if "url" in item:
        problems += _absolute(item["url"], f"{where} url")
    for key in ("date_published", "date_modified"):
        if key in item:
            problems += _rfc3339(item[key], f"{where} {key}")
    for author in item.get("authors", []):
        problems += _expect(isinstance(author, dict) and bool(author), f"{where}: author")
    problems += _expect(all(isinstance(t, str) for t in item.get("tags", [])), f"{where}: tags")
    return problems


# ---------------------------------------------------------------- shared checks


def _expect(condition: bool, problem: str) -> list[str]:
    return [] if condition else [problem]


def _required(parent: ET.Element, names: list[str], ns: str, where: str) -> list[str]:
    problems = []
    for name in names:
        found = parent.findall(f"{ns}{name}")
        if len(found) != 1 or not (found[0].text or "").strip():
            problems.append(f"MissingElement: {where} {name}")
    return problems


def _duplicates(values: list[Any], name: str) -> list[str]:
    seen: set[Any] = set()
    repeated = {v for v in values if v in seen or seen.add(v)}  # type: ignore[func-returns-value]
    return [f"{name}: {v}" for v in sorted(map(str, repeated))]


def _misplaced(parent: ET.Element, entry_tag: str) -> list[str]:
    tags = [child.tag for child in parent]
    if entry_tag not in tags:
        return []
    first = tags.index(entry_tag)
    return [f"MisplacedMetadata: {t}" for t in tags[first:] if t != entry_tag]


def _language(value: str | None, where: str) -> list[str]:
    return _expect(bool(value and _LANGUAGE.match(value)), f"InvalidLanguage: {where} {value}")


def _tag_uri(value: str | None, where: str) -> list[str]:
    return _expect(bool(value and _TAG_URI.match(value)), f"InvalidTAG: {where} {value}")


def _absolute(url: str, where: str) -> list[str]:
    parts = urlsplit(url)
    ok = parts.scheme in ("http", "https") and bool(parts.netloc)
    return _expect(ok, f"InvalidFullLink: {where} {url!r}")


def _rfc3339(value: str | None, where: str) -> list[str]:
    if not value or not _RFC3339.match(value):
        return [f"InvalidRFC3339Date: {where} {value!r}"]
    return _plausible(datetime.fromisoformat(value.replace("Z", "+00:00")), where)


def _rfc822(value: str | None, where: str) -> list[str]:
    try:
        parsed = parsedate_to_datetime(value or "")
    except (TypeError, ValueError):
        return [f"InvalidRFC2822Date: {where} {value!r}"]
    day = (value or "").split(",", 1)[0].strip()
    problems = _expect(day == parsed.strftime("%a"), f"IncorrectDOW: {where} {value}")
    return problems + _plausible(parsed, where)


def _plausible(value: datetime, where: str) -> list[str]:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    ok = datetime(1970, 1, 1, tzinfo=UTC) <= value.astimezone(UTC) <= tomorrow
    return _expect(ok, f"ImplausibleDate: {where} {value}")


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _RISKY_TAGS:
            self.problems.append(f"SecurityRisk: <{tag}>")
        for name, value in attrs:
            if name in ("href", "src"):
                self.problems += _absolute(value or "", f"ContainsRelRef {name}")
            if name.startswith("on") or name == "style":
                self.problems.append(f"SecurityRiskAttr: {name}")


def _html(markup: str, where: str) -> list[str]:
    parser = _Refs()
    parser.feed(markup)
    return [f"{p} in {where}" for p in parser.problems]
