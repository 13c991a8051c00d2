"""Serving: the HTTP app over the feed bytes that publishing stored. Nothing renders a feed here.

    _app           routes and thin handlers; `create_app` and `serve`
    _lean          GET/HEAD of a plain feed URL answered from memory, ahead of Starlette
    _cache         feed bytes, their gzip and response headers in memory, revalidated
                   against Redis at most every 0.1 s
    _conditional   conditional requests and the gzip variant's validators (pure)
    _pages         the HTML pages (pure)
    _api           the admin API: POST /api/recrawl, GET /api/jobs/{id}
    _metrics       /metrics and request timing
    _protocol      uvicorn's httptools protocol with a 64 KiB bound on the request head
"""

from feeds.web._app import create_app, serve

__all__ = ["create_app", "serve"]
