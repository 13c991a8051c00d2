"""The HTML pages over real HTTP: every kind in every language, chosen by `?lang=` and then
`Accept-Language`, with ETag/304 and gzip, paging that reaches every answer once, and escaping."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, datetime, timedelta

import pytest
from selectolax.lexbor import LexborHTMLParser

from feeds.publish import publish_all
from feeds.web._i18n import catalogue_keys, choose_language
from feeds.web._views import POSTS_PER_PAGE
from services.model import Answer, Post, Section, Speaker
from services.people import all_people, get_person
from services.storage import Store
from services.topics import all_topics
from tests.feeds.test_publish import CRAWLED, SETTINGS, edited
from tests.feeds.test_web import Serve, mirror, serve  # noqa: F401  (fixtures)

LANGS = ("en", "ru", "be")


def _html(text: str) -> LexborHTMLParser:
    return LexborHTMLParser(text)


def test_catalogues_have_the_same_keys() -> None:
    keys = catalogue_keys()
    assert keys["en"] == keys["ru"] == keys["be"]


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("ru", "be", "ru"),
        (None, "be-BY,be;q=0.9,ru;q=0.8,en;q=0.5", "be"),
        (None, "ru-RU", "ru"),
        (None, "de, ru;q=0.2", "ru"),
        (None, "de, fr", "en"),
        (None, "ru;q=0, be;q=0.1", "be"),
        (None, "*", "en"),
        ("xx", "ru;q=banana", "en"),
        (None, None, "en"),
    ],
)
def test_language_choice(query: str | None, header: str | None, expected: str) -> None:
    assert choose_language(query, header) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_index_lists_every_speaker_and_topic_in_the_pages_language(
    serve: Serve,  # noqa: F811
    mirror: list[Post],  # noqa: F811
    lang: str,
) -> None:
    client = serve()
    response = client.get("/", params={"lang": lang})
    assert response.status_code == 200
    assert response.headers["content-language"] == lang
    page = _html(response.text)
    assert page.css_first("html").attributes["lang"] == lang
    for person in all_people():
        row = page.css_first(f"tr#speaker-{person.id}")
        assert row is not None, person.id
        shown = {"en": person.name, "ru": person.name_ru, "be": person.name_be}[lang]
        assert shown in row.css_first("a").text(), (lang, person.id)
        assert row.css_first(f'a[href="/feeds/speakers/{person.id}.atom"]') is not None
    for topic in all_topics():
        row = page.css_first(f"tr#topic-{topic.slug}")
        assert row is not None, topic.slug
        assert topic.name(lang) in row.text()
    feeds = {link.attributes["href"] for link in page.css('head link[rel="alternate"][type]')}
    assert "/feeds/all.atom" in feeds
    for href in sorted(feeds)[:12]:
        assert client.get(href).status_code == 200, href


def test_accept_language_picks_the_page_language_and_lang_overrides_it(
    serve: Serve,  # noqa: F811
    mirror: list[Post],  # noqa: F811
) -> None:
    client = serve()
    russian = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert russian.headers["content-language"] == "ru"
    assert "Спикеры" in russian.text
    assert "Accept-Language" in russian.headers["vary"]
    english = client.get("/?lang=en", headers={"Accept-Language": "ru"})
    assert english.headers["content-language"] == "en" and "Speakers" in english.text


@pytest.mark.parametrize("path", ["/", "/all", "/speakers/pavel-latushka", "/topics/ukraine"])
def test_pages_revalidate_and_gzip_like_the_feeds(
    serve: Serve,  # noqa: F811
    mirror: list[Post],  # noqa: F811
    path: str,
) -> None:
    client = serve()
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    etag = plain.headers["etag"]
    again = client.get(path, headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.text == plain.text  # httpx inflates it
    assert zipped.headers["etag"] != etag
    tagged = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert tagged.status_code == 304
    other = client.get(path, params={"lang": "be"}, headers={"If-None-Match": etag})
    assert other.status_code == 200, "another language is another representation"


def _posts_by(person_id: str, count: int) -> list[Post]:
    person = get_person(person_id)
    assert person is not None
    start = datetime(2023, 1, 1, tzinfo=UTC)
    return [
        Post(
            url=f"https://belarus-nau.org/en/post/answer-{n}",
            id=f"wix-paging{n:03d}",
            cms="wix",
            title=f"Answers {n}",
            published=start + timedelta(days=n),
            modified=None,
            language="en",
            sections=(
                Section(
                    heading=f"Heading {n}",
                    topics=("ukraine",),
                    answers=(
                        Answer(f"Answer number {n}.", Speaker(person.name, person.id, person.name)),
                        Answer(f"Unattributed {n}.", Speaker("Moderator")),
                    ),
                ),
            ),
        )
        for n in range(count)
    ]


def test_speaker_pages_page_back_to_the_first_answer_once_each(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    posts = _posts_by("pavel-latushka", 2 * POSTS_PER_PAGE + 3)
    for post in posts:
        store.upsert_post(post, now=CRAWLED)
    publish_all(store, SETTINGS)
    client = serve()
    seen: list[str] = []
    url: str | None = "/speakers/pavel-latushka?lang=en"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        page = _html(response.text)
        seen += [p.text() for p in page.css("article.answer > p:not(.meta):not(.context)")]
        nxt = page.css_first('head link[rel="next"]')
        url = "/speakers/pavel-latushka" + str(nxt.attributes["href"]) if nxt else None
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(f"Answer number {n}." for n in range(len(posts)))
    assert client.get("/speakers/pavel-latushka?page=4").status_code == 404
    assert client.get("/speakers/pavel-latushka?page=0").status_code == 404
    assert client.get("/speakers/pavel-latushka?page=x1").status_code == 404
    topic = client.get("/topics/ukraine?lang=ru").text
    assert "Unattributed" in topic and "Спикер не определён" not in topic  # named "Moderator"


def test_unknown_pages_are_404(serve: Serve, mirror: list[Post]) -> None:  # noqa: F811
    client = serve()
    unknown = ("/speakers/nobody", "/topics/nothing", "/posts/wix-nothere", "/posts/wix-A%3Cb%3E")
    for path in unknown:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]


def test_post_page_shows_its_structure_languages_and_what_changed(
    serve: Serve,  # noqa: F811
    store: Store,
    mirror: list[Post],  # noqa: F811
) -> None:
    post = next(p for p in mirror if p.alternates and "pavel-latushka" in p.speaker_ids)
    store.upsert_post(edited(post, "pavel-latushka", " Added later."), now=CRAWLED)
    client = serve()
    page = _html(client.get(f"/posts/{post.id}", params={"lang": "en"}).text)
    assert page.css_first("h1").text() == post.title
    blocks = page.css("blockquote")
    assert len(blocks) == sum(len(s.answers) for s in post.sections)
    assert "Added later." in page.text()
    assert page.css_first("#changes") is not None
    linked = {str(a.attributes["hreflang"]) for a in page.css("main a[hreflang]")}
    stored_alternates = {
        code
        for code, url in post.alternates
        if code != post.language and store.post_id_for_url(url)
    }
    assert linked == stored_alternates
    for a in page.css("main a[hreflang]"):
        assert client.get(str(a.attributes["href"])).status_code == 200


def test_page_text_is_escaped(serve: Serve, store: Store) -> None:  # noqa: F811
    [post] = _posts_by("alina-koushyk", 1)
    hostile = dataclasses.replace(
        post,
        title="<script>alert(1)</script>",
        sections=(Section(answers=(Answer('<img src=x onerror="alert(2)">'),)),),
    )
    store.upsert_post(hostile, now=CRAWLED)
    client = serve()
    body = client.get(f"/posts/{post.id}").text
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in body
    assert gzip.decompress(gzip.compress(body.encode())) == body.encode()


def test_the_last_crawls_errors_are_escaped_on_the_index(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    error = '<img src=x onerror="alert(3)">'
    store.record_crawl(
        {"finished": "2026-12-02T10:00:00+00:00", "failures": [{"url": "x", "error": error}]}
    )
    body = serve().get("/").text
    line = body.split('id="last-crawl">', 1)[1].split("</p>", 1)[0]
    assert "<img" not in line and "&lt;img src=x" in line and "1 failed" in line
