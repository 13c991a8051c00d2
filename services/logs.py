"""Structured logs for every entry point: JSON lines on stderr when no person is watching
(a service's logs are read by machines), readable key=value lines on a terminal.

Celery's and uvicorn's own records go through the same formatter, so one process never mixes
formats. stdout is left to the commands' own output (status JSON, summaries).
"""

from __future__ import annotations

import logging
import sys

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
    logging.captureWarnings(True)  # library warnings become records in the same format
