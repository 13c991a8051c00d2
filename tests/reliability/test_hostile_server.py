"""The hostile server itself: its bombs are what they claim, and its routes answer as set."""

from __future__ import annotations

import socket
import zlib

import pytest

from tests.reliability.hostile import Fixed, HostileServer, MiB, encoded_zeros


def _get(server: HostileServer, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize("encodings", [("gzip",), ("deflate",), ("gzip", "gzip")])
def test_bombs_are_valid_streams_of_zeros(encodings: tuple[str, ...]) -> None:
    body = encoded_zeros(encodings, 3 * MiB + 5)
    for encoding in reversed(encodings):
        body = zlib.decompress(body, {"gzip": 31, "deflate": 15}[encoding])
    assert body == bytes(3 * MiB + 5)


def test_server_serves_fixed_routes_and_logs_them(hostile_server: HostileServer) -> None:
    hostile_server.route("/page", Fixed(201, {"X-Test": "yes"}, b"hello"))
    reply = _get(hostile_server, "/page?q=1")
    assert reply.startswith(b"HTTP/1.1 201 ")
    assert b"X-Test: yes" in reply and reply.endswith(b"\r\n\r\nhello")
    assert [r.path for r in hostile_server.requests("/page")] == ["/page?q=1"]
