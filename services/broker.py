"""The Celery broker as the web app sees it: where it is, enqueue a task by name, ping workers.

Tasks are sent by their stable names (`nam.crawl_url`), so the web app never imports the
workers package; celery itself is imported only when a broker is first used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from services.errors import ConfigError

DATABASES = 16  # Redis's default `databases`

# Sending must fail fast when the broker is down: the caller is an HTTP request.
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def broker_url(redis_url: str) -> str:
    """The same Redis server, database (N + 1) mod 16 where N is the data's: DESIGN.md lets the
    broker share the server, and its own database lets an operator flush the queues without
    touching the system of record."""
    parts = _kombu_options(urlsplit(redis_url))
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(_next_db(query.get("db", "0")))
        return f"unix://{parts.path}?{urlencode(query)}"  # urlunsplit would drop the //
    return urlunsplit(parts._replace(path=f"/{_next_db(parts.path.strip('/') or '0')}"))


# Query options kombu's Connection accepts; redis-py's own (socket_timeout, ...) make it raise
# TypeError, so they stay with the data's client and the broker keeps its transport options.
_KOMBU_OPTIONS = {"db", "password", "ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile"}


def _kombu_options(parts: SplitResult) -> SplitResult:
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in _KOMBU_OPTIONS]
    return parts._replace(query=urlencode(query))


def _next_db(raw: str) -> int:
    try:
        return (int(raw or "0") + 1) % DATABASES
    except ValueError:
        raise ConfigError("NAMFEEDS_REDIS_URL", f"{raw!r} is not a database number") from None


class Broker:
    """A lazily built Celery client (no app, no task modules): send and ping only."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._app: Any = None

    def _celery(self) -> Any:
        if self._app is None:
            import celery  # imported here: heavy, and only the admin API and healthz need it

            app = celery.Celery("nam-feeds-web", broker=self.url)
            app.conf.broker_connection_retry_on_startup = False
            app.conf.broker_connection_timeout = 2.0
            app.conf.broker_transport_options = {"socket_connect_timeout": 2, "socket_timeout": 5}
            self._app = app
        return self._app

    def send_task(self, name: str, kwargs: dict[str, Any]) -> str:
        """Enqueue by name; the Celery task id. Raises when the broker cannot be reached."""
        result = self._celery().send_task(
            name, kwargs=kwargs, retry=True, retry_policy=_PUBLISH_RETRY
        )
        return str(result.id)

    def ping_workers(self, timeout: float = 0.5) -> int:
        """How many workers answered a broadcast ping within `timeout` seconds."""
        replies = self._celery().control.ping(timeout=timeout)
        return len(replies or [])

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None
