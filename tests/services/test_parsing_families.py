"""Page families in variants the mirror does not hold: other languages, the other site
builder, other quote and attribution styles. Each page is built in the builder's markup."""

from __future__ import annotations

from datetime import date

import pytest

from services.model import Post
from services.parsing import parse_post
from tests.pages import Empty, H, P, bold, tilda_page, wix_page

WIX_BE = "https://www.belarus-nau.org/be/post/adkazy-kabineta"
WIX_RU = "https://www.belarus-nau.org/post/otvety-kabineta-mart"
TILDA_EN = "https://belarus-nau.org/tpost/a1b2c3d4e5-cabinet-answers"
TILDA_RU = "https://belarus-nau.org/tpost/z9y8x7w6v5-intervyu-latushko"


def _answers(post: Post) -> list[tuple[str | None, str | None, str]]:
    return [
        (a.speaker.id if a.speaker else None, a.speaker.as_written if a.speaker else None, a.text)
        for s in post.sections
        for a in s.answers
    ]


def test_belarusian_wix_digest_with_guillemets_and_nested_quotes() -> None:
    page = wix_page(
        url=WIX_BE,
        title="Адказы Кабінета на пытанні прэс-канферэнцыі",
        lang="be",
        published="2023-03-02T10:00:00.000Z",
        categories=["Кабінет"],
        blocks=[
            P("Крыніца: НАУ-медыя"),
            P(bold("Пра адносіны з Украінай:")),
            P("«Мы будзем падтрымліваць Украіну». (С. Ціханоўская)"),
            P("«Гэта не «гандаль», а гуманітарная справа». (В. Кавалеўскі)"),
            P(bold("Пра санкцыі:")),
            P("«Санкцыі павінны застацца, пакуль рэжым не вызваліць палітвязняў»."),
            P("(П. Латушка)"),
        ],
    )
    post = parse_post(page, WIX_BE)
    assert (post.language, post.source, post.cms) == ("be", "НАУ-медыя", "wix")
    assert post.categories == ("Кабінет",)
    assert [s.heading for s in post.sections] == ["Пра адносіны з Украінай", "Пра санкцыі"]
    assert _answers(post) == [
        ("sviatlana-tsikhanouskaya", "С. Ціханоўская", "Мы будзем падтрымліваць Украіну"),
        ("valery-kavaleuski", "В. Кавалеўскі", "Гэта не «гандаль», а гуманітарная справа"),
        (
            "pavel-latushka",
            "П. Латушка",
            "Санкцыі павінны застацца, пакуль рэжым не вызваліць палітвязняў",
        ),
    ]


def test_russian_wix_digest_with_name_before_quote_and_multi_paragraph_answer() -> None:
    page = wix_page(
        url=WIX_RU,
        title="Ответы Кабинета",
        lang="ru",
        published="2023-03-05T08:00:00.000Z",
        blocks=[
            P("Источник: НАУ-медиа"),
            P("«Что Кабинет делает для политзаключенных?»"),
            P(bold("О политзаключенных:")),
            P("О. Горбунова: «Мы начали переговоры с партнерами."),
            P("Это должен быть своего рода „общий кошелек“ для фондов»."),
            Empty(),
            P("«Мы работаем с Интерполом», — отметил А. Азаров."),
            P("«Это сказал журналист». (Иван Иванов)"),
        ],
    )
    post = parse_post(page, WIX_RU)
    assert post.language == "ru"
    first, second = post.sections
    assert first.heading == "О политзаключенных"
    assert first.question == "Что Кабинет делает для политзаключенных?"
    assert _answers(post)[0] == (
        "volha-harbunova",
        "О. Горбунова",
        "Мы начали переговоры с партнерами.\n\n"
        "Это должен быть своего рода „общий кошелек“ для фондов",
    )
    assert second.heading is None and second.question is None
    assert _answers(post)[1:] == [
        ("aliaksandr-azarau", "А. Азаров", "Мы работаем с Интерполом"),
        (None, "Иван Иванов", "Это сказал журналист"),
    ]
    assert post.sections[1].answers[1].speaker.to_dict()["name"] == "Иван Иванов"  # type: ignore[union-attr]


@pytest.mark.parametrize("joined", [False, True], ids=["block-per-paragraph", "double-breaks"])
def test_tilda_english_digest_with_h2_headings(joined: bool) -> None:
    page = tilda_page(
        url=TILDA_EN,
        title="Cabinet answers on the passport",
        date="March 3, 2023",
        categories=["Cabinet"],
        joined=joined,
        blocks=[
            P("Source: NAM-media"),
            H("A new passport"),
            P('"The passport is for travel too". (Valeriy Kovalevskiy)'),
            P('"We consulted partners.'),
            P('The Commission supports the "project" and the sponsors too."'),
            P("— Aliaksandr Azarau"),
            H("Culture"),
            P("Narration between answers is not an answer."),
            P('Alina Koushyk: "Culture matters as much as the power block."'),
        ],
    )
    post = parse_post(page, TILDA_EN)
    assert (post.cms, post.language, post.source) == ("tilda", "en", "NAM-media")
    assert post.published is not None and post.published.date() == date(2023, 3, 3)
    assert [s.heading for s in post.sections] == ["A new passport", "Culture"]
    assert _answers(post) == [
        ("valery-kavaleuski", "Valeriy Kovalevskiy", "The passport is for travel too"),
        (
            "aliaksandr-azarau",
            "Aliaksandr Azarau",
            'We consulted partners.\n\nThe Commission supports the "project" and the sponsors too.',
        ),
        ("alina-koushyk", "Alina Koushyk", "Culture matters as much as the power block."),
    ]


def test_tilda_russian_interview_answers_by_the_interviewee_in_the_lead() -> None:
    page = tilda_page(
        url=TILDA_RU,
        title="О санкциях и границе",
        date="20 февраля 2023",
        joined=True,
        blocks=[
            P("НАУ-медиа поговорило с Павлом Латушко, заместителем руководителя Кабинета."),
            P(bold("Чего вы ждете от демократических стран?")),
            P("Мы считаем, что нужно усиливать давление на режим."),
            P("Мы призываем правительства поддержать решение Польши."),
            P(bold("Можно ли обойти санкции?")),
            P("Важно, чтобы обойти санкции было невозможно."),
        ],
    )
    post = parse_post(page, TILDA_RU)
    assert post.language == "ru"
    assert post.published is not None and post.published.date() == date(2023, 2, 20)
    assert [s.question for s in post.sections] == [
        "Чего вы ждете от демократических стран?",
        "Можно ли обойти санкции?",
    ]
    answers = _answers(post)
    assert [a[0] for a in answers] == ["pavel-latushka", "pavel-latushka"]
    assert answers[0][2] == (
        "Мы считаем, что нужно усиливать давление на режим.\n\n"
        "Мы призываем правительства поддержать решение Польши."
    )


def test_belarusian_tilda_page_is_told_from_russian_by_its_letters() -> None:
    page = tilda_page(
        url="https://belarus-nau.org/tpost/q1w2e3r4t5-naviny",
        title="Кабінет правёў прэс-канферэнцыю",
        date="14 лютага 2023",
        blocks=[P("Прадстаўнікі Кабінета адказалі на пытанні журналістаў.")],
    )
    post = parse_post(page, "https://belarus-nau.org/tpost/q1w2e3r4t5-naviny")
    assert post.language == "be"
    assert post.id == "tilda-q1w2e3r4t5"
    assert post.published is not None and post.published.date() == date(2023, 2, 14)
    assert post.sections == ()


def test_wix_interview_in_belarusian_with_heading_questions() -> None:
    url = "https://www.belarus-nau.org/be/post/interviu-latushka"
    page = wix_page(
        url=url,
        title="Павел Латушка: санкцыі і мяжа",
        lang="be",
        published="2023-02-21T09:00:00.000Z",
        blocks=[
            H("Што вы просіце ў дэмакратычных краін?", 3),
            P("Мы лічым, што трэба павялічваць ціск на рэжым."),
        ],
    )
    post = parse_post(page, url)
    assert _answers(post) == [
        ("pavel-latushka", "Павел Латушка", "Мы лічым, што трэба павялічваць ціск на рэжым.")
    ]


def test_quoted_phrase_in_narration_is_not_an_answer() -> None:
    page = wix_page(
        url=WIX_RU,
        title="Новости",
        lang="ru",
        published="2023-03-05T08:00:00.000Z",
        blocks=[
            P("«Пагоня» — символ, о котором говорили на встрече."),
            P("Кабинет провел встречу с диаспорой."),
        ],
    )
    assert parse_post(page, WIX_RU).sections == ()


def test_speaker_that_matches_nobody_keeps_the_name_as_written() -> None:
    page = wix_page(
        url=WIX_RU,
        title="Ответы",
        lang="ru",
        published="2023-03-05T08:00:00.000Z",
        blocks=[P(bold("О войне:")), P("«Мы готовимся». (Ф. Вячорка)")],
    )
    speaker = parse_post(page, WIX_RU).sections[0].answers[0].speaker
    assert speaker is not None
    assert speaker.to_dict() == {"id": None, "name": "Ф. Вячорка", "as_written": "Ф. Вячорка"}
