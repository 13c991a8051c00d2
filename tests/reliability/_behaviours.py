"""What the hostile server can do with one request: a fixed response, a huge or endless
body, a compression bomb, a drip, a hang or a redirect. Each writes straight to the socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from tests.reliability._payloads import MiB, encoded_zeros

_CHUNK = 64 * 1024
_FILLER = b"<p>" + b"x" * (_CHUNK - 8) + b"</p>\n"


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

    def prepare(self) -> None:
        encoded_zeros(self.encodings, self.expanded)  # built once, before any client waits

    def respond(self, sock: socket.socket, request: Request, stop: threading.Event) -> None:
        body = encoded_zeros(self.encodings, self.expanded)
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Encoding": ", ".join(self.encodings),
        }
        Fixed(200, headers, body).respond(sock, request, stop)


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


__all__ = [
    "Behaviour",
    "Big",
    "Drip",
    "Encoded",
    "Endless",
    "Fixed",
    "Hang",
    "Redirect",
    "Request",
]
