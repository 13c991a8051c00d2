"""uvicorn's httptools protocol, with a bound on the request head and feeds answered at once.

httptools (llhttp) has no limit of its own on the request line and headers: a client that
sends one endless header grows the server's memory for as long as it keeps sending (20 MB
sent took 40 MB). h11 stops at 16 KiB; this does the same for httptools, counting the bytes
that arrive before the head is complete, and answers 431 before parsing any more.

A GET or HEAD of a feed whose cached copy is fresh (feeds.web._lean's `at_once`) is answered
from the parser's callbacks: the same status, headers and bytes the lean ASGI path sends,
without the ASGI request cycle, its task and its per-header checks, which cost more than the
answer (a profile of a 304 put uvicorn's cycle at 97 k instructions of 175 k). Everything
else, and any request while a response is still being written or the client is not reading,
takes the usual way.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import httptools
import structlog
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from feeds.web._cache import encode_headers
from feeds.web._lean import LeanFeeds

log = structlog.get_logger(__name__)

MAX_HEAD = 64 * 1024  # request line and headers; nginx's default is 4 x 8 KiB
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 32\r\nconnection: close\r\n"
    b"\r\nthe request head is over 64 KiB\n"
)


class _Answer(NamedTuple):
    """A request answered at once, written when its message completes."""

    method: str
    path: str
    status: int
    parts: list[bytes]  # the head, and the body unless there is none to send
    keep_alive: bool
    start: float


_server_headers: object = None  # uvicorn's default headers (the date) when last encoded
_server_encoded = b""


def _server_lines(state: ServerState) -> bytes:
    """uvicorn's default headers as header lines, encoded once per list: uvicorn makes a new
    list when the second changes."""
    global _server_headers, _server_encoded
    headers = state.default_headers
    if headers is not _server_headers:
        _server_headers, _server_encoded = headers, encode_headers(headers)
    return _server_encoded


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Bytes of a head still incomplete after a read count against MAX_HEAD. Each read is
    parsed first (a read is at most a few hundred KiB), so a body that arrives with its head
    never counts; the admin API caps bodies as it reads them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._completed = 0
        self._refused = False
        self._lean = self.app if isinstance(self.app, LeanFeeds) else None
        self._at_once: _Answer | None = None  # the request being read, answered at once
        self._running: Any = None  # the request cycle whose ASGI task was started last

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        completed = self._completed
        super().data_received(data)
        # a request that ended in this read makes the rest of it the next head's start;
        # how much is unknown, so the count starts again with the next read
        if not self._in_head or self._completed != completed:
            return
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEAD and not self.transport.is_closing():
            self._refuse()

    def on_message_begin(self) -> None:
        # An answer given at once arms the keep-alive timer while the rest of the read is
        # still parsed; a request read after it must not run under that timer.
        self._unset_keepalive_if_required()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._lean is not None and self._idle():
            try:
                self._at_once = self._answer_at_once(self._lean)
            except Exception:  # raised in a parser callback it would be a bare 400 and a close
                log.exception("web.answer_at_once_failed")
                self._at_once = None
            if self._at_once is not None:
                return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._at_once is None:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._at_once is not None:
            self._send_at_once(self._at_once)
            self._at_once = None
        else:
            super().on_message_complete()
        self._in_head, self._head_bytes, self._completed = True, 0, self._completed + 1

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        self._running = cycle
        super()._start_asgi_task(cycle, app)

    def connection_lost(self, exc: Exception | None) -> None:
        # uvicorn marks only its newest cycle disconnected; with requests pipelined behind
        # it, the one running is an older one, which would then write to the closed
        # transport (an "Exception in ASGI application" per such client)
        running = self._running
        if running is not None and not running.response_complete:
            running.disconnected = True
            running.message_event.set()
        super().connection_lost(exc)

    def _idle(self) -> bool:
        """No response is being written (it would come first), the client reads what is
        written (a paused transport is drained by the ASGI path, which waits), and the
        connection is not closing (after `Connection: close`, uvicorn drops what follows)."""
        cycle = self.cycle
        if self.flow.write_paused or self.transport.is_closing():
            return False
        return cycle is None or cycle.response_complete

    def _answer_at_once(self, lean: LeanFeeds) -> _Answer | None:
        start = time.perf_counter()
        method = self.parser.get_method()
        if method not in (b"GET", b"HEAD") or self.parser.should_upgrade():
            return None
        for name, _value in self.headers:  # a body to read: the usual way
            if name in (b"content-length", b"transfer-encoding"):
                return None
        try:
            url = httptools.parse_url(self.url)
        except httptools.HttpParserInvalidURLError:
            return None
        raw = url.path
        if b"%" in raw or not raw.isascii():  # decoding and its rules are the full path's
            return None
        path, verb = raw.decode("ascii"), method.decode("ascii")
        found = lean.at_once(verb, path, url.query or b"", self.headers)
        if found is None:
            return None
        status, lines, body = found
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        close = b"" if keep_alive else b"connection: close\r\n"
        parts = [STATUS_LINE[status] + _server_lines(self.server_state) + lines + close + b"\r\n"]
        if verb == "GET" and body:
            parts.append(body)
        return _Answer(verb, path, status, parts, keep_alive, start)

    def _send_at_once(self, answer: _Answer) -> None:
        self.transport.writelines(answer.parts)  # head and body in one writev, not two sends
        assert self._lean is not None
        took = time.perf_counter() - answer.start
        self._lean.answered(answer.method, answer.path, answer.status, took)
        if not answer.keep_alive:
            self.transport.close()
        self.on_response_complete()  # counts it, then reads on or waits for the next

    def _refuse(self) -> None:
        log.info("web.request_head_too_large", bytes=self._head_bytes, client=self.client)
        self._refused = True
        self.transport.write(_TOO_LARGE)
        self.transport.close()
