"""Feed titles, the index's summary of the last crawl, and the 404 page that lists every feed.

Pure: feed specs, crawl records and labels in, HTML text out. The template and the people
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

_LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "be": "Беларуская"}
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


_MOST_CAUSES = 3


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
