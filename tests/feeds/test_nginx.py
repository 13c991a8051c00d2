"""nginx with deploy/nginx.conf, as compose runs it, in front of `nam-feeds web`: stored feeds
from the files publishing exports (feeds.files), everything else from the app through the
cache, with validators, gzip, types and health checks correct either way."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.nginx import compose_conf, free_port, run_nginx
from feeds.files import export_feeds
from feeds.publish import publish_all
from services.model import Post
from services.settings import Settings
from services.storage import Store
from tests.conftest import require_program
from tests.feeds.test_publish import CRAWLED, load_mirror
from tests.feeds.test_websub import Hub, hub  # noqa: F401  (the hub fixture)
from tests.reliability.webapp import run_web
from workers import _publishing as publishing

# small feeds, so that the mirror fills archive pages, full (immutable) and open
SETTINGS = Settings(public_url="https://feeds.example.org", feed_size=2)
ENV = {"NAMFEEDS_PUBLIC_URL": SETTINGS.public_url, "NAMFEEDS_FEED_SIZE": "2"}
PLAIN = {"Accept-Encoding": "identity"}
# each kind of stored document: formats, a language, a topic, full and open archive pages
STORED = [
    "/feeds/all.atom",
    "/feeds/all.rss",
    "/feeds/all.json",
    "/feeds/all.atom?lang=ru",
    "/feeds/all/archive/1.atom",
    "/feeds/all/archive/open.rss",
    "/feeds/all/archive/1.json?lang=en",
]


@dataclass
class Deployed:
    proxy: httpx.Client  # nginx
    app: httpx.Client  # the web app itself
    files: Path  # the export directory nginx serves
    posts: list[Post]


@pytest.fixture
def deployed(store: Store, redis_url: str, tmp_path: Path) -> Iterator[Deployed]:
    require_program("nginx", "apt-get install nginx", "/usr/sbin/nginx")
    posts = load_mirror(store, SETTINGS)
    port, files = free_port(), tmp_path / "files"
    files.mkdir()
    with run_web(redis_url, tmp_path / "web.log", **ENV) as web:
        upstream = web.url.removeprefix("http://")
        conf = compose_conf(port, upstream, tmp_path / "cache", files)
        with (
            run_nginx(conf, tmp_path / "nginx", port) as base,
            httpx.Client(base_url=base, timeout=10) as proxy,
            httpx.Client(base_url=web.url, timeout=10) as app,
        ):
            yield Deployed(proxy, app, files, posts)


def _topic_feed(store: Store) -> str:
    name = next(n for n in store.feed_keys() if n.startswith("topics/") and "@" not in n)
    return "/feeds/" + name


def test_stored_feeds_come_from_files_with_the_apps_bytes_types_and_caching(
    deployed: Deployed, store: Store
) -> None:
    before = deployed.proxy.get("/feeds/all.atom", headers=PLAIN)
    assert before.status_code == 200 and "x-cache-status" in before.headers  # no file yet: app
    assert export_feeds(store, deployed.files).written > 0
    for url in [*STORED, _topic_feed(store)]:
        ours, app = deployed.proxy.get(url, headers=PLAIN), deployed.app.get(url, headers=PLAIN)
        assert ours.status_code == app.status_code == 200, url
        assert "x-cache-status" not in ours.headers, f"{url} did not come from its file"
        assert ours.content == app.content, url
        for header in ("content-type", "cache-control", "last-modified", "vary"):
            assert ours.headers[header] == app.headers[header], (url, header)
    archive = deployed.proxy.get("/feeds/all/archive/1.atom", headers=PLAIN)
    assert "immutable" in archive.headers["cache-control"]
    assert "immutable" not in deployed.proxy.get("/feeds/all.atom").headers["cache-control"]


def test_files_answer_conditional_requests_and_gzip_per_coding(
    deployed: Deployed, store: Store
) -> None:
    export_feeds(store, deployed.files)
    proxy = deployed.proxy
    plain = proxy.get("/feeds/all.atom", headers=PLAIN)
    tag, modified = plain.headers["etag"], plain.headers["last-modified"]
    assert proxy.get("/feeds/all.atom", headers=PLAIN | {"If-None-Match": tag}).status_code == 304
    since = PLAIN | {"If-Modified-Since": modified}
    assert proxy.get("/feeds/all.atom", headers=since).status_code == 304
    earlier = PLAIN | {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    assert proxy.get("/feeds/all.atom", headers=earlier).status_code == 200
    zipped = proxy.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == plain.content
    assert zipped.headers["etag"] != tag and zipped.headers["vary"] == "Accept-Encoding"
    again = {"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    not_modified = proxy.get("/feeds/all.atom", headers=again)
    assert not_modified.status_code == 304 and not_modified.headers["vary"] == "Accept-Encoding"
    # a client behind a proxy (Via) takes gzip all the same; Vary tells the proxy to key on it
    via = proxy.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip", "Via": "1.1 cdn"})
    assert via.headers["content-encoding"] == "gzip" and via.content == plain.content
    refused = proxy.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers and refused.headers["etag"] == tag
    assert int(zipped.headers["content-length"]) < len(plain.content) // 2
    head = proxy.head("/feeds/all.atom", headers=PLAIN)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == tag


def test_what_has_no_file_goes_to_the_app_and_nothing_else_is_served_from_the_directory(
    deployed: Deployed, store: Store
) -> None:
    export_feeds(store, deployed.files)
    proxy, app = deployed.proxy, deployed.app
    query = "/feeds/all.atom?speaker=pavel-latushka"
    for url in ("/feeds/all.atom?utm_source=x", query, "/feeds.opml"):
        ours = proxy.get(url, headers=PLAIN)
        assert ours.status_code == 200 and "x-cache-status" in ours.headers, url
        assert ours.content == app.get(url, headers=PLAIN).content, url
    # a language the app does not take (it is case-sensitive) is the app's to refuse
    for url in ("/feeds/all.atom?lang=RU", "/feeds/all.atom?lang=ru&lang=en"):
        ours, its = proxy.get(url, headers=PLAIN), app.get(url, headers=PLAIN)
        assert ours.status_code == its.status_code and "x-cache-status" in ours.headers, url
    for url in (
        "/feeds/speakers/nobody-at-all.atom",
        "/feeds/%2e%2e/manifest.json",
        "/feeds/../manifest.json",
        "/feeds/all.atom?lang=xx",
        "/feeds/topics/",  # a directory of the export
    ):
        answer = proxy.get(url, headers=PLAIN)
        assert answer.status_code in (400, 404), (url, answer.status_code)
        assert "location" not in answer.headers, url
        assert b'"all.atom"' not in answer.content  # not the manifest
    for directory in ("/feeds/all", "/feeds/all/archive", "/feeds/topics"):
        moved = proxy.get(directory, headers=PLAIN)
        # to the slashed path on the same host and port, whatever port compose publishes
        assert moved.status_code == 301 and moved.headers["location"] == directory + "/"
        assert proxy.get(directory + "/", headers=PLAIN).status_code == 404
    health = proxy.get("/healthz")
    assert health.status_code == 200 and health.json()["redis"] == "ok"
    assert "x-cache-status" not in health.headers  # health checks reach the app itself


def test_an_edit_reaches_readers_through_the_files_after_its_publish_run(
    deployed: Deployed, store: Store
) -> None:
    settings = dataclasses.replace(SETTINGS, feed_dir=deployed.files)
    assert publishing.publish_once(store, settings) is not None  # the mirror's own events
    shutil.rmtree(deployed.files / "any")
    assert publishing.publish_once(store, settings) == 0  # a run with no event exports too
    assert (deployed.files / "any/feeds/all.atom").exists()
    proxy = deployed.proxy
    old = proxy.get("/feeds/all.atom", headers=PLAIN)
    assert "x-cache-status" not in old.headers
    edited = dataclasses.replace(deployed.posts[0], title="Through the files")
    store.upsert_post(edited, now=CRAWLED)
    fetched = time.monotonic()
    assert publishing.publish_once(store, settings) >= 1
    while b"Through the files" not in (new := proxy.get("/feeds/all.atom", headers=PLAIN)).content:
        assert time.monotonic() - fetched < 3, "nginx kept serving the old file"
        time.sleep(0.1)
    assert new.headers["etag"] != old.headers["etag"]
    stale = PLAIN | {"If-None-Match": old.headers["etag"]}
    assert proxy.get("/feeds/all.atom", headers=stale).status_code == 200


def test_the_hub_is_told_of_an_edit_once_nginx_serves_it(
    deployed: Deployed,
    store: Store,
    hub: Hub,  # noqa: F811
) -> None:
    """A hub fetches what it is told of at once: told before the files are written, or while
    nginx still serves a replaced file from its open descriptor, it pushes the old bytes."""
    hub_url = hub.url.rstrip("/")  # as Settings keeps it
    settings = dataclasses.replace(SETTINGS, feed_dir=deployed.files, websub_hub=hub_url)
    hub.public_url, hub.feeds_base = SETTINGS.public_url, str(deployed.proxy.base_url).rstrip("/")
    publish_all(store, settings)  # every feed names the hub, as when the web app has it set
    assert publishing.publish_once(store, settings) is not None  # the mirror's own events
    paths = [url.removeprefix(SETTINGS.public_url) for url in hub.fetched]
    stop = threading.Event()

    def keep_open() -> None:  # readers keep every file's descriptor in nginx's cache
        with httpx.Client(base_url=deployed.proxy.base_url, timeout=10) as reader:
            while not stop.is_set():
                for path in paths:
                    reader.get(path, headers=PLAIN)

    readers = threading.Thread(target=keep_open)
    readers.start()
    try:
        time.sleep(0.5)
        edited = dataclasses.replace(deployed.posts[0], title="Pushed by the hub")
        store.upsert_post(edited, now=CRAWLED)
        hub.fetched.clear()
        assert publishing.publish_once(store, settings) >= 1
    finally:
        stop.set()
        readers.join()
    assert hub.problems == [] and SETTINGS.public_url + "/feeds/all.atom" in hub.fetched
    for url, fetched in hub.fetched.items():
        now = deployed.app.get(url.removeprefix(SETTINGS.public_url), headers=PLAIN).content
        assert fetched == now, f"the hub fetched {url} before nginx served its new bytes"


def test_a_feed_with_no_file_stays_fresh_through_the_cache(
    deployed: Deployed, store: Store
) -> None:
    """Query feeds come from the app through nginx's cache: a copy is fresh for a second,
    then revalidated, so an edit reaches them as it reaches the files."""
    settings = dataclasses.replace(SETTINGS, feed_dir=deployed.files)
    assert publishing.publish_once(store, settings) is not None
    proxy, url = deployed.proxy, "/feeds/all.atom?q=sanctions"
    before = deployed.app.get(url, headers=PLAIN)
    assert before.status_code == 200 and b"Fresh through the cache" not in before.content
    for _ in range(3):  # cached, then served from the cache
        cached = proxy.get(url, headers=PLAIN)
        assert cached.content == before.content and "x-cache-status" in cached.headers
    edited = dataclasses.replace(deployed.posts[0], title="Fresh through the cache, on sanctions")
    store.upsert_post(edited, now=CRAWLED)
    changed = time.monotonic()
    assert publishing.publish_once(store, settings) >= 1
    assert b"Fresh through the cache" in deployed.app.get(url, headers=PLAIN).content
    while b"Fresh through the cache" not in (now := proxy.get(url, headers=PLAIN)).content:
        assert time.monotonic() - changed < 5, "the cache kept serving the copy before the edit"
        time.sleep(0.2)
    assert now.headers["etag"] != before.headers["etag"]
