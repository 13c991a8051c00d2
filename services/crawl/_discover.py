"""Discovery over the network: the post URLs every source origin lists.

Per origin: robots.txt's Sitemap: lines (or /sitemap.xml), recursing through sitemap indexes;
Tilda's /sitemap-feeds.xml, where a Tilda site lists its posts; Wix's /blog-feed.xml. The
reading is _sitemaps (pure); the fetching is the Fetcher, so discovery is as polite
as the crawl. A sitemap that fails is recorded and the walk goes on.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar
from urllib.parse import urlsplit

import structlog

from services.crawl._sitemaps import (
    Alternate,
    SitemapResult,
    SitemapUrl,
    is_post_url,
    urls_from_feed,
    urls_from_sitemap,
)
from services.errors import FetchError, ParseError
from services.fetch import Fetcher
from services.settings import Settings

log = structlog.get_logger(__name__)

# Tilda lists posts only here, never in sitemap.xml; Wix publishes its blog RSS here. Each
# origin runs one CMS, so the other one's path is an expected 404, not a failure.
OPTIONAL_SOURCES = ("/sitemap-feeds.xml",)
OPTIONAL_FEEDS = ("/blog-feed.xml",)
MAX_DEPTH = 3  # an index of indexes is already unusual (sitemaps.org forbids nesting)
# Sitemaps and feeds read per crawl: the real origins have about ten. Each is a request at
# the crawl delay, so an index naming thousands would hold discovery for an hour.
MAX_SITEMAPS = 100
# Discovery keeps this many times NAMFEEDS_MAX_URLS_PER_CRAWL: the plan then requests the
# first that many pages due, and the rest come due in the next crawls, so a site larger than
# one crawl is still covered, round by round, while memory stays bounded.
DISCOVERY_FACTOR = 5
_GZIP_MAGIC = b"\x1f\x8b"

R = TypeVar("R")


@dataclass(frozen=True)
class DiscoveredUrl:
    """A post page to crawl. `lastmod` is the sitemap's, as written, for this very URL (None
    when only a feed or an hreflang alternate named it); `alternates` are the language
    versions the sitemap grouped it with; `source` is the first document that named it."""

    url: str
    lastmod: str | None
    source: str
    alternates: tuple[Alternate, ...] = ()


@dataclass(frozen=True)
class Discovery:
    urls: tuple[DiscoveredUrl, ...]
    failures: tuple[tuple[str, str], ...]  # (document URL, error message)


def discover(fetcher: Fetcher, settings: Settings) -> list[DiscoveredUrl]:
    """Every post URL the source origins list, deduplicated, in the order first seen."""
    return list(discover_report(fetcher, settings).urls)


def discover_report(fetcher: Fetcher, settings: Settings) -> Discovery:
    """`discover` plus the sitemaps and feeds that could not be read."""
    walk = _Walk(fetcher, settings)
    for origin in settings.source_urls:
        walk.origin(origin.rstrip("/"))
    walk.finish()
    found = Discovery(tuple(walk.found.values()), tuple(walk.failures))
    log.info("discovered", urls=len(found.urls), failures=len(found.failures))
    return found


class _Walk:
    def __init__(self, fetcher: Fetcher, settings: Settings) -> None:
        self.fetcher = fetcher
        self.allowed = settings.allowed_hosts
        self.limit = settings.max_body_bytes
        self.per_sitemap = settings.max_urls_per_sitemap
        self.most = DISCOVERY_FACTOR * settings.max_urls_per_crawl
        self.found: dict[str, DiscoveredUrl] = {}
        self.failures: list[tuple[str, str]] = []
        self.seen: set[str] = set()
        self.sitemaps_skipped = 0
        self.urls_dropped = 0

    def origin(self, origin: str) -> None:
        try:
            named = self.fetcher.sitemaps(origin)
        except FetchError as exc:
            self._fail(origin + "/robots.txt", exc)
            named = ()
        for sitemap in named or (origin + "/sitemap.xml",):
            self.sitemap(sitemap, depth=0, optional=False)
        for path in OPTIONAL_SOURCES:
            self.sitemap(origin + path, depth=0, optional=True)
        for path in OPTIONAL_FEEDS:
            self.feed(origin + path, optional=True)

    def sitemap(self, url: str, *, depth: int, optional: bool) -> None:
        """Read one sitemap and the ones it names. An index that names itself (or any
        sitemap already read) is read once; a document past MAX_SITEMAPS is not fetched."""
        url = url.partition("#")[0]
        if url in self.seen:
            return
        if len(self.seen) >= MAX_SITEMAPS:
            self.sitemaps_skipped += 1
            return
        self.seen.add(url)
        result = self._read(url, self._sitemap_reader, optional=optional)
        if result is None:
            return
        if result.dropped:
            self._fail(
                url,
                ParseError(
                    url,
                    f"{result.dropped} entries past NAMFEEDS_MAX_URLS_PER_SITEMAP="
                    f"{self.per_sitemap} were not read",
                ),
            )
        for entry in result.sitemaps:
            if depth < MAX_DEPTH:
                self.sitemap(entry.loc, depth=depth + 1, optional=False)
        for item in result.urls:
            self._add_group(item, source=url)

    def _sitemap_reader(self, body: bytes, *, url: str) -> SitemapResult:
        return urls_from_sitemap(body, url=url, limit=self.per_sitemap)

    def finish(self) -> None:
        """Record, once each, what the caps left out."""
        if self.sitemaps_skipped:
            message = (
                f"discovery: {self.sitemaps_skipped} sitemaps past the {MAX_SITEMAPS} read per "
                "crawl were not fetched"
            )
            self.failures.append(("discovery", message))
        if self.urls_dropped:
            message = (
                f"discovery: {self.urls_dropped} post URLs past the {self.most} kept "
                f"({DISCOVERY_FACTOR} x NAMFEEDS_MAX_URLS_PER_CRAWL) were ignored"
            )
            self.failures.append(("discovery", message))
        if self.sitemaps_skipped or self.urls_dropped:
            log.warning("discovery capped", message=self.failures[-1][1])

    def feed(self, url: str, *, optional: bool) -> None:
        for link in self._read(url, urls_from_feed, optional=optional) or ():
            self._add(DiscoveredUrl(link.strip(), None, url))

    def _add_group(self, item: SitemapUrl, *, source: str) -> None:
        """The <loc> and each hreflang alternate are all posts to crawl (every language);
        lastmod belongs to the <loc> alone (sitemaps.org protocol)."""
        self._add(DiscoveredUrl(item.loc, item.lastmod, source, item.alternates))
        for alternate in item.alternates:
            self._add(DiscoveredUrl(alternate.href, None, source, item.alternates))

    def _add(self, found: DiscoveredUrl) -> None:
        url = found.url.partition("#")[0]
        if not is_post_url(url) or _host(url) not in self.allowed:
            return
        known = self.found.get(url)
        if known is None:
            if len(self.found) >= self.most:
                self.urls_dropped += 1
                return
            self.found[url] = replace(found, url=url)
            return
        lastmods = [m for m in (known.lastmod, found.lastmod) if m]
        alternates = tuple(dict.fromkeys(known.alternates + found.alternates))
        self.found[url] = replace(known, lastmod=max(lastmods, default=None), alternates=alternates)

    def _read(self, url: str, parse: Callable[..., R], *, optional: bool) -> R | None:
        """Fetch one document and read it with `parse(body, url=url)` (urls_from_sitemap,
        urls_from_feed); None when either failed, which is recorded, not raised."""
        body = self._fetch(url, optional=optional)
        if body is None:
            return None
        try:
            return parse(body, url=url)
        except ParseError as exc:
            self._fail(url, exc)
            return None

    def _fetch(self, url: str, *, optional: bool) -> bytes | None:
        try:
            body = self.fetcher.get(url).body
        except FetchError as exc:
            if optional and exc.status in (404, 410):
                log.debug("no such source", url=url, status=exc.status)
            else:
                self._fail(url, exc)
            return None
        if body.startswith(_GZIP_MAGIC):
            return self._gunzip(url, body)
        return body

    def _gunzip(self, url: str, body: bytes) -> bytes | None:
        """sitemap.xml.gz comes as application/gzip, undecoded by HTTP: inflate it here under
        the same body limit."""
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(body, self.limit + 1)
        except zlib.error as exc:
            self._fail(url, ParseError(url, f"bad gzip ({exc})"))
            return None
        if len(data) > self.limit:
            self._fail(url, ParseError(url, f"gzip expands over {self.limit} bytes"))
            return None
        return data

    def _fail(self, url: str, exc: Exception) -> None:
        log.warning("discovery source failed", url=url, error=str(exc))
        self.failures.append((url, str(exc)))


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""
