"""Realistic variants of the site's page families that neither the mirror nor the family tests
hold: other heading, quote and attribution styles, interview layouts, shown dates, and markup
the builders in tests/pages.py cannot express (lists, blockquotes, `<p>` inside Tilda text).

Each test states what a careful reader expects of the page, in the shape of DESIGN.md's
contract: the text without its surrounding quotation marks and attribution, paragraphs joined
by a blank line, inner quotes kept; the speaker as written and the person's id.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from services.parsing import parse_post
from tests.pages import AZA, HAR, KAV, KOU, LAT, TSI, Empty, H, P, bold, tilda_page, wix_page
from tests.pages import replace_tilda_block as _raw_tilda
from tests.pages import replace_wix_block as _raw_wix
from tests.pages import sections_of as _sections

WIX_EN = "https://www.belarus-nau.org/en/post/cabinet-answers-march"
WIX_RU = "https://www.belarus-nau.org/post/otvety-kabineta-mart"
WIX_BE = "https://www.belarus-nau.org/be/post/adkazy-kabineta-sakavik"
TILDA_EN = "https://belarus-nau.org/tpost/a1b2c3d4e5-cabinet-answers"
TILDA_RU = "https://belarus-nau.org/tpost/z9y8x7w6v5-otvety-kabineta"
TILDA_BE = "https://belarus-nau.org/tpost/k1l2m3n4o5-adkazy-kabineta"


# -- helpers ------------------------------------------------------------------------------


def _wix(url: str, blocks: list[Any], *, lang: str = "en", title: str = "Answers") -> bytes:
    return wix_page(
        url=url, title=title, lang=lang, published="2023-03-03T10:00:00.000Z", blocks=blocks
    )


def _tilda(url: str, blocks: list[Any], *, title: str, date_: str, joined: bool = False) -> bytes:
    return tilda_page(url=url, title=title, date=date_, blocks=blocks, joined=joined)


def _wix_list(items: list[str]) -> str:
    lis = "".join(
        f'<li class="_3ZJx3" dir="auto"><p class="_1Bvq2" dir="auto"><span class="_2PHJq">'
        f"<span>{item}</span></span></p></li>"
        for item in items
    )
    return f'<ul class="_1Bvq2 _3zWoQ">{lis}</ul><div type="unordered-list"></div>'


# -- press-conference digests ---------------------------------------------------------------


def test_wix_en_digest_with_h3_headings_without_colon_and_curly_quotes() -> None:
    page = _wix(
        WIX_EN,
        [
            P("Source: NAM-media"),
            H("Relations with Ukraine", 3),
            P("“We will support Ukraine no matter what.” (S. Tsikhanouskaya)"),
            H("International pressure on the regime", 3),
            P("“We start working to block Lukashenko’s candidacy”. (V. Kavaleuski)"),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Relations with Ukraine",
            None,
            [(TSI, "S. Tsikhanouskaya", "We will support Ukraine no matter what.")],
        ),
        (
            "International pressure on the regime",
            None,
            [(KAV, "V. Kavaleuski", "We start working to block Lukashenko’s candidacy")],
        ),
    ]


def test_attribution_with_role_in_parentheses() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("A new passport:")),
            P('"The passport is also for travel". (V. Kavaleuski, Minister of Foreign Affairs)'),
            P('"We are working with Interpol". (Aliaksandr Azarau, head of NAM)'),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "A new passport",
            None,
            [
                (KAV, "V. Kavaleuski", "The passport is also for travel"),
                (AZA, "Aliaksandr Azarau", "We are working with Interpol"),
            ],
        )
    ]


def test_attribution_inside_closing_punctuation() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Sanctions:")),
            P('"We urge governments to support Poland." (P. Latushka).'),
            P("“Sanctions must not be bypassed” (P. Latushka)."),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [
                (LAT, "P. Latushka", "We urge governments to support Poland."),
                (LAT, "P. Latushka", "Sanctions must not be bypassed"),
            ],
        )
    ]


def test_russian_dash_attribution_same_paragraph_and_own_paragraph() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("Об Украине:")),
            P("«Поддержка Украины остается нашим приоритетом». — В. Ковалевский"),
            P("«Мы будем поддерживать Украину»."),
            P("— С. Тихановская"),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        (
            "Об Украине",
            None,
            [
                (KAV, "В. Ковалевский", "Поддержка Украины остается нашим приоритетом"),
                (TSI, "С. Тихановская", "Мы будем поддерживать Украину"),
            ],
        )
    ]


def test_russian_dash_attribution_with_verb_and_role() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("О паспорте:")),
            P(
                "«Паспорт должен служить и для путешествий», — заявил представитель Кабинета "
                "по иностранным делам Валерий Ковалевский."
            ),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        (
            "О паспорте",
            None,
            [(KAV, "Валерий Ковалевский", "Паспорт должен служить и для путешествий")],
        )
    ]


def test_russian_role_before_name_in_parentheses() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("О давлении на режим:")),
            P(
                "«Мы начинаем работу по блокированию кандидатуры Лукашенко». "
                "(представитель по иностранным делам В. Ковалевский)"
            ),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        (
            "О давлении на режим",
            None,
            [(KAV, "В. Ковалевский", "Мы начинаем работу по блокированию кандидатуры Лукашенко")],
        )
    ]


def test_russian_dash_attribution_with_capitalised_role_before_the_name() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("О паспорте:")),
            P("«Паспорт нужен и для поездок», — отметил глава МИД Кабинета В. Ковалевский."),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        ("О паспорте", None, [(KAV, "В. Ковалевский", "Паспорт нужен и для поездок")])
    ]


def test_attribution_with_long_role_on_its_own_dash_paragraph() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Sanctions:")),
            P('"Sanctions must stay."'),
            P("— Pavel Latushka, Deputy Head of the United Transitional Cabinet"),
            P("«Санкции должны остаться»."),
            P("— Павел Латушко, заместитель руководителя Объединенного переходного кабинета"),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [
                (LAT, "Pavel Latushka", "Sanctions must stay."),
                (LAT, "Павел Латушко", "Санкции должны остаться"),
            ],
        )
    ]


def test_bold_attribution_and_bold_speaker_line_are_not_headings() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("О санкциях:")),
            P("«Санкции должны остаться»."),
            P(bold("(П. Латушко)")),
            P(bold("В. Ковалевский:")),
            P("«Мы работаем над коалицией»."),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        (
            "О санкциях",
            None,
            [
                (LAT, "П. Латушко", "Санкции должны остаться"),
                (KAV, "В. Ковалевский", "Мы работаем над коалицией"),
            ],
        )
    ]


def test_belarusian_name_before_quote_plain_and_bold() -> None:
    page = _wix(
        WIX_BE,
        [
            P(bold("Пра санкцыі:")),
            P("В. Кавалеўскі: «Мы працуем над міжнароднай кааліцыяй»."),
            P(bold("П. Латушка:") + " «Санкцыі не павінны абыходзіцца»."),
        ],
        lang="be",
    )
    assert _sections(page, WIX_BE) == [
        (
            "Пра санкцыі",
            None,
            [
                (KAV, "В. Кавалеўскі", "Мы працуем над міжнароднай кааліцыяй"),
                (LAT, "П. Латушка", "Санкцыі не павінны абыходзіцца"),
            ],
        )
    ]


def test_full_name_bold_prefix_of_a_known_speaker() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Culture:")),
            P(bold("Alina Koushyk:") + ' "Culture matters as much as the power block."'),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Culture",
            None,
            [(KOU, "Alina Koushyk", "Culture matters as much as the power block.")],
        )
    ]


def test_unknown_speaker_full_name_prefix_bold_and_plain() -> None:
    # The Cabinet has members the registry does not list; they keep the name as written.
    page = _wix(
        WIX_RU,
        [
            P(bold("О цифровой безопасности:")),
            P(bold("Вадим Кабанчук:") + " «Мы создаем новые инструменты защиты»."),
            P("Владимир Астапенко: «Мы ведем переговоры с партнерами»."),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        (
            "О цифровой безопасности",
            None,
            [
                (None, "Вадим Кабанчук", "Мы создаем новые инструменты защиты"),
                (None, "Владимир Астапенко", "Мы ведем переговоры с партнерами"),
            ],
        )
    ]


def test_multi_paragraph_answer_with_attribution_on_its_own_paragraph() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Political prisoners:")),
            P('"Political prisoners have not appeared in Belarus for the first time.'),
            P("There is a very high risk of being deceived by the regime."),
            P('The first signal should be a step to release political prisoners".'),
            P("(V. Garbunova)"),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Political prisoners",
            None,
            [
                (
                    HAR,
                    "V. Garbunova",
                    "Political prisoners have not appeared in Belarus for the first time.\n\n"
                    "There is a very high risk of being deceived by the regime.\n\n"
                    "The first signal should be a step to release political prisoners",
                )
            ],
        )
    ]


def test_guillemets_with_nested_guillemets_closing_together() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P(bold("О политзаключенных:")),
            P("«Это должен быть своего рода «общий кошелек»». (В. Горбунова)"),
            P("«Не подходите к этому как к „торгу“»."),
            P("(О. Горбунова)"),
        ],
        title="Ответы Кабинета",
        date_="3 марта 2023",
    )
    assert _sections(page, TILDA_RU) == [
        (
            "О политзаключенных",
            None,
            [
                (HAR, "В. Горбунова", "Это должен быть своего рода «общий кошелек»"),
                (HAR, "О. Горбунова", "Не подходите к этому как к „торгу“"),
            ],
        )
    ]


def test_english_inner_quotes_closing_together() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Political prisoners:")),
            P('"This should be a kind of "common purse"". (V. Garbunova)'),
            P("“It is not a ‘trade’ but a humanitarian matter.” (V. Garbunova)"),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Political prisoners",
            None,
            [
                (HAR, "V. Garbunova", 'This should be a kind of "common purse"'),
                (HAR, "V. Garbunova", "It is not a ‘trade’ but a humanitarian matter."),
            ],
        )
    ]


def test_nbsp_in_attribution_and_before_closing_quote() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("Об Интерполе:&nbsp;")),
            P("«Мы сотрудничаем с&nbsp;Интерполом»&nbsp;(А.&nbsp;Азаров)"),
            P("«Это дело не связано с&nbsp;политикой»,&nbsp;— А.&nbsp;Азаров."),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        (
            "Об Интерполе",
            None,
            [
                (AZA, "А. Азаров", "Мы сотрудничаем с Интерполом"),
                (AZA, "А. Азаров", "Это дело не связано с политикой"),
            ],
        )
    ]


def test_curly_quoted_question_before_heading() -> None:
    page = _wix(
        WIX_EN,
        [
            P("Source: NAM-media"),
            P("“Will the Cabinet respond if Belarus enters the war?”"),
            P(bold("Actions of the Cabinet in case of war:")),
            P("“It is a joint effort of all citizens”. (S. Tsikhanouskaya)"),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Actions of the Cabinet in case of war",
            "Will the Cabinet respond if Belarus enters the war?",
            [(TSI, "S. Tsikhanouskaya", "It is a joint effort of all citizens")],
        )
    ]


def test_quoted_question_followed_directly_by_answers() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P("«Что будет с новым паспортом?»"),
            P("«Проект поддерживает Еврокомиссия». (В. Ковалевский)"),
        ],
        title="Ответы Кабинета",
        date_="3 марта 2023",
    )
    assert _sections(page, TILDA_RU) == [
        (
            None,
            "Что будет с новым паспортом?",
            [(KAV, "В. Ковалевский", "Проект поддерживает Еврокомиссия")],
        )
    ]


def test_empty_paragraph_between_two_sections() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("A new passport:")),
            P('"The passport is also for travel". (V. Kavaleuski)'),
            Empty(),
            P('"Culture is no less important than the power block". (A. Koushyk)'),
            Empty(),
            P(bold("Sanctions")),
            P('"Sanctions must stay". (P. Latushka)'),
        ],
    )
    assert _sections(page, WIX_EN) == [
        ("A new passport", None, [(KAV, "V. Kavaleuski", "The passport is also for travel")]),
        (
            None,
            None,
            [(KOU, "A. Koushyk", "Culture is no less important than the power block")],
        ),
        ("Sanctions", None, [(LAT, "P. Latushka", "Sanctions must stay")]),
    ]


def test_bold_heading_with_colon_outside_the_bold() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P(bold("О санкциях") + ":"),
            P("«Санкции должны остаться». (П. Латушко)"),
        ],
        title="Ответы Кабинета",
        date_="3 марта 2023",
    )
    assert _sections(page, TILDA_RU) == [
        ("О санкциях", None, [(LAT, "П. Латушко", "Санкции должны остаться")])
    ]


def test_wix_bulleted_list_of_quotes_under_a_heading() -> None:
    page = _wix(WIX_EN, [P(bold("Relations with Ukraine:")), P("@@LIST@@")])
    page = _raw_wix(
        page,
        "@@LIST@@",
        _wix_list(
            [
                '"We will support Ukraine". (S. Tsikhanouskaya)',
                '"Support for Ukraine remains our priority". (V. Kavaleuski)',
            ]
        ),
    )
    assert _sections(page, WIX_EN) == [
        (
            "Relations with Ukraine",
            None,
            [
                (TSI, "S. Tsikhanouskaya", "We will support Ukraine"),
                (KAV, "V. Kavaleuski", "Support for Ukraine remains our priority"),
            ],
        )
    ]


def test_wix_blockquote_block_with_attribution_paragraph() -> None:
    page = _wix(WIX_EN, [P(bold("Sanctions:")), P("@@QUOTE@@"), P("(P. Latushka)")])
    page = _raw_wix(
        page,
        "@@QUOTE@@",
        '<div data-breakout="normal"><blockquote class="_1xu5M" dir="auto">'
        '<span class="_2PHJq"><span>"Sanctions must not be bypassed."</span></span>'
        '</blockquote></div><div type="blockquote"></div>',
    )
    assert _sections(page, WIX_EN) == [
        ("Sanctions", None, [(LAT, "P. Latushka", "Sanctions must not be bypassed.")])
    ]


def test_multi_paragraph_quote_with_an_empty_line_inside_on_wix() -> None:
    # Wix editors space paragraphs with empty lines; the quote is still open across it.
    page = _wix(
        WIX_EN,
        [
            P(bold("Relations with Ukraine:")),
            P('"Since March, we have been constantly visiting Ukraine.'),
            Empty(),
            P('Support for Ukraine remains our priority". (V. Kovalevsky)'),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Relations with Ukraine",
            None,
            [
                (
                    KAV,
                    "V. Kovalevsky",
                    "Since March, we have been constantly visiting Ukraine.\n\n"
                    "Support for Ukraine remains our priority",
                )
            ],
        )
    ]


def test_lacinka_and_latin_variant_attributions() -> None:
    page = _wix(
        WIX_BE,
        [
            P(bold("Pra Ukrainu:")),
            P("«My budziem padtrymlivać Ukrainu». (S. Cichanoŭskaja)"),
            P("«Sankcyi pavinny zastacca». (Pavał Łatuška)"),
            P("«Heta zadača ŭsich». (Franak Viačorka)"),
        ],
        lang="be",
    )
    assert _sections(page, WIX_BE) == [
        (
            "Pra Ukrainu",
            None,
            [
                (TSI, "S. Cichanoŭskaja", "My budziem padtrymlivać Ukrainu"),
                (LAT, "Pavał Łatuška", "Sankcyi pavinny zastacca"),
                (None, "Franak Viačorka", "Heta zadača ŭsich"),
            ],
        )
    ]


def test_tilda_p_tags_inside_redactor_text() -> None:
    page = _tilda(
        TILDA_RU,
        [P("Источник: НАУ-медиа"), P("@@BODY@@")],
        title="Ответы Кабинета",
        date_="3 марта 2023",
    )
    page = _raw_tilda(
        page,
        "@@BODY@@",
        '<div class="t-redactor__text"><p><strong>Об отношениях с Украиной:</strong></p>'
        "<p>«С марта мы постоянно ездим в Украину.</p>"
        "<p>Поддержка Украины остается нашим приоритетом». (В. Ковалевский)</p>"
        "<p><strong>О санкциях:</strong></p>"
        "<p>«Санкции должны остаться». (П. Латушко)</p></div>",
    )
    assert _sections(page, TILDA_RU) == [
        (
            "Об отношениях с Украиной",
            None,
            [
                (
                    KAV,
                    "В. Ковалевский",
                    "С марта мы постоянно ездим в Украину.\n\n"
                    "Поддержка Украины остается нашим приоритетом",
                )
            ],
        ),
        ("О санкциях", None, [(LAT, "П. Латушко", "Санкции должны остаться")]),
    ]


def test_tilda_mixed_joined_and_per_paragraph_blocks_with_single_break_after_heading() -> None:
    page = _tilda(
        TILDA_RU,
        [P("@@A@@"), P("@@B@@"), P("@@C@@")],
        title="Ответы Кабинета",
        date_="3 марта 2023",
    )
    page = _raw_tilda(
        page,
        "@@A@@",
        '<div class="t-redactor__text">Источник: НАУ-медиа<br /><br />'
        "<strong>О помощи политзаключенным:</strong><br />"
        "«Мы начали переговоры с партнерами.</div>",
    )
    page = _raw_tilda(
        page,
        "@@B@@",
        '<div class="t-redactor__text">Это должен быть своего рода „общий кошелек“».'
        "<br /><br />(В. Горбунова)</div>",
    )
    page = _raw_tilda(
        page,
        "@@C@@",
        '<div class="t-redactor__text"><strong>О давлении на режим:</strong><br /><br />'
        "«Мы начинаем работу по блокированию кандидатуры Лукашенко», — В. Ковалевский.</div>",
    )
    post = parse_post(page, TILDA_RU)
    assert post.source == "НАУ-медиа"
    assert _sections(page, TILDA_RU) == [
        (
            "О помощи политзаключенным",
            None,
            [
                (
                    HAR,
                    "В. Горбунова",
                    "Мы начали переговоры с партнерами.\n\n"
                    "Это должен быть своего рода „общий кошелек“",
                )
            ],
        ),
        (
            "О давлении на режим",
            None,
            [(KAV, "В. Ковалевский", "Мы начинаем работу по блокированию кандидатуры Лукашенко")],
        ),
    ]


def test_belarusian_tilda_digest_language_date_and_answers() -> None:
    page = _tilda(
        TILDA_BE,
        [
            P("Крыніца: НАУ-медыя"),
            P(bold("Пра адносіны з Украінай:")),
            P("«Мы, беларусы, будзем падтрымліваць Украіну». (С. Ціханоўская)"),
            P("«Падтрымка Украіны застаецца нашым прыярытэтам»."),
            P("(В. Кавалеўскі)"),
        ],
        title="Галоўнае з прэс-канферэнцыі Кабінета",
        date_="3 сакавіка 2023",
        joined=True,
    )
    post = parse_post(page, TILDA_BE)
    assert (post.language, post.source) == ("be", "НАУ-медыя")
    assert post.published is not None and post.published.date() == date(2023, 3, 3)
    assert _sections(page, TILDA_BE) == [
        (
            "Пра адносіны з Украінай",
            None,
            [
                (TSI, "С. Ціханоўская", "Мы, беларусы, будзем падтрымліваць Украіну"),
                (KAV, "В. Кавалеўскі", "Падтрымка Украіны застаецца нашым прыярытэтам"),
            ],
        )
    ]


# -- interviews ---------------------------------------------------------------------------


def test_wix_interview_with_empty_lines_between_question_and_answer() -> None:
    # Wix editors often space every paragraph with an empty line.
    page = _wix(
        WIX_EN,
        [
            P("NAM-media talked to Pavel Latushka about sanctions."),
            Empty(),
            P(bold("What do you ask of democratic countries?")),
            Empty(),
            P("We urge the governments to support the decision of Poland."),
            Empty(),
            P(bold("Can sanctions be bypassed?")),
            Empty(),
            P("It is important that there is no way to bypass them."),
        ],
        title="Interview on sanctions",
    )
    assert _sections(page, WIX_EN) == [
        (
            None,
            "What do you ask of democratic countries?",
            [(LAT, "Pavel Latushka", "We urge the governments to support the decision of Poland.")],
        ),
        (
            None,
            "Can sanctions be bypassed?",
            [(LAT, "Pavel Latushka", "It is important that there is no way to bypass them.")],
        ),
    ]


def test_russian_interview_with_dash_questions_and_answers() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P("НАУ-медиа поговорило с Павлом Латушко о санкциях."),
            P(bold("— Чего вы ждете от демократических стран?")),
            P("— Мы призываем правительства поддержать решение Польши."),
            P("Это не касается пассажирского движения."),
            P(bold("— Можно ли обойти санкции?")),
            P("— Важно, чтобы обойти санкции было невозможно."),
        ],
        title="О санкциях и границе",
        date_="20 февраля 2023",
    )
    assert _sections(page, TILDA_RU) == [
        (
            None,
            "Чего вы ждете от демократических стран?",
            [
                (
                    LAT,
                    "Павлом Латушко",
                    "Мы призываем правительства поддержать решение Польши.\n\n"
                    "Это не касается пассажирского движения.",
                )
            ],
        ),
        (
            None,
            "Можно ли обойти санкции?",
            [(LAT, "Павлом Латушко", "Важно, чтобы обойти санкции было невозможно.")],
        ),
    ]


def test_russian_interview_with_vopros_otvet_prefixes() -> None:
    page = _wix(
        WIX_RU,
        [
            P("Павел Латушко ответил на вопросы НАУ-медиа."),
            P(bold("Вопрос:") + " Чего вы ждете от демократических стран?"),
            P(bold("Ответ:") + " Мы призываем правительства поддержать решение Польши."),
        ],
        lang="ru",
        title="О санкциях и границе",
    )
    assert _sections(page, WIX_RU) == [
        (
            None,
            "Чего вы ждете от демократических стран?",
            [(LAT, "Павел Латушко", "Мы призываем правительства поддержать решение Польши.")],
        )
    ]


def test_english_interview_with_q_a_prefixes() -> None:
    page = _wix(
        WIX_EN,
        [
            P("Valery Kavaleuski answered questions of NAM-media."),
            P(bold("Q: What is the new passport for?")),
            P("A: The passport should be intended also for international travel."),
        ],
        title="On the new passport",
    )
    assert _sections(page, WIX_EN) == [
        (
            None,
            "What is the new passport for?",
            [
                (
                    KAV,
                    "Valery Kavaleuski",
                    "The passport should be intended also for international travel.",
                )
            ],
        )
    ]


def test_interview_with_italic_questions() -> None:
    page = _wix(
        WIX_EN,
        [
            P("NAM-media talked to Valery Kavaleuski."),
            P("<em>What is the new passport for?</em>"),
            P("The passport should be intended also for international travel."),
            P("<i>Who supports the project?</i>"),
            P("The project is supported by the European Commission."),
        ],
        title="On the new passport",
    )
    assert _sections(page, WIX_EN) == [
        (
            None,
            "What is the new passport for?",
            [
                (
                    KAV,
                    "Valery Kavaleuski",
                    "The passport should be intended also for international travel.",
                )
            ],
        ),
        (
            None,
            "Who supports the project?",
            [(KAV, "Valery Kavaleuski", "The project is supported by the European Commission.")],
        ),
    ]


def test_belarusian_interview_named_only_in_lead_in_instrumental_case() -> None:
    page = _tilda(
        TILDA_BE,
        [
            P("НАУ-медыя паразмаўляла з Валерыем Кавалеўскім пра новы пашпарт."),
            P(bold("Навошта патрэбны новы пашпарт?")),
            P("Пашпарт павінен служыць і для міжнародных падарожжаў."),
        ],
        title="Пра новы пашпарт",
        date_="3 сакавіка 2023",
    )
    assert _sections(page, TILDA_BE) == [
        (
            None,
            "Навошта патрэбны новы пашпарт?",
            [
                (
                    KAV,
                    "Валерыем Кавалеўскім",
                    "Пашпарт павінен служыць і для міжнародных падарожжаў.",
                )
            ],
        )
    ]


def test_russian_interview_named_in_title_in_genitive() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("Что будет с Интерполом?")),
            P("Мы хотим, чтобы Интерпол проверял все запросы режима."),
        ],
        lang="ru",
        title="Интервью Александра Азарова о сотрудничестве с Интерполом",
    )
    assert _sections(page, WIX_RU) == [
        (
            None,
            "Что будет с Интерполом?",
            [(AZA, "Александра Азарова", "Мы хотим, чтобы Интерпол проверял все запросы режима.")],
        )
    ]


def test_interview_lead_naming_the_interviewer_first() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P("Алина Коушик поговорила с Павлом Латушко о санкциях и границе."),
            P(bold("Чего вы ждете от демократических стран?")),
            P("Мы призываем правительства поддержать решение Польши."),
        ],
        title="О санкциях и границе",
        date_="20 февраля 2023",
    )
    assert _sections(page, TILDA_RU) == [
        (
            None,
            "Чего вы ждете от демократических стран?",
            [(LAT, "Павлом Латушко", "Мы призываем правительства поддержать решение Польши.")],
        )
    ]


def test_interview_question_and_answer_in_one_tilda_block_with_single_break() -> None:
    page = _tilda(
        TILDA_EN,
        [P("Pavel Latushka answered our questions."), P("@@QA@@")],
        title="On sanctions",
        date_="March 3, 2023",
    )
    page = _raw_tilda(
        page,
        "@@QA@@",
        '<div class="t-redactor__text"><strong>Can sanctions be bypassed?</strong><br />'
        "It is important that there is no way to bypass them.</div>",
    )
    assert _sections(page, TILDA_EN) == [
        (
            None,
            "Can sanctions be bypassed?",
            [(LAT, "Pavel Latushka", "It is important that there is no way to bypass them.")],
        )
    ]


def test_interview_answer_written_in_quotes_is_the_interviewees() -> None:
    page = _wix(
        WIX_RU,
        [
            P("НАУ-медиа поговорило с Павлом Латушко."),
            P(bold("Чего вы ждете от демократических стран?")),
            P("«Мы призываем правительства поддержать решение Польши»."),
        ],
        lang="ru",
        title="О санкциях и границе",
    )
    assert _sections(page, WIX_RU) == [
        (
            None,
            "Чего вы ждете от демократических стран?",
            [(LAT, "Павлом Латушко", "Мы призываем правительства поддержать решение Польши")],
        )
    ]


def test_interview_answer_starting_with_a_quoted_name() -> None:
    page = _wix(
        WIX_EN,
        [
            P("NAM-media talked to Alina Koushyk."),
            P(bold("What is the prize about?")),
            P('"Pride and Dignity" is a prize for those who kept the national spirit.'),
            P("We will soon announce the first list."),
        ],
        title="On the new prize",
    )
    assert _sections(page, WIX_EN) == [
        (
            None,
            "What is the prize about?",
            [
                (
                    KOU,
                    "Alina Koushyk",
                    '"Pride and Dignity" is a prize for those who kept the national spirit.\n\n'
                    "We will soon announce the first list.",
                )
            ],
        )
    ]


# -- plain news and metadata --------------------------------------------------------------


def test_plain_news_with_quoted_phrase_and_bold_subheading() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("The Cabinet awarded the first prizes.")),
            P('The "Pride and Dignity" prize was awarded to ten Belarusians.'),
            P(bold("Who received the prize")),
            P("Among the laureates are journalists and volunteers."),
        ],
        title="The first Pride and Dignity prizes",
    )
    assert _sections(page, WIX_EN) == []


def test_news_with_speaker_introduced_by_a_colon_paragraph_before_the_quote() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P("Кабинет провел встречу с диаспорой в Варшаве."),
            P("Светлана Тихановская обратилась к участникам:"),
            P("«Мы будем поддерживать Украину, как бы ни развивался наш диалог»."),
            P("Встреча продолжалась три часа."),
        ],
        title="Встреча с диаспорой",
        date_="3 марта 2023",
    )
    assert _sections(page, TILDA_RU) == [
        (
            None,
            None,
            [
                (
                    TSI,
                    "Светлана Тихановская",
                    "Мы будем поддерживать Украину, как бы ни развивался наш диалог",
                )
            ],
        )
    ]


def test_tilda_russian_plain_news_with_shown_date_only() -> None:
    page = _tilda(
        TILDA_RU,
        [P("Кабинет провел пресс-конференцию."), P("Журналисты задали вопросы о войне.")],
        title="Кабинет провел пресс-конференцию",
        date_="3 марта 2023",
    )
    post = parse_post(page, TILDA_RU)
    assert (post.language, post.sections) == ("ru", ())
    assert post.published is not None and post.published.date() == date(2023, 3, 3)


def test_tilda_numeric_shown_date() -> None:
    page = _tilda(
        TILDA_RU,
        [P("Кабинет провел пресс-конференцию.")],
        title="Кабинет провел пресс-конференцию",
        date_="03.02.2023",
    )
    post = parse_post(page, TILDA_RU)
    assert post.published is not None and post.published.date() == date(2023, 2, 3)


def test_wix_page_with_only_the_shown_date() -> None:
    for url, lang, shown in (
        (WIX_EN, "en", "Mar 3, 2023"),
        (WIX_RU, "ru", "3 мар. 2023 г."),
        (WIX_BE, "be", "3 сакавіка 2023"),
    ):
        page = _wix(url, [P("The Cabinet held a press conference.")], lang=lang)
        page = re.sub(rb'<meta property="article:(published|modified)_time"[^>]*/>', b"", page)
        page = page.replace(
            b'<div data-hook="post-title">',
            f'<span data-hook="time-ago" title="{shown}">{shown}</span>'
            '<div data-hook="post-title">'.encode(),
        )
        post = parse_post(page, url)
        assert post.published is not None, shown
        assert post.published.date() == date(2023, 3, 3), shown


def test_name_right_after_the_closing_mark_without_parentheses() -> None:
    url = "https://www.belarus-nau.org/en/post/bare-attribution"
    page = wix_page(
        url=url,
        title="Answers",
        lang="en",
        published="2023-03-01T10:00:00.000Z",
        blocks=[P(bold("Interpol:")), P('"We are cooperating with Interpol." A. Azarov')],
    )
    post = parse_post(page, url)
    assert [(a.speaker.id if a.speaker else None, a.text) for a in post.sections[0].answers] == [
        ("aliaksandr-azarau", "We are cooperating with Interpol.")
    ]


def test_plain_news_quoting_a_slogan_has_no_sections() -> None:
    url = "https://www.belarus-nau.org/en/post/news-with-a-slogan"
    page = wix_page(
        url=url,
        title="Rally in Vilnius",
        lang="en",
        published="2023-03-01T10:00:00.000Z",
        blocks=[
            P("Belarusians gathered in Vilnius on Freedom Day."),
            P('"Long live Belarus!"'),
            P("The rally ended with the national anthem."),
        ],
    )
    assert parse_post(page, url).sections == ()
