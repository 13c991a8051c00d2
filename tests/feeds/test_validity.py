"""Every feed the service stores passes the W3C Feed Validator's documented checks with no
error and no warning (tests/feeds/feedcheck.py): Atom, RSS and JSON Feed, current documents
and archive pages, empty or not, from the parsed mirror."""

from __future__ import annotations

import dataclasses

import pytest

from feeds.render import FeedSpec
from services.storage import Store
from tests.feeds.feedcheck import atom_problems, json_problems, rss_problems
from tests.feeds.test_publish import SETTINGS, load_mirror

CHECKS = {"atom": atom_problems, "rss": rss_problems, "json": json_problems}
# Two entries a page, so the five mirror posts fill archive pages too.
SMALL = dataclasses.replace(SETTINGS, feed_size=2)


@pytest.mark.parametrize("settings", [SETTINGS, SMALL], ids=["feed-size-50", "feed-size-2"])
def test_every_stored_feed_is_valid(store: Store, settings: object) -> None:
    load_mirror(store, settings)  # type: ignore[arg-type]
    names = store.feed_keys()
    archives = [n for n in names if "/archive/" in n]
    assert (len(archives) > 0) == (settings is SMALL)
    found = {}
    for name in names:
        key, fmt = name.rsplit(".", 1)
        stored = store.get_feed(name)
        assert stored is not None
        url = SETTINGS.public_url + FeedSpec.from_feed_key(key).path(fmt)  # type: ignore[arg-type]
        problems = CHECKS[fmt](stored.body, url)
        if problems:
            found[name] = problems
    assert not found, found


def test_the_checks_catch_what_they_name() -> None:
    """The checker is not a rubber stamp: each broken feed gives the validator's complaint."""
    atom = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><id>tag:x.org,2023:f</id>
<title>t</title><updated>2023-01-01T00:00:00Z</updated><author><name>a</name></author>
<link href="https://x.org/other.atom" rel="self"/>
<entry><id>tag:x.org,2023:e</id><title>e</title><updated>2023-01-01T00:00:00Z</updated>
<content type="html">&lt;a href="/relative"&gt;x&lt;/a&gt;</content></entry>
<entry><id>tag:x.org,2023:e</id><title>e</title><updated>2023-01-01T00:00:00Z</updated>
<content type="html">x</content></entry></feed>"""
    problems = " ".join(atom_problems(atom, "https://x.org/feed.atom"))
    for name in (
        "SelfDoesntMatchLocation",
        "DuplicateEntries",
        "DuplicateUpdated",
        "ContainsRelRef",
    ):
        assert name in problems, name
    rss = b"""<?xml version='1.0' encoding='UTF-8'?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
<link>https://x.org/</link><description>d</description>
<item><title>i</title><guid>not-a-url</guid><pubDate>Mon, 01 Jan 2023 00:00:00 +0000</pubDate>
<dc:date>2023-01-01T00:00:00Z</dc:date></item></channel></rss>"""
    problems = " ".join(rss_problems(rss, "https://x.org/feed.rss"))
    for name in (
        "MissingAtomSelfLink",
        "InvalidLanguage",
        "InvalidPermalink",
        "IncorrectDOW",
        "DuplicateItemSemantics",
    ):
        assert name in problems, name
    assert json_problems(b'{"version": "1", "items": [{}]}', "https://x.org/f.json")
