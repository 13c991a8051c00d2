"""Builds post pages in each site builder's markup, for parser tests of unseen variants.

The markup follows the two builders' structure as the mirror shows it (shared/site/README.md):
Wix's rich-content viewer with a type marker after each block, and Tilda's feed popup with
`t-redactor__text` blocks that hold one paragraph each or several joined by double breaks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from typing import Any

from services.parsing import parse_post


@dataclass(frozen=True)
class P:
    html: str  # inner HTML of the paragraph


@dataclass(frozen=True)
class H:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Empty:
    pass


Block = P | H | Empty

# The registry's people, by id, as the variant tests name them.
TSI = "sviatlana-tsikhanouskaya"
LAT = "pavel-latushka"
KAV = "valery-kavaleuski"
AZA = "aliaksandr-azarau"
SAK = "valery-sakhashchyk"
HAR = "volha-harbunova"
KOU = "alina-koushyk"


def bold(text: str) -> str:
    return f"<strong>{text}</strong>"


def wix_page(
    *,
    url: str,
    title: str,
    lang: str,
    published: str,
    blocks: list[Block],
    categories: list[str] = (),  # type: ignore[assignment]
    alternates: dict[str, str] | None = None,
) -> bytes:
    parts = []
    for i, block in enumerate(blocks, 1):
        if isinstance(block, P):
            parts.append(
                f'<div data-breakout="normal"><p class="MbCIt" id="viewer-{i:05x}" dir="auto">'
                f'<span class="_2PHJq"><span>{block.html}</span></span></p></div>'
                f'<div type="paragraph" data-hook="rcv-block{i}"></div>'
            )
        elif isinstance(block, H):
            parts.append(
                f'<div data-breakout="normal"><h{block.level} class="_3f-vr" dir="auto">'
                f'<span class="_2PHJq"><span>{escape(block.text)}</span></span>'
                f'</h{block.level}></div><div type="h{block.level}" data-hook="rcv-block{i}"></div>'
            )
        else:
            parts.append(
                f'<div class="fEPWx"><span class="_2PHJq"><br role="presentation"/></span></div>'
                f'<div type="empty-line" data-hook="rcv-block{i}"></div>'
            )
    links = "".join(
        f'<link rel="alternate" href="{escape(h)}" hreflang="{lang_}"/>'
        for lang_, h in (alternates or {lang: url}).items()
    )
    cats = "".join(
        f'<li><a href="#" data-hook="category-label-list__item">{escape(c)}</a></li>'
        for c in categories
    )
    state = json.dumps({"post": {"title": title, "text": "Source: x (Someone)"}})
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset='utf-8'>
<meta name="generator" content="Wix.com Website Builder"/>
<title>{escape(title)} | NAU</title><link rel="canonical" href="{escape(url)}"/>{links}
<meta property="og:title" content="{escape(title)}"/>
<meta property="article:published_time" content="{published}"/>
<meta property="article:modified_time" content="{published}"/>
<script id="wix-viewer-model" type="application/json">{state}</script></head><body>
<header><nav><a href="/">Home</a></nav></header><main>
<article data-hook="post"><div data-hook="post-title"><h1>{escape(title)}</h1></div>
<section data-hook="post-description"><div data-id="content-viewer"><div class="_3UEFp">
{"".join(parts)}</div></div></section>
<div data-hook="post-footer"><ul data-hook="post-categories-list">{cats}</ul></div></article>
<section data-hook="recent-posts"><h2>Recent Posts</h2><div data-hook="post-list-item">
<div data-hook="post-title"><h3>Another post</h3></div><div data-hook="post-description">
"Not an answer". (V. Kavaleuski)</div></div></section>
<section data-hook="comments"><div data-hook="comment"><div data-id="content-viewer">
<p>"A comment". (P. Latushka)</p></div></div></section></main></body></html>""".encode()


def tilda_page(
    *,
    url: str,
    title: str,
    date: str,
    blocks: list[Block],
    categories: list[str] = (),  # type: ignore[assignment]
    joined: bool = False,
) -> bytes:
    """With `joined`, consecutive paragraphs share one block, separated by double breaks."""
    parts: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            parts.append(f'<div class="t-redactor__text">{"<br /><br />".join(run)}</div>')
            run.clear()

    for block in blocks:
        if isinstance(block, P):
            run.append(block.html)
            if not joined:
                flush()
        elif isinstance(block, H):
            flush()
            tag = f"h{block.level}"
            parts.append(f'<{tag} class="t-redactor__h2">{escape(block.text)}</{tag}>')
        else:
            flush()
            parts.append('<div class="t-redactor__text"></div>')
    flush()
    tags = "".join(
        f'<a href="#" class="t-feed__post-popup__tag"><span>{escape(c)}</span></a>'
        for c in categories
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8" />
<title>{escape(title)}</title><meta property="og:title" content="{escape(title)}" />
<link rel="canonical" href="{escape(url)}"></head><body class="t-body">
<div id="allrecords" class="t-records"><div class="t228"><a href="/">NAU</a></div>
<div class="t-feed__post-popup t-popup"><div class="t-feed__post-popup__content">
<h1 class="js-feed-post-title">{escape(title)}</h1>
<div><span class="js-feed-post-date">{escape(date)}</span>{tags}</div>
<div id="feed-text"><div class="js-feed-post-text t-feed__post-popup__text">
<section><div class="t-redactor__tte-view">{"".join(parts)}</div></section></div></div>
</div></div><div class="t-text">Discuss in social networks:<br /><a href="#">Facebook</a></div>
</div><script>t_feed_init('1');</script></body></html>""".encode()


def replace_wix_block(page: bytes, marker: str, markup: str) -> bytes:
    """Replace the Wix paragraph block holding only `marker` with hand-written markup."""
    pattern = (
        r'<div data-breakout="normal"><p [^>]*><span class="_2PHJq"><span>'
        + re.escape(marker)
        + r'</span></span></p></div><div type="paragraph"[^>]*></div>'
    )
    out, n = re.subn(pattern.encode(), lambda _: markup.encode(), page)
    assert n == 1, marker
    return out


def replace_tilda_block(page: bytes, marker: str, markup: str) -> bytes:
    """Replace the Tilda text block holding only `marker` with hand-written markup."""
    old = f'<div class="t-redactor__text">{marker}</div>'.encode()
    assert page.count(old) == 1, marker
    return page.replace(old, markup.encode())


def sections_of(
    page: bytes, url: str
) -> list[tuple[str | None, str | None, list[tuple[Any, ...]]]]:
    """(heading, question, [(person id, as written, text), ...]) for each section."""
    return [
        (
            s["heading"],
            s["question"],
            [
                (
                    a["speaker"]["id"] if a["speaker"] else None,
                    a["speaker"]["as_written"] if a["speaker"] else None,
                    a["text"],
                )
                for a in s["answers"]
            ],
        )
        for s in parse_post(page, url).to_dict()["sections"]
    ]
