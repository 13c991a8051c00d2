"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), with the post's structure in `_nam`.

Pure. The same entries as Atom and RSS, with the same ids. Each item's `_nam` extension holds
who said what (sections, questions, answers, speaker ids and names, topics, language), so a
reader of the data need not parse the HTML. Older history is reached through `next_url`, the
JSON Feed pagination link, which points at the next older archive page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from feeds.render._content import (
    content_html,
    entry_authors,
    entry_title,
    other_languages,
    speaker_name,
)
from feeds.render._entries import Entry, FeedSpec, last_updated
from feeds.render._labels import Labels
from feeds.render._links import Document, DocumentLinks

VERSION = "https://jsonfeed.org/version/1.1"


def render_json(
    spec: FeedSpec,
    entries: Sequence[Entry],
    *,
    public_url: str,
    labels: Labels,
    site_name: str,
    links: DocumentLinks | None,
    doc: Document,
) -> bytes:
    base = public_url.rstrip("/")
    links = links or DocumentLinks()
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": doc.title,
        "home_page_url": base + "/",
        "feed_url": base + doc.path,
        "description": doc.title,
        "language": spec.language or "en",
        "authors": [{"name": site_name}],
    }
    if links.prev_archive is not None:
        feed["next_url"] = base + links.prev_archive.path("json")
    if links.hub:
        feed["hubs"] = [{"type": "WebSub", "url": links.hub}]
    feed["_nam"] = {
        "about": base + "/",
        "feed_id": doc.feed_id,
        "updated": _date(last_updated(entries)),
        "archive": spec.page is not None,
    }
    feed["items"] = [_item(entry, labels, site_name) for entry in entries]
    # compact: json's indenting encoder is pure Python and many times slower
    text = json.dumps(feed, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _item(entry: Entry, labels: Labels, site: str) -> dict[str, Any]:
    post = entry.post
    item: dict[str, Any] = {
        "id": entry.id,
        "url": post.url,
        "title": entry_title(entry, labels),
        "content_html": content_html(entry, labels),
        "date_modified": _date(entry.updated),
        "authors": [{"name": name} for name in entry_authors(entry, labels, site)],
        "tags": [labels.topic(slug, post.language) for slug in entry.topics],
        "language": post.language,
    }
    if entry.published:
        item["date_published"] = _date(entry.published)
    item["_nam"] = structure(entry, labels)
    return item


def structure(entry: Entry, labels: Labels) -> dict[str, Any]:
    """Who said what in the entry, as data: the `_nam` extension object."""
    post = entry.post
    language = post.language
    speakers: dict[str, dict[str, str | None]] = {}
    sections = []
    for section in entry.sections:
        answers = []
        for answer in section.answers:
            speaker = None
            if answer.speaker:
                name = speaker_name(answer.speaker, language, labels)
                speaker = {
                    "id": answer.speaker.id,
                    "name": name,
                    "as_written": answer.speaker.as_written,
                }
                speakers.setdefault(
                    answer.speaker.id or name, {"id": answer.speaker.id, "name": name}
                )
            answers.append({"speaker": speaker, "text": answer.text})
        sections.append(
            {
                "heading": section.heading,
                "question": section.question,
                "topics": list(section.topics),
                "answers": answers,
            }
        )
    return {
        "post_id": post.id,
        "language": language,
        "source": post.source,
        "categories": list(post.categories),
        "topics": [{"slug": s, "name": labels.topic(s, language)} for s in entry.topics],
        "speakers": list(speakers.values()),
        "sections": sections,
        "other_languages": [{"language": lang, "url": url} for lang, url in other_languages(post)],
        "change_note": entry.change_note,
    }


def _date(value: datetime) -> str:
    return value.isoformat()
