"""The web app under a real uvicorn server on 127.0.0.1, over a real Redis holding the
mirror's posts: stored bytes, validators and 304s, OPML, the index, the admin API."""

from __future__ import annotations

import dataclasses
import gzip
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

import feedparser
import httpx
import pytest
import redis
import structlog
import structlog.testing
import uvicorn

import feeds.web._app
from feeds.publish import PublishError, publish_changes
from feeds.web._app import create_app, etag_matches, not_modified, server_options
from feeds.web._cache import REVALIDATE_AFTER
from feeds.web._conditional import accepts_gzip, matched_etag
from services.broker import broker_url
from services.model import Answer, Post, Section
from services.people import get_person
from services.settings import Settings
from services.storage import Store, StoredFeed
from tests.feeds.test_publish import (
    CRAWLED,
    SETTINGS,
    expected_count,
    load_mirror,
    mirror_posts,
)

TOKEN = "t" * 32
ATOM = "{http://www.w3.org/2005/Atom}"

Serve = Callable[..., httpx.Client]


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    """The broker database, with Celery's default queue (a list named `celery`) emptied."""
    client = redis.Redis.from_url(broker_url(redis_url))
    client.delete("celery")
    yield client
    client.delete("celery")
    client.close()


@pytest.fixture
def serve(store: Store, redis_url: str) -> Iterator[Serve]:
    """Start the app on a free port; an httpx client on it. Servers stop at teardown."""
    running: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(
        settings: Settings = SETTINGS,
        *,
        with_broker: bool = True,
        app: Any = None,
        **options: Any,
    ) -> httpx.Client:
        if app is None:
            url = broker_url(redis_url) if with_broker else None
            app = create_app(settings, store, broker_url=url)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, **server_options(log_level="warning", **options)
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        running.append((server, thread, client))
        return client

    yield start
    for server, thread, client in running:
        client.close()
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def mirror(store: Store) -> list[Post]:
    return load_mirror(store)


def _path(url: str) -> str:
    return url.removeprefix(SETTINGS.public_url)


def _opml_urls(client: httpx.Client, fmt: str = "atom") -> list[str]:
    """The feeds of the default OPML (all languages) and of each language's OPML."""
    urls = []
    for lang in (None, "en", "ru", "be"):
        params = {"format": fmt} | ({"lang": lang} if lang else {})
        response = client.get("/feeds.opml", params=params)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/x-opml")
        root = ET.fromstring(response.content)
        urls += [o.attrib["xmlUrl"] for o in root.iter("outline") if "xmlUrl" in o.attrib]
    return urls


# ---------------------------------------------------------------- feeds


def test_every_opml_feed_parses_and_holds_its_entries(serve: Serve, mirror: list[Post]) -> None:
    from feeds.render import FeedSpec

    client = serve()
    atom, rss = _opml_urls(client, "atom"), _opml_urls(client, "rss")
    assert len(atom) == len(rss) > 20
    for url in atom + rss:
        path = _path(url)
        response = client.get(path)
        assert response.status_code == 200, path
        parsed: Any = feedparser.parse(response.content)
        assert not parsed.get("bozo_exception"), (path, parsed.get("bozo_exception"))
        assert parsed.feed.get("title") and parsed.feed.get("link"), path
        base, _, query = path.removeprefix("/feeds/").partition("?lang=")
        name, fmt = base.rsplit(".", 1)
        spec = FeedSpec.from_feed_key(name + (f"@{query}" if query else ""))
        assert len(parsed.entries) == expected_count(spec, mirror), path
        for entry in parsed.entries:
            assert entry.get("id") and entry.get("title") and entry.get("link"), path
        if fmt == "atom":
            root = ET.fromstring(response.content)
            assert root.find(f"{ATOM}id") is not None and root.find(f"{ATOM}updated") is not None
            assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
        else:
            assert ET.fromstring(response.content).find("channel/description") is not None
            assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"


def test_second_request_with_the_etag_gets_304_without_a_body(
    serve: Serve, mirror: list[Post]
) -> None:
    client = serve()
    first = client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["last-modified"]
    again = client.get("/feeds/all.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # what RFC 9110 (15.4.5) asks of a 304, from the 200 it stands for, and no more
    assert again.headers["etag"] == etag and "date" in again.headers
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert again.headers["vary"] == first.headers["vary"] == "Accept-Encoding"
    assert not {"last-modified", "content-type", "content-length"} & set(again.headers)
    weak_list = client.get("/feeds/all.atom", headers={"If-None-Match": f'"x", W/{etag}'})
    assert weak_list.status_code == 304
    star = client.get("/feeds/all.atom", headers={"If-None-Match": "*"})
    assert star.status_code == 304
    other = client.get("/feeds/all.atom", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content


def test_if_modified_since_is_not_newer_than(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    modified = client.get("/feeds/all.rss").headers["last-modified"]
    assert client.get("/feeds/all.rss", headers={"If-Modified-Since": modified}).status_code == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/feeds/all.rss", headers={"If-Modified-Since": earlier}).status_code == 200
    bad = client.get("/feeds/all.rss", headers={"If-Modified-Since": "yesterday"})
    assert bad.status_code == 200
    # If-None-Match wins: a non-matching tag means 200 whatever the date says.
    both = client.get(
        "/feeds/all.rss", headers={"If-Modified-Since": modified, "If-None-Match": '"nope"'}
    )
    assert both.status_code == 200


def test_head_has_the_headers_and_no_body(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    get = client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
    head = client.head("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))


def test_gzip_variant_has_its_own_etag_and_revalidates(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    plain = client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert (
        "Accept-Encoding" in zipped.headers["vary"] and "Accept-Encoding" in plain.headers["vary"]
    )
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.content == plain.content  # httpx decodes; the bytes are the same feed
    with client.stream("GET", "/feeds/all.atom", headers={"Accept-Encoding": "gzip"}) as raw:
        assert gzip.decompress(b"".join(raw.iter_raw())) == plain.content
    revalidated = client.get(
        "/feeds/all.atom",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
    )
    assert revalidated.status_code == 304


def test_bad_lang_is_400(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    assert client.get("/feeds/all.atom", params={"lang": "de"}).status_code == 400
    assert client.get("/feeds/all.atom", params={"lang": "ru"}).status_code == 200


def test_unknown_feed_is_a_404_page_listing_the_feeds(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    for path in ("/feeds/topics/no-such-topic.atom", "/feeds/all.xml", "/nothing"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert 'href="/feeds/all.atom"' in response.text
        assert 'href="/feeds/speakers/pavel-latushka.rss"' in response.text


# ---------------------------------------------------------------- pages


def test_index_lists_every_speaker_and_topic_with_discovery(
    serve: Serve, mirror: list[Post], store: Store
) -> None:
    client = serve()
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/feeds/all.atom"' in html
    counts = store.speaker_answer_counts()
    for person_id in {p for post in mirror for p in post.speaker_ids}:
        person = get_person(person_id)
        assert person is not None
        row = html.split(f'id="speaker-{person_id}"', 1)[1].split("</tr>", 1)[0]
        assert person.name in row and person.name_be in row and person.name_ru in row
        assert f'<td class="count">{counts[person_id]}</td>' in row
        assert f'href="/feeds/speakers/{person_id}.atom"' in row
    for slug in {t for post in mirror for t in post.topic_slugs}:
        assert f'id="topic-{slug}"' in html and f'href="/feeds/topics/{slug}.rss"' in html


def test_healthz_and_metrics(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["redis"] == "ok" and "status" in health.json()["workers"]
    client.get("/feeds/all.atom")
    text = client.get("/metrics").text
    for name in (
        "namfeeds_pages_fetched",
        "namfeeds_parse_failures",
        "namfeeds_answers_unmatched_speaker",
        "namfeeds_feeds_rendered",
        "namfeeds_http_request_duration_seconds_bucket",
    ):
        assert name in text
    assert 'route="/feeds/{path}"' in text


def test_healthz_is_503_when_redis_is_down(serve: Serve) -> None:
    from feeds.web import create_app as _create

    dead = Store.from_url("redis://127.0.0.1:1/0")
    app = _create(SETTINGS, dead)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, **server_options(log_level="warning"))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert response.status_code == 503
        feed = httpx.get(f"http://127.0.0.1:{port}/feeds/all.atom", timeout=20)
        assert feed.status_code == 503 and feed.headers["retry-after"] == "30"
        assert "storage unavailable" in feed.text
    finally:
        server.should_exit = True
        thread.join(10)
        dead.close()


# ---------------------------------------------------------------- admin API


def _jobs(store: Store) -> list[bytes]:
    return list(store.client.scan_iter(match="nam:job:*"))


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"force": True}, 401),
        ({"Authorization": "Bearer " + "x" * 32}, {"force": True}, 401),
        ({"Authorization": "Bearer " + TOKEN[:-1]}, {"force": True}, 401),
        ({"Authorization": "Bearer " + TOKEN + "extra"}, {"force": True}, 401),
        ({"Authorization": "Basic " + TOKEN}, {"force": True}, 401),
        ({"Authorization": "Bearer " + TOKEN}, b"{not json", 400),
        ({"Authorization": "Bearer " + TOKEN}, b"[1, 2]", 400),
        ({"Authorization": "Bearer " + TOKEN}, {"force": "yes"}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": 5}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"forse": True}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": "https://example.org/en/post/x"}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": "ftp://www.belarus-nau.org/x"}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": "https://u:p@belarus-nau.org/x"}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": "https://belarus-nau.org:6379/x"}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": "https://belarus-nau.org:99999/x"}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": "http://www.belarus-nau.org/x"}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": "https://@www.belarus-nau.org/x"}, 400),
        ({"Authorization": "Bearer " + TOKEN}, {"url": "www.belarus-nau.org/x"}, 400),
    ],
)
def test_refused_recrawl_requests_queue_nothing(
    serve: Serve,
    store: Store,
    broker: redis.Redis,
    headers: dict[str, str],
    body: Any,
    status: int,
) -> None:
    client = serve(Settings(admin_token=TOKEN))
    if isinstance(body, bytes):
        response = client.post("/api/recrawl", content=body, headers=headers)
    else:
        response = client.post("/api/recrawl", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]
    assert _jobs(store) == [] and broker.llen("celery") == 0
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_recrawl_without_a_configured_token_is_503(
    serve: Serve, store: Store, broker: redis.Redis
) -> None:
    client = serve(Settings(admin_token=None))
    response = client.post("/api/recrawl", json={}, headers={"Authorization": "Bearer " + TOKEN})
    assert response.status_code == 503 and response.json()["error"]
    assert _jobs(store) == [] and broker.llen("celery") == 0


@pytest.mark.parametrize(
    ("body", "task"),
    [
        ({"force": True}, "nam.discover"),
        ({"url": "https://www.belarus-nau.org/en/post/x", "force": False}, "nam.crawl_url"),
    ],
)
def test_valid_recrawl_is_202_with_a_job_and_a_queued_task(
    serve: Serve, store: Store, broker: redis.Redis, body: dict[str, Any], task: str
) -> None:
    client = serve(Settings(admin_token=TOKEN))
    response = client.post("/api/recrawl", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert broker.llen("celery") == 1
    message = broker.lindex("celery", 0)
    assert message is not None and task.encode() in message and job_id.encode() in message
    job = client.get(f"/api/jobs/{job_id}")
    assert job.status_code == 200 and job.json()["status"] == "queued"
    assert job.json()["params"] == {"url": body.get("url"), "force": body["force"]}
    assert client.get("/api/jobs/" + "0" * 32).status_code == 404
    if "url" in body:  # one page: the job is done once the worker counts its outcome
        assert job.json()["total"] == 1 and job.json()["done"] == 0
        assert store.count_job_outcome(job_id, "changed")
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "done"


# ---------------------------------------------------------------- conditional helpers


def test_conditional_rules() -> None:
    from datetime import UTC, datetime

    when = datetime(2024, 3, 1, 12, 0, 30, 500000, tzinfo=UTC)
    same = format_datetime(when.replace(microsecond=0), usegmt=True)
    assert not_modified({"if-modified-since": same}, ('"a"',), when)
    assert not not_modified({"if-modified-since": "Fri, 01 Mar 2024 12:00:29 GMT"}, ('"a"',), when)
    assert not not_modified({"if-none-match": '"b"', "if-modified-since": same}, ('"a"',), when)
    assert etag_matches('W/"a"', ('"a"',)) and etag_matches('"x" , "a"', ('"a"',))
    assert not etag_matches('"ab"', ('"a"',))


def test_a_304_carries_the_tag_the_client_holds(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    plain = client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    plain_tag, zipped_tag = plain.headers["etag"], zipped.headers["etag"]
    # a client holding the identity copy that now accepts gzip keeps its own tag
    for accept, held in (("gzip", plain_tag), ("identity", zipped_tag), ("gzip", zipped_tag)):
        response = client.get(
            "/feeds/all.atom", headers={"Accept-Encoding": accept, "If-None-Match": held}
        )
        assert response.status_code == 304 and response.headers["etag"] == held, (accept, held)
    star = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip", "If-None-Match": "*"})
    assert star.status_code == 304 and star.headers["etag"] == zipped_tag


def test_an_explicit_gzip_refusal_beats_the_wildcard(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    with client.stream(
        "GET", "/feeds/all.atom", headers={"Accept-Encoding": "*;q=1, gzip;q=0"}
    ) as response:
        assert "content-encoding" not in response.headers
    assert not accepts_gzip("*;q=1, gzip;q=0")
    assert not accepts_gzip("gzip;q=0, *")
    assert not accepts_gzip("x-gzip;q=0, *;q=0.5")
    assert accepts_gzip("*;q=0.5") and accepts_gzip("br, *") and accepts_gzip("GZIP;Q=0.1")
    assert accepts_gzip("deflate, gzip;level=1;q=0.8")
    assert not accepts_gzip("*;q=0") and not accepts_gzip("gzip;q=nonsense")
    assert not accepts_gzip("") and not accepts_gzip(None) and not accepts_gzip("br, deflate")


def test_matched_etag_prefers_the_selected_variant() -> None:
    ours = ('"a-gz"', '"a"')
    assert matched_etag('"a"', ours) == '"a"'
    assert matched_etag('W/"a-gz", "a"', ours) == '"a-gz"'
    assert matched_etag("*", ours) == '"a-gz"'
    assert matched_etag('"b"', ours) is None and matched_etag(None, ours) is None


def test_if_modified_since_sees_a_topic_that_lost_its_only_post(serve: Serve, store: Store) -> None:
    post = dataclasses.replace(
        mirror_posts()[0],
        sections=(Section(heading="S", topics=("sanctions",), answers=(Answer(text="Yes."),)),),
    )
    store.upsert_post(post, now=CRAWLED)
    publish_changes(store, SETTINGS)
    client = serve()
    first = client.get("/feeds/topics/sanctions.atom")
    assert first.status_code == 200 and b"<entry" in first.content
    moved = dataclasses.replace(
        post, sections=(dataclasses.replace(post.sections[0], topics=("economy",)),)
    )
    store.upsert_post(moved, now=CRAWLED)
    publish_changes(store, SETTINGS)
    time.sleep(REVALIDATE_AFTER * 1.5)  # the app trusts its copy that long
    again = client.get(
        "/feeds/topics/sanctions.atom",
        headers={"If-Modified-Since": first.headers["last-modified"]},
    )
    assert again.status_code == 200 and b"<entry" not in again.content


def test_serve_starts_even_when_a_feed_fails_to_publish(
    serve: Serve, mirror: list[Post], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any, **kwargs: Any) -> int:
        raise PublishError(["topics/ukraine"])

    served: list[Any] = []
    monkeypatch.setattr(feeds.web._app, "publish_all", failing)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append(app))
    with structlog.testing.capture_logs() as logs:
        feeds.web._app.serve(SETTINGS, redis_url, port=0)
    assert len(served) == 1
    assert any(
        e["event"] == "web.publish_failed" and e["failed"] == ["topics/ukraine"] for e in logs
    )
    client = serve(app=served[0])
    response = client.get("/feeds/all.atom")  # the bytes stored before are served
    assert response.status_code == 200 and b"<entry" in response.content


def test_feed_cache_keeps_within_its_entry_and_byte_bounds() -> None:
    import asyncio

    from feeds.web._cache import CachedFeed, FeedCache

    def load(key: Any, known: Any) -> CachedFeed:
        size = 20_000 if key == "big" else 1_000
        body = f"<feed>{key}</feed>".encode().ljust(size, b" ")
        return CachedFeed.build(StoredFeed(f"topics/{key}.atom", body, f'"{key}"', CRAWLED, "x"))

    cache = FeedCache(load, size=4, max_bytes=12_000)

    async def fill() -> list[Any]:
        got = [await cache.get(f"f{i}") for i in range(16)]
        got.append(await cache.get("big"))  # more than max_bytes alone: served, never kept
        return got

    got = asyncio.run(fill())
    assert [gzip.decompress(f.gz_body) for f in got] == [f.body for f in got]
    assert got[-1].body.startswith(b"<feed>big") and "big" not in cache._slots
    assert len(cache) <= 4 and cache.held <= 12_000
    assert list(cache._slots) == ["f12", "f13", "f14", "f15"]  # the newest kept
    assert cache.held == sum(slot.feed.size for slot in cache._slots.values())


def test_recrawl_url_is_named_as_the_crawler_names_it(
    serve: Serve, store: Store, broker: redis.Redis
) -> None:
    client = serve(Settings(admin_token=TOKEN))
    response = client.post(
        "/api/recrawl",
        json={"url": "HTTPS://WWW.Belarus-NAU.org:443/en/post/x#top"},
        headers={"Authorization": "Bearer " + TOKEN},
    )
    assert response.status_code == 202
    job = client.get(f"/api/jobs/{response.json()['job_id']}").json()
    assert job["params"]["url"] == "https://www.belarus-nau.org/en/post/x"


# ---------------------------------------------------------------- memory cache


def test_feeds_are_served_from_memory_not_read_per_request(
    serve: Serve, mirror: list[Post], store: Store
) -> None:
    counting = _CountingStore(store.client)
    client = serve(app=create_app(SETTINGS, counting))
    etag = client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"}).headers["etag"]
    start = time.monotonic()
    requests = 300
    for n in range(requests):
        conditional = {"If-None-Match": etag} if n % 2 else {}
        headers = conditional | {"Accept-Encoding": "identity"}
        response = client.get("/feeds/all.atom", headers=headers)
        assert response.status_code == (304 if n % 2 else 200)
    elapsed = time.monotonic() - start
    # at most one validators read per interval, and the body once
    allowed = elapsed / REVALIDATE_AFTER + 2
    assert allowed < requests / 2, "too slow a run to tell caching from reading"
    assert counting.reads.count("body") == 1
    assert len(counting.reads) <= allowed


def test_an_edit_is_served_within_the_revalidation_interval(
    serve: Serve, mirror: list[Post], store: Store
) -> None:
    client = serve()
    first = client.get("/feeds/all.atom")
    edited = dataclasses.replace(mirror[0], title="An edited title, served soon")
    store.upsert_post(edited, now=CRAWLED)
    publish_changes(store, SETTINGS)
    deadline = time.monotonic() + 2
    while True:
        again = client.get("/feeds/all.atom", headers={"If-None-Match": first.headers["etag"]})
        if again.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(REVALIDATE_AFTER / 4)
    assert again.status_code == 200 and b"An edited title, served soon" in again.content
    assert again.headers["etag"] != first.headers["etag"]


def test_lean_path_keeps_head_lang_gzip_and_404(serve: Serve, mirror: list[Post]) -> None:
    client = serve()
    got = client.get("/feeds/all.atom?lang=ru", headers={"Accept-Encoding": "identity"})
    head = client.head("/feeds/all.atom?lang=ru", headers={"Accept-Encoding": "identity"})
    assert got.status_code == head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["etag"] == got.headers["etag"]
    assert got.content != client.get("/feeds/all.atom").content
    zipped = client.get("/feeds/all.atom?lang=ru", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == got.content
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert client.get("/feeds/speakers/nobody-at-all.atom").status_code == 404
    assert client.get("/feeds/all.atom?lang=xx").status_code == 400


def test_a_feed_url_with_other_parameters_is_the_same_feed_and_revalidates(
    serve: Serve, mirror: list[Post]
) -> None:
    client = serve()
    plain = client.get("/feeds/topics/sanctions.rss?lang=en")
    tracked = client.get("/feeds/topics/sanctions.rss?utm_source=reader&lang=en")
    assert tracked.status_code == 200 and tracked.content == plain.content
    assert tracked.headers["etag"] == plain.headers["etag"]
    again = client.get(
        "/feeds/topics/sanctions.rss?lang=en&utm_source=reader",
        headers={"If-None-Match": plain.headers["etag"]},
    )
    assert again.status_code == 304 and again.headers["etag"] == plain.headers["etag"]
    assert client.head("/feeds/all.atom?utm_source=x").content == b""
    assert client.get("/feeds/all.atom?utm_source=x&lang=xx").status_code == 400
    assert client.get("/feeds/speakers/nobody-at-all.atom?utm_source=x").status_code == 404


# ---------------------------------------------------------------- bounded inputs


def test_a_hung_redis_gives_503_with_retry_after_within_a_second(
    redis_server_factory: Any,
) -> None:
    import os
    import signal

    from feeds.web._app import web_store

    server = redis_server_factory(appendfsync="no")
    store = web_store(server.url)
    load_mirror(store)
    app = create_app(SETTINGS, store)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, **server_options(log_level="warning"))
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.01)
    port = running.servers[0].sockets[0].getsockname()[1]
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        assert client.get("/feeds/all.atom").status_code == 200
        os.kill(server.pid, signal.SIGSTOP)
        time.sleep(REVALIDATE_AFTER * 1.5)
        for path in ("/feeds/all.atom", "/healthz", "/", "/feeds/all.rss"):
            start = time.monotonic()
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.headers["retry-after"], path
            assert time.monotonic() - start < 1.0, path
        os.kill(server.pid, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while client.get("/feeds/all.atom").status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover when Redis did"
            time.sleep(0.05)
        assert client.get("/healthz").status_code == 200
    finally:
        os.kill(server.pid, signal.SIGCONT)
        client.close()
        running.should_exit = True
        thread.join(10)
        store.close()


def test_no_redirect_is_built_from_the_host_header(serve: Serve, mirror: list[Post]) -> None:
    client = serve(Settings(admin_token=TOKEN))
    headers = {"Host": "evil.example", "Authorization": "Bearer " + TOKEN}
    for method, path in (
        ("POST", "/api/recrawl/"),
        ("GET", "/healthz/"),
        ("GET", "/feeds.opml/"),
        ("GET", "/feeds/all.atom/"),
        ("GET", "/api/jobs/"),
    ):
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code < 300 or response.status_code >= 400, (method, path)
        assert "location" not in response.headers, (method, path)


def _raw_post(port: int, head: bytes, body: Callable[[Any], None]) -> bytes:
    """Send a request by hand (httpx cannot half-send one) and read what comes back; a
    reader thread takes the answer even while the body is still going out."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    got: list[bytes] = []

    def read() -> None:
        try:
            while b"\r\n\r\n" not in b"".join(got) and (chunk := sock.recv(65536)):
                got.append(chunk)
        except OSError:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        sock.sendall(head)
        body(sock)
    except OSError:
        pass  # the server may close on a body it refused: what it answered is what counts
    reader.join(5)
    sock.close()
    return b"".join(got)


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1])


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_200_mb_body_is_refused_without_being_held(
    framing: str, redis_url: str, store: Store, tmp_path: Any
) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {"NAMFEEDS_REDIS_URL": redis_url, "NAMFEEDS_ADMIN_TOKEN": TOKEN}
    log = (tmp_path / "web.log").open("wb")
    web = subprocess.Popen(
        [sys.executable, "-m", "cli", "web", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert web.poll() is None and time.monotonic() < deadline, "web did not start"
                time.sleep(0.1)
        before = _peak_rss_kib(web.pid)
        size, chunk = 200 * 1024 * 1024, b"x" * 65536
        framed = b"10000\r\n" + chunk + b"\r\n" if framing == "chunked" else chunk
        length = "Transfer-Encoding: chunked" if framing == "chunked" else f"Content-Length: {size}"
        head = (
            f"POST /api/recrawl HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\n{length}\r\n\r\n"
        ).encode()

        def body(sock: Any) -> None:
            for _ in range(size // len(chunk)):
                sock.sendall(framed)

        answer = _raw_post(port, head, body)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert _peak_rss_kib(web.pid) - before < 40 * 1024, "the body was held in memory"
        assert _jobs(store) == []
    finally:
        web.terminate()
        web.wait(10)
        log.close()


def test_a_client_leaving_mid_body_is_logged_at_info(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    client = serve(Settings(admin_token=TOKEN))
    port = int(str(client.base_url).rsplit(":", 1)[1].strip("/"))
    head = (
        f"POST /api/recrawl HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
    ).encode()
    with structlog.testing.capture_logs() as logs:

        def leave(sock: Any) -> None:
            sock.sendall(b'{"force": tr')
            time.sleep(0.2)
            sock.shutdown(socket.SHUT_WR)

        _raw_post(port, head, leave)
        deadline = time.monotonic() + 5
        while not any(e["event"] == "recrawl.client_disconnected" for e in logs):
            assert time.monotonic() < deadline, logs
            time.sleep(0.05)
    event = next(e for e in logs if e["event"] == "recrawl.client_disconnected")
    assert event["log_level"] == "info"
    assert not [r for r in caplog.records if r.levelno >= 30 or r.exc_info], caplog.records


class _CountingStore(Store):
    """The real store, counting its feed reads (Redis-wide counters would also count other
    clients of the same server)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: list[str] = []

    def get_feed(self, feed_key: str) -> StoredFeed | None:
        self.reads.append("body")
        return super().get_feed(feed_key)

    def feed_validators(self, feed_key: str) -> Any:
        self.reads.append("validators")
        return super().feed_validators(feed_key)


def test_feed_cache_reads_once_for_many_waiters_and_only_validators_after(
    mirror: list[Post], store: Store
) -> None:
    import asyncio

    from feeds.web._cache import FeedCache, stored_feeds

    now = [0.0]
    counting = _CountingStore(store.client)
    cache = FeedCache(stored_feeds(counting), clock=lambda: now[0])

    async def many() -> list[Any]:
        return list(await asyncio.gather(*(cache.get("all.atom") for _ in range(50))))

    feeds_ = asyncio.run(many())
    assert counting.reads == ["body"]  # one read for fifty requests
    assert all(feed is feeds_[0] for feed in feeds_) and feeds_[0].body.startswith(b"<?xml")
    now[0] += REVALIDATE_AFTER / 2
    asyncio.run(many())
    assert counting.reads == ["body"]  # still fresh: no read at all
    now[0] += REVALIDATE_AFTER
    again = asyncio.run(many())
    assert counting.reads == ["body", "validators"]  # the body is unchanged: not read again
    assert again[0] is feeds_[0]
    assert asyncio.run(cache.get("topics/no-such-topic.atom")) is None


def test_an_endless_request_head_is_refused_with_431_in_bounded_memory(
    redis_url: str, mirror: list[Post], tmp_path: Any
) -> None:
    import socket

    from tests.reliability.webapp import run_web

    with run_web(redis_url, tmp_path / "web.log") as web:
        port = int(web.url.rsplit(":", 1)[1])
        cookie = {"Cookie": "c=" + "x" * 8000}  # large but ordinary heads still pass
        assert httpx.get(web.url + "/feeds/all.atom", headers=cookie).status_code == 200
        before = _peak_rss_kib(web.process.pid)
        head = b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\nX-Endless: "

        def endless(sock: socket.socket) -> None:
            for _ in range(20 * 1024 // 64):  # 20 MiB, if the server kept reading
                sock.sendall(b"a" * 65536)

        answer = _raw_post(port, head, endless)
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
        assert _peak_rss_kib(web.process.pid) - before < 10 * 1024
        assert httpx.get(web.url + "/healthz").status_code == 200
    assert "web.request_head_too_large" in web.log_text()
