"""Fetching pages from the source origins: the only package that imports httpx.

Every request is bounded and polite: source origins only, robots.txt (RFC 9309), one request
at a time per host with the crawl delay between them, conditional GETs, a body limit after
decompression, and retries with backoff that honour Retry-After.

    _client         the Fetcher: httpx, redirects, limits, retries
    _page           Page and Validators, what a fetch returns and sends back (pure)
    _urls           URL normalising and the source-origin check (pure)
    _robots         robots.txt rules per origin
    _retries        which failures are retried and how long to wait
    _turns          whose turn it is to ask a host, in one process
    _shared_turns   the same across processes, through Redis
"""

from services.fetch._client import MAX_REDIRECTS, Fetcher
from services.fetch._page import Page, Validators
from services.fetch._shared_turns import RedisHostGate
from services.fetch._turns import MAX_HOLD_OFF, HostGate, LocalHostGate
from services.fetch._urls import normalize_source_url, normalize_url, origin_of

__all__ = [
    "MAX_HOLD_OFF",
    "MAX_REDIRECTS",
    "Fetcher",
    "HostGate",
    "LocalHostGate",
    "Page",
    "RedisHostGate",
    "Validators",
    "normalize_source_url",
    "normalize_url",
    "origin_of",
]
