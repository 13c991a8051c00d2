"""A second round of realistic variants of the site's families (NAM-media, 2021-2024) that
neither the mirror nor test_parsing_families.py / test_parsing_variants.py hold: two speakers in
one attribution, stage remarks and footnote markers around closing quotes, quotes closed
mid-paragraph, media and dividers between paragraphs, invisible characters in names, source
labels in other places and forms, and metadata the head or the header gives in other shapes.

Each test states what a careful reader expects of the page, in the shape of DESIGN.md's
contract: the text without its surrounding quotation marks and attribution, paragraphs joined
by a blank line, inner quotes kept; the speaker as written and the person's id (null when the
name matches nobody).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.parsing import parse_post
from tests.pages import AZA, KAV, LAT, TSI, Empty, H, P, bold, tilda_page, wix_page
from tests.pages import replace_tilda_block as _replace_tilda_block
from tests.pages import replace_wix_block as _replace_wix_block
from tests.pages import sections_of as _sections

WIX_EN = "https://www.belarus-nau.org/en/post/answers-of-the-cabinet-april"
WIX_RU = "https://www.belarus-nau.org/post/otvety-kabineta-aprel"
WIX_BE = "https://www.belarus-nau.org/be/post/adkazy-kabineta-krasavik"
TILDA_EN = "https://belarus-nau.org/tpost/q1w2e3r4t5-cabinet-answers-april"
TILDA_RU = "https://belarus-nau.org/tpost/y6u7i8o9p0-otvety-kabineta-aprel"
TILDA_BE = "https://belarus-nau.org/tpost/a2s3d4f5g6-adkazy-kabineta-krasavik"


# -- helpers ------------------------------------------------------------------------------


def _wix(url: str, blocks: list[Any], *, lang: str = "en", title: str = "Answers") -> bytes:
    return wix_page(
        url=url, title=title, lang=lang, published="2023-04-04T10:00:00.000Z", blocks=blocks
    )


def _tilda(
    url: str, blocks: list[Any], *, title: str = "Ответы Кабинета", date_: str = "4 апреля 2023"
) -> bytes:
    return tilda_page(url=url, title=title, date=date_, blocks=blocks)


def _drop_head_times(page: bytes) -> bytes:
    return re.sub(rb'<meta property="article:(published|modified)_time"[^>]*/>', b"", page)


def _add_to_head(page: bytes, markup: str) -> bytes:
    return page.replace(b"</head>", markup.encode() + b"</head>", 1)


def _json_ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def _answers(page: bytes, url: str) -> list[tuple[str | None, str]]:
    """(person id, text) of every answer of the post, in order."""
    post = parse_post(page, url)
    return [(a.speaker.id if a.speaker else None, a.text) for s in post.sections for a in s.answers]


# -- attributions ---------------------------------------------------------------------------


def test_two_speakers_in_one_parenthesised_attribution_credit_both() -> None:
    # The Cabinet often answers jointly. The model has one speaker per answer, so a careful
    # engineer credits the answer to each person named (one answer each, same text, in the
    # order written): both people's feeds must carry it, and P. Latushka is not a "role" of
    # S. Tsikhanouskaya to be cut off after the comma.
    page = _wix(
        WIX_EN,
        [
            P(bold("Sanctions:")),
            P(
                '"We insist that the sanctions must not be bypassed". '
                "(S. Tsikhanouskaya, P. Latushka)"
            ),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [
                (TSI, "S. Tsikhanouskaya", "We insist that the sanctions must not be bypassed"),
                (LAT, "P. Latushka", "We insist that the sanctions must not be bypassed"),
            ],
        )
    ]


def test_two_speakers_joined_by_and_on_their_own_attribution_paragraph() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P(bold("О санкциях:")),
            P("«Санкции не должны обходиться»."),
            P("(С. Тихановская и П. Латушко)"),
        ],
    )
    assert _answers(page, TILDA_RU) == [
        (TSI, "Санкции не должны обходиться"),
        (LAT, "Санкции не должны обходиться"),
    ]


def test_attribution_with_a_period_inside_the_parentheses() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Interpol:")),
            P('"We are cooperating with Interpol". (A. Azarov.)'),
            P('"Every request of the regime must be checked".'),
            P("(V. Kavaleuski.)"),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Interpol",
            None,
            [
                (AZA, "A. Azarov", "We are cooperating with Interpol"),
                (KAV, "V. Kavaleuski", "Every request of the regime must be checked"),
            ],
        )
    ]


def test_role_after_a_dash_inside_the_parentheses() -> None:
    # `(Name – role)` is as common as `(Name, role)`; the role is not the speaker.
    page = _wix(
        WIX_EN,
        [
            P(bold("Sanctions:")),
            P('"Sanctions must not be bypassed". (Pavel Latushka – head of NAM)'),
            P('"The EU is preparing a new package". (Valery Kavaleuski — Cabinet representative)'),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [
                (LAT, "Pavel Latushka", "Sanctions must not be bypassed"),
                (KAV, "Valery Kavaleuski", "The EU is preparing a new package"),
            ],
        )
    ]


def test_latin_speaker_name_on_a_russian_page() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("О санкциях:")),
            P("«Санкции не должны обходиться». (P. Latushka)"),
            P("«Мы работаем с Интерполом». (Aliaksandr Azarau)"),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        (
            "О санкциях",
            None,
            [
                (LAT, "P. Latushka", "Санкции не должны обходиться"),
                (AZA, "Aliaksandr Azarau", "Мы работаем с Интерполом"),
            ],
        )
    ]


# -- what surrounds the closing mark -------------------------------------------------------


def test_parenthesised_remark_or_year_before_the_closing_mark_stays_in_the_answer() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Going home:")),
            P('"We will be home sooner than the regime thinks (laughs)." (S. Tsikhanouskaya)'),
            P('"Nobody has forgotten the stolen elections (2020)". (V. Kavaleuski)'),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Going home",
            None,
            [
                (
                    TSI,
                    "S. Tsikhanouskaya",
                    "We will be home sooner than the regime thinks (laughs).",
                ),
                (KAV, "V. Kavaleuski", "Nobody has forgotten the stolen elections (2020)"),
            ],
        )
    ]


def test_stage_remark_after_the_closing_mark_before_the_attribution() -> None:
    # `«…» (смеется). (С. Тихановская)`: the remark is the editor's, outside the quote.
    page = _tilda(
        TILDA_RU,
        [
            P(bold("О возвращении:")),
            P("«Мы вернемся домой раньше, чем думает режим» (смеется). (С. Тихановская)"),
        ],
    )
    assert _answers(page, TILDA_RU) == [(TSI, "Мы вернемся домой раньше, чем думает режим")]


def test_stage_remark_after_the_closing_mark_with_the_name_on_the_next_paragraph() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Going home:")),
            P('"We will be home sooner than the regime thinks". (laughs)'),
            P("(S. Tsikhanouskaya)"),
        ],
    )
    assert _answers(page, WIX_EN) == [(TSI, "We will be home sooner than the regime thinks")]


def test_footnote_marker_after_the_closing_guillemet() -> None:
    page = _wix(
        WIX_RU,
        [
            P(bold("О сотрудничестве с Интерполом:")),
            P("«Мы хотим, чтобы Интерпол проверял все запросы режима»<sup>1</sup>. (А. Азаров)"),
            P("<sup>1</sup> Интерпол — Международная организация уголовной полиции."),
        ],
        lang="ru",
    )
    assert _sections(page, WIX_RU) == [
        (
            "О сотрудничестве с Интерполом",
            None,
            [(AZA, "А. Азаров", "Мы хотим, чтобы Интерпол проверял все запросы режима")],
        )
    ]


def test_asterisk_footnote_after_the_closing_quote() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Interpol:")),
            P('"We want Interpol to check every request of the regime"*. (A. Azarov)'),
            P("* Interpol is the International Criminal Police Organization."),
        ],
    )
    assert _answers(page, WIX_EN) == [
        (AZA, "We want Interpol to check every request of the regime")
    ]


# -- quotes closed mid-paragraph ---------------------------------------------------------------


def test_quote_closed_mid_paragraph_with_dash_attribution_then_more_narration() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P(bold("Об отношениях с Украиной:")),
            P(
                "«Мы будем поддерживать Украину независимо от нашего диалога», — сказал "
                "В. Ковалевский. Он добавил, что работа с добровольцами продолжается."
            ),
        ],
    )
    assert _sections(page, TILDA_RU) == [
        (
            "Об отношениях с Украиной",
            None,
            [(KAV, "В. Ковалевский", "Мы будем поддерживать Украину независимо от нашего диалога")],
        )
    ]


def test_english_quote_followed_by_name_said() -> None:
    # The English news style: `"…," Pavel Latushka said.` The comma belongs to the sentence
    # around the quote, not to what was said.
    page = _wix(
        WIX_EN,
        [
            P("The Cabinet met diplomats in Brussels on Tuesday."),
            P('"Sanctions must not be bypassed through third countries," Pavel Latushka said.'),
        ],
        title="The Cabinet met diplomats in Brussels",
    )
    assert _answers(page, WIX_EN) == [
        (LAT, "Sanctions must not be bypassed through third countries")
    ]


def test_english_quote_followed_by_said_name_and_more_narration() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Sanctions:")),
            P(
                '"Sanctions must not be bypassed," said Pavel Latushka, adding that the EU '
                "was preparing a new package."
            ),
        ],
    )
    assert _answers(page, WIX_EN) == [(LAT, "Sanctions must not be bypassed")]


# -- plain news introducing a known speaker ---------------------------------------------------


def test_news_quote_introduced_by_said_colon_in_the_same_paragraph() -> None:
    page = _wix(
        WIX_EN,
        [
            P("The Cabinet held a meeting with the diaspora in Warsaw."),
            P('Pavel Latushka said: "Sanctions must not be bypassed through third countries."'),
            P("The meeting lasted three hours."),
        ],
        title="Meeting with the diaspora",
    )
    assert _answers(page, WIX_EN) == [
        (LAT, "Sanctions must not be bypassed through third countries.")
    ]


def test_russian_news_quote_introduced_by_zayavil_colon_in_the_same_paragraph() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P("Кабинет провел встречу с диаспорой в Варшаве."),
            P("Павел Латушко заявил: «Санкции не должны обходиться через третьи страны»."),
            P("Встреча продолжалась три часа."),
        ],
        title="Встреча с диаспорой",
    )
    assert _answers(page, TILDA_RU) == [(LAT, "Санкции не должны обходиться через третьи страны")]


# -- long digests and headings -------------------------------------------------------------------


def test_long_digest_with_twelve_headings_in_h2_h3_h4_and_bold() -> None:
    topics = [
        ("War in Ukraine", "h2"),
        ("Political prisoners", "bold"),
        ("Sanctions", "h3"),
        ("New passport", "h4"),
        ("Interpol", "bold"),
        ("Elections to the UN Security Council", "h2"),
        ("Culture and education", "h3"),
        ("Economy", "bold"),
        ("Repressions", "h4"),
        ("Relations with Lithuania", "h2"),
        ("Relations with Poland", "bold"),
        ("The Victory plan", "h3"),
    ]
    speakers = [
        ("S. Tsikhanouskaya", TSI),
        ("V. Kavaleuski", KAV),
        ("P. Latushka", LAT),
        ("A. Azarov", AZA),
    ]
    blocks: list[Any] = [P("Source: NAM-media")]
    expected = []
    for i, (topic, style) in enumerate(topics):
        if style == "bold":
            blocks.append(P(bold(f"{topic}:")))
        else:
            blocks.append(H(f"{topic}:" if i % 2 else topic, int(style[1])))
        name, person = speakers[i % len(speakers)]
        blocks.append(P(f'"Answer number {i + 1} about {topic.lower()}". ({name})'))
        expected.append(
            (topic, None, [(person, name, f"Answer number {i + 1} about {topic.lower()}")])
        )
    page = _wix(WIX_EN, blocks)
    assert parse_post(page, WIX_EN).source == "NAM-media"
    assert _sections(page, WIX_EN) == expected


# -- media, embeds and dividers between paragraphs ----------------------------------------------


def test_wix_image_with_caption_between_paragraphs_of_one_answer() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Relations with Ukraine:")),
            P('"Since March, we have been constantly visiting Ukraine.'),
            P("@@IMAGE@@"),
            P('Support for Ukraine remains our priority". (V. Kavaleuski)'),
        ],
    )
    page = _replace_wix_block(
        page,
        "@@IMAGE@@",
        '<div data-breakout="normal"><div data-hook="image-viewer" class="_3yBCh">'
        '<div class="_1-6YJ"><img src="https://static.wixstatic.com/media/a.jpg" alt=""/></div>'
        '<span dir="auto" class="_1e5Dv" data-hook="imageViewerCaption">'
        "Valery Kavaleuski in Kyiv. Photo: NAM-media</span></div></div>"
        '<div type="image" data-hook="rcv-block-image"></div>',
    )
    assert _sections(page, WIX_EN) == [
        (
            "Relations with Ukraine",
            None,
            [
                (
                    KAV,
                    "V. Kavaleuski",
                    "Since March, we have been constantly visiting Ukraine.\n\n"
                    "Support for Ukraine remains our priority",
                )
            ],
        )
    ]


def test_wix_figure_video_and_embed_between_answers_of_one_section() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Sanctions:")),
            P('"Sanctions must not be bypassed". (P. Latushka)'),
            P("@@MEDIA@@"),
            P('"The EU is preparing a new package". (V. Kavaleuski)'),
        ],
    )
    page = _replace_wix_block(
        page,
        "@@MEDIA@@",
        '<div data-breakout="normal"><figure data-hook="figure-IMAGE"><img src="a.jpg"/>'
        '<figcaption>Photo: NAM-media</figcaption></figure></div><div type="image"></div>'
        '<div data-breakout="normal"><div data-hook="video-player"><iframe '
        'src="https://www.youtube.com/embed/x"></iframe></div></div><div type="video"></div>'
        '<div data-breakout="normal"><div data-hook="html-component"><iframe '
        'src="https://platform.twitter.com/embed"></iframe></div></div><div type="html"></div>',
    )
    assert _sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [
                (LAT, "P. Latushka", "Sanctions must not be bypassed"),
                (KAV, "V. Kavaleuski", "The EU is preparing a new package"),
            ],
        )
    ]


def test_wix_divider_between_sections() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Sanctions:")),
            P('"Sanctions must not be bypassed". (P. Latushka)'),
            P("@@DIVIDER@@"),
            P(bold("Interpol:")),
            P('"We are cooperating with Interpol". (A. Azarov)'),
        ],
    )
    page = _replace_wix_block(
        page,
        "@@DIVIDER@@",
        '<div data-breakout="normal"><div data-hook="divider-single" class="_2kGXt">'
        '<hr class="_1ezgz"/></div></div><div type="divider" data-hook="rcv-block-d"></div>',
    )
    assert _sections(page, WIX_EN) == [
        ("Sanctions", None, [(LAT, "P. Latushka", "Sanctions must not be bypassed")]),
        ("Interpol", None, [(AZA, "A. Azarov", "We are cooperating with Interpol")]),
    ]


def test_tilda_image_between_two_answers_of_one_section() -> None:
    # Tilda puts a picture inside a text block, or as a figure of its own; neither is an
    # empty line that would close the section.
    page = _tilda(
        TILDA_RU,
        [
            P(bold("О санкциях:")),
            P("«Санкции не должны обходиться». (П. Латушко)"),
            P("@@IMG@@"),
            P("«ЕС готовит новый пакет». (В. Ковалевский)"),
            P("@@FIGURE@@"),
            P("«Режим ищет обходные пути». (А. Азаров)"),
        ],
    )
    page = _replace_tilda_block(
        page,
        "@@IMG@@",
        '<div class="t-redactor__text"><img src="https://static.tildacdn.com/a.jpg" '
        'style="width:100%" /></div>',
    )
    page = _replace_tilda_block(
        page,
        "@@FIGURE@@",
        '<figure class="t-redactor__figure"><img src="https://static.tildacdn.com/b.jpg" />'
        "<figcaption>Фото: НАУ-медиа</figcaption></figure>",
    )
    assert _sections(page, TILDA_RU) == [
        (
            "О санкциях",
            None,
            [
                (LAT, "П. Латушко", "Санкции не должны обходиться"),
                (KAV, "В. Ковалевский", "ЕС готовит новый пакет"),
                (AZA, "А. Азаров", "Режим ищет обходные пути"),
            ],
        )
    ]


def test_tilda_single_line_breaks_inside_an_answer() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P(bold("О паспорте:")),
            P(
                "«Паспорт нужен для поездок.<br />Он будет признан в Литве и Польше.<br />"
                "Работа продолжается».<br />(В. Ковалевский)"
            ),
        ],
    )
    [(person, text)] = _answers(page, TILDA_RU)
    assert person == KAV
    # A single break is a line of the same answer: a newline (or a blank line), not lost.
    assert re.sub(r"\n+", "\n", text) == (
        "Паспорт нужен для поездок.\nОн будет признан в Литве и Польше.\nРабота продолжается"
    )


# -- Belarusian -----------------------------------------------------------------------------------


def test_lacinka_digest_on_tilda_is_belarusian() -> None:
    page = _tilda(
        TILDA_BE,
        [
            P("Krynica: NAU-miedyja"),
            P(bold("Ab adnosinach z Ukrainaj:")),
            P("«My, biełarusy, budziem padtrymlivać Ukrainu». (S. Cichanoŭskaja)"),
            P("«Padtrymka Ukrainy zastajecca našym pryjarytetam». (V. Kavaleŭski)"),
        ],
        title="Hałoŭnaje z pres-kanfierencyi Kabinieta",
        date_="4 krasavika 2023",
    )
    post = parse_post(page, TILDA_BE)
    assert (post.language, post.source) == ("be", "NAU-miedyja")
    assert _sections(page, TILDA_BE) == [
        (
            "Ab adnosinach z Ukrainaj",
            None,
            [
                (TSI, "S. Cichanoŭskaja", "My, biełarusy, budziem padtrymlivać Ukrainu"),
                (KAV, "V. Kavaleŭski", "Padtrymka Ukrainy zastajecca našym pryjarytetam"),
            ],
        )
    ]


def test_stress_marks_in_a_belarusian_speaker_name() -> None:
    page = _wix(
        WIX_BE,
        [
            P(bold("Пра Украіну:")),
            P("«Мы будзем падтрымліваць Украіну». (С. Ціхано́ўская)"),
            P("«Санкцыі павінны застацца». (Па́вел Лату́шка)"),
        ],
        lang="be",
    )
    assert _answers(page, WIX_BE) == [
        (TSI, "Мы будзем падтрымліваць Украіну"),
        (LAT, "Санкцыі павінны застацца"),
    ]


# -- invisible characters ------------------------------------------------------------------------


def test_soft_hyphens_in_a_speaker_name_and_in_the_answer() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P(bold("О давлении на режим:")),
            P(
                "«Мы начинаем работу по блоки&shy;рованию кандидатуры Лукашенко». "
                "(В. Ковалев&shy;ский)"
            ),
        ],
    )
    assert _sections(page, TILDA_RU) == [
        (
            "О давлении на режим",
            None,
            [(KAV, "В. Ковалевский", "Мы начинаем работу по блокированию кандидатуры Лукашенко")],
        )
    ]


def test_zero_width_characters_around_the_quote_and_the_name() -> None:
    # Text pasted from messengers carries a BOM / zero-width no-break space and zero-width
    # spaces; they are invisible and change nothing.
    page = _wix(
        WIX_EN,
        [
            P(bold("Sanctions:")),
            P('\ufeff"Sanctions must not be bypassed".\u200b (\u2060P. Latushka\u200b)'),
            P('\u200b"We are cooperating with Interpol"\u200d. (A.\u200bAzarov)'),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [
                (LAT, "P. Latushka", "Sanctions must not be bypassed"),
                (AZA, "A. Azarov", "We are cooperating with Interpol"),
            ],
        )
    ]


# -- source labels ---------------------------------------------------------------------------------


def test_source_label_as_the_last_paragraph() -> None:
    page = _tilda(
        TILDA_RU,
        [
            P(bold("О санкциях:")),
            P("«Санкции не должны обходиться». (П. Латушко)"),
            P("Источник: НАУ-медиа"),
        ],
    )
    post = parse_post(page, TILDA_RU)
    assert post.source == "НАУ-медиа"
    assert _answers(page, TILDA_RU) == [(LAT, "Санкции не должны обходиться")]


@pytest.mark.parametrize(
    ("url", "lang", "line", "label"),
    [
        (WIX_EN, "en", "Source: NAM media", "NAM media"),
        (WIX_BE, "be", "Крыніца — НАУ-медыя", "НАУ-медыя"),
        (WIX_RU, "ru", "Источник – НАУ-медиа.", "НАУ-медиа"),
    ],
    ids=["en-source-colon", "be-krynica-dash", "ru-istochnik-en-dash"],
)
def test_source_label_in_other_forms(url: str, lang: str, line: str, label: str) -> None:
    page = _wix(
        url, [P(line), P(bold("Sanctions:")), P('"Sanctions work". (P. Latushka)')], lang=lang
    )
    post = parse_post(page, url)
    assert post.source == label
    assert _sections(page, url) == [("Sanctions", None, [(LAT, "P. Latushka", "Sanctions work")])]


def test_bold_source_line_is_the_source_not_a_heading() -> None:
    page = _wix(
        WIX_EN,
        [
            P(bold("Source: NAM-media")),
            P('"Sanctions must not be bypassed". (P. Latushka)'),
        ],
    )
    post = parse_post(page, WIX_EN)
    assert post.source == "NAM-media"
    assert _sections(page, WIX_EN) == [
        (None, None, [(LAT, "P. Latushka", "Sanctions must not be bypassed")])
    ]


# -- titles and the head ---------------------------------------------------------------------


def test_title_with_guillemets_names_the_interviewee() -> None:
    title = "Павел Латушко: «Санкции не должны обходиться»"
    page = _tilda(
        TILDA_RU,
        [
            P("НАУ-медиа задало вопросы о санкциях."),
            P(bold("Можно ли обойти санкции?")),
            P("Важно, чтобы не было никакой возможности их обойти."),
        ],
        title=title,
    )
    post = parse_post(page, TILDA_RU)
    assert post.title == title
    assert _sections(page, TILDA_RU) == [
        (
            None,
            "Можно ли обойти санкции?",
            [(LAT, "Павел Латушко", "Важно, чтобы не было никакой возможности их обойти.")],
        )
    ]


def test_og_title_that_differs_from_the_h1_gives_way_to_the_h1() -> None:
    wix = _wix(WIX_EN, [P("The Cabinet held a press conference.")], title="Press conference")
    wix = wix.replace(
        b'<meta property="og:title" content="Press conference"/>',
        b'<meta property="og:title" content="Press conference | Share this!"/>',
    )
    tilda = _tilda(TILDA_RU, [P("Кабинет провел пресс-конференцию.")], title="Пресс-конференция")
    tilda = tilda.replace(
        b'<meta property="og:title" content="\xd0\x9f',
        b'<meta property="og:title" content="NAU: \xd0\x9f',
    )
    assert parse_post(wix, WIX_EN).title == "Press conference"
    assert parse_post(tilda, TILDA_RU).title == "Пресс-конференция"


def test_wix_json_ld_in_a_graph_gives_the_times() -> None:
    page = _drop_head_times(_wix(WIX_EN, [P("The Cabinet held a press conference.")]))
    page = _add_to_head(
        page,
        _json_ld(
            {
                "@context": "https://schema.org",
                "@graph": [
                    {"@type": "WebSite", "name": "NAU", "url": "https://www.belarus-nau.org"},
                    {
                        "@type": "BlogPosting",
                        "headline": "Answers",
                        "datePublished": "2023-02-15T16:05:00.000Z",
                        "dateModified": "2023-02-16T09:00:00.000Z",
                    },
                ],
            }
        ),
    )
    post = parse_post(page, WIX_EN)
    assert post.published == datetime(2023, 2, 15, 16, 5, tzinfo=UTC)
    assert post.modified == datetime(2023, 2, 16, 9, 0, tzinfo=UTC)


def test_wix_broken_json_ld_falls_back_to_open_graph_times() -> None:
    page = _wix(WIX_EN, [P("The Cabinet held a press conference.")])
    page = _add_to_head(
        page,
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        '"@type": "BlogPosting", "headline": "Answers", "datePublished": "2023-01-01T00:00:00Z",'
        "</script>",
    )
    post = parse_post(page, WIX_EN)
    assert post.published == datetime(2023, 4, 4, 10, 0, tzinfo=UTC)
    assert post.title == "Answers"


def test_tilda_json_ld_date_published_with_an_offset() -> None:
    page = _tilda(TILDA_RU, [P("Кабинет провел пресс-конференцию.")], date_="15 февраля 2023")
    page = _add_to_head(
        page,
        _json_ld(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": "Ответы Кабинета",
                "datePublished": "2023-02-15T18:05:00+03:00",
            }
        ),
    )
    post = parse_post(page, TILDA_RU)
    assert post.published == datetime(2023, 2, 15, 15, 5, tzinfo=UTC)


def test_tilda_json_ld_date_published_as_a_bare_day_keeps_the_day() -> None:
    page = _tilda(TILDA_RU, [P("Кабинет провел пресс-конференцию.")], date_="15 февраля 2023")
    page = _add_to_head(
        page,
        _json_ld(
            {
                "@context": "https://schema.org",
                "@type": "BlogPosting",
                "headline": "Ответы Кабинета",
                "datePublished": "2023-02-15",
            }
        ),
    )
    post = parse_post(page, TILDA_RU)
    assert post.published is not None and post.published.date() == date(2023, 2, 15)


def test_wix_two_content_viewers_article_and_related_posts_widget_inside_it() -> None:
    page = _wix(
        WIX_EN,
        [P(bold("Sanctions:")), P('"Sanctions must not be bypassed". (P. Latushka)')],
    )
    page = page.replace(
        b'<div data-hook="post-footer">',
        b'<div data-hook="related-posts"><h2>Related Posts</h2><div data-hook="post-list-item">'
        b'<div data-hook="post-title"><h3>Interpol</h3></div><div data-hook="post-description">'
        b'<div data-id="content-viewer"><p>"We are cooperating with Interpol". (A. Azarov)</p>'
        b"</div></div></div></div>"
        b'<div data-hook="post-footer">',
    )
    assert _sections(page, WIX_EN) == [
        ("Sanctions", None, [(LAT, "P. Latushka", "Sanctions must not be bypassed")])
    ]


# -- language, categories and shown dates ---------------------------------------------------------


def test_short_belarusian_tilda_post_quoting_russian_is_belarusian() -> None:
    # Belarusian news quotes the regime in Russian; the post's own words are Belarusian.
    page = _tilda(
        TILDA_BE,
        [
            P("Лукашэнка заявіў:"),
            P("«Мы никогда и никому ничего не отдадим, это наша земля, и мы ее защитим»."),
            P("Кабінет асудзіў заяву."),
        ],
        title="Заява Кабінета",
        date_="4 красавіка 2023",
    )
    assert parse_post(page, TILDA_BE).language == "be"


def test_categories_with_surrounding_whitespace_and_nbsp() -> None:
    wix = _wix(WIX_EN, [P("The Cabinet held a press conference.")])
    item = '<li><a href="#" data-hook="category-label-list__item">{}</a></li>'
    wix = wix.replace(
        b'<ul data-hook="post-categories-list">',
        (
            '<ul data-hook="post-categories-list">'
            + item.format("\n  Cabinet\u00a0 ")
            + item.format(" Press\u00a0conferences ")
        ).encode(),
    )
    tilda = tilda_page(
        url=TILDA_RU,
        title="Новости",
        date="4 апреля 2023",
        blocks=[P("Кабинет провел пресс-конференцию.")],
        categories=["  Новости\n", "\u00a0Кабинет "],
    )
    assert parse_post(wix, WIX_EN).categories == ("Cabinet", "Press conferences")
    assert parse_post(tilda, TILDA_RU).categories == ("Новости", "Кабинет")


@pytest.mark.parametrize(
    ("url", "lang", "shown", "day"),
    [
        (WIX_EN, "en", "Feb 15, 2023", date(2023, 2, 15)),
        (WIX_RU, "ru", "15 февр. 2023 г.", date(2023, 2, 15)),
        (WIX_BE, "be", "15 лют. 2023 г.", date(2023, 2, 15)),
        (WIX_BE, "be", "5 ліст. 2023 г.", date(2023, 11, 5)),
        (WIX_BE, "be", "12 снеж. 2023 г.", date(2023, 12, 12)),
        (WIX_BE, "be", "9 кастр. 2023 г.", date(2023, 10, 9)),
        (WIX_BE, "be", "21 чэрв. 2023 г.", date(2023, 6, 21)),
    ],
    ids=["en-feb", "ru-feb", "be-feb", "be-nov", "be-dec", "be-oct", "be-jun"],
)
def test_wix_shown_date_only_in_the_post_header(url: str, lang: str, shown: str, day: date) -> None:
    page = _drop_head_times(_wix(url, [P("The Cabinet held a press conference.")], lang=lang))
    page = page.replace(
        b'<article data-hook="post">',
        '<article data-hook="post"><div data-hook="post-header"><ul><li>'
        f'<span data-hook="time-ago" class="post-metadata__date time-ago" title="{shown}">'
        f"{shown}</span></li></ul></div>".encode(),
    )
    post = parse_post(page, url)
    assert post.published is not None, shown
    assert post.published.date() == day, shown


# -- a quoted question before a heading ----------------------------------------------------


def test_quoted_question_before_a_capitalised_h3_heading_in_belarusian() -> None:
    # `Дзеянні Кабінета:` is a heading (an <h3>), not the name of whoever asked the question.
    page = _wix(
        WIX_BE,
        [
            P("«Ці ёсць упэўненасць, што Кабінет годна адрэагуе?»"),
            H("Дзеянні Кабінета:", 3),
            P("«Даць такі адказ — задача не толькі Кабінета."),
            Empty(),
            P("Гэта сумесная праца ўсіх грамадзян». (С. Ціханоўская)"),
            P("«Мы працуем разам з украінцамі». (А. Азараў)"),
        ],
        lang="be",
    )
    assert _sections(page, WIX_BE) == [
        (
            "Дзеянні Кабінета",
            "Ці ёсць упэўненасць, што Кабінет годна адрэагуе?",
            [
                (
                    TSI,
                    "С. Ціханоўская",
                    "Даць такі адказ — задача не толькі Кабінета.\n\n"
                    "Гэта сумесная праца ўсіх грамадзян",
                ),
                (AZA, "А. Азараў", "Мы працуем разам з украінцамі"),
            ],
        )
    ]


def test_unattributed_quote_before_a_title_case_bold_heading_in_english() -> None:
    # English digests often write headings in Title Case; a bold `Political Prisoners:`
    # after a quoted question (or a quote whose name the editor forgot) is a heading, not a
    # speaker called "Political Prisoners".
    page = _wix(
        WIX_EN,
        [
            P('"Is there confidence that the Cabinet will respond with dignity?"'),
            P(bold("Political Prisoners:")),
            P('"We work on their release every day". (V. Kavaleuski)'),
            P(bold("New Passport:")),
            P('"The passport is also for travel". (V. Kavaleuski)'),
        ],
    )
    assert _sections(page, WIX_EN) == [
        (
            "Political Prisoners",
            "Is there confidence that the Cabinet will respond with dignity?",
            [(KAV, "V. Kavaleuski", "We work on their release every day")],
        ),
        ("New Passport", None, [(KAV, "V. Kavaleuski", "The passport is also for travel")]),
    ]
