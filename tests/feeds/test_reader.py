"""What a subscriber sees: Debian's `newsboat` subscribed to every feed of the OPML.

The mirror is crawled over real HTTP into the test Redis, every feed is published, and the
app runs under a real uvicorn server on 127.0.0.1. newsboat reloads headless (`-x reload`)
into its own SQLite cache, which the test reads back: items per feed, guids, content. Then a
forced re-crawl and an edit at the source must leave the same items, with the edit in them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import httpx
import pytest

from feeds.publish import publish_all, publish_changes
from feeds.render import FeedSpec
from services.crawl import crawl_all, open_deps
from services.model import Post
from services.settings import Settings
from services.storage import Store
from tests.feeds.test_publish import expected_count
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn fixture)
from tests.fixtures.site import SITE, SiteServer

PUBLIC_URL = "https://feeds.example.org"
RELOAD_TIMEOUT = 120  # seconds for one `newsboat -x reload` of every feed
INSTALL = "apt-get update && apt-get install -y newsboat"

# The page edited at the source, and the words of Pavel Latushka's answer that change.
EDITED_HOST = "www.belarus-nau.org"
EDITED_PATH = "/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"
EDITED_POST_URL = f"https://{EDITED_HOST}{EDITED_PATH}"
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
    """One newsboat profile in a temporary directory: urls file, config, cache, error log."""

    def __init__(self, executable: str, home: Path) -> None:
        self.executable = executable
        self.home = home
        self.urls = home / "urls"
        self.config = home / "config"
        self.cache = home / "cache.db"
        self.errors = home / "error.log"
        home.mkdir(parents=True, exist_ok=True)
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

    def reload(self) -> None:
        env = {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "xdg-config"),
            "XDG_DATA_HOME": str(self.home / "xdg-data"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "NO_PROXY": "127.0.0.1",
        }
        self.errors.unlink(missing_ok=True)
        command = [
            self.executable,
            "-u",
            str(self.urls),
            "-c",
            str(self.cache),
            "-C",
            str(self.config),
            "-x",
            "reload",
        ]
        try:
            done = subprocess.run(
                command,
                env=env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=RELOAD_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:  # run() has killed it already
            pytest.fail(f"newsboat reload took over {RELOAD_TIMEOUT} s: {exc.stderr!r}")
        assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
        errors = self.errors.read_text("utf-8") if self.errors.exists() else ""
        assert not errors.strip(), f"newsboat reported errors:\n{errors}"

    def items(self) -> list[Item]:
        with sqlite3.connect(f"file:{self.cache}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT feedurl, guid, title, url, content FROM rss_item WHERE deleted = 0"
            ).fetchall()
        return [Item(*row) for row in rows]

    def feeds(self) -> dict[str, str]:
        """Subscribed feed URL -> the title newsboat read from it."""
        with sqlite3.connect(f"file:{self.cache}?mode=ro", uri=True) as db:
            return dict(db.execute("SELECT rssurl, title FROM rss_feed").fetchall())


@pytest.fixture
def newsboat(tmp_path: Path) -> Newsboat:
    executable = shutil.which("newsboat")
    if executable is None:
        pytest.fail(
            f"newsboat is not installed; this test needs the real reader: `{INSTALL}`",
            pytrace=False,
        )
    return Newsboat(executable, tmp_path / "newsboat")


def spec_of(url: str) -> FeedSpec:
    """`.../feeds/topics/ukraine.atom?lang=ru` -> FeedSpec('topic', 'ukraine', 'ru')."""
    parts = urlsplit(url)
    name = parts.path.removeprefix("/feeds/").rsplit(".", 1)[0]
    lang = parse_qs(parts.query).get("lang", [""])[0]
    return FeedSpec.from_feed_key(name + (f"@{lang}" if lang else ""))


def opml_feed_urls(client: httpx.Client) -> list[str]:
    """Every feed the OPML lists, at the test server's address instead of the public one."""
    response = client.get("/feeds.opml")
    assert response.status_code == 200
    listed = [o.attrib["xmlUrl"] for o in ET.fromstring(response.content).iter("outline")]
    assert listed and all(url.startswith(PUBLIC_URL + "/feeds/") for url in listed)
    local = str(client.base_url).rstrip("/")
    return [local + url.removeprefix(PUBLIC_URL) for url in listed]


def stored_posts(store: Store) -> list[Post]:
    return [s.post for s in store.recent_posts(limit=max(store.count_posts(), 1))]


def by_feed(items: list[Item]) -> dict[str, list[Item]]:
    found: dict[str, list[Item]] = {}
    for item in items:
        found.setdefault(item.feed, []).append(item)
    return found


def check_items(reader: Newsboat, urls: list[str], posts: list[Post]) -> dict[str, int]:
    """Each feed holds what the stored posts imply, once each; the counts per feed."""
    items = by_feed(reader.items())
    assert set(reader.feeds()) == set(urls)
    assert set(items) <= set(urls)
    counts = {url: len(items.get(url, [])) for url in urls}
    expected = {url: expected_count(spec_of(url), posts) for url in urls}
    assert counts == expected
    for url, found in items.items():
        duplicated = [g for g, n in Counter(i.guid for i in found).items() if n > 1]
        assert not duplicated, (url, duplicated)
        assert all(i.guid.startswith("tag:") and i.title and i.url for i in found), url
    all_feed = next(url for url in urls if spec_of(url) == FeedSpec("all"))
    assert counts[all_feed] == len(posts)
    return counts


def guids(reader: Newsboat) -> set[tuple[str, str]]:
    return {(i.feed, i.guid) for i in reader.items()}


def test_newsboat_sees_every_item_once_through_recrawl_and_edit(
    newsboat: Newsboat, site: SiteServer, store: Store, redis_url: str, serve: Serve  # noqa: F811
) -> None:
    settings: Settings = site.settings(public_url=PUBLIC_URL)
    with open_deps(settings, redis_url) as deps:
        first = crawl_all(deps)
        expected_posts = len(list((SITE / "expected").glob("*.json")))
        assert store.count_posts() == expected_posts, first.as_dict()
        publish_all(store, settings)

        client = serve(settings, with_broker=False)
        urls = opml_feed_urls(client)
        newsboat.subscribe(urls)
        newsboat.reload()
        posts = stored_posts(store)
        before = check_items(newsboat, urls, posts)
        seen = guids(newsboat)
        report = {"first": before}

        # A forced re-crawl fetches and parses every page again: nothing new for the reader.
        again = crawl_all(deps, force=True)
        assert again.counts["new"] == again.counts["edited"] == 0, again.as_dict()
        publish_all(store, settings)
        newsboat.reload()
        assert check_items(newsboat, urls, stored_posts(store)) == before
        assert guids(newsboat) == seen

        # An edit at the source: the answer's words change in the page's own markup.
        original = (SITE / EDITED_HOST / f"{EDITED_PATH.lstrip('/')}.html").read_bytes()
        assert original.count(OLD_WORDS.encode()) >= 1
        site.override(EDITED_HOST, EDITED_PATH, original.replace(OLD_WORDS.encode(), NEW_WORDS.encode()))
        edit = crawl_all(deps)
        assert edit.counts["edited"] == 1, edit.as_dict()
        assert publish_changes(store, settings) >= 1
        newsboat.reload()
        assert check_items(newsboat, urls, stored_posts(store)) == before
        assert guids(newsboat) == seen

    edited = [i for i in newsboat.items() if i.url == EDITED_POST_URL]
    assert edited
    for item in edited:
        assert NEW_WORDS in item.content or "pavel-latushka" not in item.guid, item.guid
    print(report, [(i.feed, i.guid) for i in edited])
