"""Every mirror page parses to its expected JSON (compared as DESIGN.md says: without id,
modified and topics; Tilda dates by day, since Tilda shows local days)."""

from __future__ import annotations

import difflib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from services.model import Post
from services.parsing import parse_post
from tests.conftest import SITE

EXPECTED = sorted((SITE / "expected").glob("*.json"))


def page_path(url: str) -> Path:
    host, _, path = url.split("://", 1)[1].partition("/")
    return SITE / host / f"{path}.html"


def _comparable(data: dict[str, Any], cms: str) -> dict[str, Any]:
    published = datetime.fromisoformat(data["published"].replace("Z", "+00:00"))
    return {
        "url": data["url"],
        "cms": data["cms"],
        "title": data["title"],
        "language": data["language"],
        "published": published.date().isoformat() if cms == "tilda" else published.isoformat(),
        "source": data["source"],
        "categories": data["categories"],
        "sections": [
            {
                "heading": s["heading"],
                "question": s["question"],
                "answers": [{"speaker": a["speaker"], "text": a["text"]} for a in s["answers"]],
            }
            for s in data["sections"]
        ],
    }


@pytest.mark.parametrize("expected_path", EXPECTED, ids=[p.stem for p in EXPECTED])
def test_mirror_page_parses_to_expected(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    post = parse_post(page_path(expected["url"]).read_bytes(), expected["url"])
    got = _comparable(post.to_dict(), expected["cms"])
    want = _comparable(expected, expected["cms"])
    if got != want:
        diff = difflib.unified_diff(
            json.dumps(want, ensure_ascii=False, indent=1).splitlines(),
            json.dumps(got, ensure_ascii=False, indent=1).splitlines(),
            "expected",
            "parsed",
            lineterm="",
        )
        pytest.fail(f"{expected_path.name} differs:\n" + "\n".join(diff))


@pytest.mark.parametrize("expected_path", EXPECTED, ids=[p.stem for p in EXPECTED])
def test_json_form_round_trips(expected_path: Path) -> None:
    url = json.loads(expected_path.read_text(encoding="utf-8"))["url"]
    post = parse_post(page_path(url).read_bytes(), url)
    assert Post.from_json(post.to_json()) == post


def test_post_id_is_stable_across_mirrors_and_schemes() -> None:
    expected = json.loads(EXPECTED[0].read_text(encoding="utf-8"))
    html = page_path(expected["url"]).read_bytes()
    first = parse_post(html, expected["url"])
    again = parse_post(html, expected["url"].replace("https://", "http://"))
    assert first.id == again.id
    assert first.id.startswith(f"{first.cms}-")


def test_sections_get_topics_heading_subject_first() -> None:
    url = json.loads((SITE / "expected/cabinet-answers-feb14.en.wix.json").read_text())["url"]
    post = parse_post(page_path(url).read_bytes(), url)
    by_heading = {s.heading: s.topics for s in post.sections}
    assert by_heading["Relations with Ukraine"][0] == "ukraine"
    assert by_heading["Sanctions, closure of border crossings on the border with Belarus"][0] == (
        "sanctions"
    )
    assert (
        "political-prisoners"
        in by_heading["Helping political prisoners, negotiating with the regime for their release"]
    )
    assert all(len(topics) <= 3 for topics in by_heading.values())


def test_alternates_come_from_hreflang_links() -> None:
    url = json.loads((SITE / "expected/cabinet-answers-feb14.en.wix.json").read_text())["url"]
    post = parse_post(page_path(url).read_bytes(), url)
    assert dict(post.alternates)["ru"].endswith(
        "/post/otvety-kabineta-na-samye-aktualnye-voprosy-press-konferentsii-14-fevralya"
    )


def test_comments_and_recent_posts_are_not_content() -> None:
    url = json.loads((SITE / "expected/cabinet-answers-feb14.en.wix.json").read_text())["url"]
    post = parse_post(page_path(url).read_bytes(), url)
    texts = [a.text for s in post.sections for a in s.answers]
    assert not any("Thank you for the answers" in t for t in texts)
    speakers = [a.speaker.as_written for s in post.sections for a in s.answers if a.speaker]
    assert "A reader" not in speakers


def test_wix_posts_keep_wix_own_id_which_the_site_feed_uses_as_guid() -> None:
    feed = (SITE / "www.belarus-nau.org/blog-feed.xml").read_text(encoding="utf-8")
    url = "https://www.belarus-nau.org/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"
    post = parse_post(page_path(url).read_bytes(), url)
    assert post.id == "wix-a67bfb38fe25a44bfff68362"
    assert '<guid isPermaLink="false">a67bfb38fe25a44bfff68362</guid>' in feed


def test_a_state_blob_for_another_post_is_not_taken_for_this_one() -> None:
    url = "https://www.belarus-nau.org/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"
    html = (
        page_path(url)
        .read_bytes()
        .replace(
            b'"title": "Pavel Latushka on sanctions', b'"title": "Another post on sanctions', 1
        )
    )
    post = parse_post(html, url)
    assert post.id.startswith("wix-") and post.id != "wix-a67bfb38fe25a44bfff68362"
