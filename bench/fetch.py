"""Fetching speed against its floors, in one run: what the bounds (deadline, layered
decoding, robots.txt, host turns) cost on the largest mirror page.

    decode    _decode.decode_bounded vs httpx's own gzip decoder on the same network chunks
    fetch     Fetcher.get vs a bare httpx.Client GET of the same gzip'd page over loopback

Run: python -m bench.fetch   (one line per comparison and its ratio; goal <= 1.2x)
"""

from __future__ import annotations

import gzip
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from httpx._decoders import GZipDecoder

from services.fetch import Fetcher
from services.fetch._decode import decode_bounded
from services.settings import Settings

SITE = Path(__file__).resolve().parent.parent / "tests" / "data" / "site"
ORIGIN = "https://www.belarus-nau.org"
_CHUNK = 64 * 1024


def _largest_page() -> bytes:
    return max((p.read_bytes() for p in SITE.rglob("*.html")), key=len)


def _median_seconds(fn: Callable[[], object], *, rounds: int = 7, number: int = 20) -> float:
    """Median of `rounds` averages: steadier on a shared machine; both sides alike."""
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


@contextmanager
def _serving(body: bytes) -> Iterator[str]:
    """A loopback server answering every GET with `body` gzip'd, headers and body in one
    send with TCP_NODELAY (DESIGN: a two-send server stalls 40 ms per response)."""
    encoded = gzip.compress(body, 6)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/robots.txt":
                payload, encoding = b"User-agent: *\nAllow: /\n", b""
            else:
                payload, encoding = encoded, b"Content-Encoding: gzip\r\n"
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                + encoding
                + b"Content-Length: %d\r\n\r\n" % len(payload)
            )
            self.wfile.write(head + payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _decode_line(body: bytes) -> float:
    encoded = gzip.compress(body, 6)
    chunks = [encoded[i : i + _CHUNK] for i in range(0, len(encoded), _CHUNK)]

    def ours() -> bytes:
        return decode_bounded(chunks, ("gzip",), limit=5 << 20)

    def floor() -> bytes:
        decoder = GZipDecoder()
        return b"".join(decoder.decode(c) for c in chunks) + decoder.flush()

    assert ours() == floor() == body
    mine, base = _median_seconds(ours), _median_seconds(floor)
    return _report("decode", len(body), base, mine)


def _fetch_line(body: bytes) -> float:
    with _serving(body) as address:
        settings = Settings(
            source_urls=(ORIGIN,), origin_map={ORIGIN: address}, crawl_delay=0.0
        )
        url = f"{ORIGIN}/en/post/page"
        with Fetcher(settings) as fetcher, httpx.Client(trust_env=False) as client:
            assert fetcher.get(url).body == client.get(f"{address}/en/post/page").content
            mine = _median_seconds(lambda: fetcher.get(url))
            base = _median_seconds(lambda: client.get(f"{address}/en/post/page").content)
    return _report("fetch", len(body), base, mine)


def _report(what: str, size: int, base: float, mine: float) -> float:
    print(f"{what:8} {size:>9} {base * 1000:>10.2f} {mine * 1000:>10.2f} {mine / base:>6.2f}")
    return mine / base


def main() -> None:
    body = _largest_page()
    print(f"{'what':8} {'bytes':>9} {'floor ms':>10} {'ours ms':>10} {'ratio':>6}")
    _decode_line(body)
    _fetch_line(body)


if __name__ == "__main__":
    main()
