"""A feed's title, one for every format: the topic or person named in the feed's language.

Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from feeds.render._content import person_name
from feeds.render._entries import Entry, FeedSpec
from feeds.render._labels import Labels

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "be": "Беларуская"}
_FEED_SUBJECT = {"en": "all posts", "ru": "все публикации", "be": "усе публікацыі"}
_ARCHIVE = {"en": "archive", "ru": "архив", "be": "архіў"}


def feed_title(spec: FeedSpec, entries: Sequence[Entry], labels: Labels, site_name: str) -> str:
    lang = spec.language
    if spec.kind == "topic":
        subject = labels.topic(spec.key or "", lang)
    elif spec.kind == "speaker":
        subject = person_name(spec.key or "", lang, labels, entries)
    else:
        subject = _FEED_SUBJECT[lang or "en"]
    suffix = f" ({LANGUAGE_NAMES[lang]})" if lang else ""
    archive = f", {_ARCHIVE[lang or 'en']}" if spec.page is not None else ""
    return f"{site_name}: {subject}{suffix}{archive}"
