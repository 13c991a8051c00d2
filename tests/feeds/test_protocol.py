"""The web app's own HTTP protocol (feeds.web._protocol): fresh cached feeds are answered from
the parser's callbacks, everything else through ASGI. Over raw sockets, since what could go
wrong is HTTP itself: order under pipelining, keep-alive and close, HEAD, a client that does
not read, and the access line and latency count every request leaves."""

from __future__ import annotations

import gzip
import json
import socket
import time
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from feeds.web import create_app
from services.model import Post
from services.storage import Store
from tests.feeds.test_publish import SETTINGS, load_mirror
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn server fixture)
from tests.reliability.webapp import run_web


class _Shared:
    """One buffered reader for every response of a connection, as HTTPResponse reads a
    response from its socket's makefile(), which it closes when the body is read."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def makefile(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def close(self) -> None:
        pass


def _responses(sock: socket.socket, methods: list[str]) -> list[tuple[int, dict[str, str], bytes]]:
    shared = _Shared(sock)
    answers = []
    for method in methods:
        response = HTTPResponse(shared, method=method)  # type: ignore[arg-type]
        response.begin()
        headers = {k.lower(): v for k, v in response.getheaders()}
        answers.append((response.status, headers, response.read()))
    return answers


def _request(method: str, path: str, *extra: str, version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: feeds.test", *extra, "", ""]
    return "\r\n".join(lines).encode()


@pytest.fixture
def client(serve: Serve, mirror_loaded: list[Post]) -> httpx.Client:  # noqa: F811
    app = serve(SETTINGS)
    for path in ("/feeds/all.atom", "/feeds/all.rss"):  # cached: answered at once from now
        assert app.get(path).status_code == 200
    return app


@pytest.fixture
def mirror_loaded(store: Store) -> list[Post]:
    return load_mirror(store)


def _connect(client: httpx.Client) -> socket.socket:
    url = client.base_url
    sock = socket.create_connection((url.host, url.port), timeout=10)
    return sock


def test_pipelined_requests_are_answered_in_order_whichever_way_each_goes(
    client: httpx.Client,
) -> None:
    atom = client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
    asked = [
        ("GET", "/feeds/all.atom"),  # at once
        ("GET", "/healthz"),  # through ASGI, and what follows waits for it
        ("GET", "/feeds/all.rss"),
        ("HEAD", "/feeds/all.atom"),
        ("GET", "/feeds/all%2Eatom"),  # percent-encoded: the full path decodes it
        ("GET", "/feeds/all.atom"),
    ]
    with _connect(client) as sock:
        sock.sendall(b"".join(_request(m, p, "Accept-Encoding: identity") for m, p in asked))
        answers = _responses(sock, [m for m, _ in asked])
    statuses = [status for status, _, _ in answers]
    assert statuses == [200, 200, 200, 200, 200, 200]
    assert answers[0][2] == answers[4][2] == answers[5][2] == atom.content
    assert json.loads(answers[1][2])["redis"] == "ok"
    assert answers[2][2] == client.get("/feeds/all.rss").content
    head = answers[3]
    assert head[2] == b"" and head[1]["content-length"] == str(len(atom.content))
    assert head[1]["etag"] == atom.headers["etag"]
    for _, headers, _ in answers:
        assert "date" in headers and "server" not in headers


def test_a_304_and_gzip_are_answered_at_once_as_the_asgi_path_answers_them(
    client: httpx.Client,
) -> None:
    plain = client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    tag = plain.headers["etag"]
    with _connect(client) as sock:
        sock.sendall(
            _request("GET", "/feeds/all.atom", f"If-None-Match: {tag}")
            + _request("GET", "/feeds/all.atom", "Accept-Encoding: gzip")
        )
        (status, headers, body), (_, gz_headers, gz_body) = _responses(sock, ["GET", "GET"])
    assert status == 304 and body == b"" and headers["etag"] == tag
    assert headers["vary"] == "Accept-Encoding" and "content-length" not in headers
    assert gz_headers["content-encoding"] == "gzip" and gz_headers["etag"] != tag
    assert gz_headers["etag"] == zipped.headers["etag"]
    assert gzip.decompress(gz_body) == plain.content


@pytest.mark.parametrize(
    ("version", "extra"), [("1.0", ()), ("1.1", ("Connection: close",))], ids=["1.0", "close"]
)
def test_a_client_that_does_not_keep_the_connection_gets_it_closed(
    client: httpx.Client, version: str, extra: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    with _connect(client) as sock:
        # what follows the last request of a connection is not answered
        last = _request("GET", "/feeds/all.atom", *extra, version=version)
        sock.sendall(last + _request("GET", "/feeds/all.rss", version=version))
        [(status, headers, body)] = _responses(sock, ["GET"])
        assert status == 200 and body and headers["connection"] == "close"
        sock.settimeout(5)
        assert sock.recv(1) == b"", "the server kept the connection open"
    time.sleep(0.3)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


def test_a_client_that_does_not_read_cannot_grow_the_servers_memory(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    """Thousands of pipelined GETs of a feed, never read: once the socket's buffer is full the
    server stops answering at once and waits, as the ASGI path does, and stops reading."""
    load_mirror(store)
    with run_web(redis_url, tmp_path / "web.log") as web:
        size = len(httpx.get(web.url + "/feeds/all.atom").content)
        server = psutil.Process(web.process.pid)
        before = server.memory_info().rss
        host, port = web.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.setblocking(False)
            request = _request("GET", "/feeds/all.atom")
            sent = 0
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    sock.send(request)
                    sent += 1
                except BlockingIOError:
                    time.sleep(0.05)
                except OSError:  # the server gave up on it: bounded too
                    break
            grown = server.memory_info().rss - before
        assert sent > 50, "the test did not get its requests out"
        assert grown < 32 * 2**20, (sent, size, grown)
        assert httpx.get(web.url + "/feeds/all.atom").status_code == 200  # and still serves
        time.sleep(0.5)
        # the request that was waiting for the client to read gives up without a traceback
        assert "Exception in ASGI application" not in web.log_text()


def test_requests_answered_at_once_leave_their_access_line_and_latency(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    load_mirror(store)
    with run_web(redis_url, tmp_path / "web.log") as web, httpx.Client(base_url=web.url) as app:
        for _ in range(6):
            assert app.get("/feeds/all.atom").status_code == 200
        tag = app.get("/feeds/all.atom").headers["etag"]
        assert app.get("/feeds/all.atom", headers={"If-None-Match": tag}).status_code == 304
        metrics = app.get("/metrics").text
    lines = [json.loads(x) for x in web.log_text().splitlines() if '"http.request"' in x]
    feeds = [(x["method"], x["status"]) for x in lines if x["path"] == "/feeds/all.atom"]
    assert feeds == [("GET", 200)] * 7 + [("GET", 304)]
    series = 'method="GET",route="/feeds/{path}",status="200"'
    count = next(
        x
        for x in metrics.splitlines()
        if x.startswith("namfeeds_http_request_duration_seconds_count{") and series in x
    )
    assert float(count.rsplit(" ", 1)[1]) == 7


def test_only_a_fresh_cached_copy_is_answered_at_once(
    serve: Serve,  # noqa: F811
    store: Store,
    mirror_loaded: list[Post],
) -> None:
    app = create_app(SETTINGS, store, revalidate_after=0.5)
    client = serve(app=app)
    assert app.at_once("GET", "/feeds/all.atom", b"", []) is None  # not cached yet
    served = client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
    found = app.at_once("GET", "/feeds/all.atom", b"", [])
    assert found is not None and found[0] == 200 and found[2] == served.content
    assert app.at_once("HEAD", "/feeds/all.atom", b"", []) is not None
    for method, path in (("POST", "/feeds/all.atom"), ("GET", "/healthz"), ("GET", "/")):
        assert app.at_once(method, path, b"", []) is None, (method, path)
    time.sleep(0.6)  # then it is revalidated with Redis, which takes an await
    assert app.at_once("GET", "/feeds/all.atom", b"", []) is None


def test_a_request_read_behind_an_answer_given_at_once_is_not_cut_by_the_keep_alive_timer(
    serve: Serve,  # noqa: F811
    mirror_loaded: list[Post],
) -> None:
    client = serve(SETTINGS, timeout_keep_alive=1)
    assert client.get("/feeds/all.atom").status_code == 200
    body = b'{"force": false}'
    head = _request(
        "POST",
        "/api/recrawl",
        f"Authorization: Bearer {SETTINGS.admin_token}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    )
    with _connect(client) as sock:
        # a feed answered at once, then a request whose body comes after the keep-alive time
        sock.sendall(_request("GET", "/feeds/all.atom") + head)
        time.sleep(1.6)
        sock.sendall(body)
        (first, _, _), (second, _, answer) = _responses(sock, ["GET", "POST"])
    assert first == 200
    assert second == 202, answer  # queued, not cut off with the connection


@pytest.mark.parametrize(
    "since",
    ["Mon, 01 Jan 99999999999999999999 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 -0100"],
)
def test_a_date_out_of_range_is_ignored_as_an_invalid_one(client: httpx.Client, since: str) -> None:
    # RFC 9110 section 13.1.3: an invalid If-Modified-Since is as if it were absent
    for path in ("/feeds/all.atom", "/feeds/all%2Eatom"):  # at once, and through ASGI
        answer = client.get(path, headers={"If-Modified-Since": since})
        assert answer.status_code == 200 and answer.content, (path, since)
