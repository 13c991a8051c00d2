"""OPML: every feed given is listed, the output is XML, and it does not depend on the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from feeds.render import FeedSpec, render_opml

PUBLIC = "https://feeds.example.org"
SPECS = [
    FeedSpec("all"),
    FeedSpec("all", None, "ru"),
    FeedSpec("topic", "ukraine"),
    FeedSpec("speaker", "pavel-latushka", "be"),
]
FEEDS = [
    (f"NAM-media: {spec.feed_key} & more", PUBLIC + spec.path(fmt), PUBLIC + "/")
    for spec in SPECS
    for fmt in ("atom", "rss")
] + [("Павел Латушко <RSS>", PUBLIC + "/feeds/speakers/pavel-latushka.rss?lang=ru", PUBLIC)]


def test_opml_lists_every_feed_given_in_order() -> None:
    root = ET.fromstring(render_opml(FEEDS))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "NAM-media feeds"
    outlines = root.findall("body/outline")
    assert [(o.get("text"), o.get("xmlUrl"), o.get("htmlUrl")) for o in outlines] == FEEDS
    assert {o.get("type") for o in outlines} == {"rss"}
    assert all(o.get("title") == o.get("text") for o in outlines)


def test_opml_is_deterministic_and_has_no_date_unless_given() -> None:
    first = render_opml(FEEDS)
    assert render_opml(list(FEEDS)) == first
    assert ET.fromstring(first).find("head/dateCreated") is None


def test_opml_date_and_owner_when_passed_in() -> None:
    data = render_opml(
        FEEDS, date_created=datetime(2024, 5, 1, 8, 30, tzinfo=UTC), owner_url=PUBLIC + "/"
    )
    head = ET.fromstring(data).find("head")
    assert head is not None
    assert head.findtext("dateCreated") == "Wed, 01 May 2024 08:30:00 +0000"
    assert head.findtext("ownerId") == PUBLIC + "/"


def test_empty_opml_is_still_valid() -> None:
    root = ET.fromstring(render_opml([]))
    assert root.find("body") is not None
    assert root.findall("body/outline") == []


def test_markup_in_titles_and_query_strings_is_escaped() -> None:
    data = render_opml(FEEDS)
    assert b"&lt;RSS&gt;" in data and b"&amp; more" in data
    assert data.startswith(b"<?xml")
