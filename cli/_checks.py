"""What `up` checks before it starts anything: each failure is one line and a non-zero exit,
with nothing left running, instead of an "is up" followed by children that keep dying."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

from services.embedded_redis import redacted, why_unreachable


class StartupError(Exception):
    """One line for the operator: what is wrong and which setting or option to change."""


def check_port(host: str, port: int) -> None:
    """Bind the address as uvicorn will (SO_REUSEADDR), then let it go: a port in use is
    found here, not by a web process that exits three times."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise StartupError(f"--host {host}: cannot be resolved ({exc.strerror})") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise StartupError(
                f"cannot serve on {host}:{port}: {exc.strerror}; stop what uses it or give "
                "--port another one"
            ) from None


def check_data_dir(path: Path) -> None:
    """The embedded Redis writes its AOF here: find out now whether it can."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise StartupError(f"NAMFEEDS_DATA_DIR {path} is not writable: {exc.strerror}") from None


def check_redis(url: str) -> None:
    reason = why_unreachable(url)
    if reason is not None:
        raise StartupError(f"NAMFEEDS_REDIS_URL {redacted(url)} cannot be reached: {reason}")
