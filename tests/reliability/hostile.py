"""A hostile HTTP server on 127.0.0.1 for the reliability tests: real sockets, one thread per
connection, and a behaviour chosen per path.

Every named attack is served at `/hostile/<name>` from the start (see `ATTACKS`), `/robots.txt`
allows everything, and any path can be given another behaviour with `route()`: a fixed
response (`Fixed`, so tests can serve pages and sitemaps), a redirect, a bomb, a drip.
`reset()` puts the defaults back and clears the request log.

Normal responses go out in one `sendall` with TCP_NODELAY set, so a small reply never waits
on Nagle's algorithm. Every endless behaviour checks the server's stop event, so closing
the server ends its threads.
"""

from __future__ import annotations

import functools
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import pytest

MiB = 1 << 20
_CHUNK = 64 * 1024
_FILLER = b"<p>" + b"x" * (_CHUNK - 8) + b"</p>\n"
_MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # path and query as sent
    headers: Mapping[str, str]  # lower-cased names
    time: float  # time.monotonic() on arrival


class Behaviour(Protocol):
    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None: ...


def _head(status: int, headers: Mapping[str, str], reason: str = "Hostile") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True)
class Fixed:
    """One ordinary response, headers and body in a single send."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"

    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None:
        headers = {"Content-Type": self.content_type, **self.headers}
        headers.setdefault("Content-Length", str(len(self.body)))
        headers.setdefault("Connection", "close")
        body = b"" if request.method == "HEAD" else self.body
        sock.sendall(_head(self.status, headers) + body)


@dataclass(frozen=True)
class Big:
    """`size` bytes of HTML, streamed; `declared` sends Content-Length, else it is chunked."""

    size: int = 50 * MiB
    declared: bool = True

    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None:
        headers = {"Content-Type": "text/html; charset=utf-8", "Connection": "close"}
        if self.declared:
            headers["Content-Length"] = str(self.size)
        else:
            headers["Transfer-Encoding"] = "chunked"
        sock.sendall(_head(200, headers))
        sent = 0
        while sent < self.size and not stop.is_set():
            piece = _FILLER[: self.size - sent]
            sock.sendall(piece if self.declared else _chunk(piece))
            sent += len(piece)
        if not self.declared:
            sock.sendall(b"0\r\n\r\n")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@dataclass(frozen=True)
class Encoded:
    """A small body that inflates to `expanded` bytes of zeros through `encodings`, applied
    in the order they are listed (RFC 9110 section 8.4: the order they were applied in)."""

    encodings: tuple[str, ...] = ("gzip",)
    expanded: int = 1024 * MiB

    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None:
        body = encoded_zeros(self.encodings, self.expanded)
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Encoding": ", ".join(self.encodings),
        }
        Fixed(200, headers, body).respond(sock, request, stop)


@functools.cache
def encoded_zeros(encodings: tuple[str, ...], expanded: int) -> bytes:
    body = _deflated_zeros(expanded, encodings[0])
    for encoding in encodings[1:]:
        wbits = {"gzip": 31, "deflate": 15}[encoding]
        squeeze = zlib.compressobj(9, zlib.DEFLATED, wbits)
        body = squeeze.compress(body) + squeeze.flush()
    return body


def _deflated_zeros(expanded: int, encoding: str) -> bytes:
    """Built from one compressed MiB repeated: after a full flush the compressor's window is
    reset, so every further MiB of zeros compresses to the same bytes (1 GiB in ~0.3 s)."""
    wbits = {"gzip": 31, "deflate": 15}[encoding]
    whole, rest = divmod(expanded, MiB)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, wbits)
    blocks = []
    if whole:
        # The first block also carries the gzip or zlib header; the rest repeat exactly.
        blocks.append(squeeze.compress(bytes(MiB)) + squeeze.flush(zlib.Z_FULL_FLUSH))
    if whole > 1:
        again = squeeze.compress(bytes(MiB)) + squeeze.flush(zlib.Z_FULL_FLUSH)
        blocks.append(again * (whole - 1))
    stream = b"".join(blocks) + squeeze.compress(bytes(rest)) + squeeze.flush()
    # The compressor computed the trailer over what it saw, not over the repeated middle.
    return _fix_trailer(stream, encoding, expanded)


def _fix_trailer(stream: bytes, encoding: str, expanded: int) -> bytes:
    zero = bytes(MiB)
    check = 0 if encoding == "gzip" else 1
    left = expanded
    while left:
        piece = zero[: min(left, MiB)]
        check = zlib.crc32(piece, check) if encoding == "gzip" else zlib.adler32(piece, check)
        left -= len(piece)
    if encoding == "gzip":
        trailer = check.to_bytes(4, "little") + (expanded & 0xFFFFFFFF).to_bytes(4, "little")
        return stream[:-8] + trailer
    return stream[:-4] + check.to_bytes(4, "big")


@dataclass(frozen=True)
class Drip:
    """The whole response one byte every `interval` seconds: headers and body (`headers`
    true: slow headers), or headers at once and then the body (slow body)."""

    interval: float = 2.0
    headers: bool = True
    body: bytes = b"<html><body>" + b"slow " * 1000 + b"</body></html>"

    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None:
        head = _head(200, {"Content-Type": "text/html", "Content-Length": str(len(self.body))})
        slow = head + self.body
        if not self.headers:
            sock.sendall(head)
            slow = self.body
        for i in range(len(slow)):
            sock.sendall(slow[i : i + 1])
            if stop.wait(self.interval):
                return


@dataclass(frozen=True)
class Endless:
    """A chunked body that never ends, as fast as the client reads it."""

    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None:
        sock.sendall(_head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"}))
        piece = _chunk(_FILLER)
        while not stop.is_set():
            sock.sendall(piece)


@dataclass(frozen=True)
class Hang:
    """Reads the request and never answers, until the client or the server gives up."""

    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                if sock.recv(1024) == b"":
                    return
            except TimeoutError:
                continue


@dataclass(frozen=True)
class Redirect:
    """A redirect to `location`; None redirects the path to itself (a loop)."""

    location: str | None = None
    status: int = 302

    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None:
        target = request.path if self.location is None else self.location
        Fixed(self.status, {"Location": target}).respond(sock, request, stop)


def big_robots(size: int = MiB, late_rule: str = "Disallow: /hostile/late") -> bytes:
    """A robots.txt of `size` bytes: allow-all for everyone, padded with comments, and
    `late_rule` after the first MiB's worth of padding, where RFC 9309 lets a crawler stop
    reading (section 2.5: at least 500 KiB must be parsed)."""
    head = b"User-agent: *\nDisallow: /hostile/early\n"
    tail = f"\n{late_rule}\n".encode()
    line = b"# " + b"p" * 77 + b"\n"
    padding = line * ((size - len(head) - len(tail)) // len(line) + 1)
    return (head + padding)[: size - len(tail)] + tail


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
        """Serve `path` (without its query) with `behaviour`; returns the path."""
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
