"""JSON Feed 1.1 for every feed: the specification's required fields and types, the same ids
as Atom and RSS, and each item's `_nam` structure matching the parsed mirror."""

from __future__ import annotations

import json
from typing import Any

import feedparser

from feeds.publish import labels, published_feeds
from feeds.render import entry_id
from services.model import Post
from services.storage import Store
from tests.feeds.feedcheck import json_problems
from tests.feeds.test_publish import SETTINGS, load_mirror
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn server fixture)


def test_every_json_feed_has_the_required_fields_and_the_atom_ids(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    load_mirror(store)
    client = serve()
    for spec in published_feeds(store):
        response = client.get(spec.path("json"))
        assert response.status_code == 200, spec
        assert response.headers["content-type"] == "application/feed+json; charset=utf-8"
        assert json_problems(response.content, SETTINGS.public_url + spec.path("json")) == []
        document = json.loads(response.content)
        atom: Any = feedparser.parse(client.get(spec.path("atom")).content)
        assert [i["id"] for i in document["items"]] == [e.id for e in atom.entries], spec
        assert document["title"] == atom.feed.title


def _speaker(answer: Any) -> tuple[str | None, str] | None:
    return None if answer["speaker"] is None else (answer["speaker"]["id"], answer["text"])


def test_nam_extension_holds_who_said_what(store: Store) -> None:
    posts = {p.id: p for p in load_mirror(store)}
    stored = store.get_feed("all.json")
    assert stored is not None
    items = json.loads(stored.body)["items"]
    assert {i["id"] for i in items} == {entry_id(p) for p in posts}
    names = labels()
    for item in items:
        nam = item["_nam"]
        post: Post = posts[nam["post_id"]]
        assert nam["language"] == post.language == item["language"]
        assert len(nam["sections"]) == len(post.sections)
        for got, section in zip(nam["sections"], post.sections, strict=True):
            assert (got["heading"], got["question"]) == (section.heading, section.question)
            assert got["topics"] == list(section.topics)
            want = [(a.speaker.id, a.text) if a.speaker else None for a in section.answers]
            assert [_speaker(a) for a in got["answers"]] == want
            for answer, source in zip(got["answers"], section.answers, strict=True):
                if source.speaker and source.speaker.id:
                    name = names.person(source.speaker.id, post.language)
                    assert answer["speaker"]["name"] == name
        assert [s["id"] for s in nam["speakers"] if s["id"]] == list(post.speaker_ids)
        assert [t["slug"] for t in nam["topics"]] == list(post.topic_slugs)
        assert all(t["name"] == names.topic(t["slug"], post.language) for t in nam["topics"])


def test_a_speaker_json_feed_holds_only_that_persons_answers(store: Store) -> None:
    load_mirror(store)
    stored = store.get_feed("speakers/pavel-latushka.json")
    assert stored is not None
    items = json.loads(stored.body)["items"]
    assert items
    for item in items:
        assert item["authors"] == [{"name": labels().person("pavel-latushka", item["language"])}]
        answers = [a for s in item["_nam"]["sections"] for a in s["answers"]]
        assert answers and {a["speaker"]["id"] for a in answers} == {"pavel-latushka"}
