"""The HTML pages over HTTP: the index, one page per speaker, topic and post, and all posts.

Handlers only: each reads what its page shows from the store, lets _views shape it and _html
lay it out, and answers like the feeds do (ETag, 304, gzip). The language comes from
`?lang=` and then `Accept-Language` (_i18n), so every page varies on that header.
"""

from __future__ import annotations

import gzip
import hashlib
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feeds.publish import labels
from feeds.render import describe_change
from feeds.web import _views as views
from feeds.web._conditional import accepts_gzip, etag_matches, gzip_etag
from feeds.web._html import FeedLink, render
from feeds.web._i18n import LANGUAGE_NAMES, choose_language, messages
from feeds.web._pages import last_crawl_summary
from services.model import LANGUAGES
from services.people import all_people, get_person
from services.storage import Store
from services.topics import all_topics, get_topic

# The formats a page offers; each names a feed the app serves for every speaker and topic.
FORMATS = ("atom", "rss", "json")
CACHE_CONTROL = "public, max-age=60"
_POST_ID = re.compile(r"(?:wix|tilda)-[a-z0-9-]{1,64}")


def feed_links(path: str, title: str) -> tuple[FeedLink, ...]:
    return tuple(
        FeedLink(f"/feeds/{path}.{fmt}", fmt, f"{title} ({fmt.upper()})") for fmt in FORMATS
    )


class Site:
    """The page handlers over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [
            Route("/", self.index),
            Route("/all", self.all_posts),
            Route("/speakers/{person_id}", self.speaker),
            Route("/topics/{slug}", self.topic),
            Route("/posts/{post_id}", self.post),
        ]

    def index(self, request: Request) -> Response:
        lang = _language(request)
        names = labels()
        counts = self.store.speaker_answer_counts()
        speakers = []
        for p in sorted(all_people(), key=lambda p: (-counts.get(p.id, 0), p.id)):
            name = names.person(p.id, lang) or p.name
            speakers.append(
                views.Listed(
                    p.id,
                    name,
                    views.other_names((p.name, p.name_be, p.name_ru), name),
                    feed_links(f"speakers/{p.id}", p.name),
                    counts.get(p.id, 0),
                )
            )
        topics = [
            views.Listed(
                t.slug,
                t.name(lang),
                views.other_names(t.names.values(), t.name(lang)),
                feed_links(f"topics/{t.slug}", t.name("en")),
            )
            for t in all_topics()
        ]
        all_feeds = [
            views.Listed("all", messages(lang)["all_posts"], "", feed_links("all", "All posts"))
        ] + [
            views.Listed(code, LANGUAGE_NAMES[code], "", _language_links(code))
            for code in LANGUAGES
        ]
        html = render(
            "index.html.j2",
            lang=lang,
            title=messages(lang)["site"],
            params=dict(request.query_params),
            feeds=feed_links("all", "NAM-media: all posts")
            + tuple(link for listed in speakers + topics for link in listed.links),
            translations=_translations(request),
            speakers=speakers,
            topics=topics,
            all_feeds=all_feeds,
            last_crawl=last_crawl_summary(self.store.last_crawl()),
        )
        return _page(request, html, lang)

    def all_posts(self, request: Request) -> Response:
        lang = _language(request)
        return self._listing(request, lang, messages(lang)["all_posts"], "", "all")

    def speaker(self, request: Request) -> Response:
        person = get_person(request.path_params["person_id"])
        if person is None:
            return _not_found(request)
        lang = _language(request)
        name = labels().person(person.id, lang) or person.name
        others = views.other_names((person.name, person.name_be, person.name_ru), name)
        return self._listing(
            request, lang, name, others, f"speakers/{person.id}", speaker=person.id
        )

    def topic(self, request: Request) -> Response:
        topic = get_topic(request.path_params["slug"])
        if topic is None:
            return _not_found(request)
        lang = _language(request)
        others = views.other_names(topic.names.values(), topic.name(lang))
        return self._listing(
            request, lang, topic.name(lang), others, f"topics/{topic.slug}", topic=topic.slug
        )

    def _listing(
        self,
        request: Request,
        lang: str,
        heading: str,
        other_names: str,
        feed_path: str,
        *,
        speaker: str | None = None,
        topic: str | None = None,
    ) -> Response:
        page = views.page_number(request.query_params.get("page"))
        if page is None:
            return _not_found(request)
        fetched = self.store.recent_posts(
            limit=page * views.POSTS_PER_PAGE + 1, speaker=speaker, topic=topic
        )
        shown, paging = views.window([s.post for s in fetched], page)
        if page > 1 and not shown:
            return _not_found(request)
        rows = views.answer_rows(shown, labels(), lang, speaker=speaker, topic=topic)
        links = feed_links(feed_path, heading)
        html = render(
            "listing.html.j2",
            lang=lang,
            title=f"{heading} — {messages(lang)['site']}",
            params=dict(request.query_params),
            feeds=links,
            translations=_translations(request),
            heading=heading,
            other_names=other_names,
            links=links,
            rows=rows,
            paging=paging,
            show_speaker=speaker is None,
        )
        return _page(request, html, lang)

    def post(self, request: Request) -> Response:
        post_id = request.path_params["post_id"]
        stored = self.store.get_post(post_id) if _POST_ID.fullmatch(post_id) else None
        if stored is None:
            return _not_found(request)
        lang = _language(request)
        post = stored.post
        others = []
        for code, url in post.alternates:
            other_id = self.store.post_id_for_url(url)
            if code != post.language and code in LANGUAGE_NAMES and other_id:
                others.append((code, LANGUAGE_NAMES[code], f"/posts/{other_id}?lang={code}"))
        change = None
        if stored.version > 1:
            previous = self.store.get_version(post.id, stored.version - 1)
            change = describe_change(previous.post, post) if previous else None
        html = render(
            "post.html.j2",
            lang=lang,
            title=post.title,
            params=dict(request.query_params),
            translations=_translations(request),
            post=post,
            others=others,
            change=change,
            sections=views.sections_of(post, labels(), lang),
        )
        return _page(request, html, lang)


def _language(request: Request) -> str:
    return choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def _language_links(code: str) -> tuple[FeedLink, ...]:
    return tuple(
        FeedLink(f"/feeds/all.{fmt}?lang={code}", fmt, f"All posts, {code} ({fmt.upper()})")
        for fmt in FORMATS
    )


def _translations(request: Request) -> tuple[tuple[str, str], ...]:
    path = request.url.path
    return tuple((code, f"{path}?lang={code}") for code in LANGUAGES)


def _not_found(request: Request) -> Response:
    lang = _language(request)
    t = messages(lang)
    body = (
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{t['not_found']}</title><h1>{t['not_found']}</h1>"
        f'<p><a href="/?lang={lang}">{t["site"]}</a></p></html>'
    )
    return Response(body, 404, media_type="text/html; charset=utf-8")


def _page(request: Request, html: str, lang: str) -> Response:
    """A page as the feeds are answered: a strong ETag of its bytes, 304 on a match, and
    gzip for clients that take it (either variant's tag validates)."""
    body = html.encode("utf-8")
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    zipped = accepts_gzip(request.headers.get("accept-encoding"))
    tag = gzip_etag(etag) if zipped else etag
    headers = {
        "ETag": tag,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Language, Accept-Encoding",
        "Content-Language": lang,
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, (etag, gzip_etag(etag))):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, compresslevel=6, mtime=0)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)
