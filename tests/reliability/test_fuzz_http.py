"""HTTP fuzzing: hypothesis against every route of `nam-feeds web`, over real sockets.

Paths, methods, query strings, headers (validators, codings, hosts), bearer tokens of every
length and request bodies of every shape are sent as raw HTTP/1.1, so nothing is normalised
by a client on the way. The promise: no 5xx, no traceback or error in the app's log, and no
job queued by a bad request (no request here is a valid recrawl). CI runs a bounded number
of requests; NAMFEEDS_RELIABILITY_FULL=1 runs ten times as many.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.broker import broker_url
from services.storage import Store
from tests.feeds.test_publish import load_mirror
from tests.reliability.webapp import WebApp, run_web

TOKEN = "fuzz-" + "k" * 27
FULL = os.environ.get("NAMFEEDS_RELIABILITY_FULL") == "1"
EXAMPLES = 12000 if FULL else 1200
ROUTES = (
    "/", "/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/feeds/topics/ukraine.atom",
    "/feeds/topics/sanctions.rss", "/feeds/speakers/pavel-latushka.atom",
    "/feeds/speakers/nobody.rss", "/feeds.opml", "/api/recrawl", "/api/jobs/" + "0" * 32,
    "/api/jobs/nope", "/healthz", "/metrics", "/speakers/pavel-latushka", "/topics/ukraine",
    "/posts/x", "/favicon.ico",
)
# the HTTP parser answers 400 to any method it does not know, so a few such stand for all
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
           "PROPFIND", "get", "BREW", "X" * 40)
CONTROLS = bytes(range(0x20)).replace(b"\t", b"") + b"\x7f"
PRINTABLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
VALUE = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120),
    # obs-text (bytes 0x80-0xff) is allowed in a field value; control characters are not,
    # and would only test the HTTP parser's 400
    st.binary(max_size=60).map(lambda b: b.translate(None, CONTROLS).decode("latin-1")),
)
ETAG = st.one_of(VALUE, st.lists(st.text(PRINTABLE, max_size=20).map(lambda t: f'"{t}"'),
                                 max_size=5).map(", ".join), st.just("*"))
TOKENS = st.one_of(
    st.integers(0, 5000).map(lambda n: "k" * n),
    st.text(PRINTABLE, max_size=300),
    st.just(TOKEN),
    st.just(TOKEN[:-1]),
    st.just(TOKEN + "x"),
)
AUTH = st.one_of(
    TOKENS.map(lambda t: "Bearer " + t), TOKENS.map(lambda t: "bearer  " + t),
    TOKENS.map(lambda t: "Basic " + t), VALUE,
)
HEADER = st.one_of(
    st.tuples(st.just("If-None-Match"), ETAG),
    st.tuples(st.just("If-Modified-Since"), st.one_of(
        VALUE, st.just("Wed, 21 Oct 2015 07:28:00 GMT"), st.just("Sun, 06 Nov 1994 08:49:37"))),
    st.tuples(st.just("Accept-Encoding"), st.one_of(VALUE, st.just("gzip;q=0, *"),
                                                    st.just("gzip;q=banana"))),
    st.tuples(st.just("Authorization"), AUTH),
    st.tuples(st.sampled_from(["Host", "Content-Type", "Accept", "Accept-Language", "Range",
                               "Cookie", "X-Forwarded-For", "Origin", "Expect"]), VALUE),
    st.tuples(st.text(st.characters(min_codepoint=0x41, max_codepoint=0x7A), min_size=1,
                      max_size=20).filter(lambda n: n.isalpha()), VALUE),
)
# Bodies that are never a valid recrawl: not JSON, not an object, or an object with a field
# the API does not know (so a 202 anywhere is a bug).
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                    max_leaves=20)
# (An empty body is a valid recrawl of everything, so there is none.)
BODY = st.one_of(
    st.binary(min_size=1, max_size=3000),
    JSON.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["url", "force", "every", "x"]), JSON, max_size=3).map(
        lambda d: json.dumps({**d, "fuzz": 1}).encode()),
    st.tuples(st.sampled_from(["url", "force"]), JSON).map(
        lambda kv: (json.dumps({kv[0]: kv[1]})[:-1] + ",").encode()),  # cut short
    st.just(b'{"force": tru'), st.just(b"\xff\xfe{}"), st.just(b'{"url": "\\ud800"}'),
)
PCHARS = "ABCXYZabcxyz0189-._~!$&'()*+,;=:@/"
SEGMENT = st.one_of(
    st.text(st.sampled_from(PCHARS), max_size=30),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E,
                          blacklist_characters="?#%"), max_size=30),
    st.binary(max_size=20).map(lambda b: quote(b, safe="")),
    st.sampled_from(["/", "//", "/..", "/../..", "%2e%2e/", "%00", "%", "%zz", ".atom", "/"]),
)
QUERY = st.lists(
    st.tuples(st.sampled_from(["lang", "format", "speaker", "topic", "q", "page", "x", ""]),
              st.one_of(st.sampled_from(["en", "ru", "be", "xx", "rss", "atom", ""]), VALUE)),
    max_size=4,
).map(lambda pairs: "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs))


@pytest.fixture
def web(redis_url: str, store: Store, tmp_path: Path) -> Iterator[WebApp]:
    load_mirror(store)
    queue = redis.Redis.from_url(broker_url(redis_url))
    queue.delete("celery")
    with run_web(redis_url, tmp_path / "web.log", NAMFEEDS_ADMIN_TOKEN=TOKEN) as app:
        yield app
    queue.close()


def send(url: str, request: bytes) -> bytes:
    """One raw request on its own connection; the whole answer (the server closes). The
    answer is read while the request is still being sent: a server may refuse a body it has
    not read, and close on the rest."""
    host, port = url.removeprefix("http://").split(":")
    chunks: list[bytes] = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:

        def read() -> None:
            try:
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except OSError:
                pass

        reader = threading.Thread(target=read)
        reader.start()
        try:
            sock.sendall(request)
        except OSError:
            pass  # refused mid-body: what it answered is what counts
        reader.join(15)
    return b"".join(chunks)


def build(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Connection: close"]
    if not any(name.lower() == "host" for name, _ in headers):
        lines.append("Host: 127.0.0.1")
    names = {"connection", "content-length", "transfer-encoding"}
    lines += [f"{n}: {v}" for n, v in headers if n.lower() not in names]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def test_fuzzed_requests_never_get_a_5xx_a_traceback_or_a_job(
    web: WebApp, redis_url: str, store: Store
) -> None:
    sent: dict[int, int] = {}
    start = time.monotonic()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(
        method=st.sampled_from(METHODS),
        route=st.sampled_from(ROUTES),
        suffix=st.one_of(st.just(""), SEGMENT),
        query=st.one_of(st.just(""), QUERY),
        headers=st.lists(HEADER, max_size=6),
        body=BODY,
    )
    def attack(method: str, route: str, suffix: str, query: str,
               headers: list[tuple[str, str]], body: bytes) -> None:
        target = route + suffix + (f"?{query}" if query else "")
        answer = send(web.url, build(method, target, headers, body))
        status_line = answer.split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 "), (target, answer[:200])
        status = int(status_line.split()[1])
        sent[status] = sent.get(status, 0) + 1
        assert status < 500, (method, target, headers, body[:200], answer[:500])
        assert status != 202, ("a bad request was queued", method, target, headers, body)

    attack()
    elapsed = time.monotonic() - start
    total = sum(sent.values())
    print(f"fuzz: {total} requests in {elapsed:.0f} s, by status", sorted(sent.items()))
    log = web.log_text()
    assert "Traceback" not in log and '"level": "error"' not in log, log[-3000:]
    assert not list(store.client.scan_iter(match="nam:job:*")), "a bad request created a job"
    queue = redis.Redis.from_url(broker_url(redis_url))
    assert queue.llen("celery") == 0, "a bad request queued a task"
    queue.close()


def test_fuzzed_recrawl_requests_are_refused_and_queue_nothing(
    web: WebApp, redis_url: str, store: Store
) -> None:
    statuses: dict[int, int] = {}

    @settings(max_examples=EXAMPLES // 3, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(auth=st.one_of(st.none(), AUTH), body=BODY,
           kind=st.sampled_from(["application/json", "text/plain", ""]),
           huge=st.one_of(st.none(), st.integers(16 * 1024 + 1, 300_000)))
    def attack(auth: str | None, body: bytes, kind: str, huge: int | None) -> None:
        if huge is not None:  # built here: hypothesis would print a body this size
            body = b"{" + b" " * huge + b"}"
        headers = [("Content-Type", kind)] + ([("Authorization", auth)] if auth else [])
        answer = send(web.url, build("POST", "/api/recrawl", headers, body))
        status = int(answer.split(b"\r\n", 1)[0].split()[1])
        statuses[status] = statuses.get(status, 0) + 1
        assert status in (400, 401, 413), (auth, body[:200], answer[:300])

    attack()
    print("fuzz /api/recrawl: by status", sorted(statuses.items()))
    assert statuses.get(400) and statuses.get(401) and statuses.get(413), "a branch was missed"
    log = web.log_text()
    assert "Traceback" not in log and '"level": "error"' not in log, log[-3000:]
    assert not list(store.client.scan_iter(match="nam:job:*")), "a bad request created a job"
    queue = redis.Redis.from_url(broker_url(redis_url))
    assert queue.llen("celery") == 0, "a bad request queued a task"
    queue.close()
