"""Fetching pages from the source origins: the only package that imports httpx.

Every request is bounded and polite: source origins only, robots.txt (RFC 9309), one request
at a time per host with the crawl delay between them, conditional GETs, a body limit after
decompression, one deadline per exchange, and retries bounded in time that honour
Retry-After (a long one defers the URL and its host rather than sleeping).

    _client         the Fetcher: redirects, robots.txt, host turns, retries
    _wire           one exchange: the request, its deadline, the decoded body
    _deadline       one deadline per exchange, in every socket operation of the pool
    _decode         Content-Encoding undone layer by layer under the size cap (pure)
    _causes         each failure named by its real cause
    _page           Page and Validators, what a fetch returns and sends back (pure)
    _urls           URL normalising and the source-origin check (pure)
    _robots         robots.txt rules per origin
    _retries        which failures are retried, within which budgets of seconds
    _turns          whose turn it is to ask a host, in one process
    _shared_turns   the same across processes, through Redis
"""

from services.fetch._causes import DEFERRED, ROBOTS_UNREACHABLE, cause_of
from services.fetch._client import MAX_REDIRECTS, Fetcher
from services.fetch._page import Page, Validators
from services.fetch._shared_turns import RedisHostGate
from services.fetch._turns import MAX_HOLD_OFF, HostGate, HostHeldOff, LocalHostGate
from services.fetch._urls import normalize_source_url, normalize_url, origin_of

__all__ = [
    "DEFERRED",
    "MAX_HOLD_OFF",
    "MAX_REDIRECTS",
    "ROBOTS_UNREACHABLE",
    "Fetcher",
    "HostGate",
    "HostHeldOff",
    "LocalHostGate",
    "Page",
    "RedisHostGate",
    "Validators",
    "cause_of",
    "normalize_source_url",
    "normalize_url",
    "origin_of",
]
