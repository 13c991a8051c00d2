"""The HTML pages: the index of every published feed and the 404 page that lists them.

Pure: feed specs, answer counts and labels in, HTML text out. The template and the people
and topic registries are package data, read once; the caller looks up what is published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from importlib import resources
from string import Template
from typing import Any

from feeds.render import FeedSpec, Labels
from services.people import get_person
from services.topics import get_topic

_LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "be": "Беларуская"}
_MIME = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
_PAGE = Template(resources.files("feeds.web").joinpath("templates/page.html").read_text("utf-8"))


def feed_title(spec: FeedSpec, names: Labels) -> str:
    """The title a feed is listed under on the index, the 404 page and in OPML: the topic or
    person named in the feed's language, the rest in English like the pages themselves."""
    if spec.kind == "topic":
        subject = names.topic(spec.key or "", spec.language)
    elif spec.kind == "speaker":
        subject = names.person(spec.key or "", spec.language) or spec.key or ""
    else:
        subject = "all posts"
    suffix = f" ({_LANGUAGE_NAMES[spec.language]})" if spec.language else ""
    return f"NAM-media: {subject}{suffix}"


def index_page(
    specs: Sequence[FeedSpec],
    counts: Mapping[str, int],
    names: Labels,
    last_crawl: Mapping[str, Any] | None = None,
) -> str:
    """Every feed in a table by kind; each also as a `<link rel=alternate>` so a reader
    given the page URL finds them all. Under the title, when the last crawl ran and how it
    ended: on a first run, an empty page must say why it is empty."""
    head = "\n".join(
        f'<link rel="alternate" type="{_MIME[fmt]}" title="{escape(feed_title(s, names))}'
        f' ({fmt.upper()})" href="{escape(s.path(fmt))}">'
        for s in specs
        for fmt in ("atom", "rss")
    )
    body = _index_body(specs, counts, last_crawl_line(last_crawl))
    return _page("NAM-media feeds", body, head)


_MOST_CAUSES = 3


def last_crawl_line(record: Mapping[str, Any] | None) -> str:
    """last_crawl_summary as a paragraph, marked when pages failed."""
    failed = bool(record and record.get("failures"))
    css = "last-crawl failed" if failed else "last-crawl"
    return f'<p class="{css}">Last crawl: {escape(last_crawl_summary(record))}.</p>'


def last_crawl_summary(record: Mapping[str, Any] | None) -> str:
    """Plain text from the newest crawl record (services.storage keeps them): when, what it
    did, and, when pages failed, how many and why, by cause where the record has them. On a
    first run whose crawl failed, this is what says why the page is empty."""
    if record is None:
        return "none yet"
    when = _when(record.get("finished") or record.get("started"))
    failures = record.get("failures") or []
    done = f"{when}, {_what_it_did(record)}"
    if not failures:
        return done
    causes = record.get("failures_by_cause") or {}
    if causes:
        top = sorted(causes.items(), key=lambda item: (-int(item[1]), str(item[0])))
        why = "; ".join(f"{n} × {c}" for c, n in top[:_MOST_CAUSES])
    else:
        first = failures[0]
        why = str(first.get("error", "unknown error") if isinstance(first, Mapping) else first)
    return f"{done}; {len(failures)} failed: {why}"


def _when(stamp: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return "at an unknown time"
    return f"{moment.strftime('%Y-%m-%d %H:%M')} UTC"


def _what_it_did(record: Mapping[str, Any]) -> str:
    if record.get("mode") == "worker":  # the workers' crawl: planned here, run as tasks
        return f"{record.get('urls', 0)} pages queued, {record.get('skipped', 0)} not due"
    new, edited = record.get("new", 0), record.get("edited", 0)
    same = record.get("unchanged", 0) + record.get("not_modified", 0)
    return f"{new} new, {edited} edited, {same} unchanged"


def not_found_page(specs: Sequence[FeedSpec], names: Labels) -> str:
    """A mistyped feed URL gets the list of real ones rather than a bare 404."""
    items = "".join(f"<li>{escape(feed_title(s, names))}: {_links(s)}</li>" for s in specs)
    body = f"<h1>No such feed</h1><p>These feeds exist:</p><ul>{items}</ul>"
    return _page("Not found", body)


def _page(title: str, body: str, head: str = "") -> str:
    return _PAGE.substitute(title=escape(title), head=head, body=body)


def _links(spec: FeedSpec) -> str:
    label = _LANGUAGE_NAMES[spec.language] if spec.language else "all languages"
    fmts = " ".join(
        f'<a class="fmt" href="{escape(spec.path(f))}">{f.upper()}</a>' for f in ("atom", "rss")
    )
    return f'<span class="lang">{escape(label)}: {fmts}</span>'


def _grouped(specs: Sequence[FeedSpec]) -> dict[tuple[str, str | None], list[FeedSpec]]:
    groups: dict[tuple[str, str | None], list[FeedSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.kind, spec.key), []).append(spec)
    return groups


def _index_body(specs: Sequence[FeedSpec], counts: Mapping[str, int], crawled: str) -> str:
    groups = _grouped(specs)
    rows: dict[str, list[str]] = {"all": [], "topic": [], "speaker": []}
    for (kind, key), variants in groups.items():
        links = "<br>".join(_links(s) for s in variants)
        rows[kind].append(
            f'<tr id="{kind}-{escape(key or "all")}">{_cells(kind, key, counts)}'
            f"<td>{links}</td></tr>"
        )
    parts = [
        "<h1>NAM-media feeds</h1>",
        "<p>Atom and RSS feeds of NAM-media posts. "
        '<a href="/feeds.opml">OPML of every feed</a>.</p>',
        crawled,
    ]
    titles = {"all": "All posts, per language", "topic": "Per topic", "speaker": "Per speaker"}
    heads = {
        "all": "<th>Feed</th>",
        "topic": "<th>Topic</th>",
        "speaker": "<th>Speaker</th><th>In Cyrillic</th><th class=count>Answers</th>",
    }
    for kind in ("all", "topic", "speaker"):
        parts.append(f"<h2>{titles[kind]}</h2><table><tr>{heads[kind]}<th>Subscribe</th></tr>")
        parts += rows[kind] or ["<tr><td>None yet.</td></tr>"]
        parts.append("</table>")
    return "\n".join(parts)


def _cells(kind: str, key: str | None, counts: Mapping[str, int]) -> str:
    if kind == "speaker" and key:
        person = get_person(key)
        name = person.name if person else key
        cyrillic = (
            " / ".join(dict.fromkeys(n for n in (person.name_be, person.name_ru) if n))
            if person
            else ""
        )
        return (
            f"<td>{escape(name)}</td><td class=alt>{escape(cyrillic)}</td>"
            f"<td class=count>{counts.get(key, 0)}</td>"
        )
    if kind == "topic" and key:
        topic = get_topic(key)
        names = topic.names if topic else {}
        other = " / ".join(n for lang, n in names.items() if lang != "en")
        return f"<td>{escape(names.get('en', key))} <span class=alt>{escape(other)}</span></td>"
    return "<td>All posts</td>"
