"""Structured logs for every entry point: JSON lines on stderr when no person is watching
(a service's logs are read by machines), readable key=value lines on a terminal.

Celery's and uvicorn's own records go through the same formatter, so one process never mixes
formats. stdout is left to the commands' own output (status JSON, summaries).
"""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

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
    """Lines from a dict of fields (access lines), written straight to the stream: the same
    keys and timestamp format as the structlog lines at a fraction of their cost, since a
    feed answered from memory takes about as long as a structlog line. Each write is one
    whole line, which a line-buffered stream passes on in one piece."""

    def __init__(self, stream: TextIO, as_json: bool, level: int) -> None:
        self.stream, self.as_json, self.level = stream, as_json, level

    def write(self, logger: str, fields: dict[str, Any], level: int = logging.INFO) -> None:
        if level < self.level:
            return
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        name = logging.getLevelName(level).lower()
        if self.as_json:
            line = jsonlib.dumps(
                {**fields, "level": name, "logger": logger, "timestamp": stamp},
                ensure_ascii=False,
            )
        else:
            pairs = " ".join(f"{k}={v}" for k, v in fields.items() if k != "event")
            line = f"{stamp} [{name:<8}] {fields.get('event', '')} {pairs}"
        self.stream.write(line + "\n")


_lines: _FieldLines | None = None


def log_fields(logger: str, fields: dict[str, Any], level: int = logging.INFO) -> None:
    """One line of `fields` from `logger`, in the format configure_logging chose; nothing
    before it is called (a library user's process keeps its own logging)."""
    if _lines is not None:
        _lines.write(logger, fields, level)


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
    _lines = _FieldLines(sys.stderr, as_json, level)
    logging.captureWarnings(True)  # library warnings become records in the same format
