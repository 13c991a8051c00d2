"""Every feed the index or the OPML names answers 200 over HTTP, with posts or without: each
topic, speaker and language of the registries. Empty ones behave like the others (ids, a
fixed `updated`, ETag and 304); a slug no registry knows is still a 404."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

import feedparser

from feeds.publish import publish_all
from feeds.render import EMPTY_FEED_UPDATED, TAG_AUTHORITY, FeedSpec
from services.model import LANGUAGES
from services.people import all_people
from services.storage import Store
from services.topics import all_topics
from tests.feeds.test_publish import SETTINGS, expected_count, load_mirror
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn server fixture)

ATOM = "{http://www.w3.org/2005/Atom}"


def registry_specs() -> list[FeedSpec]:
    bases = [FeedSpec("all")]
    bases += [FeedSpec("topic", t.slug) for t in all_topics()]
    bases += [FeedSpec("speaker", p.id) for p in all_people()]
    return [FeedSpec(b.kind, b.key, lang) for b in bases for lang in (None, *LANGUAGES)]


def test_every_registry_feed_answers_200_in_every_format(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    posts = load_mirror(store)
    client = serve()
    empty = 0
    for spec in registry_specs():
        want = expected_count(spec, posts)
        empty += want == 0
        for fmt in ("atom", "rss", "json"):
            response = client.get(spec.path(fmt))
            assert response.status_code == 200, spec.path(fmt)
            if fmt == "json":
                assert len(json.loads(response.content)["items"]) == want, spec.path(fmt)
                continue
            parsed: Any = feedparser.parse(response.content)
            assert not parsed.get("bozo_exception"), (spec.path(fmt), parsed.bozo_exception)
            assert len(parsed.entries) == want, spec.path(fmt)
    assert empty > 0, "the mirror should leave some registry feeds without posts"


def test_an_empty_feed_has_an_id_a_fixed_updated_and_revalidates(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    publish_all(store, SETTINGS)  # no posts at all: every feed is empty
    client = serve()
    path = "/feeds/topics/diaspora.atom?lang=be"
    first = client.get(path, headers={"Accept-Encoding": "identity"})
    assert first.status_code == 200
    root = ET.fromstring(first.content)
    assert root.findtext(f"{ATOM}id") == f"{TAG_AUTHORITY}feed/topics/diaspora@be"
    assert root.findtext(f"{ATOM}updated") == EMPTY_FEED_UPDATED.isoformat()
    assert root.findall(f"{ATOM}entry") == []
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    since = client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    publish_all(store, SETTINGS)
    assert client.get(path, headers={"Accept-Encoding": "identity"}).content == first.content


def test_unknown_slugs_are_still_404(serve: Serve, store: Store) -> None:  # noqa: F811
    load_mirror(store)
    client = serve()
    for path in (
        "/feeds/topics/no-such-topic.atom",
        "/feeds/speakers/nobody-at-all.json",
        "/feeds/topics/ukraine/archive/999.atom",
        "/feeds/all.txt",
    ):
        assert client.get(path).status_code == 404, path
