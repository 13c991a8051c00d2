"""OPML: every feed given is listed, the output is XML, and it does not depend on the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from feeds.publish import feeds_of_registry, labels
from feeds.render import FeedSpec, Labels, render_opml
from feeds.web._opml import opml_document

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


# ---------------------------------------------------------------- the service's OPML


def _published() -> list[FeedSpec]:
    return feeds_of_registry()


def _labels() -> Labels:
    return labels()


def test_groups_hold_their_feeds_as_folders() -> None:
    data = render_opml(groups=[("Topics", FEEDS[:2]), ("Speakers", FEEDS[2:3])])
    body = ET.fromstring(data).find("body")
    assert body is not None
    folders = body.findall("outline")
    assert [f.get("text") for f in folders] == ["Topics", "Speakers"]
    assert all(f.get("xmlUrl") is None and f.get("type") is None for f in folders)
    assert [o.get("xmlUrl") for o in folders[0]] == [f[1] for f in FEEDS[:2]]


def test_default_opml_lists_each_feed_once_in_all_languages() -> None:
    specs = _published()
    data = opml_document(specs, _labels(), base_url=PUBLIC, fmt="atom", language=None)
    body = ET.fromstring(data).find("body")
    assert body is not None
    groups = {g.get("text"): g.findall("outline") for g in body.findall("outline")}
    assert list(groups) == ["All", "Topics", "Speakers"]
    urls = [o.get("xmlUrl") for outlines in groups.values() for o in outlines]
    assert len(urls) == len(set(urls)) == len([s for s in specs if s.language is None])
    assert not any("lang=" in (u or "") for u in urls)
    latushka = next(o for o in groups["Speakers"] if "pavel-latushka" in (o.get("xmlUrl") or ""))
    assert latushka.get("htmlUrl") == PUBLIC + "/speakers/pavel-latushka"
    assert latushka.get("text") == "NAM-media: Pavel Latushka"
    assert groups["All"][0].get("htmlUrl") == PUBLIC + "/all"


def test_language_opml_lists_that_languages_feeds_named_in_it() -> None:
    specs = _published()
    data = opml_document(specs, _labels(), base_url=PUBLIC, fmt="rss", language="be")
    outlines = [o for o in ET.fromstring(data).iter("outline") if o.get("xmlUrl")]
    assert len(outlines) == len([s for s in specs if s.language == "be"])
    assert all((o.get("xmlUrl") or "").endswith(".rss?lang=be") for o in outlines)
    assert all((o.get("htmlUrl") or "").endswith("?lang=be") for o in outlines)
    names = {o.get("text") for o in outlines}
    assert "NAM-media: Павел Латушка (Беларуская)" in names
    assert "NAM-media: Палітвязні (Беларуская)" in names
