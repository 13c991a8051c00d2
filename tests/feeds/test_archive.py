"""History beyond the newest entries: RFC 5005 archived feeds.

A reader that follows `prev-archive` from a feed's current document to the oldest archive
page finds every stored post exactly once; full archive pages never change their entries
as posts arrive, and are served as immutable."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest

from feeds.publish import publish_all, publish_changes
from feeds.render import OPEN_PAGE, FeedSpec, entry_id, plan_archive
from services.model import Answer, Post, Section, Speaker
from services.settings import Settings
from services.storage import Store
from tests.feeds.test_publish import SETTINGS, load_mirror
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn server fixture)

ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
SMALL = dataclasses.replace(SETTINGS, feed_size=2)
T0 = datetime(2024, 1, 1, 9, 30, tzinfo=UTC)
LATUSHKA = Speaker("P. Latushka", "pavel-latushka", "Pavel Latushka")


def synthetic(n: int) -> Post:
    return Post(
        url=f"https://www.belarus-nau.org/en/post/synthetic-{n}",
        id=f"wix-synthetic-{n:03d}",
        cms="wix",
        title=f"Post {n}",
        published=T0 + timedelta(days=n),
        modified=None,
        language="en",
        source="NAM-media",
        sections=(Section("Sanctions", None, ("sanctions",), (Answer(f"Answer {n}.", LATUSHKA),)),),
    )


def local(url: str, settings: Settings) -> str:
    return url.removeprefix(settings.public_url)


def walk_atom(client: httpx.Client, path: str, settings: Settings) -> list[tuple[str, Any]]:
    """(path, root) of each document from the current one back to the oldest."""
    seen = []
    while path:
        response = client.get(path)
        assert response.status_code == 200, path
        root = ET.fromstring(response.content)
        seen.append((path, root))
        assert len(seen) < 100, "prev-archive links go round in a circle"
        links = {link.get("rel"): link.get("href") for link in root.iter(f"{ATOM}link")}
        path = local(links["prev-archive"], settings) if "prev-archive" in links else ""
    return seen


def atom_ids(root: Any) -> list[str]:
    return [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")]


def test_plan_keeps_full_pages_as_posts_arrive() -> None:
    spec = FeedSpec("all")
    ids = [f"p{n:02d}" for n in range(11, 0, -1)]  # newest first: p11 … p01
    plan = plan_archive(spec, ids, 3)
    assert plan.pages == {
        1: ("p03", "p02", "p01"),
        2: ("p06", "p05", "p04"),
        OPEN_PAGE: ("p08", "p07"),
    }
    later = plan_archive(spec, ["p13", "p12", *ids], 3)
    assert later.pages[1] == plan.pages[1] and later.pages[2] == plan.pages[2]
    assert later.pages[3] == ("p09", "p08", "p07") and later.pages[OPEN_PAGE] == ("p10",)
    assert later.order() == [1, 2, 3, OPEN_PAGE]
    assert later.links(None).prev_archive == spec.archive(OPEN_PAGE)
    assert later.links(3).prev_archive == spec.archive(2)
    assert later.links(3).next_archive == spec.archive(OPEN_PAGE)
    assert plan_archive(spec, ids[:3], 3).pages == {}


def test_walking_the_all_feed_finds_every_post_once(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    posts = load_mirror(store, SMALL)
    for n in range(7):
        store.upsert_post(synthetic(n), now=T0)
    publish_all(store, SMALL)
    client = serve(SMALL)
    documents = walk_atom(client, "/feeds/all.atom", SMALL)
    found = Counter(i for _, root in documents for i in atom_ids(root))
    expected = {entry_id(p.id) for p in posts} | {entry_id(synthetic(n).id) for n in range(7)}
    assert set(found) == expected and set(found.values()) == {1}
    assert len(documents) > 3
    current, *archive = documents
    assert current[1].find(f"{FH}archive") is None and len(atom_ids(current[1])) == 2
    for path, root in archive:
        assert root.find(f"{FH}archive") is not None, path
        rels = {link.get("rel"): link.get("href") for link in root.iter(f"{ATOM}link")}
        assert local(rels["current"], SMALL) == "/feeds/all.atom", path
        assert local(rels["self"], SMALL) == path
    # the oldest page links no older one, and each page's next-archive is the one walked before
    for (newer, _), (_, older) in zip(archive, archive[1:], strict=False):
        rels = {link.get("rel"): link.get("href") for link in older.iter(f"{ATOM}link")}
        assert local(rels["next-archive"], SMALL) == newer


def test_full_archive_pages_are_immutable_and_the_open_page_is_not(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    for n in range(7):  # 2 current, then pages 1 and 2 full, one post on the open page
        store.upsert_post(synthetic(n), now=T0)
    publish_all(store, SMALL)
    client = serve(SMALL)
    full = client.get("/feeds/topics/sanctions/archive/1.atom")
    assert full.status_code == 200
    assert "immutable" in full.headers["cache-control"]
    assert "max-age=31536000" in full.headers["cache-control"]
    open_page = client.get("/feeds/topics/sanctions/archive/open.atom")
    assert open_page.status_code == 200
    assert "immutable" not in open_page.headers["cache-control"]
    assert client.get("/feeds/all.atom").headers["cache-control"] == "public, max-age=300"
    again = client.get(
        "/feeds/topics/sanctions/archive/1.atom", headers={"If-None-Match": full.headers["etag"]}
    )
    assert again.status_code == 304


def test_new_posts_leave_full_pages_untouched_and_the_walk_complete(
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    for n in range(7):
        store.upsert_post(synthetic(n), now=T0)
    publish_all(store, SMALL)
    publish_changes(store, SMALL)  # the events of the first posts: nothing left to do
    frozen = {
        k: store.get_feed(k) for k in store.feed_keys() if "/archive/" in k and "open" not in k
    }
    assert frozen
    for n in range(7, 12):
        store.upsert_post(synthetic(n), now=T0 + timedelta(days=n))
        assert publish_changes(store, SMALL) == 1
    for key, before in frozen.items():
        assert store.get_feed(key) == before, key
    client = serve(SMALL)
    for fmt_path in ("/feeds/speakers/pavel-latushka.atom", "/feeds/all.atom?lang=en"):
        documents = walk_atom(client, fmt_path, SMALL)
        found = Counter(
            i.rsplit("/", 2)[0] if "/speaker/" in i else i
            for _, r in documents
            for i in atom_ids(r)
        )
        assert len(found) == 12 and set(found.values()) == {1}, fmt_path


@pytest.mark.parametrize("fmt", ["rss", "json"])
def test_rss_and_json_feeds_page_back_the_same_way(
    fmt: str,
    serve: Serve,  # noqa: F811
    store: Store,
) -> None:
    for n in range(7):
        store.upsert_post(synthetic(n), now=T0)
    publish_all(store, SMALL)
    client = serve(SMALL)
    path, ids = f"/feeds/all.{fmt}", []
    while path:
        response = client.get(path)
        assert response.status_code == 200, path
        if fmt == "json":
            document = json.loads(response.content)
            ids += [item["id"] for item in document["items"]]
            path = local(document.get("next_url", ""), SMALL)
        else:
            channel = ET.fromstring(response.content).find("channel")
            assert channel is not None
            ids += [g.text for g in channel.iter("guid")]
            prev = [
                a.get("href") for a in channel.iter(f"{ATOM}link") if a.get("rel") == "prev-archive"
            ]
            path = local(prev[0], SMALL) if prev else ""
        assert len(ids) < 100
    assert sorted(ids) == sorted(entry_id(synthetic(n).id) for n in range(7))
