"""Counting crawl steps by outcome for /metrics, around the step itself, so that the worker
task and `nam-feeds crawl` are counted alike and the step keeps one job."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import structlog

from services.errors import StorageError, TransientFetchError
from services.storage import Gauges

log = structlog.get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def counted(step: Callable[P, R]) -> Callable[P, R]:
    """Count the step's outcome (its value), or "transient" when it raises a transient
    failure for the caller to retry. A count that cannot be written never hides the step's
    own result or error. Given a batch's `ledger`, the count waits there for its write."""

    @functools.wraps(step)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        deps: Any = kwargs["deps"]
        ledger: Any = kwargs.get("ledger")
        try:
            outcome = step(*args, **kwargs)
        except TransientFetchError:
            _count(deps, "transient", ledger)
            raise
        _count(deps, str(getattr(outcome, "value", outcome)), ledger)
        return outcome

    return wrapper


def _count(deps: Any, outcome: str, ledger: Any) -> None:
    if ledger is not None:  # a batch writes its counts with the rest of its bookkeeping
        ledger.count_fetch(outcome)
        return
    try:
        Gauges(deps.store.client).count_fetch(outcome)
    except StorageError as exc:
        log.warning("crawl.count_failed", outcome=outcome, error=str(exc))
