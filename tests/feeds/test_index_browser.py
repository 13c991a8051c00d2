"""The index page as a browser renders it: Debian's `chromium`, headless, against the app
under a real uvicorn server on 127.0.0.1 over the mirror's posts.

`--dump-dom` gives the DOM after rendering: every speaker (Latin and Cyrillic names) and
every topic with posts is there, with its subscribe links. `--screenshot` must give a real
PNG of the page. Set NAMFEEDS_SCREENSHOT_TO=docs/index.png to keep the screenshot.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import zlib
from pathlib import Path

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.people import get_person
from services.storage import Store
from services.topics import get_topic
from tests.conftest import require_program
from tests.feeds.test_publish import load_mirror
from tests.feeds.test_web import Serve, serve  # noqa: F401  (the uvicorn server fixture)

CHROMIUM_TIMEOUT = 60  # seconds for one headless run
INSTALL = "apt-get update && apt-get install -y chromium"
WINDOW = (1280, 2000)
FORMATS = ("atom", "rss", "json")


def chromium_executable() -> str:
    return require_program("chromium", INSTALL, "/usr/bin/chromium")


def run_chromium(executable: str, profile: Path, *args: str) -> bytes:
    """One headless run in its own process group, killed as a whole on timeout; stdout."""
    command = [
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    env = {
        "HOME": str(profile),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1",
    }
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=CHROMIUM_TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.communicate()
        pytest.fail(f"chromium {' '.join(args)} took over {CHROMIUM_TIMEOUT} s", pytrace=False)
    finally:
        _kill_group(process.pid)  # helpers that outlived the browser, if any
    assert process.returncode == 0, (process.returncode, err.decode(errors="replace")[-2000:])
    return out


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a well-formed 8-bit RGB(A) PNG: signature, every chunk's CRC,
    IHDR first and IEND last, and image data that inflates to exactly the rows it declares."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks: list[tuple[bytes, bytes]] = []
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    channels = 3 if color == 2 else 4
    assert len(pixels) == height * (1 + width * channels)
    assert len(set(pixels)) > 16, "the image is (nearly) one colour"
    return width, height


def _text(node: LexborNode | None) -> str:
    return " ".join((node.text(separator=" ") if node is not None else "").split())


def _hrefs(node: LexborNode) -> set[str]:
    return {str(a.attributes.get("href")) for a in node.css("a")}


@pytest.fixture
def index_url(store: Store, serve: Serve) -> str:  # noqa: F811  (the fixture imported above)
    load_mirror(store)
    client: httpx.Client = serve(with_broker=False)
    return str(client.base_url).rstrip("/") + "/"


def test_index_in_chromium_shows_every_speaker_and_topic(
    index_url: str, store: Store, tmp_path: Path
) -> None:
    chromium = chromium_executable()
    dom = run_chromium(chromium, tmp_path / "profile", "--dump-dom", index_url).decode("utf-8")
    page = LexborHTMLParser(dom)
    assert _text(page.css_first("h1")) == "NAM-media feeds"
    alternates = page.css('head link[rel="alternate"][type]')
    assert {str(link.attributes.get("type")) for link in alternates} == {
        "application/atom+xml",
        "application/rss+xml",
        "application/feed+json",
    }

    posts = [s.post for s in store.recent_posts(limit=store.count_posts())]
    speakers = {p for post in posts for p in post.speaker_ids}
    topics = {t for post in posts for section in post.sections for t in section.topics}
    assert speakers and topics
    for person_id in sorted(speakers):
        person = get_person(person_id)
        assert person is not None, person_id
        row = page.css_first(f"tr#speaker-{person_id}")
        assert row is not None, f"no row for {person_id}"
        text = _text(row)
        for name in (person.name, person.name_be, person.name_ru):
            assert name in text, (person_id, name, text)
        for fmt in FORMATS:
            assert f"/feeds/speakers/{person_id}.{fmt}" in _hrefs(row), (person_id, fmt)
    for slug in sorted(topics):
        topic = get_topic(slug)
        assert topic is not None, slug
        row = page.css_first(f"tr#topic-{slug}")
        assert row is not None, f"no row for topic {slug}"
        assert topic.name("en") in _text(row), (slug, _text(row))
        for fmt in FORMATS:
            assert f"/feeds/topics/{slug}.{fmt}" in _hrefs(row), (slug, fmt)
    every_link = {str(a.attributes.get("href")) for a in page.css("a")}
    for fmt in FORMATS:
        assert f"/feeds/all.{fmt}" in every_link

    screenshot = tmp_path / "index.png"
    run_chromium(
        chromium,
        tmp_path / "profile-shot",
        f"--screenshot={screenshot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        index_url,
    )
    assert screenshot.is_file(), "chromium wrote no screenshot"
    data = screenshot.read_bytes()
    assert len(data) > 20_000, f"screenshot is only {len(data)} bytes"
    assert png_size(data) == WINDOW
    keep = os.environ.get("NAMFEEDS_SCREENSHOT_TO")
    if keep:
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, keep)
