"""Celery app, beat schedule and thin tasks; plus the structured-log setup every entry point
(CLI commands, the worker, beat) shares, kept here because it must not import Celery."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: int = logging.INFO) -> None:
    """structlog to stderr: JSON lines when stderr is not a terminal (a service's logs are
    read by machines), coloured key=value when a person is watching. stdout stays for the
    commands' own output (status JSON, summaries)."""
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
