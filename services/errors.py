"""The exception tree. Every error the project raises on purpose is a NamFeedsError.

    NamFeedsError
    ├── ConfigError(variable, reason)
    ├── FetchError(url)
    │   ├── TransientFetchError   timeout, connection reset, 429, 5xx: worth retrying
    │   └── PermanentFetchError   404/410, off-site redirect, host not allowed, robots.txt,
    │                             body over the limit, not HTML
    ├── ParseError(url, reason)   the page is not a post we understand
    └── StorageError

Messages start with the area (`fetching: …`, `parsing: …`) and name the URL or variable.
"""

from __future__ import annotations


class NamFeedsError(Exception):
    """Base of every error raised on purpose."""


class ConfigError(NamFeedsError):
    def __init__(self, variable: str, reason: str) -> None:
        self.variable = variable
        self.reason = reason
        super().__init__(f"settings: {variable}: {reason}")


class FetchError(NamFeedsError):
    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(f"fetching: {reason} for {url}")


class TransientFetchError(FetchError):
    """Timeouts, connection errors, 429 and 5xx: the same request may succeed later."""

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(url, reason, status=status)
        self.retry_after = retry_after


class PermanentFetchError(FetchError):
    """Retrying will not help: the page is gone, off-limits, too big or not HTML."""


class ParseError(NamFeedsError):
    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"parsing: {reason} for {url}")


class StorageError(NamFeedsError):
    """Redis refused or lost a write; nothing was half-written."""
