"""One deadline for a whole exchange: connect, TLS, headers and body.

httpx's timeouts bound each socket operation, so a server sending one byte of its headers
every 2 s never trips a 10 s read timeout. Every read, write and connect of the connection
pool goes through `_DeadlineStream`, whose timeout is the smaller of httpx's own and what is
left of the exchange's deadline (set per thread with `within`). Past it the read fails as a
timeout, and `Deadline.expired` tells the caller that the deadline, not the per-operation
timeout, was the one that ran out.
"""

from __future__ import annotations

import contextvars
import ssl
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpcore
import httpx

_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "fetch_deadline", default=None
)


@dataclass
class Deadline:
    seconds: float
    at: float
    expired: bool = False

    def timeout(self, operation: float | None) -> float:
        """The timeout for one operation; raises once nothing is left."""
        left = self.at - time.monotonic()
        if left <= 0:
            self.expired = True
            raise httpcore.ReadTimeout(f"no complete reply within {self.seconds:g} s")
        if operation is None or left < operation:
            self.expired = True  # if this operation times out, the deadline did it
            return left
        self.expired = False
        return operation


@contextmanager
def within(seconds: float) -> Iterator[Deadline]:
    """Every network operation of this thread inside the block shares one deadline."""
    deadline = Deadline(seconds, time.monotonic() + seconds)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def _timeout(operation: float | None) -> float | None:
    deadline = _current.get()
    return operation if deadline is None else deadline.timeout(operation)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _timeout(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _timeout(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _timeout(timeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _timeout(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not a source")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport() -> httpx.HTTPTransport:
    """httpx's own transport over a pool whose every socket honours the deadline. httpx
    takes no network backend, so the pool it built is replaced by one that has ours (the
    slow-headers tests fail if a new httpx stops using it)."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        network_backend=_DeadlineBackend(),
        # httpx's own defaults (httpx.Limits()), which the replaced pool had.
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
    )
    return transport


__all__ = ["Deadline", "deadline_transport", "within"]
