"""The synthetic site's HTTP side: one threading server per host, keep-alive, TCP_NODELAY.

The handler asks the site (bench.site.SyntheticSite) for a path's body, type and ETag,
answers If-None-Match with 304, and counts what it sent, pages apart from other documents.
Headers and body go in two sends, so Nagle's algorithm is off: it would stall ~40 ms each.
"""

from __future__ import annotations

from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DATE = 1677664800.0  # 2023-03-01T10:00:00Z, as the mirror claims


class SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, *, site: Any, host: str):
        super().__init__(address, handler)
        self.site = site
        self.host = host

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that closes a kept-alive connection mid-read is normal, not a traceback
        pass


class SiteRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real site
    disable_nagle_algorithm = True
    server: SiteHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path.split("?", 1)[0]
        self._kind = "page" if site.is_page(self.server.host, path) else "other"
        # A page's ETag is known without building it: a 304 costs the site what it costs a
        # real server (a CDN answers from the validator), for the floor and the crawl alike.
        etag = site.page_etag(self.server.host, path)
        if etag is not None and self.headers.get("If-None-Match") == etag:
            self._send(304, b"", None, etag)
            return
        found = site.resource(self.server.host, path)
        if found is None:
            self._send(404, b"not found", "text/plain", None)
            return
        body, content_type, etag = found
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", None, etag)
        else:
            self._send(200, body, content_type, etag)

    def _send(self, status: int, body: bytes, content_type: str | None, etag: str | None) -> None:
        self.server.site.count(self._kind, status)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", formatdate(DATE, usegmt=True))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
