"""What a subscriber sees: Debian's `newsboat` subscribed through each OPML the service offers.

The mirror is crawled over real HTTP into the test Redis, every feed is published, and the
app runs under a real uvicorn server on 127.0.0.1. Each OPML (the default one, which lists
every feed once in all languages, and the one of each language) is imported with newsboat's
own importer (`newsboat -i`) into a profile of its own; newsboat reloads headless
(`-x reload`) into its SQLite cache, which the test reads back: items per feed, guids,
content. Then a forced re-crawl and an edit at the source must leave the same items, with
the edit in them.

newsboat keeps one row per guid in its whole cache (its update is `... WHERE guid = ?`), so
an entry that two subscribed feeds share is one item, filed under whichever feed brought it
first: an OPML listing `all` beside `all?lang=en` would leave one of them looking empty.
Each OPML lists feeds that share no entry, so every feed with posts must show all of them.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import httpx
import pytest

from feeds.publish import publish_all, publish_changes
from feeds.render import FeedSpec
from services.crawl import crawl_all, open_deps
from services.model import LANGUAGES, Post
from services.storage import Store
from tests.conftest import require_program
from tests.feeds.test_publish import expected_count
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn server fixture)
from tests.fixtures.site import SITE, SiteServer

PUBLIC_URL = "https://feeds.example.org"
RELOAD_TIMEOUT = 120  # seconds for one `newsboat -x reload` of every subscribed feed
INSTALL = "apt-get update && apt-get install -y newsboat"
CHANGE_NOTE = "Edited at the source"

# The page edited at the source, and the words of Pavel Latushka's answer that change.
EDITED_HOST = "www.belarus-nau.org"
EDITED_PATH = "/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"
EDITED_POST_URL = f"https://{EDITED_HOST}{EDITED_PATH}"
EDITED_SPEAKER = "pavel-latushka"
OLD_WORDS = "has no basis whatsoever"
NEW_WORDS = "is contradicted by the grain price statistics of 2023"


@dataclass(frozen=True)
class Item:
    feed: str  # the feed URL as subscribed
    guid: str
    title: str
    url: str
    content: str


class Newsboat:
    """One newsboat profile in its own directory: urls file, config, cache, error log."""

    def __init__(self, executable: str, home: Path) -> None:
        self.executable = executable
        self.home = home
        self.urls = home / "urls"
        self.config = home / "config"
        self.cache = home / "cache.db"
        self.errors = home / "error.log"
        home.mkdir(parents=True)
        self.urls.touch()
        # Minimal and deterministic: one download at a time, bounded, no proxy, no
        # background reloads, nothing dropped from the cache by age or count.
        self.config.write_text(
            "\n".join(
                [
                    "reload-threads 1",
                    "download-timeout 20",
                    "download-retries 1",
                    "auto-reload no",
                    "use-proxy no",
                    "max-items 0",
                    "keep-articles-days 0",
                    "show-read-feeds yes",
                    'user-agent "nam-feeds-reader-test"',
                    f'error-log "{self.errors}"',
                    "",
                ]
            ),
            encoding="utf-8",
        )

    def subscribe(self, urls: list[str]) -> None:
        self.urls.write_text("".join(f"{url}\n" for url in urls), encoding="utf-8")

    def import_opml(self, opml: Path) -> list[str]:
        """Subscribe through newsboat's own OPML import; the URLs it wrote (a line may go on
        with tags: the names of the outlines the feed was in)."""
        self._run("-i", str(opml))
        lines = self.urls.read_text("utf-8").splitlines()
        return [line.split()[0] for line in lines if line.strip()]

    def tags(self) -> dict[str, list[str]]:
        """The tags newsboat gave each imported URL."""
        lines = self.urls.read_text("utf-8").splitlines()
        return {line.split()[0]: shlex.split(line)[1:] for line in lines if line.strip()}

    def reload(self) -> None:
        self.errors.unlink(missing_ok=True)
        self._run("-x", "reload")
        errors = self.errors.read_text("utf-8") if self.errors.exists() else ""
        assert not errors.strip(), f"newsboat reported errors:\n{errors}"

    def _run(self, *args: str) -> None:
        env = {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "xdg-config"),
            "XDG_DATA_HOME": str(self.home / "xdg-data"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "NO_PROXY": "127.0.0.1",
        }
        files = ["-u", str(self.urls), "-c", str(self.cache), "-C", str(self.config)]
        try:
            done = subprocess.run(
                [self.executable, *files, *args],
                env=env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=RELOAD_TIMEOUT,
            )
        except subprocess.TimeoutExpired:  # run() has killed and reaped it
            pytest.fail(f"newsboat {' '.join(args)} took over {RELOAD_TIMEOUT} s", pytrace=False)
        assert done.returncode == 0, (args, done.returncode, done.stdout, done.stderr)

    def items(self) -> list[Item]:
        with sqlite3.connect(f"file:{self.cache}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT feedurl, guid, title, url, content FROM rss_item WHERE deleted = 0"
            ).fetchall()
        return [Item(*row) for row in rows]

    def feeds(self) -> set[str]:
        with sqlite3.connect(f"file:{self.cache}?mode=ro", uri=True) as db:
            return {
                url for (url, title) in db.execute("SELECT rssurl, title FROM rss_feed") if title
            }

    def counts(self) -> dict[str, int]:
        return dict(Counter(item.feed for item in self.items()))

    def guids(self) -> set[tuple[str, str]]:
        return {(item.feed, item.guid) for item in self.items()}


def ids_seen(profiles: list[Newsboat]) -> list[set[tuple[str, str]]]:
    """The (feed, guid) pairs each reader holds."""
    return [r.guids() for r in profiles]


NewReader = Callable[[str], Newsboat]


@pytest.fixture
def new_reader(tmp_path: Path) -> NewReader:
    """Make newsboat profiles under tmp_path; a clear failure when newsboat is missing."""
    executable = require_program("newsboat", INSTALL)

    def make(name: str) -> Newsboat:
        return Newsboat(executable, tmp_path / "newsboat" / name)

    return make


# ---------------------------------------------------------------- expectations


def spec_of(url: str) -> FeedSpec:
    """`.../feeds/topics/ukraine.atom?lang=ru` -> FeedSpec('topic', 'ukraine', 'ru')."""
    parts = urlsplit(url)
    name = parts.path.removeprefix("/feeds/").rsplit(".", 1)[0]
    lang = parse_qs(parts.query).get("lang", [""])[0]
    return FeedSpec.from_feed_key(name + (f"@{lang}" if lang else ""))


def distinct_entries(posts: list[Post]) -> int:
    """Entries of all feeds counted once: per post, per post and topic, per post and person."""
    count = 0
    for post in posts:
        topics = {t for section in post.sections for t in section.topics}
        count += 1 + len(topics) + len(set(post.speaker_ids))
    return count


def stored_posts(store: Store) -> list[Post]:
    return [s.post for s in store.recent_posts(limit=max(store.count_posts(), 1))]


def local_opml(client: httpx.Client, lang: str | None, fmt: str = "atom") -> bytes:
    """An OPML with the public base URL swapped for the test server's address."""
    params = {"format": fmt} | ({"lang": lang} if lang else {})
    response = client.get("/feeds.opml", params=params)
    assert response.status_code == 200
    return response.content.replace(PUBLIC_URL.encode(), str(client.base_url).rstrip("/").encode())


def opml_urls(opml: bytes) -> list[str]:
    return [o.attrib["xmlUrl"] for o in ET.fromstring(opml).iter("outline") if "xmlUrl" in o.attrib]


def check_profile(reader: Newsboat, urls: list[str], posts: list[Post]) -> dict[str, int]:
    """Every feed read, each holding what the stored posts imply, each guid once."""
    assert reader.feeds() == set(urls), "newsboat did not read every subscribed feed"
    items = reader.items()
    duplicated = [g for g, n in Counter(i.guid for i in items).items() if n > 1]
    assert not duplicated, duplicated
    assert all(i.guid.startswith("tag:") and i.title and i.url for i in items)
    found = reader.counts()
    counts = {url: found.get(url, 0) for url in urls}
    assert set(found) <= set(urls)
    assert counts == {url: expected_count(spec_of(url), posts) for url in urls}
    return counts


def check_everything(reader: Newsboat, posts: list[Post]) -> int:
    items = reader.items()
    assert len({i.guid for i in items}) == len(items) == distinct_entries(posts)
    return len(items)


# ---------------------------------------------------------------- the test


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_newsboat_sees_every_item_once_through_recrawl_and_edit(
    fmt: str,
    new_reader: NewReader,
    site: SiteServer,
    store: Store,
    redis_url: str,
    serve: Serve,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    settings = site.settings(public_url=PUBLIC_URL)
    with open_deps(settings, redis_url) as deps:
        first = crawl_all(deps)
        assert store.count_posts() == len(list((SITE / "expected").glob("*.json"))), first
        publish_all(store, settings)
        posts = stored_posts(store)

        client = serve(settings, with_broker=False)
        # One subscriber per OPML, each through newsboat's own importer.
        profiles: dict[str, tuple[Newsboat, list[str]]] = {}
        for lang in (None, *LANGUAGES):
            name = lang or "any"
            opml = tmp_path / f"feeds-{name}.opml"
            opml.write_bytes(local_opml(client, lang, fmt))
            listed = opml_urls(opml.read_bytes())
            assert listed and all(spec_of(u).language == lang for u in listed), name
            reader = new_reader(name)
            assert sorted(reader.import_opml(opml)) == sorted(listed)
            # the OPML's groups come through as tags
            assert {t for tags in reader.tags().values() for t in tags} == {
                "All",
                "Topics",
                "Speakers",
            }
            profiles[name] = (reader, listed)
        readers = [reader for reader, _ in profiles.values()]
        everything = profiles["any"][0]

        def reload_and_count() -> tuple[int, dict[str, dict[str, int]]]:
            for reader in readers:
                reader.reload()
            fresh = stored_posts(store)
            total = check_everything(everything, fresh)
            per_feed = {k: check_profile(r, urls, fresh) for k, (r, urls) in profiles.items()}
            for urls in per_feed.values():  # every feed with posts shows items
                assert all(n > 0 for u, n in urls.items() if expected_count(spec_of(u), fresh))
            return total, per_feed

        before = reload_and_count()
        all_feed = next(u for u in profiles["any"][1] if spec_of(u) == FeedSpec("all"))
        assert before[1]["any"][all_feed] == len(posts)
        seen = ids_seen(readers)
        edited_before = [i for i in profiles["any"][0].items() if i.url == EDITED_POST_URL]
        assert any(OLD_WORDS in i.content for i in edited_before)

        # A forced re-crawl fetches and parses every page again: nothing new to read.
        again = crawl_all(deps, force=True)
        assert again.counts["unchanged"] == len(posts), again.as_dict()
        assert again.counts["new"] == again.counts["edited"] == 0, again.as_dict()
        publish_all(store, settings)
        assert reload_and_count() == before
        assert ids_seen(readers) == seen

        # An edit at the source: the answer's words change in the page's own markup.
        page = SITE / EDITED_HOST / f"{EDITED_PATH.lstrip('/')}.html"
        original = page.read_bytes()
        assert OLD_WORDS.encode() in original
        site.override(
            EDITED_HOST, EDITED_PATH, original.replace(OLD_WORDS.encode(), NEW_WORDS.encode())
        )
        edit = crawl_all(deps)
        assert edit.counts["edited"] == 1, edit.as_dict()
        assert publish_changes(store, settings) >= 1
        assert reload_and_count() == before
        assert ids_seen(readers) == seen

    # The edited post is English: the OPML subscriber, the any-language and English ones.
    for reader in (profiles["any"][0], profiles["en"][0]):
        edited = [i for i in reader.items() if i.url == EDITED_POST_URL]
        assert edited and all(OLD_WORDS not in i.content for i in edited)
        with_answer = [
            i
            for i in edited
            if ("/topic/" not in i.guid and "/speaker/" not in i.guid)
            or i.guid.endswith(f"/speaker/{EDITED_SPEAKER}")
        ]
        assert len(with_answer) == 2, [i.guid for i in edited]  # the all and speaker entries
        for item in with_answer:
            assert NEW_WORDS in item.content and CHANGE_NOTE in item.content, item.guid
