"""Looking at a Redis from outside: does it answer PING, wait until it does, and its URL as
logs may show it (password masked).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from services.errors import StorageError


def server_answers(url: str, *, timeout: float = 1.0) -> bool:
    """Whether the server at `url` answers PING: `timeout` to connect, twice that to reply."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=2 * timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def why_unreachable(url: str, *, timeout: float = 2.0) -> str | None:
    """None when the server at `url` answers PING within `timeout`, else why not, in words
    (redis-py's reason: refused, a name that does not resolve, a wrong password)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    finally:
        client.close()
    return None


def wait_for_ping(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Until the server `process` started answers (its AOF loaded); StorageError, with the tail
    of its `log`, if it exits first or stays silent for `timeout` seconds."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StorageError(
                    f"redis: the embedded server exited with code {process.returncode}: "
                    f"{_log_tail(log)}"
                )
            try:
                if client.ping():
                    return
            except redis.BusyLoadingError:
                pass  # still replaying the AOF
            except (redis.ConnectionError, redis.TimeoutError):
                pass
            time.sleep(0.02)
    finally:
        client.close()
    raise StorageError(f"redis: the embedded server did not answer within {timeout:g} s")


def _log_tail(log: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def redacted(url: str) -> str:
    """The URL with its password masked, for logs and the console."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = urlencode(
        [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)], safe="*"
    )
    if parts.scheme == "unix":
        return f"unix://{parts.path}" + (f"?{query}" if query else "")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


__all__ = ["redacted", "server_answers", "wait_for_ping", "why_unreachable"]
