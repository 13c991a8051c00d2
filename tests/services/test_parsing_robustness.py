"""On any input the parser returns a Post or raises ParseError, never anything else."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.errors import ParseError
from services.model import Post
from services.parsing import parse_post
from tests.conftest import SITE
from tests.services.test_parsing import EXPECTED, page_path

PAGES = [
    (json.loads(p.read_text())["url"], page_path(json.loads(p.read_text())["url"]).read_bytes())
    for p in EXPECTED
]


def _post_or_parse_error(html: bytes, url: str) -> Post | None:
    try:
        post = parse_post(html, url)
    except ParseError:
        return None
    assert isinstance(post, Post)
    Post.from_json(post.to_json())  # whatever came out is storable
    return post


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _post_or_parse_error(data, "https://www.belarus-nau.org/en/post/x")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PAGES), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_pages(page: tuple[str, bytes], fraction: float) -> None:
    url, html = page
    _post_or_parse_error(html[: int(len(html) * fraction)], url)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PAGES), st.sampled_from(["latin-1", "cp1251", "utf-16"]))
def test_non_utf8_bytes(page: tuple[str, bytes], encoding: str) -> None:
    url, html = page
    text = html.decode("utf-8")
    _post_or_parse_error(text.encode(encoding, errors="replace"), url)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PAGES), st.integers(min_value=0), st.binary(min_size=1, max_size=64))
def test_corrupted_pages(page: tuple[str, bytes], position: int, junk: bytes) -> None:
    url, html = page
    at = position % len(html)
    _post_or_parse_error(html[:at] + junk + html[at + len(junk) :], url)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000))
def test_random_text_in_an_article(text: str) -> None:
    from tests.pages import P, wix_page

    page = wix_page(
        url="https://www.belarus-nau.org/en/post/x",
        title="t",
        lang="en",
        published="2023-01-01T00:00:00Z",
        blocks=[P(t) for t in text.split("\n")],
    )
    _post_or_parse_error(page, "https://www.belarus-nau.org/en/post/x")


@pytest.mark.parametrize(("url", "html"), PAGES, ids=[u.rsplit("/", 1)[1] for u, _ in PAGES])
def test_pages_with_the_article_removed_raise_parse_error(url: str, html: bytes) -> None:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    article = tree.css_first('article[data-hook="post"]') or tree.css_first("#feed-text")
    assert article is not None
    article.decompose()
    with pytest.raises(ParseError, match="no (wix|tilda) article content"):
        parse_post((tree.html or "").encode(), url)


def test_ten_megabyte_page() -> None:
    url, html = PAGES[0]
    filler = b"<p>" + b"x" * 1000 + b"</p>"
    huge = html.replace(b"<body>", b"<body>" + filler * (10 * 1024 * 1024 // len(filler)), 1)
    assert len(huge) > 10 * 1024 * 1024
    assert _post_or_parse_error(huge, url) is not None


@pytest.mark.parametrize("url", ["", "not a url", "ftp://belarus-nau.org/x", "/en/post/x"])
def test_bad_urls_raise_parse_error(url: str) -> None:
    with pytest.raises(ParseError):
        parse_post(PAGES[0][1], url)


def test_not_a_post_page() -> None:
    with pytest.raises(ParseError, match="neither a Wix nor a Tilda page"):
        parse_post(b"<html><body><p>hello</p></body></html>", "https://www.belarus-nau.org/x")
    assert SITE.exists()


# -- budgets: depth and size are checked on the bytes, before Lexbor parses them ------------

URL = "https://www.belarus-nau.org/en/post/x"


def _wix_with(inner: str) -> bytes:
    """A Wix post whose one answer is `inner`, under a heading, attributed after it."""
    from tests.pages import P, bold, wix_page

    blocks = [P(bold("Sanctions:")), P("MARK")]
    page = wix_page(url=URL, title="t", lang="en", published="2023-01-01T00:00:00Z", blocks=blocks)
    return page.replace(b"MARK", f'"{inner}" said Pavel Latushka.'.encode(), 1)


def _answers(post: Post) -> list[str]:
    return [a.text for s in post.sections for a in s.answers]


@pytest.mark.parametrize(
    ("name", "markup"),
    [
        ("plain divs", "<div>" * 100_000),
        ("self-closing divs, which HTML does not close", "<div/>" * 5_000),
        ("end tags that close nothing", "<div></b>" * 5_000),
        ("end tags stopped by a scope boundary", "<div><object></div>" * 5_000),
        ("HTML tags leaving SVG", "<svg><div/>" * 5_000),
        ("an upper-case end of a script", "<script>x</SCRIPT>" + "<span>" * 5_000),
    ],
)
def test_deep_nesting_is_refused(name: str, markup: str) -> None:
    with pytest.raises(ParseError, match="nests deeper than 1000 elements"):
        parse_post(_wix_with(markup), URL)


def test_too_many_elements_are_refused() -> None:
    with pytest.raises(ParseError, match="holds more than 100000 elements"):
        parse_post(_wix_with("<p>x</p>" * 150_000), URL)


def test_nesting_past_the_recursion_limit_but_within_the_budget_is_read() -> None:
    import sys

    from services.parsing.budget import MAX_DEPTH

    levels = MAX_DEPTH - 100
    page = _wix_with("<span>" * levels + "Deep words." + "</span>" * levels)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(levels // 2)  # a recursive walk could not go half as deep
    try:
        post = parse_post(page, URL)
    finally:
        sys.setrecursionlimit(limit)
    assert _answers(post) == ["Deep words."]


def test_scripts_and_comments_are_not_counted() -> None:
    # 5,000 levels of tags inside a script and a comment are text to Lexbor, so to us too
    deep = "<div>" * 5_000
    post = parse_post(_wix_with(f"<script>var s='{deep}';</script><!-- {deep} -->Text."), URL)
    assert _answers(post) == ["Text."]


@pytest.mark.parametrize(("url", "html"), PAGES, ids=[u.rsplit("/", 1)[1] for u, _ in PAGES])
def test_mirror_pages_sit_far_below_the_budget(url: str, html: bytes) -> None:
    from services.parsing.budget import MAX_DEPTH, MAX_ELEMENTS, measure

    depth, elements = measure(html, MAX_DEPTH, MAX_ELEMENTS)
    assert 0 < depth * 25 <= MAX_DEPTH and 0 < elements * 25 <= MAX_ELEMENTS


def test_absurdly_nested_json_ld_is_ignored() -> None:
    junk = '<script type="application/ld+json">' + "[" * 100_000 + "</script>"
    page = _wix_with("Words.").replace(b"</head>", junk.encode() + b"</head>", 1)
    assert _answers(parse_post(page, URL)) == ["Words."]


def test_a_rule_that_breaks_is_this_page_s_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for a bug some page trips in a rule: the crawl must see a ParseError for
    # that URL, not an exception that stops it.
    from services.parsing import qa

    def broken(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(qa, "build_sections", broken)
    with pytest.raises(ParseError, match="the parser failed on this page .RecursionError"):
        parse_post(PAGES[0][1], PAGES[0][0])
