"""uvicorn's httptools protocol with a bound on the request head.

httptools (llhttp) has no limit of its own on the request line and headers: a client that
sends one endless header grows the server's memory for as long as it keeps sending (20 MB
sent took 40 MB). h11 stops at 16 KiB; this does the same for httptools, counting the bytes
that arrive before the head is complete, and answers 431 before parsing any more.
"""

from __future__ import annotations

from typing import Any

import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = structlog.get_logger(__name__)

MAX_HEAD = 64 * 1024  # request line and headers; nginx's default is 4 x 8 KiB
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 32\r\nconnection: close\r\n"
    b"\r\nthe request head is over 64 KiB\n"
)


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

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._completed = True, 0, self._completed + 1

    def _refuse(self) -> None:
        log.info("web.request_head_too_large", bytes=self._head_bytes, client=self.client)
        self._refused = True
        self.transport.write(_TOO_LARGE)
        self.transport.close()
