"""Structured logs for every entry point: JSON lines on stderr when no person is watching
(a service's logs are read by machines), readable key=value lines on a terminal.

Celery's and uvicorn's own records go through the same formatter, so one process never mixes
formats. stdout is left to the commands' own output (status JSON, summaries).
"""

from __future__ import annotations

import atexit
import json as jsonlib
import logging
import math
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

import structlog

# Libraries that log what one of our own lines already says: httpx's "HTTP Request: GET …"
# repeats the fetch client's `fetched` line with the local address instead of the real URL.
_QUIETER = {"httpx": logging.WARNING, "httpcore": logging.WARNING}

_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _drop_colour(
    logger: object, method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    event.pop("color_message", None)  # uvicorn's terminal-coloured copy of the message
    return event


class _FieldLines:
    """Lines from a dict of fields (access lines): the same keys and timestamp format as the
    structlog lines at a fraction of their cost, since a feed answered from memory takes
    about as long as a structlog line, and a write per request would cost a third of the
    throughput. Lines are gathered and written every FLUSH_SECONDS, or sooner when
    PIPE_BUF worth is waiting, in os.write calls of whole lines no longer than PIPE_BUF, which
    a pipe shared with other processes never splits."""

    def __init__(self, stream: IO[str], as_json: bool, level: int) -> None:
        self.stream, self.as_json, self.level = stream, as_json, level
        self._waiting: list[bytes] = []
        self._size = 0
        self._second, self._prefix = -1, ""
        self._lock = threading.Lock()
        self._flusher = threading.Thread(target=self._flush_often, name="log-lines", daemon=True)
        self._flusher.start()
        atexit.register(self.flush)

    def write(self, logger: str, fields: dict[str, Any], level: int = logging.INFO) -> None:
        if level < self.level:
            return
        stamp = self.stamp()
        name = logging.getLevelName(level).lower()
        if self.as_json:
            line = jsonlib.dumps(
                {**fields, "level": name, "logger": logger, "timestamp": stamp},
                ensure_ascii=False,
            )
        else:
            pairs = " ".join(f"{k}={v}" for k, v in fields.items() if k != "event")
            line = f"{stamp} [{name:<8}] {fields.get('event', '')} {pairs}"
        self.append((line + "\n").encode("utf-8", "replace"))

    def append(self, data: bytes) -> None:
        with self._lock:
            self._waiting.append(data)
            self._size += len(data)
            if self._size >= select.PIPE_BUF:
                self._flush_locked()

    def stamp(self) -> str:
        """Now, as structlog's TimeStamper writes it; the part up to the second is formatted
        once a second, not per line."""
        second, nanos = divmod(time.time_ns(), 1_000_000_000)
        if second != self._second:
            when = datetime.fromtimestamp(second, UTC)
            self._second, self._prefix = second, when.strftime("%Y-%m-%dT%H:%M:%S.")
        return f"{self._prefix}{nanos // 1000:06d}Z"

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_often(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def _flush_locked(self) -> None:
        chunk = b""
        for data in self._waiting:
            if chunk and len(chunk) + len(data) > select.PIPE_BUF:
                _write_all(self.stream, chunk)
                chunk = b""
            chunk += data
        if chunk:
            _write_all(self.stream, chunk)
        self._waiting.clear()
        self._size = 0


FLUSH_SECONDS = 0.2


def _write_all(stream: IO[str], data: bytes) -> None:
    """One os.write per chunk where the stream has a descriptor; else (a stream in memory,
    as under a test runner) through the stream itself."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        stream.write(data.decode("utf-8"))
        stream.flush()
        return
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        pass  # stderr closed (the reader went away): logging must never take the app down


_lines: _FieldLines | None = None


_muted: set[str] = set()


def flush_fields() -> None:
    """Write the lines waiting for the next batch now: for a server stopping on a signal
    its framework re-raises (uvicorn does), after which no atexit handler runs."""
    if _lines is not None:
        _lines.flush()


def log_fields(logger: str, fields: dict[str, Any], level: int = logging.INFO) -> None:
    """One line of `fields` from `logger`, in the format configure_logging chose; nothing
    before it is called (a library user's process keeps its own logging), nor for a logger
    muted by `mute`."""
    if _lines is not None and logger not in _muted:
        _lines.write(logger, fields, level)


_Line = Callable[[str, tuple[Any, ...]], bytes]  # (timestamp, varying values) -> the line


class FieldsWriter:
    """log_fields for lines whose fields are always the same keys, most of whose values
    repeat (an access line: method, route, path and status repeat, the duration does not).
    The line up to the varying values is encoded once per distinct set of repeated values,
    so a line costs a dict lookup and a format instead of encoding every field."""

    def __init__(
        self, logger: str, keys: tuple[str, ...], varying: int, level: int = logging.INFO
    ) -> None:
        if not 0 < varying <= len(keys):
            raise ValueError("varying must count 1 to all of the keys")
        self.logger, self.keys, self.level = logger, keys, level
        self._split = len(keys) - varying
        self._heads: dict[tuple[Any, ...], _Line] = {}
        self._as_json: bool | None = None

    def __call__(self, *values: Any) -> None:
        """One line: `values` in the order of `keys`."""
        lines = _lines
        if lines is None or self.logger in _muted or self.level < lines.level:
            return
        if lines.as_json is not self._as_json:  # configure_logging changed the format
            self._heads.clear()
            self._as_json = lines.as_json
        head = values[: self._split]
        line = self._heads.get(head)
        if line is None:
            if len(self._heads) >= HEADS_KEPT:
                self._heads.clear()  # a client sending endless distinct paths: start over
            line = self._heads[head] = self._line(head, lines.as_json)
        lines.append(line(lines.stamp(), values[self._split :]))

    def _line(self, head: tuple[Any, ...], as_json: bool) -> _Line:
        name = logging.getLevelName(self.level).lower()
        fixed = dict(zip(self.keys[: self._split], head, strict=True))
        tail_keys = self.keys[self._split :]
        if as_json:
            # the same text as write()'s json.dumps: fields, then level, logger, timestamp
            start = jsonlib.dumps(fixed, ensure_ascii=False)[:-1]
            start += ", " if fixed else ""
            names = [jsonlib.dumps(k, ensure_ascii=False) + ": " for k in tail_keys]
            end = ", " + jsonlib.dumps(
                {"level": name, "logger": self.logger}, ensure_ascii=False
            )[1:-1] + ', "timestamp": "'
            if len(names) == 1:  # the usual case, a duration: no join for one value
                start += names[0]

                def json_line(stamp: str, tail: tuple[Any, ...]) -> bytes:
                    value = _json_value(tail[0])
                    return f'{start}{value}{end}{stamp}"}}\n'.encode("utf-8", "replace")

                return json_line

            def json_line(stamp: str, tail: tuple[Any, ...]) -> bytes:
                body = ", ".join(n + _json_value(v) for n, v in zip(names, tail, strict=True))
                return f'{start}{body}{end}{stamp}"}}\n'.encode("utf-8", "replace")

            return json_line
        event = fixed.pop("event", "")
        pairs = "".join(f"{k}={v} " for k, v in fixed.items())
        middle = f" [{name:<8}] {event} {pairs}"

        def console_line(stamp: str, tail: tuple[Any, ...]) -> bytes:
            rest = " ".join(f"{k}={v}" for k, v in zip(tail_keys, tail, strict=True))
            return f"{stamp}{middle}{rest}\n".encode("utf-8", "replace")

        return console_line


HEADS_KEPT = 4096


def _json_value(value: Any) -> str:
    if type(value) is float and math.isfinite(value):
        return repr(value)  # what json.dumps writes for a finite float, without its dispatch
    return jsonlib.dumps(value, ensure_ascii=False)


def mute(logger: str) -> None:
    """No more log_fields lines from `logger` in this process (NAMFEEDS_ACCESS_LOG=off)."""
    _muted.add(logger)


def configure_logging(level: int = logging.INFO, *, json: bool | None = None) -> None:
    as_json = not sys.stderr.isatty() if json is None else json
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder(), _drop_colour],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, quieter in _QUIETER.items():
        logging.getLogger(name).setLevel(max(level, quieter))
    global _lines
    if _lines is None:  # one writer per process, whatever calls this again
        _lines = _FieldLines(sys.stderr, as_json, level)
    else:
        _lines.stream, _lines.as_json, _lines.level = sys.stderr, as_json, level
    logging.captureWarnings(True)  # library warnings become records in the same format
