"""Feed rendering: ids, entries per feed kind, determinism, validity (DESIGN.md, "Feed entries")."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import feedparser
import pytest

from feeds.render import (
    EMPTY_FEED_UPDATED,
    FeedSpec,
    Fmt,
    Labels,
    RenderItem,
    describe_change,
    entries_for,
    entry_id,
    render_feed,
)
from services.model import Answer, Post, Section, Speaker

PUBLIC = "https://feeds.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DC = "{http://purl.org/dc/elements/1.1/}"
T0 = datetime(2023, 2, 15, 16, 5, tzinfo=UTC)

KAVALEUSKI = Speaker("V. Kovalevsky", "valery-kavaleuski", "Valery Kavaleuski")
LATUSHKA = Speaker("P. Latushka", "pavel-latushka", "Pavel Latushka")
LATUSHKA_RU = Speaker("Павел Латушко", "pavel-latushka", "Pavel Latushka")
STRANGER = Speaker("J. Smith")

EN_POST = Post(
    url="https://www.belarus-nau.org/en/post/cabinet-answers",
    id="wix-1a2b3c",
    cms="wix",
    title="The Cabinet answered questions",
    published=T0,
    modified=T0,
    language="en",
    source="NAM-media",
    categories=("Cabinet",),
    sections=(
        Section(
            heading="Relations with Ukraine",
            topics=("ukraine", "war-and-security"),
            answers=(
                Answer("Since March, we have been <script>alert(1)</script> working.", KAVALEUSKI),
                Answer("I agree with my colleague.", STRANGER),
            ),
        ),
        Section(
            question="What about the new sanctions?",
            topics=("sanctions",),
            answers=(
                Answer("Sanctions must hit the regime.\n\nNot the people.", LATUSHKA),
                Answer("And the potash trade.", KAVALEUSKI),
            ),
        ),
    ),
    alternates=(
        ("en", "https://www.belarus-nau.org/en/post/cabinet-answers"),
        ("ru", "https://www.belarus-nau.org/post/otvety-kabineta"),
    ),
)
RU_POST = Post(
    url="https://belarus-nau.org/tpost/m3p9r2c7a1-glavnoe",
    id="tilda-m3p9r2c7a1",
    cms="tilda",
    title="Главное с пресс-конференции Кабинета",
    published=T0 + timedelta(hours=2),
    modified=None,
    language="ru",
    source="NAM-media",
    categories=("Кабинет",),
    sections=(
        Section(
            heading="Об Украине",
            topics=("ukraine",),
            answers=(Answer("«Мы поддерживаем Украину»", LATUSHKA_RU),),
        ),
    ),
    alternates=(("en", "https://www.belarus-nau.org/en/post/cabinet-answers"),),
)
NEWS_POST = Post(
    url="https://www.belarus-nau.org/en/post/news",
    id="wix-news",
    cms="wix",
    title="Plain news & notes",
    published=None,
    modified=None,
    language="en",
)

ITEMS = [
    RenderItem(EN_POST, T0 + timedelta(days=1)),
    RenderItem(RU_POST, T0 + timedelta(days=2)),
    RenderItem(NEWS_POST, T0 + timedelta(days=3)),
]
LABELS = Labels(
    people={"pavel-latushka": {"en": "Pavel Latushka", "ru": "Павел Латушко"}},
    topics={"ukraine": {"en": "Ukraine", "ru": "Украина"}},
)
SPECS = [
    FeedSpec("all"),
    FeedSpec("all", None, "ru"),
    FeedSpec("topic", "ukraine"),
    FeedSpec("topic", "sanctions", "en"),
    FeedSpec("speaker", "pavel-latushka"),
    FeedSpec("speaker", "valery-kavaleuski", "en"),
    FeedSpec("speaker", "nobody-at-all"),
]
FORMATS: list[Fmt] = ["atom", "rss"]


def render(spec: FeedSpec, items: list[RenderItem], fmt: Fmt = "atom", **kw: Any) -> bytes:
    kw.setdefault("public_url", PUBLIC)
    kw.setdefault("labels", LABELS)
    return render_feed(spec, items, fmt=fmt, **kw)


def parse(data: bytes) -> Any:
    parsed = feedparser.parse(data)
    assert "bozo_exception" not in parsed, parsed.get("bozo_exception")
    return parsed


def ids(data: bytes) -> list[str]:
    return [e.id for e in parse(data).entries]


# ---------------------------------------------------------------- feed specs


@pytest.mark.parametrize(
    ("spec", "key", "atom_path"),
    [
        (FeedSpec("all"), "all", "/feeds/all.atom"),
        (FeedSpec("all", None, "be"), "all@be", "/feeds/all.atom?lang=be"),
        (FeedSpec("topic", "ukraine"), "topics/ukraine", "/feeds/topics/ukraine.atom"),
        (
            FeedSpec("speaker", "pavel-latushka", "ru"),
            "speakers/pavel-latushka@ru",
            "/feeds/speakers/pavel-latushka.atom?lang=ru",
        ),
    ],
)
def test_spec_paths_and_storage_keys(spec: FeedSpec, key: str, atom_path: str) -> None:
    assert spec.feed_key == key
    assert spec.path("atom") == atom_path
    assert spec.path("rss") == atom_path.replace(".atom", ".rss")
    assert FeedSpec.from_feed_key(key) == spec


@pytest.mark.parametrize(
    "args",
    [("all", "x", None), ("topic", None, None), ("speaker", "../etc", None), ("all", None, "de")],
)
def test_malformed_spec_is_refused(args: tuple[Any, Any, Any]) -> None:
    with pytest.raises(ValueError):
        FeedSpec(*args)


# ---------------------------------------------------------------- ids


def test_entry_ids_are_tag_uris_of_the_post_id() -> None:
    assert entry_id("wix-1a2b3c") == "tag:belarus-nau.org,2023:post/wix-1a2b3c"
    assert ids(render(FeedSpec("topic", "sanctions"), ITEMS)) == [
        "tag:belarus-nau.org,2023:post/wix-1a2b3c/topic/sanctions"
    ]
    assert ids(render(FeedSpec("speaker", "valery-kavaleuski"), ITEMS)) == [
        "tag:belarus-nau.org,2023:post/wix-1a2b3c/speaker/valery-kavaleuski"
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.feed_key)
def test_ids_survive_new_url_title_content_date_and_public_url(spec: FeedSpec, fmt: Fmt) -> None:
    def rewrite(post: Post) -> Post:
        sections = tuple(
            dataclasses.replace(
                s,
                heading=(s.heading or "") + " (updated)",
                answers=tuple(dataclasses.replace(a, text=a.text + " More.") for a in s.answers),
            )
            for s in post.sections
        )
        return dataclasses.replace(
            post,
            url=post.url.replace("www.", "") + "-v2",
            title=post.title + " (corrected)",
            published=(post.published or T0) - timedelta(days=30),
            sections=sections,
        )

    before = ids(render(spec, ITEMS, fmt))
    moved = [RenderItem(rewrite(i.post), i.updated) for i in ITEMS]
    after = ids(render(spec, moved, fmt, public_url="http://127.0.0.1:9999/nam"))
    assert after == before
    assert all(i.startswith("tag:belarus-nau.org,2023:post/") for i in before)


def test_rss_guid_is_not_a_permalink() -> None:
    root = ET.fromstring(render(FeedSpec("all"), ITEMS, "rss"))
    guids = root.findall("channel/item/guid")
    assert len(guids) == 3
    assert {g.get("isPermaLink") for g in guids} == {"false"}


# ---------------------------------------------------------------- entries per kind


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (FeedSpec("all"), 3),
        (FeedSpec("all", None, "en"), 2),
        (FeedSpec("all", None, "ru"), 1),
        (FeedSpec("all", None, "be"), 0),
        (FeedSpec("topic", "ukraine"), 2),
        (FeedSpec("topic", "ukraine", "ru"), 1),
        (FeedSpec("topic", "sanctions"), 1),
        (FeedSpec("topic", "economy"), 0),
        (FeedSpec("speaker", "pavel-latushka"), 2),
        (FeedSpec("speaker", "valery-kavaleuski"), 1),
        (FeedSpec("speaker", "nobody-at-all"), 0),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_entry_count_per_feed(spec: FeedSpec, expected: int, fmt: Fmt) -> None:
    assert len(entries_for(spec, ITEMS)) == expected
    assert len(parse(render(spec, ITEMS, fmt)).entries) == expected


def test_topic_entry_holds_only_the_sections_tagged_with_it() -> None:
    [entry] = entries_for(FeedSpec("topic", "sanctions"), ITEMS)
    assert [s.question for s in entry.sections] == ["What about the new sanctions?"]
    html = parse(render(FeedSpec("topic", "sanctions"), ITEMS)).entries[0].content[0].value
    assert "What about the new sanctions?" in html
    assert "Relations with Ukraine" not in html


def test_speaker_entry_holds_only_their_answers_with_what_they_answer() -> None:
    [entry] = entries_for(FeedSpec("speaker", "valery-kavaleuski"), ITEMS)
    assert [(s.heading, s.question) for s in entry.sections] == [
        ("Relations with Ukraine", None),
        (None, "What about the new sanctions?"),
    ]
    speakers = {a.speaker for s in entry.sections for a in s.answers}
    assert speakers == {KAVALEUSKI}

    html = (
        parse(render(FeedSpec("speaker", "valery-kavaleuski"), ITEMS)).entries[0].content[0].value
    )
    assert "Relations with Ukraine" in html and "What about the new sanctions?" in html
    assert "potash trade" in html and "Valery Kavaleuski" in html
    assert "I agree with my colleague" not in html and "J. Smith" not in html
    assert "Sanctions must hit" not in html and "Pavel Latushka" not in html


def test_unknown_speaker_answers_appear_under_the_name_as_written() -> None:
    html = parse(render(FeedSpec("all"), ITEMS)).entries[-1].content[0].value
    assert "J. Smith" in html
    # Known speakers appear under their canonical name, not the spelling on the page.
    assert "Valery Kavaleuski" in html and "Kovalevsky" not in html


def test_entries_are_newest_first_and_limited_to_feed_size() -> None:
    assert [e.post.id for e in entries_for(FeedSpec("all"), ITEMS)] == [
        "wix-news",
        "tilda-m3p9r2c7a1",
        "wix-1a2b3c",
    ]
    assert [e.post.id for e in entries_for(FeedSpec("all"), ITEMS, feed_size=2)] == [
        "wix-news",
        "tilda-m3p9r2c7a1",
    ]
    assert len(parse(render(FeedSpec("all"), ITEMS, feed_size=1)).entries) == 1


def test_equal_times_are_ordered_by_id_whatever_the_input_order() -> None:
    same = [RenderItem(dataclasses.replace(NEWS_POST, id=f"p{n}"), T0) for n in (3, 1, 2)]
    assert [e.post.id for e in entries_for(FeedSpec("all"), same)] == ["p1", "p2", "p3"]
    assert render(FeedSpec("all"), same) == render(FeedSpec("all"), same[::-1])


def test_language_filter_keeps_only_that_language() -> None:
    parsed = parse(render(FeedSpec("speaker", "pavel-latushka", "ru"), ITEMS))
    assert [e.link for e in parsed.entries] == [RU_POST.url]
    assert parsed.feed.language == "ru"
    assert parsed.feed.title == "NAM-media: Павел Латушко (Русский)"


# ---------------------------------------------------------------- determinism and edits


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.feed_key)
def test_same_items_render_to_identical_bytes(spec: FeedSpec, fmt: Fmt) -> None:
    first = render(spec, ITEMS, fmt)
    assert render(spec, list(ITEMS), fmt) == first
    assert render(spec, ITEMS[::-1], fmt) == first


@pytest.mark.parametrize("fmt", FORMATS)
def test_feed_updated_is_the_newest_entry_not_the_clock(fmt: Fmt) -> None:
    parsed = parse(render(FeedSpec("all", None, "en"), ITEMS, fmt))
    # to the minute: the source gave no seconds, so they are made distinct (see _times)
    newest = (T0 + timedelta(days=3)).timetuple()[:5]
    assert tuple(parsed.feed.updated_parsed)[:5] == newest


@pytest.mark.parametrize("fmt", FORMATS)
def test_edited_item_keeps_its_id_gets_new_updated_and_says_what_changed(fmt: Fmt) -> None:
    spec = FeedSpec("speaker", "pavel-latushka")
    edited_sections = (
        EN_POST.sections[0],
        dataclasses.replace(
            EN_POST.sections[1],
            answers=(Answer("Sanctions must hit the regime only.", LATUSHKA),)
            + EN_POST.sections[1].answers[1:],
        ),
    )
    edited = dataclasses.replace(EN_POST, sections=edited_sections)
    note = describe_change(EN_POST, edited)
    assert note == "Edited at the source: 1 answer changed"
    later = T0 + timedelta(days=5)
    items = [RenderItem(edited, later, version=2, change_note=note), *ITEMS[1:]]

    before = {e.id: e for e in parse(render(spec, ITEMS, fmt)).entries}
    after = {e.id: e for e in parse(render(spec, items, fmt)).entries}
    assert before.keys() == after.keys()
    key = entry_id(EN_POST.id, "speaker", "pavel-latushka")
    if fmt == "atom":
        assert tuple(after[key].updated_parsed)[:5] == later.timetuple()[:5]
    else:  # one date per RSS item: the publication date, which an edit leaves alone
        assert after[key].published_parsed == before[key].published_parsed
    html = after[key].description
    assert html.index(note) < html.index("Sanctions must hit the regime only.")
    assert note not in before[key].description


def test_stale_copy_of_a_post_gives_no_duplicate_entry() -> None:
    old = RenderItem(EN_POST, T0, version=1)
    new = RenderItem(EN_POST, T0 + timedelta(days=9), version=2, change_note="Edited")
    [entry] = entries_for(FeedSpec("all"), [new, old])
    assert entry.change_note == "Edited"


def test_describe_change_names_headings_and_answers() -> None:
    new = dataclasses.replace(
        EN_POST,
        title="The Cabinet answered",
        sections=(
            EN_POST.sections[0],
            dataclasses.replace(
                EN_POST.sections[1], answers=(*EN_POST.sections[1].answers, Answer("Also.", None))
            ),
            Section(heading="Political prisoners", answers=(Answer("Free them.", LATUSHKA),)),
        ),
    )
    assert describe_change(EN_POST, new) == (
        'Edited at the source: title changed, 1 answer added, heading "Political prisoners" added'
    )
    assert describe_change(new, EN_POST) == (
        "Edited at the source: title changed, 1 answer removed, "
        'heading "Political prisoners" removed'
    )
    retagged = dataclasses.replace(EN_POST, categories=("Cabinet", "Press"))
    assert describe_change(EN_POST, retagged) == "Edited at the source: categories changed"


# ---------------------------------------------------------------- validity and content


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.feed_key)
def test_atom_has_the_required_elements(spec: FeedSpec) -> None:
    parsed = parse(render(spec, ITEMS, "atom"))
    assert parsed.version == "atom10"
    feed = parsed.feed
    assert feed.id.startswith("tag:belarus-nau.org,2023:feed/")
    assert feed.title and feed.updated
    assert any(
        link.rel == "self" and link.href == PUBLIC + spec.path("atom") for link in feed.links
    )
    assert feed.author == "NAM-media"
    for entry in parsed.entries:
        assert entry.id and entry.title and entry.updated and entry.author and entry.link
        assert entry.content[0].type == "text/html"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.feed_key)
def test_rss_has_the_required_elements(spec: FeedSpec) -> None:
    parsed = parse(render(spec, ITEMS, "rss"))
    assert parsed.version == "rss20"
    feed = parsed.feed
    assert feed.title and feed.link == PUBLIC + "/" and feed.description
    assert any(link.href == PUBLIC + spec.path("rss") for link in feed.links)
    for entry in parsed.entries:
        assert entry.id and entry.title and entry.link and entry.description
        assert entry.published


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", [FeedSpec("all"), FeedSpec("topic", "economy", "be")])
def test_empty_feed_is_valid_and_dated_from_a_fixed_epoch(spec: FeedSpec, fmt: Fmt) -> None:
    parsed = parse(render(spec, [], fmt))
    assert parsed.entries == []
    assert tuple(parsed.feed.updated_parsed)[:6] == EMPTY_FEED_UPDATED.timetuple()[:6]
    assert render(spec, [], fmt) == render(spec, [], fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_html_in_answers_comes_out_escaped(fmt: Fmt) -> None:
    data = render(FeedSpec("speaker", "valery-kavaleuski"), ITEMS, fmt)
    root = ET.fromstring(data)
    path = f"{ATOM}entry/{ATOM}content" if fmt == "atom" else "channel/item/description"
    [content] = [el.text or "" for el in root.findall(path)]
    # The element holds HTML; in that HTML the answer's markup is text, not a tag.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>" not in content
    assert "<blockquote>" in content


def test_paragraphs_and_source_link_in_content() -> None:
    html = parse(render(FeedSpec("speaker", "pavel-latushka", "en"), ITEMS)).entries[0].content
    value = html[0].value
    assert "<p>Sanctions must hit the regime.</p><p>Not the people.</p>" in value
    assert f'<a href="{EN_POST.url}">' in value


def test_atom_entries_carry_language_categories_and_hreflang_alternates() -> None:
    root = ET.fromstring(render(FeedSpec("all"), ITEMS, "atom"))
    entries = {e.findtext(f"{ATOM}id"): e for e in root.findall(f"{ATOM}entry")}
    en = entries[entry_id(EN_POST.id)]
    ru = entries[entry_id(RU_POST.id)]
    assert en.get(XML_LANG) == "en" and ru.get(XML_LANG) == "ru"
    links = [(link.get("rel"), link.get("hreflang"), link.get("href")) for link in en]
    links = [x for x in links if x[2]]
    assert ("alternate", "en", EN_POST.url) in links
    assert ("alternate", "ru", "https://www.belarus-nau.org/post/otvety-kabineta") in links
    assert len([x for x in links if x[1] == "en"]) == 1  # Atom: one alternate per hreflang
    terms = {c.get("term"): c.get("label") for c in en.findall(f"{ATOM}category")}
    assert terms == {
        "Cabinet": None,
        "ukraine": "Ukraine",
        "war-and-security": "war-and-security",
        "sanctions": "sanctions",
    }
    ru_terms = {c.get("term"): c.get("label") for c in ru.findall(f"{ATOM}category")}
    assert ru_terms == {"Кабинет": None, "ukraine": "Украина"}


def test_parsed_atom_entry_language_and_tags() -> None:
    parsed = parse(render(FeedSpec("topic", "ukraine"), ITEMS, "atom"))
    by_lang = {e.content[0].language: e for e in parsed.entries}
    assert set(by_lang) == {"en", "ru"}
    assert {t.term for t in by_lang["ru"].tags} == {"Кабинет", "ukraine"}


def test_rss_items_carry_language_and_categories() -> None:
    root = ET.fromstring(render(FeedSpec("all"), ITEMS, "rss"))
    langs = [i.findtext(f"{DC}language") for i in root.findall("channel/item")]
    assert langs == ["en", "ru", "en"]
    # the channel's own text is English; each item names its language
    assert root.findtext("channel/language") == "en"
    ru_item = root.findall("channel/item")[1]
    assert [c.text for c in ru_item.findall("category")] == ["Кабинет", "Украина"]


def test_speaker_names_fall_back_to_the_stored_canonical_name() -> None:
    parsed = parse(render(FeedSpec("speaker", "valery-kavaleuski"), ITEMS, labels=Labels()))
    assert parsed.feed.title == "NAM-media: Valery Kavaleuski"
    assert parsed.entries[0].title == "Valery Kavaleuski: The Cabinet answered questions"


def test_labels_from_registries() -> None:
    @dataclasses.dataclass(frozen=True)
    class Person:
        id: str
        name: str
        name_ru: str
        name_be: str

    @dataclasses.dataclass(frozen=True)
    class Topic:
        slug: str
        names: dict[str, str]

    labels = Labels.from_registries(
        [Person("pavel-latushka", "Pavel Latushka", "Павел Латушко", "Павел Латушка")],
        [Topic("ukraine", {"en": "Ukraine", "be": "Украіна"})],
    )
    assert labels.person("pavel-latushka", "be") == "Павел Латушка"
    assert labels.topic("ukraine", "ru") == "Ukraine"  # falls back to English
    assert labels.topic("economy", "ru") == "economy"


def test_naive_times_are_taken_as_utc() -> None:
    naive = [RenderItem(EN_POST, datetime(2023, 3, 1, 12, 0))]
    aware = [RenderItem(EN_POST, datetime(2023, 3, 1, 12, 0, tzinfo=UTC))]
    assert render(FeedSpec("all"), naive) == render(FeedSpec("all"), aware)
