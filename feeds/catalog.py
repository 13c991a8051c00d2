"""Which feeds there are: the feeds of some posts, of a change, of the registries; their
storage names, their order on the index, and their ETags.

Pure: posts, change events and the registries (package data) in, feed specs out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from feeds.render import FORMATS, FeedSpec, Fmt
from services.model import LANGUAGES, Post
from services.people import all_people
from services.storage import ChangeEvent
from services.topics import all_topics

# The path of every stored document, current or archive page, without language or format
# (`topics/ukraine/archive/3`), and its formats: what the web app routes and the feed files
# (feeds.files) name.
DOCUMENT_PATH = (
    r"(?:all|topics/[a-z0-9][a-z0-9-]*|speakers/[a-z0-9][a-z0-9-]*)"
    r"(?:/archive/(?:open|[1-9][0-9]{0,8}))?"
)
FORMAT = r"atom|rss|json"


def stored_name(spec: FeedSpec, fmt: Fmt) -> str:
    """Storage key of one rendered format: `topics/ukraine@ru.atom`."""
    return f"{spec.feed_key}.{fmt}"


def feeds_of_posts(posts: Iterable[Post]) -> list[FeedSpec]:
    """Every feed with at least one entry (and `all`, always): the feeds that exist.

    Order is the index page's: all, then topics, then speakers, each base feed followed by
    its languages in LANGUAGES order."""
    languages: set[str] = set()
    topics: dict[str, set[str]] = {}
    speakers: dict[str, set[str]] = {}
    for post in posts:
        languages.add(post.language)
        for slug in post.topic_slugs:
            topics.setdefault(slug, set()).add(post.language)
        for person in post.speaker_ids:
            speakers.setdefault(person, set()).add(post.language)
    specs = _with_languages(FeedSpec("all"), languages)
    for slug in sorted(topics):
        specs += _with_languages(FeedSpec("topic", slug), topics[slug])
    for person in sorted(speakers):
        specs += _with_languages(FeedSpec("speaker", person), speakers[person])
    return specs


def feeds_of_registry() -> list[FeedSpec]:
    """Every feed the index and the OPML name, posts or not: all, each topic and each person
    of the registries, each in all languages and in each one. They answer 200 from the
    start (empty until a post arrives), so a subscription made today keeps working."""
    specs = _with_languages(FeedSpec("all"), LANGUAGES)
    for topic in sorted(t.slug for t in all_topics()):
        specs += _with_languages(FeedSpec("topic", topic), LANGUAGES)
    for person in sorted(p.id for p in all_people()):
        specs += _with_languages(FeedSpec("speaker", person), LANGUAGES)
    return specs


def feeds_of_change(event: ChangeEvent) -> list[FeedSpec]:
    """The feeds a change can alter: those of the post before and after it (a post that
    left a topic must disappear from that topic's feed)."""
    languages = set(event.languages)
    specs = _with_languages(FeedSpec("all"), languages)
    for slug in sorted(event.topics):
        specs += _with_languages(FeedSpec("topic", slug), languages)
    for person in sorted(event.speakers):
        specs += _with_languages(FeedSpec("speaker", person), languages)
    return specs


def _with_languages(base: FeedSpec, languages: Iterable[str]) -> list[FeedSpec]:
    present = set(languages)
    return [base] + [FeedSpec(base.kind, base.key, lang) for lang in LANGUAGES if lang in present]


def etag_of(body: bytes) -> str:
    """A strong ETag (RFC 9110 section 8.8.3): the bytes' hash, so equal bytes, equal tag."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def sort_feeds(specs: Iterable[FeedSpec]) -> list[FeedSpec]:
    """Index order: all, topics, speakers; each base feed before its languages."""
    kinds = {"all": 0, "topic": 1, "speaker": 2}
    languages = {lang: i + 1 for i, lang in enumerate(LANGUAGES)}
    return sorted(
        set(specs),
        key=lambda s: (kinds[s.kind], s.key or "", languages.get(s.language or "", 0)),
    )


# A full archive page keeps its posts for good (feeds.render._archive), so readers may keep it
# for a year without asking again (RFC 8246); everything else is revalidated often.
ARCHIVE_CACHE_CONTROL = "public, max-age=31536000, immutable"


def cache_control(stored_key: str, default: str) -> str:
    """Cache-Control for one stored rendering (`all/archive/3@en.atom`)."""
    spec = FeedSpec.from_feed_key(stored_key.rsplit(".", 1)[0])
    return ARCHIVE_CACHE_CONTROL if spec.frozen else default


def current_url(public_url: str, name: str) -> str | None:
    """The public URL of a stored rendering (`topics/x@ru.atom`) when it is a feed's current
    document, the one a WebSub hub is told of; None for an archive page or a name not ours."""
    key, _, fmt = name.rpartition(".")
    if fmt not in FORMATS:
        return None
    try:
        spec = FeedSpec.from_feed_key(key)
    except ValueError:
        return None
    return None if spec.page is not None else public_url.rstrip("/") + spec.path(fmt)
