"""Topic registry and section tagging, on real section texts in English, Russian and Belarusian."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services import topics
from services.topics import Topic, all_topics, classify_section, get_topic

EXPECTED = Path(__file__).parents[1] / "data" / "site" / "expected"
REQUIRED = {
    "war-and-security",
    "ukraine",
    "political-prisoners",
    "sanctions",
    "international",
    "documents",
    "culture-and-education",
    "repressions",
    "economy",
}
SLUGS = {topic.slug for topic in all_topics()}


# --- the registry ---------------------------------------------------------------------------


def test_registry_holds_the_required_topics() -> None:
    assert REQUIRED <= SLUGS
    assert len(SLUGS) == len(all_topics())


def test_every_topic_has_names_and_cues_in_every_language() -> None:
    raw = json.loads(
        resources.files("services").joinpath("data/topics.json").read_text(encoding="utf-8")
    )
    for entry in raw["topics"]:
        for lang in ("en", "ru", "be"):
            assert entry["names"][lang].strip(), (entry["slug"], lang)
            assert entry["cues"][lang], (entry["slug"], lang)
            assert all(isinstance(cue, str) and cue.strip() for cue in entry["cues"][lang])


def test_topics_are_looked_up_by_slug() -> None:
    topic = get_topic("political-prisoners")
    assert isinstance(topic, Topic)
    assert topic.names["be"] == "Палітвязні"
    assert topic.name("ru") == "Политзаключенные"
    assert topic.name("de") == topic.names["en"]
    assert get_topic("no-such-topic") is None
    assert len({*all_topics()}) == len(all_topics())


def test_every_cue_tags_its_own_topic() -> None:
    """Guards the trie-shaped regex: each cue, written out, is found and mapped back."""
    for topic in all_topics():
        for lang, cues in topic.cues.items():
            matcher = topics._matcher(lang)
            for cue in cues:
                found = topics._scan("x " + cue.replace("*", "") + " y", matcher)
                assert topic.slug in found, (topic.slug, lang, cue)


def test_module_stays_pure() -> None:
    source = Path(topics.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+(httpx|redis|celery|os)\b", source, re.M)


# --- the mirror pages -----------------------------------------------------------------------

PAGE_TOPICS = {
    "cabinet-answers-feb14.en.wix.json": [
        ("war-and-security", "ukraine"),
        ("ukraine",),
        ("war-and-security", "ukraine"),
        ("political-prisoners",),
        ("sanctions",),
        ("international",),
        ("documents",),
        ("culture-and-education",),
    ],
    "latushka-sanctions-interview.en.wix.json": [
        ("international", "sanctions"),
        ("sanctions",),
        ("sanctions", "economy"),
    ],
    "press-conference-digest.ru.tilda.json": [
        ("ukraine",),
        ("political-prisoners",),
        ("international",),
        ("international",),
    ],
}


@pytest.mark.parametrize("page", sorted(PAGE_TOPICS))
def test_mirror_sections_get_their_topics(page: str) -> None:
    post = json.loads((EXPECTED / page).read_text(encoding="utf-8"))
    got = [
        classify_section(
            section["heading"],
            section["question"],
            [answer["text"] for answer in section["answers"]],
            post["language"],
        )
        for section in post["sections"]
    ]
    assert got == PAGE_TOPICS[page], page


# --- headings lead --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "language", "first"),
    [
        ("Relations with Ukraine", "en", "ukraine"),
        (
            "Helping political prisoners, negotiating with the regime for their release",
            "en",
            "political-prisoners",
        ),
        ("Sanctions, closure of border crossings on the border with Belarus", "en", "sanctions"),
        ("A new passport for Belarusians", "en", "documents"),
        ("Trials in absentia and searches at the homes of relatives", "en", "repressions"),
        ("Belarusian business after the relocation of IT companies", "en", "economy"),
        ("О помощи политзаключенным", "ru", "political-prisoners"),
        ("О помощи политзаключённым", "ru", "political-prisoners"),
        ("Об отношениях с Украиной", "ru", "ukraine"),
        ("Санкции и закрытие пунктов пропуска на границе с Беларусью", "ru", "sanctions"),
        ("О новом паспорте для беларусов за рубежом", "ru", "documents"),
        ("Об уголовных делах против журналистов", "ru", "repressions"),
        ("О так называемых выборах", "ru", "elections"),
        ("Пра дапамогу палітвязням", "be", "political-prisoners"),
        ("Пра адносіны з Украінай", "be", "ukraine"),
        ("Санкцыі і закрыццё пунктаў пропуску на мяжы з Польшчай", "be", "sanctions"),
        ("Новы пашпарт для беларусаў", "be", "documents"),
        ("Пра беларускую мову ў школах і ўніверсітэтах", "be", "culture-and-education"),
        ("Пра магчымы ўдзел беларускага войска ў вайне супраць Украіны", "be", "war-and-security"),
        ("Беларусы замежжа і камісія па вяртанні", "be", "diaspora"),
    ],
)
def test_heading_subject_comes_first(heading: str, language: str, first: str) -> None:
    assert classify_section(heading, None, [], language)[:1] == (first,)


def test_heading_leads_even_when_answers_dwell_elsewhere() -> None:
    answers = [
        "Sanctions must be harmonised, and sanctions against the regime must not be bypassed.",
        "We discussed sanctions and the sanctions list with our partners.",
    ]
    assert classify_section("Relations with Ukraine", None, answers, "en") == (
        "ukraine",
        "sanctions",
    )


def test_question_leads_when_there_is_no_heading() -> None:
    got = classify_section(None, "How can sanctions be made harder to bypass?", [], "en")
    assert got == ("sanctions",)


# --- passing mentions tag nothing ----------------------------------------------------------


def test_a_passing_mention_of_ukraine_does_not_tag_ukraine() -> None:
    answers = [
        "The passport should confirm Belarusian citizenship and serve for international travel. "
        "Belarusians who live in Poland, Lithuania or Ukraine will be able to apply for it.",
    ]
    assert classify_section("A new passport for Belarusians", None, answers, "en") == ("documents",)


def test_a_passing_mention_in_russian_does_not_tag() -> None:
    answers = [
        "Мы настаиваем на том, чтобы санкции против режима не обходились через третьи страны. "
        "Как показал опыт Украины, давление работает.",
        "Санкционная политика ЕС и США должна быть согласована.",
    ]
    assert classify_section("О санкциях", None, answers, "ru") == ("sanctions",)


def test_belarusian_section_keeps_to_its_subject() -> None:
    answers = [
        "Мы павінны разумець, што ключоў ад турмаў у нас няма. Адказнасць за становішча "
        "палітвязняў нясе перш за ўсё рэжым.",
        "Мы пачалі перамовы з партнёрамі з розных краін пра стварэнне міжнароднага фонду "
        "дапамогі палітвязням і іх сем'ям.",
    ]
    assert classify_section("Пра дапамогу палітвязням", None, answers, "be") == (
        "political-prisoners",
    )


def test_a_topic_only_the_answers_carry_needs_repeated_evidence() -> None:
    once = ["The work in the sphere of culture is important."]
    twice = ["The work in the sphere of culture and education is not as visible."]
    assert classify_section(None, None, once, "en") == ()
    assert classify_section(None, None, twice, "en") == ("culture-and-education",)


@pytest.mark.parametrize(
    ("heading", "answers", "language"),
    [
        ("Weather in Vilnius", ["It was sunny and warm, and the warehouse was closed."], "en"),
        ("This is important", ["Importantly, the prize-fighter was a warden."], "en"),
        ("О погоде", ["Мы ценим ваше внимание, было тепло и солнечно."], "ru"),
        ("Пра надвор'е", ["Было цёпла і сонечна, мы гулялі ў парку."], "be"),
        (None, [], "en"),
        ("", [""], "be"),
    ],
)
def test_unrelated_text_gets_no_topics(
    heading: str | None, answers: list[str], language: str
) -> None:
    assert classify_section(heading, None, answers, language) == ()


# --- matching details -----------------------------------------------------------------------


def test_unknown_language_matches_every_language() -> None:
    assert classify_section("О помощи политзаключенным", None, [], "") == ("political-prisoners",)
    assert classify_section("Relations with Ukraine", None, [], "pl") == ("ukraine",)


def test_the_longest_cue_wins_at_a_position() -> None:
    # "political prisoners" must not also count as a "prison*" (repressions) hit
    assert classify_section("Political prisoners", None, [], "en") == ("political-prisoners",)


def test_typographic_apostrophes_match() -> None:
    got = classify_section("Беларусы, вымушаныя з’ехаць", None, [], "be")
    assert got == ("diaspora",)


def test_at_most_three_topics() -> None:
    heading = "Sanctions, political prisoners, Ukraine, passports, elections and the economy"
    got = classify_section(heading, None, [], "en")
    assert len(got) == 3
    assert got[0] == "sanctions"


# --- properties and speed -------------------------------------------------------------------

_CUE_WORDS = sorted(
    {cue.replace("*", "") for topic in all_topics() for cues in topic.cues.values() for cue in cues}
)
_texts = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(_CUE_WORDS), st.text(max_size=8)), max_size=12).map(
        " ".join
    ),
)


@settings(deadline=None, max_examples=300)
@given(
    heading=st.one_of(st.none(), _texts),
    question=st.one_of(st.none(), _texts),
    answers=st.lists(_texts, max_size=4),
    language=st.sampled_from(["en", "ru", "be", "", "de"]),
)
def test_any_text_gives_at_most_three_known_topics(
    heading: str | None, question: str | None, answers: list[str], language: str
) -> None:
    got = classify_section(heading, question, answers, language)
    assert len(got) <= 3
    assert len(set(got)) == len(got)
    assert set(got) <= SLUGS
