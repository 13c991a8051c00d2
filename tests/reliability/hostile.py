"""A hostile HTTP server on 127.0.0.1 for the reliability tests: real sockets, one thread per
connection, and a behaviour chosen per path.

Every named attack is served at `/hostile/<name>` from the start (see `ATTACKS`), `/robots.txt`
allows everything, and any path can be given another behaviour with `route()`: a fixed
response (`Fixed`, so tests can serve pages and sitemaps), a redirect, a bomb, a drip.
`reset()` puts the defaults back and clears the request log.

The behaviours live in _behaviours and the payloads they serve in _payloads; this module
holds the server, the catalogue of attacks and the pytest fixture. Normal responses go
out in one `sendall` with TCP_NODELAY set, so a small reply never waits
on Nagle's algorithm. Every endless behaviour checks the server's stop event, so closing
the server ends its threads.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.reliability._behaviours import (
    Behaviour,
    Big,
    Drip,
    Encoded,
    Endless,
    Fixed,
    Hang,
    Redirect,
    Request,
)
from tests.reliability._payloads import MiB, big_robots, encoded_zeros

_MAX_HEAD = 64 * 1024
_TLS_HANDSHAKE = b"\x16\x03"


ALLOW_ALL = Fixed(200, body=b"User-agent: *\nAllow: /\n", content_type="text/plain")

# Named attacks, each served at /hostile/<name>.
ATTACKS: dict[str, Callable[[], Behaviour]] = {
    "big-page": lambda: Big(50 * MiB),
    "big-page-chunked": lambda: Big(50 * MiB, declared=False),
    "gzip-bomb": lambda: Encoded(("gzip",)),
    "double-gzip": lambda: Encoded(("gzip", "gzip")),
    "deflate-bomb": lambda: Encoded(("deflate",)),
    "slow-headers": lambda: Drip(2.0, headers=True),
    "slow-body": lambda: Drip(2.0, headers=False),
    "endless-body": lambda: Endless(),
    "hang": lambda: Hang(),
    "redirect-loop": lambda: Redirect(None),
    "offsite-redirect": lambda: Redirect("http://evil.example/steal"),
    "file-redirect": lambda: Redirect("file:///etc/passwd"),
    "link-local-redirect": lambda: Redirect("http://169.254.169.254/latest/meta-data/"),
    "status-500": lambda: Fixed(500, body=b"<h1>Internal Server Error</h1>"),
    "status-404": lambda: Fixed(404, body=b"<h1>Not Found</h1>"),
    "retry-after-hour": lambda: Fixed(429, {"Retry-After": "3600"}, b"slow down"),
}

# What /robots.txt can be made to do: route("/robots.txt", ROBOTS["500"]()).
ROBOTS: dict[str, Callable[[], Behaviour]] = {
    "allow-all": lambda: ALLOW_ALL,
    "big": lambda: Fixed(200, body=big_robots(), content_type="text/plain"),
    "500": lambda: Fixed(500, body=b"robots are broken"),
    "429": lambda: Fixed(429, {"Retry-After": "3600"}, b"slow down"),
    "404": lambda: Fixed(404, body=b"no robots here"),
    "timeout": lambda: Hang(),
}


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        owner = self.server.owner
        request = _read_request(sock)
        if request is None:
            return
        owner.log_request(request)
        try:
            owner.behaviour_for(request.path).respond(sock, request, owner.stop_event)
        except OSError:
            pass  # the client hung up, which is what a bounded client should do


def _read_request(sock: socket.socket) -> Request | None:
    sock.settimeout(10)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            got = sock.recv(4096)
            if not got or len(data) > _MAX_HEAD:
                return None
            if not data and got.startswith(_TLS_HANDSHAKE):
                # A TLS client on a plain port: answer in plain HTTP, as a real server
                # does, and the client's handshake fails at once.
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                return None
            data += got
    except OSError:
        return None
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, path, *_ = lines[0].split(" ") + ["", ""]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    sock.settimeout(None)
    return Request(method, path, headers, time.monotonic())


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    owner: HostileServer


class HostileServer:
    """`with HostileServer() as server:` a running server; `server.origin` is its address."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._routes: dict[str, Behaviour] = {}
        self._log: list[Request] = []
        self._tcp = _TCPServer(("127.0.0.1", 0), _Handler)
        self._tcp.owner = self
        self.port: int = self._tcp.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._tcp.serve_forever, daemon=True)
        self.reset()
        self._thread.start()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop_event.set()
        self._tcp.shutdown()
        self._tcp.server_close()

    def route(self, path: str, behaviour: Behaviour) -> str:
        """Serve `path` (without its query) with `behaviour`; returns the path. A payload
        that is costly to build is built now, so a bounded client never waits on it."""
        prepare = getattr(behaviour, "prepare", None)
        if prepare is not None:
            prepare()
        with self._lock:
            self._routes[path] = behaviour
        return path

    def reset(self) -> None:
        with self._lock:
            self._routes = {f"/hostile/{name}": make() for name, make in ATTACKS.items()}
            self._routes["/robots.txt"] = ALLOW_ALL
            self._log.clear()

    def behaviour_for(self, path: str) -> Behaviour:
        with self._lock:
            found = self._routes.get(path.split("?", 1)[0])
        return found or Fixed(404, body=b"<h1>no such route</h1>")

    def log_request(self, request: Request) -> None:
        with self._lock:
            self._log.append(request)

    def requests(self, path: str | None = None) -> list[Request]:
        """Requests received so far, optionally only those for `path` (query ignored)."""
        with self._lock:
            return [r for r in self._log if path is None or r.path.split("?", 1)[0] == path]


@pytest.fixture(scope="session")
def _hostile_session() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def hostile_server(_hostile_session: HostileServer) -> Iterator[HostileServer]:
    """The session's hostile server, with its default routes and an empty request log."""
    _hostile_session.reset()
    yield _hostile_session
    _hostile_session.reset()


__all__ = [
    "ALLOW_ALL",
    "ATTACKS",
    "MiB",
    "ROBOTS",
    "Behaviour",
    "Big",
    "Drip",
    "Encoded",
    "Endless",
    "Fixed",
    "Hang",
    "HostileServer",
    "Redirect",
    "Request",
    "big_robots",
    "encoded_zeros",
    "hostile_server",
]
