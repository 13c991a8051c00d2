"""The pages' words in English, Russian and Belarusian, and which language a request gets.

Pure: plain message catalogues (a handful of strings do not need gettext's machinery) and
the RFC 9110 section 12.5.4 choice from `?lang=` and then `Accept-Language`.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.model import LANGUAGES

DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "be": "Беларуская"}

_CATALOGUES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "site": "NAM-media feeds",
        "intro": "Answers from NAM-media posts by speaker and topic, as feeds for any reader.",
        "opml": "OPML of every feed",
        "all_posts": "All posts",
        "speakers": "Speakers",
        "topics": "Topics",
        "answers": "answers",
        "subscribe": "Subscribe",
        "latest": "Latest answers",
        "source": "Source post",
        "question": "Question",
        "unknown_speaker": "Speaker not identified",
        "other_languages": "In other languages",
        "changes": "What changed",
        "published": "Published",
        "newer": "Newer",
        "older": "Older",
        "page": "Page",
        "none_yet": "Nothing published yet.",
        "not_found": "Not found",
        "language": "Language",
        "last_crawl": "Last crawl",
    },
    "ru": {
        "site": "Ленты NAM-media",
        "intro": "Ответы из публикаций NAM-media по спикерам и темам — ленты для любого ридера.",
        "opml": "OPML со всеми лентами",
        "all_posts": "Все публикации",
        "speakers": "Спикеры",
        "topics": "Темы",
        "answers": "ответов",
        "subscribe": "Подписаться",
        "latest": "Последние ответы",
        "source": "Исходная публикация",
        "question": "Вопрос",
        "unknown_speaker": "Спикер не определён",
        "other_languages": "На других языках",
        "changes": "Что изменилось",
        "published": "Опубликовано",
        "newer": "Новее",
        "older": "Старше",
        "page": "Страница",
        "none_yet": "Пока ничего не опубликовано.",
        "not_found": "Не найдено",
        "language": "Язык",
        "last_crawl": "Последний обход",
    },
    "be": {
        "site": "Стужкі NAM-media",
        "intro": (
            "Адказы з публікацый NAM-media па спікерах і тэмах — стужкі для любога чытальніка."
        ),
        "opml": "OPML з усімі стужкамі",
        "all_posts": "Усе публікацыі",
        "speakers": "Спікеры",
        "topics": "Тэмы",
        "answers": "адказаў",
        "subscribe": "Падпісацца",
        "latest": "Апошнія адказы",
        "source": "Зыходная публікацыя",
        "question": "Пытанне",
        "unknown_speaker": "Спікер не вызначаны",
        "other_languages": "На іншых мовах",
        "changes": "Што змянілася",
        "published": "Апублікавана",
        "newer": "Навейшыя",
        "older": "Старэйшыя",
        "page": "Старонка",
        "none_yet": "Пакуль нічога не апублікавана.",
        "not_found": "Не знойдзена",
        "language": "Мова",
        "last_crawl": "Апошні абыход",
    },
}


def messages(language: str) -> Mapping[str, str]:
    """The catalogue of one language; every catalogue has every key (a test checks)."""
    return _CATALOGUES.get(language, _CATALOGUES[DEFAULT_LANGUAGE])


def catalogue_keys() -> dict[str, frozenset[str]]:
    return {lang: frozenset(c) for lang, c in _CATALOGUES.items()}


def choose_language(query: str | None, accept_language: str | None) -> str:
    """`?lang=` when it names one of ours, else the best `Accept-Language` range we have
    (a primary tag match: `ru-RU` gets `ru`; `*` gets the default), else English."""
    if query in LANGUAGES:
        return query
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for tag, quality in _ranges(accept_language or ""):
        primary = tag.split("-", 1)[0]
        choice = DEFAULT_LANGUAGE if primary == "*" else primary
        # the first of equal weights wins, as the client listed them in its order
        if choice in LANGUAGES and quality > best_q and quality > 0:
            best, best_q = choice, quality
    return best


def _ranges(header: str) -> list[tuple[str, float]]:
    ranges = []
    for part in header.split(",")[:32]:  # a client listing more ranges gains nothing
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        ranges.append((tag, _quality(params)))
    return ranges


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0
