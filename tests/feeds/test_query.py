"""Query feeds: `/feeds/all.{atom,rss,json}?speaker=&topic=&lang=&q=`, combined.

Counted against the parsed mirror over real HTTP; the same ids as the other feeds; a name
in q matches the person in any script; rendered once and then served from a bounded cache
with ETag; a bad value is a 400 that says what is allowed."""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

import feedparser
import psutil
import pytest

from feeds.render import entry_id
from feeds.web import create_app
from feeds.web._cache import REVALIDATE_AFTER
from feeds.web._query import QueryFeeds
from services.model import Answer, Post, Section
from services.storage import Store
from tests.feeds.feedcheck import atom_problems, json_problems, rss_problems
from tests.feeds.test_publish import CRAWLED, SETTINGS, load_mirror
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn server fixture)

LATUSHKA, KAVALEUSKI = "pavel-latushka", "valery-kavaleuski"
TSIKHANOUSKAYA = "sviatlana-tsikhanouskaya"
# q as a reader types it -> (words that must begin a word of the text, people named)
QS: dict[str | None, tuple[tuple[str, ...], tuple[str, ...]]] = {
    None: ((), ()),
    "sanctions": (("sanctions",), ()),
    "SANCT": (("sanct",), ()),
    "Украин": (("украин",), ()),
    "border crossings": (("border", "crossings"), ()),
    "Латушко": ((), (LATUSHKA,)),
    "латушко санкции": (("санкции",), (LATUSHKA,)),
    "Ковалевский Ukraine": (("ukraine",), (KAVALEUSKI,)),
}
SPEAKERS = [None, LATUSHKA, KAVALEUSKI, TSIKHANOUSKAYA]
TOPICS = [None, "sanctions", "ukraine", "international"]
LANGS = [None, "en", "ru"]


def _sections(post: Post, speaker: str | None, topic: str | None) -> list[Section]:
    if speaker:
        held = []
        for s in post.sections:
            mine = tuple(a for a in s.answers if a.speaker and a.speaker.id == speaker)
            if mine:
                held.append(Section(s.heading, s.question, s.topics, mine))
        return held
    if topic:
        return [s for s in post.sections if topic in s.topics]
    return list(post.sections)


def expected_ids(
    posts: list[Post], speaker: str | None, topic: str | None, lang: str | None, q: str | None
) -> set[str]:
    words, people = QS[q]
    found = set()
    for post in posts:
        if lang and post.language != lang:
            continue
        sections = _sections(post, speaker, topic)
        if (speaker or topic) and not sections:
            continue
        if speaker and topic and not any(topic in s.topics for s in sections):
            continue
        texts = [
            t for s in sections for t in (s.heading, s.question, *(a.text for a in s.answers)) if t
        ]
        tokens = {w.casefold() for t in texts for w in re.findall(r"\w+", t)}
        if not all(any(t.startswith(w) for t in tokens) for w in words):
            continue
        answering = {a.speaker.id for s in sections for a in s.answers if a.speaker}
        if not set(people) <= answering:
            continue
        kind, key = (
            ("speaker", speaker) if speaker else ("topic", topic) if topic else ("all", None)
        )
        found.add(entry_id(post.id, kind, key))  # type: ignore[arg-type]
    return found


def query(**params: str | None) -> str:
    given = {k: v for k, v in params.items() if v is not None}
    return "/feeds/all.json?" + urlencode(given)


def test_combined_parameters_count_what_the_mirror_holds(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    posts = load_mirror(store)
    client = serve()
    nonempty = 0
    for speaker, topic, lang, q in itertools.product(SPEAKERS, TOPICS, LANGS, QS):
        if not (speaker or topic or q):
            continue  # no query: the stored feed answers
        response = client.get(query(speaker=speaker, topic=topic, lang=lang, q=q))
        assert response.status_code == 200, response.text
        got = {i["id"] for i in json.loads(response.content)["items"]}
        want = expected_ids(posts, speaker, topic, lang, q)
        assert got == want, (speaker, topic, lang, q)
        nonempty += bool(want)
    assert nonempty > 20


def test_a_name_in_any_script_finds_the_person(serve: Serve, store: Store) -> None:  # noqa: F811
    load_mirror(store)
    client = serve()
    found = {}
    for q in ("Латушко", "Латушка", "latushka", "P. Latushka", "Pavel Latushka"):
        items = json.loads(client.get(query(q=q)).content)["items"]
        found[q] = {i["id"] for i in items}
    assert found["Латушко"] and len({frozenset(v) for v in found.values()}) == 1, found
    for item in json.loads(client.get(query(q="Латушко")).content)["items"]:
        speakers = {s["id"] for s in item["_nam"]["speakers"]}
        assert LATUSHKA in speakers


def test_same_ids_as_the_feeds_they_filter(serve: Serve, store: Store) -> None:  # noqa: F811
    load_mirror(store)
    client = serve()
    for fmt in ("atom", "rss"):
        for params, stored in (
            ({"speaker": LATUSHKA}, f"/feeds/speakers/{LATUSHKA}.{fmt}"),
            ({"topic": "ukraine", "lang": "ru"}, f"/feeds/topics/ukraine.{fmt}?lang=ru"),
        ):
            path = f"/feeds/all.{fmt}?{urlencode(params)}"
            mine: Any = feedparser.parse(client.get(path).content)
            theirs: Any = feedparser.parse(client.get(stored).content)
            assert [e.id for e in mine.entries] == [e.id for e in theirs.entries], path
            assert mine.entries


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_query_feeds_are_valid(fmt: str, serve: Serve, store: Store) -> None:  # noqa: F811
    load_mirror(store)
    client = serve()
    path = f"/feeds/all.{fmt}?" + urlencode(
        {"speaker": LATUSHKA, "topic": "sanctions", "q": "border"}
    )
    response = client.get(path)
    assert response.status_code == 200
    check = {"atom": atom_problems, "rss": rss_problems, "json": json_problems}[fmt]
    assert check(response.content, SETTINGS.public_url + path) == []


def test_rendered_once_then_served_from_the_cache_with_etag(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    load_mirror(store)
    client, queries = start(serve, store)
    path = "/feeds/all.atom?" + urlencode({"q": "sanctions", "lang": "en"})
    first = client.get(path)
    renders = queries.renders
    second = client.get(path)
    assert second.content == first.content and queries.renders == renders
    assert second.headers["etag"] == first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304


def test_query_feeds_are_gzipped_for_clients_that_ask_and_vary_on_it(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    load_mirror(store)
    client = serve()
    path = "/feeds/all.rss?" + urlencode({"speaker": LATUSHKA, "q": "sanctions"})
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
        zipped = b"".join(response.iter_raw())
        headers = response.headers
    assert headers["content-encoding"] == "gzip" and gzip.decompress(zipped) == plain.content
    assert headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert headers["etag"] != plain.headers["etag"]  # two variants, two tags
    for tag in (headers["etag"], plain.headers["etag"]):  # either validates
        again = client.get(path, headers={"If-None-Match": tag, "Accept-Encoding": "gzip"})
        assert again.status_code == 304 and again.headers["etag"] == tag


def test_a_new_post_is_in_a_query_feed_once_the_app_revalidates(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    posts = load_mirror(store)
    client, queries = start(serve, store)
    path = "/feeds/all.atom?" + urlencode({"q": "zebrafish"})
    first = client.get(path)
    assert first.status_code == 200 and b"<entry" not in first.content
    renders = queries.renders
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and queries.renders == renders  # nothing moved
    new = dataclasses.replace(
        posts[0],
        url=posts[0].url + "-zebrafish",
        id=posts[0].id + "-zebrafish",
        sections=(Section(heading="Zebrafish", answers=(Answer(text="Zebrafish are fine."),)),),
    )
    store.upsert_post(new, now=CRAWLED)
    time.sleep(REVALIDATE_AFTER * 1.5)  # the app trusts its copy that long
    moved = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert moved.status_code == 200 and queries.renders == renders + 1
    assert [e.id for e in feedparser.parse(moved.content).entries] == [entry_id(new.id)]


def start(serve: Serve, store: Store) -> tuple[Any, QueryFeeds]:  # noqa: F811
    """A served app and its query feeds."""
    app = create_app(SETTINGS, store)
    return serve(app=app), app.app.state.queries  # LeanFeeds wraps the Starlette app


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"speaker": "nobody"}, "speaker must be one of: aliaksandr-azarau"),
        ({"topic": "weather"}, "topic must be one of: "),
        ({"lang": "de", "q": "x"}, "lang must be one of en, ru, be"),
        ({"q": "x" * 201}, "q must be 1 to 200 characters"),
        ({"q": "   "}, "q must be 1 to 200 characters"),
        ({"q": "!!!"}, "q must hold at least one word"),
        ({"q": " ".join(["word"] * 13)}, "q takes at most 12 words"),
    ],
)
def test_bad_values_are_400_saying_what_is_allowed(
    params: dict[str, str],
    says: str,
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    load_mirror(store)
    client = serve()
    response = client.get("/feeds/all.atom?" + urlencode(params))
    assert response.status_code == 400
    assert says in response.text


def test_ten_thousand_distinct_queries_keep_memory_bounded(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    load_mirror(store)
    client, queries = start(serve, store)
    cache = queries.cache
    process = psutil.Process()
    for n in range(200):  # warm up: allocator, imports, first renders
        client.get(query(q=f"warmup{n}"))
    before = process.memory_info().rss
    for n in range(10_000):
        response = client.get(query(q=f"nothing{n} matches", lang=("en", "ru", None)[n % 3]))
        assert response.status_code == 200
    grown = process.memory_info().rss - before
    assert len(cache) <= cache.size and cache.held <= cache.max_bytes
    assert len(cache) == cache.size  # it filled and then dropped the oldest
    assert grown < 64 * 1024 * 1024, f"memory grew by {grown / 2**20:.1f} MiB"
