"""The HTML pages laid out by Jinja2 templates, in the request's language.

Pure: a template name and records in, HTML text out. Autoescaping is on for every template,
so page text (titles, answers, names) can never become markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from feeds.web._i18n import LANGUAGE_NAMES, messages

_ENV = Environment(
    loader=PackageLoader("feeds.web", "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,  # a missing record field is a bug, not an empty string
)

_MIME = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True)
class FeedLink:
    """A feed as a subscribe button and an autodiscovery `<link>`."""

    href: str
    fmt: str
    title: str

    @property
    def mime(self) -> str:
        return _MIME[self.fmt]

    @property
    def label(self) -> str:
        return {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}[self.fmt]


def query_builder(params: Mapping[str, str]) -> Callable[..., str]:
    """`query(page=2)` in a template: this request's query with some values replaced (None
    drops one), so links keep `?lang=` and the page's other choices."""

    def query(**changes: Any) -> str:
        merged: dict[str, str] = dict(params)
        for name, value in changes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = str(value)
        return urlencode(sorted(merged.items()))

    return query


def render(
    template: str,
    *,
    lang: str,
    title: str,
    params: Mapping[str, str],
    feeds: tuple[FeedLink, ...] = (),
    **context: Any,
) -> str:
    """One page; `params` is the request's own query, kept by the language and page links."""
    context.setdefault("translations", ())
    context.setdefault("paging", None)
    return _ENV.get_template(template).render(
        lang=lang,
        t=messages(lang),
        title=title,
        feeds=feeds,
        language_names=LANGUAGE_NAMES,
        query=query_builder(params),
        **context,
    )
