"""The HTML pages as a browser lays them out: Debian's `chromium`, headless, driven by
Playwright against the app under a real uvicorn server over the mirror's posts.

In every language each page lists what it should, and at a phone's 390 px nothing is wider
than the screen. Set NAMFEEDS_SCREENSHOT_TO=docs/screenshots to keep the screenshots taken
at 1280 and 390 px.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from services.model import Post
from services.people import all_people
from services.topics import all_topics
from tests.conftest import require_program
from tests.feeds.test_index_browser import INSTALL, png_size
from tests.feeds.test_web import Serve, mirror, serve  # noqa: F401  (fixtures)

WIDTHS = (1280, 390)
LANGS = ("en", "ru", "be")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The right edge of the widest element, and the page's own scroll width, in CSS pixels.
_WIDEST = """() => Math.max(document.documentElement.scrollWidth,
    ...Array.from(document.querySelectorAll('body *'), e => e.getBoundingClientRect().right))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = require_program("chromium", INSTALL, "/usr/bin/chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        yield launched
        launched.close()


def _open(browser: Browser, url: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    response = page.goto(url, wait_until="load", timeout=30_000)
    assert response is not None and response.status == 200, url
    return page


def _shot(page: Page, name: str, width: int, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert png_size(path.read_bytes())[0] == width
    keep = os.environ.get("NAMFEEDS_SCREENSHOT_TO")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / path.name)


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_fits_a_phone_and_lists_everything(
    browser: Browser,
    serve: Serve,  # noqa: F811
    mirror: list[Post],  # noqa: F811
    lang: str,
    tmp_path: Path,
) -> None:
    base = str(serve(with_broker=False).base_url).rstrip("/")
    post = next(p for p in mirror if len(p.speaker_ids) > 1)
    paths = {
        "index": "/",
        "speaker": "/speakers/pavel-latushka",
        "topic": "/topics/" + post.topic_slugs[0],
        "post": f"/posts/{post.id}",
    }
    for width in WIDTHS:
        for name, path in paths.items():
            page = _open(browser, f"{base}{path}?lang={lang}", width)
            assert page.locator("html").get_attribute("lang") == lang
            widest = page.evaluate(_WIDEST)
            assert widest <= width + 0.5, f"{path} ({lang}) is {widest} px wide at {width} px"
            if name == "index":
                for person in all_people():
                    assert page.locator(f"tr#speaker-{person.id}").count() == 1, person.id
                for topic in all_topics():
                    row = page.locator(f"tr#topic-{topic.slug}")
                    assert topic.name(lang) in row.inner_text(), (lang, topic.slug)
            if name == "post":
                assert page.locator("blockquote").count() == sum(
                    len(s.answers) for s in post.sections
                )
            if lang == "en" or name == "index":
                _shot(page, f"{name}-{lang}-{width}", width, tmp_path)
            page.close()
