"""A synthetic belarus-nau.org of 250 to 2,000 posts for the crawl benchmarks, over real HTTP.

Both builders and three languages, as on the real site: each article is a group of a Russian,
an English and a Belarusian page, on Wix (`/post/<slug>`, `/en/post/<slug>`,
`/be/post/<slug>`, tied by hreflang alternates in blog-posts-sitemap.xml) or on Tilda
(`/tpost/<id>-<slug>` in the feed sitemap). As there, some groups list their alternates
only as `xhtml:link`s of the primary page, with no `<url>` and no lastmod of their own.

Pages are the mirror's (tests/data/site), made unique per post (path, title), and built on
request, so 2,000 posts of 640 KB cost no memory. Responses carry an ETag and answer
If-None-Match with 304 without building the page, as a real server answers from the
validator; `edit()` changes a post's title, and with it its ETag. The server sets
TCP_NODELAY: headers and body go in two sends, which would otherwise stall ~40 ms.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._site_http import SiteHTTPServer, SiteRequestHandler
from services.parsing import parse_post

MIRROR = Path(__file__).resolve().parent.parent / "tests" / "data" / "site"
WWW, TILDA = "www.belarus-nau.org", "belarus-nau.org"
HOSTS = (WWW, TILDA)
LANGUAGES = ("ru", "en", "be")
# Wix mirror pages (English; the site marks their language) and their titles.
WIX = {
    "/en/post/pavel-latushka-on-sanctions-and-the-border-crossings": (
        "Pavel Latushka on sanctions and the border crossings"
    ),
    "/en/post/the-cabinet-held-a-press-conference-on-february-14": (
        "The Cabinet held a press conference on February 14"
    ),
    "/en/post/answers-of-the-cabinet-to-the-most-topical-questions-of-the-february-14-press-conference": (  # noqa: E501
        "Answers of the Cabinet to the most topical questions of the February 14 press conference"
    ),
}
# Tilda mirror pages by language: Tilda marks none, the letters decide (Belarusian is the
# Russian page with Belarusian letters).
TILDA_PAGES = {
    "ru": ("/tpost/m3p9r2c7a1-glavnoe-s-press-konferentsii-kabineta",
           "Главное с пресс-конференции Объединенного переходного кабинета 14 февраля"),
    "en": ("/tpost/tvs64iyja1-the-cabinet-held-a-press-conference",
           "The Cabinet held a press conference"),
}  # fmt: skip
BELARUSIAN_LETTERS = str.maketrans({"и": "і", "И": "І", "щ": "шч", "ъ": "'"})
NO_OWN_ENTRY = 10  # every 10th Wix group names its alternates only as hreflang links (30%)


@dataclass(frozen=True)
class SynthPost:
    url: str
    host: str
    path: str
    template: str  # the mirror page it is built from
    title: str  # the template's title, replaced in the page
    language: str
    group: int
    listed: bool  # has its own <url> (and lastmod) in a sitemap


def plan_site(size: int) -> list[SynthPost]:
    """`size` posts in groups of three languages, alternately on Wix and Tilda."""
    posts: list[SynthPost] = []
    group = 0
    while len(posts) < size:
        builder = _wix_group if group % 2 == 0 else _tilda_group
        posts += builder(group)[: size - len(posts)]
        group += 1
    return posts


def _wix_group(group: int) -> list[SynthPost]:
    template, title = list(WIX.items())[group // 2 % len(WIX)]
    slug = f"synthetic-article-{group:05d}"
    own = group // 2 % NO_OWN_ENTRY >= 3
    found = []
    for lang in LANGUAGES:
        path = f"/post/{slug}" if lang == "ru" else f"/{lang}/post/{slug}"
        listed = lang == "ru" or own
        found.append(
            SynthPost(f"https://{WWW}{path}", WWW, path, template, title, lang, group, listed)
        )
    return found


def _tilda_group(group: int) -> list[SynthPost]:
    found = []
    for n, lang in enumerate(LANGUAGES):
        template, title = TILDA_PAGES["en" if lang == "en" else "ru"]
        path = f"/tpost/s{group:05d}{n}x-synthetic-post-{group}-{lang}"
        found.append(
            SynthPost(f"https://{TILDA}{path}", TILDA, path, template, title, lang, group, True)
        )
    return found


class SyntheticSite:
    """The planned posts, their sitemaps and robots.txt, one server per host on 127.0.0.1."""

    def __init__(self, size: int) -> None:
        self.posts = plan_site(size)
        self._by_path = {(p.host, p.path): p for p in self.posts}
        self._templates = {
            (host, path): (MIRROR / host / f"{path.lstrip('/')}.html").read_bytes()
            for host, path in [(WWW, t) for t in WIX]
            + [(TILDA, t) for t, _ in TILDA_PAGES.values()]
        }
        # Wix names its own post id in the page's state: each post gets its own
        self._native_ids = {
            key: parse_post(body, f"https://{key[0]}{key[1]}").id.removeprefix("wix-").encode()
            for key, body in self._templates.items()
            if key[0] == WWW
        }
        self._versions: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.statuses: Counter[tuple[str, int]] = Counter()  # ("page" or "other", status)
        self._servers: dict[str, SiteHTTPServer] = {}

    # -- lifecycle and addresses -----------------------------------------------------------
    def start(self) -> SyntheticSite:
        for host in HOSTS:
            server = SiteHTTPServer(("127.0.0.1", 0), SiteRequestHandler, site=self, host=host)
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            ).start()
            self._servers[host] = server
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(f"https://{host}" for host in HOSTS)

    @property
    def origin_map(self) -> dict[str, str]:
        return {
            f"https://{h}": f"http://127.0.0.1:{s.server_address[1]}"
            for h, s in self._servers.items()
        }

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "NAMFEEDS_SOURCE_URLS": " ".join(self.origins),
            "NAMFEEDS_ORIGIN_MAP": ";".join(f"{k}={v}" for k, v in self.origin_map.items()),
            "NAMFEEDS_CRAWL_DELAY": "0",
        } | extra

    def local(self, url: str) -> str:
        origin = "/".join(url.split("/")[:3])
        return self.origin_map[origin] + url[len(origin) :]

    # -- changes -----------------------------------------------------------------------------
    def edit(self, url: str) -> str:
        """A new version of the post at `url`; its new title."""
        with self._lock:
            self._versions[url] += 1
        post = next(p for p in self.posts if p.url == url)
        return self._title(post)

    def is_page(self, host: str, path: str) -> bool:
        return (host, path) in self._by_path

    def count(self, kind: str, status: int) -> None:
        with self._lock:
            self.statuses[(kind, status)] += 1

    def take_statuses(self) -> Counter[tuple[str, int]]:
        with self._lock:
            taken, self.statuses = self.statuses, Counter()
        return taken

    # -- what is served ----------------------------------------------------------------------
    def resource(self, host: str, path: str) -> tuple[bytes, str, str] | None:
        """(body, content type, etag) of a path, or None for 404."""
        post = self._by_path.get((host, path))
        if post is not None:
            return self._page(post), "text/html; charset=utf-8", self._etag(post)
        document = _SITEMAPS.get((host, path))
        if document is not None:
            body = document(self)
            return body, "application/xml", f'"{hash(body) & 0xFFFFFFFF:x}"'
        if path == "/robots.txt":
            body = (MIRROR / host / "robots.txt").read_bytes()
            return body, "text/plain", '"robots"'
        return None

    def page_etag(self, host: str, path: str) -> str | None:
        """The ETag a post page is served with (None: not a post page)."""
        post = self._by_path.get((host, path))
        return self._etag(post) if post is not None else None

    def _title(self, post: SynthPost) -> str:
        version = self._versions[post.url]
        edited = f" (edit {version})" if version else ""
        return f"{post.title} [{post.language} {post.group}]{edited}"

    def _etag(self, post: SynthPost) -> str:
        return f'"{post.group}-{post.language}-{self._versions[post.url]}"'

    def _page(self, post: SynthPost) -> bytes:
        body = self._templates[(post.host, post.template)]
        body = body.replace(post.template.encode(), post.path.encode())
        body = body.replace(post.title.encode(), self._title(post).encode())
        native = self._native_ids.get((post.host, post.template))
        if native:
            body = body.replace(
                native, f"{post.group:012x}{LANGUAGES.index(post.language):012x}".encode()
            )
        if post.language == "be" and post.host == TILDA:
            body = body.decode().translate(BELARUSIAN_LETTERS).encode()
        return body

    def _wix_sitemap(self) -> bytes:
        entries = []
        groups: dict[int, list[SynthPost]] = {}
        for post in self.posts:
            if post.host == WWW:
                groups.setdefault(post.group, []).append(post)
        for members in groups.values():
            links = "".join(
                f'<xhtml:link rel="alternate" hreflang="{p.language}" href="{p.url}"/>'
                for p in members
            )
            for post in members:
                if post.listed:
                    lastmod = f"<lastmod>{_lastmod(post)}</lastmod>"
                    entries.append(f"<url><loc>{post.url}</loc>{lastmod}{links}</url>")
        return _urlset("".join(entries), 'xmlns:xhtml="http://www.w3.org/1999/xhtml"')

    def _tilda_sitemap(self) -> bytes:
        entries = "".join(
            f"<url><loc>{p.url}</loc><lastmod>{_lastmod(p)}</lastmod></url>"
            for p in self.posts
            if p.host == TILDA
        )
        return _urlset(entries)


def _lastmod(post: SynthPost) -> str:
    return f"2023-{1 + post.group % 12:02d}-{1 + post.group % 28:02d}"


def _urlset(entries: str, namespaces: str = "") -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    urlset = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" {namespaces}>'
    return f"{head}{urlset}{entries}</urlset>".encode()


def _index(*locs: str) -> bytes:
    sitemaps = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    return f'{head}<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{sitemaps}</sitemapindex>'.encode()


_SITEMAPS: dict[tuple[str, str], Any] = {
    (WWW, "/sitemap.xml"): lambda s: _index(f"https://{WWW}/blog-posts-sitemap.xml"),
    (WWW, "/blog-posts-sitemap.xml"): SyntheticSite._wix_sitemap,
    (TILDA, "/sitemap.xml"): lambda s: _urlset(f"<url><loc>https://{TILDA}/</loc></url>"),
    (TILDA, "/sitemap-feeds.xml"): lambda s: _index(f"https://{TILDA}/sitemap-feed-synthetic.xml"),
    (TILDA, "/sitemap-feed-synthetic.xml"): SyntheticSite._tilda_sitemap,
}
