"""WebSub: with NAMFEEDS_WEBSUB_HUB set, feeds name the hub beside `self`, and publishing a
changed feed pings the hub. The hub here is a small HTTP server on 127.0.0.1 that checks
each ping as a hub would: the form, and that every URL named is a feed of ours whose
`hub` link names this hub and whose `self` link is that URL."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

import httpx
import pytest

from feeds.publish import publish_all, publish_changes
from services.settings import Settings
from services.storage import Store
from tests.feeds.test_publish import CRAWLED, SETTINGS, edited, load_mirror, mirror_posts
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn server fixture)

ATOM = "{http://www.w3.org/2005/Atom}"


class Hub:
    """Records publish pings; checks each against the feeds served at `feeds_base`."""

    def __init__(self) -> None:
        self.pings: list[list[str]] = []
        self.fetched: dict[str, bytes] = {}  # what the hub got for each URL, when pinged
        self.problems: list[str] = []
        self.feeds_base: str | None = None  # where the hub fetches what the public URL names
        self.public_url = ""
        self.status = 204
        hub = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qsl(self.rfile.read(length).decode("ascii"))
                hub.check(self.headers.get("Content-Type", ""), form)
                self.send_response(hub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def check(self, content_type: str, form: list[tuple[str, str]]) -> None:
        if not content_type.startswith("application/x-www-form-urlencoded"):
            self.problems.append(f"content type {content_type}")
        if ("hub.mode", "publish") not in form:
            self.problems.append(f"no hub.mode=publish in {form}")
        urls = [v for k, v in form if k == "hub.url"]
        if not urls:
            self.problems.append("no hub.url")
        self.pings.append(urls)
        for url in urls:
            self.problems += self._check_feed(url)

    def _check_feed(self, url: str) -> list[str]:
        if not url.startswith(self.public_url) or self.feeds_base is None:
            return [] if self.feeds_base is None else [f"not our feed: {url}"]
        local = self.feeds_base + url.removeprefix(self.public_url)
        response = httpx.get(local, timeout=10)
        if response.status_code != 200:
            return [f"{url}: {response.status_code}"]
        self.fetched[url] = response.content
        if url.split("?")[0].endswith(".json"):
            document = json.loads(response.content)
            links = {"self": document["feed_url"]}
            links |= {"hub": h["url"] for h in document.get("hubs", [])[:1]}  # noqa: B035
        else:
            root = ET.fromstring(response.content)
            links = {a.get("rel"): a.get("href") for a in root.iter(f"{ATOM}link")}
        problems = []
        if links.get("hub") != self.url.rstrip("/"):
            problems.append(f"{url}: hub link {links.get('hub')}")
        if links.get("self") != url:
            problems.append(f"{url}: self link {links.get('self')}")
        return problems


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = Hub()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()
    thread.join(5)


def with_hub(hub: Hub) -> Settings:
    settings = Settings.from_env(
        {
            "NAMFEEDS_PUBLIC_URL": SETTINGS.public_url,
            "NAMFEEDS_ADMIN_TOKEN": "t" * 32,
            "NAMFEEDS_WEBSUB_HUB": hub.url,
        }
    )
    hub.public_url = settings.public_url
    return settings


def test_feeds_name_the_hub_and_self_only_when_a_hub_is_set(store: Store, hub: Hub) -> None:
    load_mirror(store)
    plain = store.get_feed("all.atom")
    assert plain is not None and b'rel="hub"' not in plain.body
    settings = with_hub(hub)
    publish_all(store, settings)
    for name in ("all.atom", "topics/ukraine@ru.rss", "speakers/pavel-latushka.json"):
        stored = store.get_feed(name)
        assert stored is not None
        assert hub.url.rstrip("/").encode() in stored.body, name
        assert b"self" in stored.body or b"feed_url" in stored.body, name


def test_publishing_a_change_pings_the_hub_with_the_changed_feeds(
    serve: Serve,  # noqa: F811
    store: Store,
    hub: Hub,
) -> None:
    settings = with_hub(hub)
    posts = load_mirror(store, settings)
    client = serve(settings)
    hub.feeds_base = str(client.base_url).rstrip("/")
    assert hub.pings, "the first publish of every feed pings the hub"
    first = {url for ping in hub.pings for url in ping}
    assert settings.public_url + "/feeds/all.atom" in first
    hub.pings.clear()
    publish_changes(store, settings)  # the mirror's own events: nothing changes
    publish_all(store, settings)
    assert hub.pings == []

    post = next(p for p in posts if "pavel-latushka" in p.speaker_ids)
    store.upsert_post(edited(post, "pavel-latushka", " A new sentence."), now=CRAWLED)
    assert publish_changes(store, settings) == 1
    pinged = {url for ping in hub.pings for url in ping}
    for path in (
        "/feeds/all.atom",
        "/feeds/all.rss",
        "/feeds/all.json",
        "/feeds/speakers/pavel-latushka.atom",
        f"/feeds/all.atom?lang={post.language}",
    ):
        assert settings.public_url + path in pinged, path
    assert not any("/feeds/topics/diaspora" in url for url in pinged)
    assert hub.problems == []


def test_a_hub_that_refuses_or_is_down_does_not_stop_publishing(store: Store, hub: Hub) -> None:
    hub.status = 503
    settings = with_hub(hub)
    assert publish_all(store, settings) > 0
    down = dataclasses.replace(settings, websub_hub="http://127.0.0.1:9")  # nothing listens
    store.upsert_post(mirror_posts()[0], now=datetime(2024, 3, 1, tzinfo=UTC))
    publish_changes(store, down)
    assert store.get_feed("all.atom") is not None
