"""Entries as a reader shows them: the speaker as author, people named in the entry's
language and script, topic names as category labels with the slug as term, the feed's
language, and no two entries on one date because the source gave only a day."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import feedparser
import pytest

from feeds.publish import labels
from feeds.render import TOPIC_SCHEME, FeedSpec, RenderItem, render_feed
from services.model import Answer, Section, Speaker
from tests.feeds.test_render import EN_POST, ITEMS, PUBLIC, RU_POST

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DC = "{http://purl.org/dc/elements/1.1/}"
# As the parser stores him: the canonical (Latin) name whatever the page's script.
LATUSHKA_BE = Speaker("Павел Латушка", "pavel-latushka", "Pavel Latushka")
BE_POST = dataclasses.replace(
    RU_POST,
    id="tilda-be1",
    url="https://belarus-nau.org/tpost/be1",
    title="Галоўнае",
    language="be",
    published=RU_POST.published + timedelta(hours=1) if RU_POST.published else None,
    sections=(
        Section("Пра Украіну", None, ("ukraine",), (Answer("«Мы за Украіну»", LATUSHKA_BE),)),
    ),
)
BE_ITEMS = [*ITEMS, RenderItem(BE_POST, datetime(2023, 2, 19, tzinfo=UTC))]
NAMES = {"en": "Pavel Latushka", "ru": "Павел Латушко", "be": "Павел Латушка"}


def render(spec: FeedSpec, fmt: str = "atom", items: list[RenderItem] = BE_ITEMS) -> bytes:
    return render_feed(spec, items, fmt=fmt, public_url=PUBLIC, labels=labels())  # type: ignore[arg-type]


def by_language(body: bytes) -> dict[str, Any]:
    parsed: Any = feedparser.parse(body)
    return {e.content[0].language: e for e in parsed.entries}


def test_speaker_feed_entries_have_the_speaker_as_author_in_their_language() -> None:
    entries = by_language(render(FeedSpec("speaker", "pavel-latushka")))
    assert set(entries) == set(NAMES)
    for language, entry in entries.items():
        assert entry.author == NAMES[language], language
        assert entry.title.startswith(NAMES[language] + ":"), language
        assert f"<strong>{NAMES[language]}:</strong>" in entry.content[0].value, language


def test_rss_speaker_items_carry_the_speaker_as_creator() -> None:
    root = ET.fromstring(render(FeedSpec("speaker", "pavel-latushka"), "rss"))
    creators = {i.findtext(f"{DC}language"): i.findtext(f"{DC}creator") for i in root.iter("item")}
    assert creators == NAMES


@pytest.mark.parametrize("kind", ["all", "topic"])
def test_every_entry_names_speakers_in_its_own_script(kind: str) -> None:
    spec = FeedSpec("all") if kind == "all" else FeedSpec("topic", "ukraine")
    entries = by_language(render(spec))
    # the English post's Ukraine section has no answer of his
    for language, name in NAMES.items() if kind == "all" else list(NAMES.items())[1:]:
        content = entries[language].content[0].value
        assert name in content, (language, content)
        assert not any(other in content for other in NAMES.values() if other != name), language


def test_categories_are_topic_names_in_the_entry_language_with_the_slug_as_term() -> None:
    root = ET.fromstring(render(FeedSpec("topic", "ukraine")))
    found = {}
    for entry in root.iter(f"{ATOM}entry"):
        cats = [c for c in entry.iter(f"{ATOM}category") if c.get("scheme") == TOPIC_SCHEME]
        found[entry.get(XML_LANG)] = {(c.get("term"), c.get("label")) for c in cats}
    assert ("ukraine", "Украіна") in found["be"]
    assert ("ukraine", "Украина") in found["ru"]
    assert ("ukraine", "Ukraine") in found["en"]
    rss = ET.fromstring(render(FeedSpec("topic", "ukraine", "be"), "rss"))
    assert [c.text for c in rss.iter("category") if c.get("domain") == TOPIC_SCHEME] == ["Украіна"]


@pytest.mark.parametrize("language", [None, "en", "ru", "be"])
def test_feed_text_carries_its_language(language: str | None) -> None:
    spec = FeedSpec("topic", "ukraine", language)
    assert ET.fromstring(render(spec)).get(XML_LANG) == (language or "en")
    channel = ET.fromstring(render(spec, "rss")).find("channel")
    assert channel is not None and channel.findtext("language") == (language or "en")


def test_posts_of_one_day_get_distinct_stable_times_within_that_day() -> None:
    day = datetime(2023, 3, 1, tzinfo=UTC)  # a Tilda page shows only the day
    posts = [
        dataclasses.replace(EN_POST, id=f"tilda-{n}", url=f"{EN_POST.url}-{n}", published=day)
        for n in range(8)
    ]
    items = [RenderItem(p, day) for p in posts]
    spec = FeedSpec("all")
    atom = ET.fromstring(render(spec, "atom", items))
    updated = [e.findtext(f"{ATOM}updated") for e in atom.iter(f"{ATOM}entry")]
    assert len(set(updated)) == len(updated) == 8
    rss = ET.fromstring(render(spec, "rss", items))
    dates = [i.findtext("pubDate") for i in rss.iter("item")]
    assert len(set(dates)) == len(dates) == 8
    assert all(d and d.startswith("Wed, 01 Mar 2023 00:0") for d in dates), dates
    # the same post keeps its time whatever else the feed holds
    alone = ET.fromstring(render(spec, "atom", items[3:4]))
    entry = next(alone.iter(f"{ATOM}entry"))
    first = {
        e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}updated") for e in atom.iter(f"{ATOM}entry")
    }
    assert first[entry.findtext(f"{ATOM}id")] == entry.findtext(f"{ATOM}updated")
