"""Serving: the HTTP app over the feed bytes that publishing stored. Nothing renders a feed here.

    _app           routes and thin handlers; `create_app` and `serve`
    _conditional   conditional requests and the gzip variant's validators (pure)
    _pages         the HTML pages (pure)
    _api           the admin API: POST /api/recrawl, GET /api/jobs/{id}
    _metrics       /metrics, request timing and the access lines
    _health        /healthz from the heartbeats
"""

from feeds.web._app import create_app, serve
from feeds.web._metrics import ACCESS_LOGGER

__all__ = ["ACCESS_LOGGER", "create_app", "serve"]
