"""A third round of realistic variants, this time of MARKUP rather than wording: what Wix's
rich-content viewer and Tilda's redactor actually write around the same words (split spans,
partial bold, links in quotes and names, headings in other tags, lists, blockquotes, nested
wrappers, `&nbsp;`, single `<br>`s, hashtags and tag lists, entities, legacy encodings) and
metadata in other shapes (title suffixes, regional `lang`, shown date with a time, nested tag
spans, canonical links on other hosts or missing).

Each test states what a careful reader expects of the page, in the shape of DESIGN.md's
contract: the text without its surrounding quotation marks and attribution, paragraphs joined
by a blank line, inner quotes kept; the speaker as written and the person's id (null when the
name matches nobody). The pages are written by hand here, in the markup of the mirror's pages
(shared/site/), so that each variant can be expressed exactly.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from services.parsing import parse_post
from tests.pages import AZA, HAR, KAV, LAT, TSI
from tests.pages import sections_of as sections

WIX_EN = "https://www.belarus-nau.org/en/post/cabinet-answers-may"
WIX_RU = "https://www.belarus-nau.org/post/otvety-kabineta-mai"
WIX_BE = "https://www.belarus-nau.org/be/post/adkazy-kabineta-traven"
TILDA_EN = "https://belarus-nau.org/tpost/h7j8k9l0m1-cabinet-answers-may"
TILDA_RU = "https://belarus-nau.org/tpost/n2b3v4c5x6-otvety-kabineta-mai"


# -- page builders --------------------------------------------------------------------------

_RCV_P = (
    '<div data-breakout="normal"><p class="MbCIt" dir="auto"><span class="_2PHJq">'
    '<span>{}</span></span></p></div><div type="paragraph" data-hook="rcv-block{}"></div>'
)
_RCV_EMPTY = (
    '<div class="fEPWx"><span class="_2PHJq"><br role="presentation"/></span></div>'
    '<div type="empty-line" data-hook="rcv-block{}"></div>'
)


def wp(html: str) -> str:
    """One Wix rich-content paragraph block holding `html` (its marker after it)."""
    return _RCV_P.format(html, 0)


def wh(html: str, level: int = 2) -> str:
    return (
        f'<div data-breakout="normal"><h{level} class="_3f-vr" dir="auto">'
        f'<span class="_2PHJq"><span>{html}</span></span></h{level}></div>'
        f'<div type="h{level}" data-hook="rcv-block0"></div>'
    )


def wempty() -> str:
    return _RCV_EMPTY.format(0)


def wix(
    url: str,
    content: list[str],
    *,
    title: str = "Answers of the Cabinet",
    lang: str = "en",
    head: str | None = None,
    json_ld: bool = True,
    og_title: str | None = None,
    h1: bool = True,
    article_extra: str = "",
    title_in_description: bool = False,
    canonical: str | None = "",
    categories: tuple[str, ...] = ("Cabinet",),
) -> bytes:
    """A Wix post page in the mirror's markup. `canonical=""` means the page's own URL;
    None leaves the canonical link out."""
    canonical_url = url if canonical == "" else canonical
    canon = f'<link rel="canonical" href="{escape(canonical_url)}"/>' if canonical_url else ""
    ld = ""
    if json_ld:
        ld = (
            '<script type="application/ld+json">'
            + json.dumps(
                {
                    "@context": "https://schema.org",
                    "@type": "BlogPosting",
                    "headline": title,
                    "datePublished": "2023-05-10T09:00:00.000Z",
                    "dateModified": "2023-05-10T09:00:00.000Z",
                }
            )
            + "</script>"
        )
    og = og_title if og_title is not None else title
    if head is None:
        head = (
            f"<title>{escape(title)} | NAU</title>{canon}"
            f'<link rel="alternate" href="{escape(url)}" hreflang="{lang}"/>'
            f'<meta property="og:title" content="{escape(og)}"/>'
            '<meta property="og:type" content="article"/>'
            '<meta property="article:published_time" content="2023-05-10T09:00:00.000Z"/>'
            '<meta property="article:modified_time" content="2023-05-10T09:00:00.000Z"/>'
            f"{ld}"
        )
    state = json.dumps({"post": {"id": "0123456789abcdef01234567", "title": title}})
    title_html = (
        f'<div class="post-title" data-hook="post-title"><h1 class="_2_9yh" '
        f'data-hook="post-title">{escape(title)}</h1></div>'
        if h1
        else ""
    )
    cats = "".join(
        f'<li><a href="https://www.belarus-nau.org/en/blog/categories/x" '
        f'data-hook="category-label-list__item">{escape(c)}</a></li>'
        for c in categories
    )
    description_title = title_html if title_in_description else ""
    outer_title = "" if title_in_description else title_html
    return f"""<!DOCTYPE html>
<html lang="{lang}" dir="ltr"><head><meta charset='utf-8'>
<meta name="generator" content="Wix.com Website Builder"/>
<script id="wix-viewer-model" type="application/json">{state}</script>
{head}</head><body><div id="SITE_CONTAINER"><header><nav><a href="/">Home</a></nav></header>
<main><article class="blog-post-page-font" data-hook="post">
<div data-hook="post-header"><span data-hook="user-name">NAU</span><ul><li>
<span data-hook="time-ago" title="May 10, 2023">May 10, 2023</span></li></ul></div>
{outer_title}<section data-hook="post-description" class="_3GuGY">{description_title}
<div data-rce-version="9.7.3"><div data-id="content-viewer" class="_3hqlN" dir="ltr">
<div class="_1hN1O"><div data-hook="rcv-block-first"></div><div class="_3UEFp">
{"".join(content)}</div><div data-hook="rcv-block-last"></div></div></div></div></section>
{article_extra}
<div data-hook="post-footer"><ul data-hook="post-categories-list">{cats}</ul>
<span data-hook="view-count">412 views</span></div></article>
<section data-hook="recent-posts"><h2>Recent Posts</h2><div data-hook="post-list-item">
<div data-hook="post-title"><h3>Another post</h3></div><div data-hook="post-description">
"Not an answer". (V. Kavaleuski)</div></div></section>
<section data-hook="comments"><div data-hook="comment"><div data-id="content-viewer">
<p>"A comment". (P. Latushka)</p></div></div></section></main>
<footer><p>©2023 by NAU. Proudly created with Wix.com</p></footer></div></body></html>
""".encode()


def tilda(
    url: str,
    text_html: str,
    *,
    title: str = "Ответы Кабинета",
    date_html: str = "10 мая 2023",
    tags_html: str = "",
    html_attrs: str = "",
    head: str | None = None,
    charset: str = "utf-8",
    canonical: str | None = "",
) -> str:
    """A Tilda feed post page in the mirror's markup, as text (encode it as the page says).
    `text_html` is what the `t-redactor__tte-view` holds."""
    canonical_url = url if canonical == "" else canonical
    canon = f'<link rel="canonical" href="{escape(canonical_url)}">' if canonical_url else ""
    if head is None:
        head = (
            f'<meta charset="{charset}" />'
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}" />'
            f"<title>{escape(title)}</title>"
            f'<meta property="og:title" content="{escape(title)}" />'
            f'<meta property="og:type" content="website" />{canon}'
        )
    return f"""<!DOCTYPE html><html{html_attrs}><head>{head}</head>
<body class="t-body"><div id="allrecords" class="t-records" data-tilda-project-id="4807112">
<div class="r t-rec"><div class="t228"><a href="https://belarus-nau.org/">NAU</a>
<a href="https://belarus-nau.org/news">All News</a></div></div>
<div class="r t-rec" data-record-type="915">
<div class="t-feed__post-popup t-popup t-popup_show">
<div class="t-feed__post-popup__close-wrapper"><a href="/news">All News</a></div>
<div class="t-feed__post-popup__content t-col t-col_8">
<div class="t-feed__post-popup__title-wrapper">
<h1 class="js-feed-post-title t-feed__post-popup__title t-title">{escape(title)}</h1></div>
<div class="t-feed__post-popup__date-parts-wrapper"><span class="t-feed__post-popup__date-wrapper">
<span class="js-feed-post-date t-feed__post-popup__date t-uptitle">{date_html}</span></span>
{tags_html}</div>
<div id="feed-text" class="t-feed__post-popup__text-wrapper">
<div class="js-feed-post-text t-feed__post-popup__text t-text t-text_md">
<section><div class="t-redactor__tte-view">{text_html}</div></section></div></div>
</div></div></div>
<div class="r t-rec"><div class="t-text">Discuss in social networks:<br />
<a href="https://facebook.com/belarusnau">Facebook</a></div></div></div>
<script>t_onReady(function () {{ t_feed_init('384930123'); }});</script></body></html>"""


def tt(html: str) -> str:
    return f'<div class="t-redactor__text">{html}</div>'


# -- reading the parse ----------------------------------------------------------------------


def parsed(page: bytes, url: str) -> dict[str, Any]:
    return parse_post(page, url).to_dict()


def published_day(post: dict[str, Any]) -> date:
    return datetime.fromisoformat(post["published"]).astimezone(UTC).date()


# -- Wix rich content ------------------------------------------------------------------------


def test_wix_paragraph_split_into_spans_with_bold_on_part_of_a_word() -> None:
    # The editor bolded a few letters inside words; the viewer writes one span per run.
    page = wix(
        WIX_EN,
        [
            wp("<strong>Sanc</strong><strong>tions:</strong>"),
            wp(
                '<span>"We believe it is nec</span><strong>ess</strong><span>ary to '
                'increase pres</span><strong>sure</strong><span> on the regime". </span>'
                "<span>(P. Latu</span><span>shka)</span>"
            ),
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [(LAT, "P. Latushka", "We believe it is necessary to increase pressure on the regime")],
        )
    ]


def test_wix_heading_bold_except_the_last_letters_of_a_word() -> None:
    # A drag-selection that stopped one letter short: `<strong>Relations with Ukrain</strong>e:`
    # still reads as the bold heading it was meant to be, alone on its line, ending in `:`.
    page = wix(
        WIX_EN,
        [
            wp("<strong>Political prisoners:</strong>"),
            wp('"We must free them all". (V. Harbunova)'),
            wp("<strong>Relations with Ukrain</strong>e:"),
            wp('"We will support Ukraine". (S. Tsikhanouskaya)'),
        ],
    )
    assert sections(page, WIX_EN) == [
        ("Political prisoners", None, [(HAR, "V. Harbunova", "We must free them all")]),
        ("Relations with Ukraine", None, [(TSI, "S. Tsikhanouskaya", "We will support Ukraine")]),
    ]


def test_wix_link_inside_the_quote_and_inside_the_speaker_name() -> None:
    page = wix(
        WIX_EN,
        [
            wp("<strong>Relations with Ukraine:</strong>"),
            wp(
                '"There were many meetings, including in the '
                '<a href="https://www.president.gov.ua/" target="_blank" rel="noopener">'
                '<u>Office of the President</u></a> of Ukraine". '
                '(<a href="https://www.belarus-nau.org/en/team" data-hook="WebLink">'
                "V. Kavaleuski</a>)"
            ),
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Relations with Ukraine",
            None,
            [
                (
                    KAV,
                    "V. Kavaleuski",
                    "There were many meetings, including in the Office of the President of Ukraine",
                )
            ],
        )
    ]


def test_wix_h3_heading_with_underline_and_italics_inside() -> None:
    page = wix(
        WIX_EN,
        [
            wh("<u>Sanctions</u> and the <em>border crossings</em>:", 3),
            wp('"The border crossings must stay closed for goods". (P. Latushka)'),
            wh('<span style="text-decoration:underline"><strong>Interpol</strong></span>', 4),
            wp('"We are cooperating with Interpol". (A. Azarov)'),
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Sanctions and the border crossings",
            None,
            [(LAT, "P. Latushka", "The border crossings must stay closed for goods")],
        ),
        ("Interpol", None, [(AZA, "A. Azarov", "We are cooperating with Interpol")]),
    ]


def test_wix_headings_in_h5_h6_and_bold_styled_span_in_a_paragraph() -> None:
    page = wix(
        WIX_EN,
        [
            wh("Relations with Ukraine", 5),
            wp('"We will support Ukraine". (S. Tsikhanouskaya)'),
            wh("A new passport", 6),
            wp('"The passport is also for travel". (V. Kavaleuski)'),
            wp('<span style="font-weight:bold">Political prisoners:</span>'),
            wp('"We don\'t have the keys to prisons". (V. Harbunova)'),
        ],
    )
    assert sections(page, WIX_EN) == [
        ("Relations with Ukraine", None, [(TSI, "S. Tsikhanouskaya", "We will support Ukraine")]),
        ("A new passport", None, [(KAV, "V. Kavaleuski", "The passport is also for travel")]),
        (
            "Political prisoners",
            None,
            [(HAR, "V. Harbunova", "We don't have the keys to prisons")],
        ),
    ]


def test_wix_ordered_list_of_quotes_each_with_its_attribution() -> None:
    items = [
        '"We will support Ukraine". (S. Tsikhanouskaya)',
        '"Support for Ukraine remains our priority". (V. Kavaleuski)',
    ]
    lis = "".join(
        f'<li class="_3ZJx3" dir="auto"><p class="_1Bvq2" dir="auto"><span class="_2PHJq">'
        f"<span>{item}</span></span></p></li>"
        for item in items
    )
    page = wix(
        WIX_EN,
        [
            wp("<strong>Relations with Ukraine:</strong>"),
            f'<ol class="_1Bvq2 _1rqgu" start="1">{lis}</ol><div type="ordered-list"></div>',
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Relations with Ukraine",
            None,
            [
                (TSI, "S. Tsikhanouskaya", "We will support Ukraine"),
                (KAV, "V. Kavaleuski", "Support for Ukraine remains our priority"),
            ],
        )
    ]


def test_wix_unordered_list_items_without_inner_paragraphs() -> None:
    # Older viewer versions put the text straight into the `<li>`.
    page = wix(
        WIX_EN,
        [
            wp("<strong>Sanctions:</strong>"),
            '<ul class="_1Bvq2"><li dir="auto"><span>"Sanctions must not be bypassed". '
            '(P. Latushka)</span></li><li dir="auto"><span>"Potash must stay on the list". '
            '(V. Kavaleuski)</span></li></ul><div type="unordered-list"></div>',
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [
                (LAT, "P. Latushka", "Sanctions must not be bypassed"),
                (KAV, "V. Kavaleuski", "Potash must stay on the list"),
            ],
        )
    ]


def test_wix_blockquote_with_data_hook_holding_quote_and_attribution() -> None:
    page = wix(
        WIX_EN,
        [
            wp("<strong>Interpol:</strong>"),
            '<div data-breakout="normal"><blockquote class="_1xu5M" data-hook="blockquote" '
            'dir="auto"><span class="_2PHJq"><span>"We want this organization to check all '
            'the requests". (A. Azarov)</span></span></blockquote></div>'
            '<div type="blockquote" data-hook="rcv-block5"></div>',
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Interpol",
            None,
            [(AZA, "A. Azarov", "We want this organization to check all the requests")],
        )
    ]


def test_wix_breakout_wrappers_nested_twice() -> None:
    def nested(html: str) -> str:
        return (
            '<div data-breakout="normal"><div data-breakout="normal" class="_2kDT1">'
            f'<p class="MbCIt" dir="auto"><span class="_2PHJq"><span>{html}</span></span></p>'
            '</div></div><div type="paragraph"></div>'
        )

    page = wix(
        WIX_EN,
        [
            nested("<strong>A new passport:</strong>"),
            nested('"The passport should be intended also for international travel.'),
            nested('The project is supported by the European Commission". (V. Kavaleuski)'),
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "A new passport",
            None,
            [
                (
                    KAV,
                    "V. Kavaleuski",
                    "The passport should be intended also for international travel.\n\n"
                    "The project is supported by the European Commission",
                )
            ],
        )
    ]


def test_wix_nbsp_between_initial_and_surname_in_a_bold_prefix_and_a_link() -> None:
    page = wix(
        WIX_RU,
        [
            wp("<strong>Об Украине:</strong>"),
            wp("<strong>В.&nbsp;Ковалевский:</strong> «Поддержка Украины остается приоритетом»"),
            wp('«Мы будем поддерживать Украину» (<a href="/team">С.&nbsp;Тихановская</a>)'),
        ],
        lang="ru",
        title="Ответы Кабинета",
    )
    assert sections(page, WIX_RU) == [
        (
            "Об Украине",
            None,
            [
                (KAV, "В. Ковалевский", "Поддержка Украины остается приоритетом"),
                (TSI, "С. Тихановская", "Мы будем поддерживать Украину"),
            ],
        )
    ]


def test_wix_br_inside_a_paragraph_between_quote_and_attribution() -> None:
    page = wix(
        WIX_EN,
        [
            wp("<strong>Relations with Ukraine:</strong>"),
            wp('"We will support Ukraine no matter what".<br>(S. Tsikhanouskaya)'),
            wp('"Support for Ukraine remains our priority"<br/>— V. Kavaleuski'),
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Relations with Ukraine",
            None,
            [
                (TSI, "S. Tsikhanouskaya", "We will support Ukraine no matter what"),
                (KAV, "V. Kavaleuski", "Support for Ukraine remains our priority"),
            ],
        )
    ]


def test_wix_bold_heading_and_quote_in_one_paragraph_split_by_br() -> None:
    page = wix(
        WIX_EN,
        [
            wp('<strong>Interpol:</strong><br>"We are cooperating with Interpol". (A. Azarov)'),
            wp('<strong>Sanctions:</strong><br/>"Sanctions must not be bypassed". (P. Latushka)'),
        ],
    )
    assert sections(page, WIX_EN) == [
        ("Interpol", None, [(AZA, "A. Azarov", "We are cooperating with Interpol")]),
        ("Sanctions", None, [(LAT, "P. Latushka", "Sanctions must not be bypassed")]),
    ]


def test_wix_post_title_inside_the_post_description_section() -> None:
    # Some Wix blog layouts render the title inside `post-description`, before the viewer.
    page = wix(
        WIX_EN,
        [wp("<strong>Interpol:</strong>"), wp('"We check all requests". (A. Azarov)')],
        title="Answers of the Cabinet on Interpol",
        title_in_description=True,
    )
    post = parsed(page, WIX_EN)
    assert post["title"] == "Answers of the Cabinet on Interpol"
    assert sections(page, WIX_EN) == [
        ("Interpol", None, [(AZA, "A. Azarov", "We check all requests")])
    ]


def test_wix_hashtags_and_tags_list_after_a_digest() -> None:
    page = wix(
        WIX_EN,
        [
            wp("<strong>Sanctions:</strong>"),
            wp('"Sanctions must not be bypassed". (P. Latushka)'),
            wp(
                '<a href="https://www.belarus-nau.org/en/blog/hashtags/NAM">#NAM</a> '
                '<a href="https://www.belarus-nau.org/en/blog/hashtags/sanctions">#sanctions</a>'
            ),
        ],
        article_extra=(
            '<div data-hook="post-tags"><p>Tags:</p><ul data-hook="tag-list">'
            '<li><a href="/en/blog/tags/latushka" data-hook="tag">Latushka</a></li>'
            '<li><a href="/en/blog/tags/sanctions" data-hook="tag">sanctions</a></li></ul></div>'
        ),
    )
    post = parsed(page, WIX_EN)
    assert post["categories"] == ["Cabinet"]
    assert sections(page, WIX_EN) == [
        ("Sanctions", None, [(LAT, "P. Latushka", "Sanctions must not be bypassed")])
    ]


def test_wix_hashtags_after_the_last_answer_of_an_interview() -> None:
    # Hashtag links close many posts; they are not part of the interviewee's last answer.
    page = wix(
        WIX_EN,
        [
            wp("NAM-media interviews Pavel Latushka"),
            wp("<strong>What do you ask of democratic countries?</strong>"),
            wp("We urge them to support the decision of Poland."),
            wp(
                '<a href="https://www.belarus-nau.org/en/blog/hashtags/NAM">#NAM</a> '
                '<a href="https://www.belarus-nau.org/en/blog/hashtags/Latushka">#Latushka</a>'
            ),
        ],
        title="Interview on sanctions",
    )
    assert sections(page, WIX_EN) == [
        (
            None,
            "What do you ask of democratic countries?",
            [(LAT, "Pavel Latushka", "We urge them to support the decision of Poland.")],
        )
    ]


def test_wix_link_around_the_name_in_a_bold_speaker_prefix() -> None:
    page = wix(
        WIX_EN,
        [
            wp("<strong>Sanctions:</strong>"),
            wp(
                '<strong><a href="/en/team/latushka">Pavel Latushka</a>:</strong> '
                '"Sanctions must not be bypassed."'
            ),
        ],
    )
    assert sections(page, WIX_EN) == [
        ("Sanctions", None, [(LAT, "Pavel Latushka", "Sanctions must not be bypassed.")])
    ]


def test_wix_old_style_nbsp_paragraph_as_empty_line_closes_the_section() -> None:
    # Older posts have `<p><span>&nbsp;</span></p>` where newer ones have an empty-line div;
    # the quote after it belongs to no heading.
    page = wix(
        WIX_EN,
        [
            wp("<strong>Sanctions:</strong>"),
            wp('"Sanctions must not be bypassed". (P. Latushka)'),
            wp("&nbsp;"),
            wp('"Culture is no less important". (A. Koushyk)'),
        ],
    )
    assert sections(page, WIX_EN) == [
        ("Sanctions", None, [(LAT, "P. Latushka", "Sanctions must not be bypassed")]),
        (None, None, [("alina-koushyk", "A. Koushyk", "Culture is no less important")]),
    ]


def test_wix_italic_attribution_paragraph_after_the_quote() -> None:
    page = wix(
        WIX_EN,
        [
            wp("<strong>Relations with Ukraine:</strong>"),
            wp('"We will support Ukraine".'),
            wp("<em>(S. Tsikhanouskaya)</em>"),
            wp('"We were in Kyiv many times".'),
            wp("<em>— V. Kavaleuski, Minister of Foreign Affairs</em>"),
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Relations with Ukraine",
            None,
            [
                (TSI, "S. Tsikhanouskaya", "We will support Ukraine"),
                (KAV, "V. Kavaleuski", "We were in Kyiv many times"),
            ],
        )
    ]


def test_wix_h2_heading_with_a_line_break_inside() -> None:
    # Shift+Enter in a heading: the words on either side of the break stay apart.
    page = wix(
        WIX_EN,
        [
            wh("Sanctions<br>and the border crossings", 2),
            wp('"The border crossings must stay closed for goods". (P. Latushka)'),
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Sanctions and the border crossings",
            None,
            [(LAT, "P. Latushka", "The border crossings must stay closed for goods")],
        )
    ]


def test_wix_bold_spilling_from_the_heading_into_the_quote() -> None:
    # The editor's bold selection ran one word past the heading's colon.
    page = wix(
        WIX_EN,
        [
            wp(
                '<strong>Sanctions: "We</strong> must not let the regime bypass them". '
                "(P. Latushka)"
            ),
        ],
    )
    assert sections(page, WIX_EN) == [
        (
            "Sanctions",
            None,
            [(LAT, "P. Latushka", "We must not let the regime bypass them")],
        )
    ]


def test_wix_attribution_link_with_spaces_inside_and_trailing_br() -> None:
    page = wix(
        WIX_EN,
        [
            wp("<strong>Interpol:</strong>"),
            wp('"We are cooperating with Interpol". (<a href="/team"> A.&nbsp;Azarov </a>)<br>'),
        ],
    )
    assert sections(page, WIX_EN) == [
        ("Interpol", None, [(AZA, "A. Azarov", "We are cooperating with Interpol")])
    ]


# -- Tilda redactor ------------------------------------------------------------------------


def test_tilda_strong_spanning_the_paragraph_break_after_the_heading() -> None:
    page = tilda(
        TILDA_RU,
        tt(
            "<strong>Об отношениях с Украиной:<br /><br /></strong>«Мы будем поддерживать "
            "Украину». (С. Тихановская)<br /><br /><strong>О санкциях:<br /></strong><br />"
            "«Санкции нельзя обходить». (П. Латушко)"
        ),
    ).encode()
    assert sections(page, TILDA_RU) == [
        (
            "Об отношениях с Украиной",
            None,
            [(TSI, "С. Тихановская", "Мы будем поддерживать Украину")],
        ),
        ("О санкциях", None, [(LAT, "П. Латушко", "Санкции нельзя обходить")]),
    ]


def test_tilda_font_weight_700_span_heading() -> None:
    page = tilda(
        TILDA_RU,
        tt('<span style="font-weight: 700;">О сотрудничестве с Интерполом:</span>')
        + tt("«Мы сотрудничаем с Интерполом». (А. Азаров)")
        + tt(
            '<span style="font-weight: 600;">О паспорте</span><br /><br />'
            "«Паспорт нужен и для поездок». (В. Ковалевский)"
        ),
    ).encode()
    assert sections(page, TILDA_RU) == [
        (
            "О сотрудничестве с Интерполом",
            None,
            [(AZA, "А. Азаров", "Мы сотрудничаем с Интерполом")],
        ),
        ("О паспорте", None, [(KAV, "В. Ковалевский", "Паспорт нужен и для поездок")]),
    ]


def test_tilda_p_list_and_redactor_blockquote_in_one_text_block() -> None:
    page = tilda(
        TILDA_RU,
        tt(
            "<p><strong>Об Украине:</strong></p>"
            "<ul><li>«Мы будем поддерживать Украину». (С. Тихановская)</li>"
            "<li>«Поддержка Украины — наш приоритет». (В. Ковалевский)</li></ul>"
        )
        + '<blockquote class="t-redactor__quote">«Мы сотрудничаем с Интерполом».<br />'
        "(А. Азаров)</blockquote>",
    ).encode()
    assert sections(page, TILDA_RU) == [
        (
            "Об Украине",
            None,
            [
                (TSI, "С. Тихановская", "Мы будем поддерживать Украину"),
                (KAV, "В. Ковалевский", "Поддержка Украины — наш приоритет"),
                (AZA, "А. Азаров", "Мы сотрудничаем с Интерполом"),
            ],
        )
    ]


def test_tilda_blockquote_after_a_bold_heading_with_attribution_in_em() -> None:
    page = tilda(
        TILDA_RU,
        tt("<strong>О давлении на режим:</strong>")
        + '<blockquote class="t-redactor__quote">«Мы начинаем работу по блокированию '
        "кандидатуры Лукашенко»<br /><em>— В. Ковалевский</em></blockquote>",
    ).encode()
    assert sections(page, TILDA_RU) == [
        (
            "О давлении на режим",
            None,
            [(KAV, "В. Ковалевский", "Мы начинаем работу по блокированию кандидатуры Лукашенко")],
        )
    ]


def test_tilda_interview_with_bold_italic_questions_and_link_around_the_name() -> None:
    page = tilda(
        TILDA_RU,
        tt('НАУ-медиа поговорило с <a href="https://belarus-nau.org/latushka">Павлом Латушко</a>.')
        + tt("<strong><em>Чего вы просите у демократических стран?</em></strong>")
        + tt("Мы призываем поддержать решение Польши.")
        + tt("<em>Можно ли усложнить обход санкций?</em><br /><br />Мы внесли свои предложения."),
        title="Интервью о санкциях",
    ).encode()
    assert sections(page, TILDA_RU) == [
        (
            None,
            "Чего вы просите у демократических стран?",
            [(LAT, "Павлом Латушко", "Мы призываем поддержать решение Польши.")],
        ),
        (
            None,
            "Можно ли усложнить обход санкций?",
            [(LAT, "Павлом Латушко", "Мы внесли свои предложения.")],
        ),
    ]


def test_tilda_link_around_the_name_in_the_attribution() -> None:
    page = tilda(
        TILDA_RU,
        tt(
            "<strong>О политзаключенных:</strong><br /><br />«Мы не должны ссориться друг с "
            'другом». (<a href="https://belarus-nau.org/harbunova" target="_blank">'
            "В.&nbsp;Горбунова</a>)"
        ),
    ).encode()
    assert sections(page, TILDA_RU) == [
        (
            "О политзаключенных",
            None,
            [(HAR, "В. Горбунова", "Мы не должны ссориться друг с другом")],
        )
    ]


def test_tilda_h1_and_h3_headings_inside_the_text() -> None:
    page = tilda(
        TILDA_RU,
        '<h1 class="t-redactor__h1">Об отношениях с Украиной</h1>'
        + tt("«Мы будем поддерживать Украину». (С. Тихановская)")
        + '<h3 class="t-redactor__h3">О санкциях</h3>'
        + tt("«Санкции нельзя обходить». (П. Латушко)"),
        title="Главное с пресс-конференции",
    ).encode()
    post = parsed(page, TILDA_RU)
    assert post["title"] == "Главное с пресс-конференции"
    assert sections(page, TILDA_RU) == [
        (
            "Об отношениях с Украиной",
            None,
            [(TSI, "С. Тихановская", "Мы будем поддерживать Украину")],
        ),
        ("О санкциях", None, [(LAT, "П. Латушко", "Санкции нельзя обходить")]),
    ]


def test_tilda_text_outside_any_redactor_div() -> None:
    # Posts imported into the feed keep their text straight in the view, with double breaks.
    page = tilda(
        TILDA_RU,
        "<strong>Об Интерполе:</strong><br /><br />«Мы сотрудничаем с Интерполом». "
        "(А. Азаров)<br /><br /><strong>О санкциях:</strong><br /><br />"
        "«Санкции нельзя обходить». (П. Латушко)",
    ).encode()
    assert sections(page, TILDA_RU) == [
        ("Об Интерполе", None, [(AZA, "А. Азаров", "Мы сотрудничаем с Интерполом")]),
        ("О санкциях", None, [(LAT, "П. Латушко", "Санкции нельзя обходить")]),
    ]


def test_tilda_laquo_raquo_entities_and_nbsp_dash_attribution() -> None:
    page = tilda(
        TILDA_RU,
        tt("<strong>О паспорте:</strong>")
        + tt(
            "&laquo;Паспорт нужен не только для подтверждения гражданства&raquo;,&nbsp;"
            "&mdash;&nbsp;В.&nbsp;Ковалевский."
        )
        + tt("&laquo;Проект поддерживает Еврокомиссия&raquo; (В.&nbsp;Ковалевский)"),
    ).encode()
    assert sections(page, TILDA_RU) == [
        (
            "О паспорте",
            None,
            [
                (KAV, "В. Ковалевский", "Паспорт нужен не только для подтверждения гражданства"),
                (KAV, "В. Ковалевский", "Проект поддерживает Еврокомиссия"),
            ],
        )
    ]


def test_tilda_windows_1251_page_with_meta_charset() -> None:
    text = tilda(
        TILDA_RU,
        tt("<strong>Об Интерполе:</strong>") + tt("«Мы сотрудничаем с Интерполом». (А. Азаров)"),
        title="Ответы Кабинета об Интерполе",
        charset="windows-1251",
        tags_html='<a href="#" class="t-feed__post-popup__tag"><span>Кабинет</span></a>',
    )
    page = text.encode("cp1251")
    post = parsed(page, TILDA_RU)
    assert post["title"] == "Ответы Кабинета об Интерполе"
    assert post["language"] == "ru"
    assert post["categories"] == ["Кабинет"]
    assert published_day(post) == date(2023, 5, 10)
    assert sections(page, TILDA_RU) == [
        ("Об Интерполе", None, [(AZA, "А. Азаров", "Мы сотрудничаем с Интерполом")])
    ]


def test_tilda_empty_p_inside_a_text_block_closes_the_section() -> None:
    page = tilda(
        TILDA_RU,
        tt(
            "<p><strong>О санкциях:</strong></p><p>«Санкции нельзя обходить». (П. Латушко)</p>"
            "<p>&nbsp;</p><p>«Культура не менее важна». (А. Ковшик)</p>"
        ),
    ).encode()
    assert sections(page, TILDA_RU) == [
        ("О санкциях", None, [(LAT, "П. Латушко", "Санкции нельзя обходить")]),
        (None, None, [("alina-koushyk", "А. Ковшик", "Культура не менее важна")]),
    ]


def test_tilda_bold_speaker_prefix_with_link_and_colon_outside_the_bold() -> None:
    page = tilda(
        TILDA_RU,
        tt("<strong>О санкциях:</strong>")
        + tt(
            '<strong><a href="https://belarus-nau.org/latushka">Павел Латушко</a></strong>: '
            "«Санкции нельзя обходить»"
        ),
    ).encode()
    assert sections(page, TILDA_RU) == [
        ("О санкциях", None, [(LAT, "Павел Латушко", "Санкции нельзя обходить")])
    ]


def test_tilda_bold_left_open_over_heading_and_quote() -> None:
    # `<b>` closed only after the quote: the heading and the quote are both bold.
    page = tilda(
        TILDA_RU,
        tt("<b>О санкциях:<br /><br />«Санкции нельзя обходить». (П. Латушко)</b>"),
    ).encode()
    assert sections(page, TILDA_RU) == [
        ("О санкциях", None, [(LAT, "П. Латушко", "Санкции нельзя обходить")])
    ]


# -- metadata ------------------------------------------------------------------------------


def test_wix_og_title_with_site_suffix_and_no_json_ld_and_no_h1() -> None:
    page = wix(
        WIX_EN,
        [wp("<strong>Interpol:</strong>"), wp('"We check all requests". (A. Azarov)')],
        title="Answers of the Cabinet on Interpol",
        og_title="Answers of the Cabinet on Interpol | NAU",
        json_ld=False,
        h1=False,
    )
    post = parsed(page, WIX_EN)
    assert post["title"] == "Answers of the Cabinet on Interpol"
    assert post["published"].startswith("2023-05-10T09:00:00")


def test_wix_og_title_with_site_suffix_and_no_json_ld_with_h1() -> None:
    page = wix(
        WIX_EN,
        [wp("<strong>Interpol:</strong>"), wp('"We check all requests". (A. Azarov)')],
        title="Answers of the Cabinet on Interpol",
        og_title="Answers of the Cabinet on Interpol | NAU",
        json_ld=False,
    )
    post = parsed(page, WIX_EN)
    assert post["title"] == "Answers of the Cabinet on Interpol"
    assert post["id"] == "wix-0123456789abcdef01234567"


def test_wix_regional_html_lang_on_a_root_post() -> None:
    page = wix(
        WIX_RU,
        [wp("<strong>Об Интерполе:</strong>"), wp("«Мы сотрудничаем с Интерполом» (А. Азаров)")],
        lang="ru-RU",
        title="Ответы Кабинета",
    )
    assert parsed(page, WIX_RU)["language"] == "ru"


def test_tilda_regional_html_lang() -> None:
    page = tilda(
        TILDA_RU,
        tt("<strong>Об Интерполе:</strong>") + tt("«Мы сотрудничаем с Интерполом». (А. Азаров)"),
        html_attrs=' lang="ru-RU"',
    ).encode()
    assert parsed(page, TILDA_RU)["language"] == "ru"


def test_tilda_english_post_on_a_project_whose_html_lang_is_ru() -> None:
    # Tilda writes the project's language on every page; this post is in English.
    page = tilda(
        TILDA_EN,
        tt("<strong>Interpol:</strong>")
        + tt(
            '"We want this organization to check all the requests that the regime sends". '
            "(A. Azarov)"
        ),
        title="The Cabinet answered questions about Interpol",
        date_html="May 10, 2023",
        html_attrs=' lang="ru"',
    ).encode()
    post = parsed(page, TILDA_EN)
    assert post["language"] == "en"
    assert published_day(post) == date(2023, 5, 10)


def test_tilda_shown_date_with_a_time() -> None:
    page = tilda(
        TILDA_RU,
        tt("<strong>Об Интерполе:</strong>") + tt("«Мы сотрудничаем с Интерполом». (А. Азаров)"),
        date_html="15 февраля 2023 14:30",
    ).encode()
    post = parsed(page, TILDA_RU)
    assert published_day(post) == date(2023, 2, 15)
    # 14:30 in Minsk (UTC+3)
    assert datetime.fromisoformat(post["published"]) == datetime(2023, 2, 15, 11, 30, tzinfo=UTC)


def test_tilda_categories_as_links_with_nested_spans() -> None:
    tags = "".join(
        f'<a href="https://belarus-nau.org/news?tfeeds_tag={t.lower()}" '
        f'class="t-feed__post-popup__tag"><span class="t-uptitle t-uptitle_xs">'
        f'<span class="t-feed__post-popup__tag-name">{t}</span>\n</span></a>'
        for t in ("Новости", "Кабинет")
    )
    page = tilda(
        TILDA_RU,
        tt("<strong>Об Интерполе:</strong>") + tt("«Мы сотрудничаем с Интерполом». (А. Азаров)"),
        tags_html=f'<div class="t-feed__post-popup__tags-wrapper">{tags}</div>',
    ).encode()
    assert parsed(page, TILDA_RU)["categories"] == ["Новости", "Кабинет"]


def test_canonical_on_a_foreign_host_is_not_taken() -> None:
    page = wix(
        WIX_EN,
        [wp("<strong>Interpol:</strong>"), wp('"We check all requests". (A. Azarov)')],
        canonical="https://news.example.com/belarus/cabinet-answers-may",
    )
    assert parsed(page, WIX_EN)["url"] == WIX_EN


def test_canonical_on_the_sites_other_origin() -> None:
    # The site is served at both origins (NAMFEEDS_SOURCE_URLS); a page fetched at the bare
    # host that names the www host as canonical is the same post at its canonical address.
    fetched = "https://belarus-nau.org/en/post/cabinet-answers-may"
    page = wix(
        fetched,
        [wp("<strong>Interpol:</strong>"), wp('"We check all requests". (A. Azarov)')],
        canonical=WIX_EN,
    )
    assert parsed(page, fetched)["url"] == WIX_EN


def test_missing_canonical_keeps_the_url_and_a_path_based_tilda_id() -> None:
    page = tilda(
        TILDA_RU,
        tt("<strong>Об Интерполе:</strong>") + tt("«Мы сотрудничаем с Интерполом». (А. Азаров)"),
        canonical=None,
    ).encode()
    post = parsed(page, TILDA_RU)
    assert post["url"] == TILDA_RU
    assert post["id"] == "tilda-n2b3v4c5x6"


def test_tilda_counter_noscript_in_the_head_before_canonical_and_og_tags() -> None:
    # Tilda puts the analytics counters' `<noscript><img …></noscript>` early in the head; an
    # HTML parser without scripting closes the head there and the tags after it land in body.
    head = (
        '<meta charset="utf-8" /><title>Ответы Кабинета об Интерполе</title>'
        '<noscript><div><img src="https://mc.yandex.ru/watch/12345" '
        'style="position:absolute; left:-9999px;" alt="" /></div></noscript>'
        '<meta property="og:title" content="Ответы Кабинета об Интерполе" />'
        f'<link rel="canonical" href="{TILDA_RU}">'
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        '"@type": "BlogPosting", "headline": "Ответы Кабинета об Интерполе", '
        '"datePublished": "2023-05-10T14:30:00+03:00"}</script>'
    )
    page = tilda(
        TILDA_RU,
        tt("<strong>Об Интерполе:</strong>") + tt("«Мы сотрудничаем с Интерполом». (А. Азаров)"),
        title="Ответы Кабинета об Интерполе",
        head=head,
    ).encode()
    post = parsed(page, TILDA_RU)
    assert post["url"] == TILDA_RU
    assert datetime.fromisoformat(post["published"]) == datetime(2023, 5, 10, 11, 30, tzinfo=UTC)
    assert sections(page, TILDA_RU) == [
        ("Об Интерполе", None, [(AZA, "А. Азаров", "Мы сотрудничаем с Интерполом")])
    ]
