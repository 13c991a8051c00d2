"""Serving: the HTTP app over the feed bytes that publishing stored, and query feeds.

    _app           routes and thin handlers; `create_app`, `serve`, `server_options`
    _lean          GET/HEAD of feed URLs answered from memory, ahead of Starlette
    _cache         feed bytes, their gzip and response headers in memory, revalidated
                   against Redis at most every 0.1 s
    _conditional   conditional requests and the gzip variant's validators (pure)
    _query         query feeds (speaker, topic, lang, q), rendered once per data
                   generation and kept in a cache of their own
    _opml          the OPML documents
    _site          the HTML pages' handlers; _views, _html and _i18n shape, lay out and
                   word them (pure), with the Jinja2 templates in templates/
    _pages         feed titles, the last-crawl summary and the 404 page (pure)
    _api           the admin API: POST /api/recrawl, GET /api/jobs/{id}
    _health        /healthz from the heartbeats in Redis
    _metrics       /metrics: the numbers kept in Redis
    _access        request latency and the access lines, cheap enough for every request
    _protocol      uvicorn's httptools protocol with a 64 KiB bound on the request head,
                   answering fresh cached feeds from its parser callbacks
"""

from feeds.web._access import ACCESS_LOGGER
from feeds.web._app import create_app, serve, server_options

__all__ = ["ACCESS_LOGGER", "create_app", "serve", "server_options"]
