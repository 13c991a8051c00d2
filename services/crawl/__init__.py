"""Crawling: discovery over the network, the plan of what is due, and one crawl step.

Orchestration through the edges (services.fetch, services.storage) around the pure parser.

    _step        crawl_url: fetch, parse and store one page
    _ledger      a crawl batch's reads and writes, gathered into one of each
    _plan        which discovered pages a crawl requests
    _run         a whole crawl in this process (`nam-feeds crawl`)
    _discover    the post URLs every source origin lists, fetched politely
    _sitemaps    sitemaps, the Wix blog RSS and post-URL shapes (pure)
"""

from services.crawl._discover import DiscoveredUrl, Discovery, discover, discover_report
from services.crawl._ledger import Ledger
from services.crawl._plan import Due, Plan, is_due, parse_lastmod, plan_crawl
from services.crawl._run import CrawlSummary, crawl_all, failures_by_cause
from services.crawl._step import Deps, Outcome, build_deps, crawl_url, open_deps

__all__ = [
    "CrawlSummary",
    "Deps",
    "DiscoveredUrl",
    "Discovery",
    "Due",
    "Ledger",
    "Outcome",
    "Plan",
    "build_deps",
    "crawl_all",
    "crawl_url",
    "discover",
    "discover_report",
    "failures_by_cause",
    "is_due",
    "open_deps",
    "parse_lastmod",
    "plan_crawl",
]
