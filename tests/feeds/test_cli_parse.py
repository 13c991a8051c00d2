"""`nam-feeds parse` as a user runs it: a real process, JSON out, one clear line on error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SITE

URL = "https://belarus-nau.org/tpost/m3p9r2c7a1-glavnoe-s-press-konferentsii-kabineta"
PAGE = SITE / "belarus-nau.org/tpost/m3p9r2c7a1-glavnoe-s-press-konferentsii-kabineta.html"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=60
    )


def test_parse_prints_the_post_as_json() -> None:
    result = _run("parse", str(PAGE), "--url", URL)
    assert result.returncode == 0, result.stderr
    post = json.loads(result.stdout)
    assert post["id"] == "tilda-m3p9r2c7a1"
    assert post["language"] == "ru"
    assert [s["heading"] for s in post["sections"]][0] == "Об отношениях с Украиной"
    assert post["sections"][0]["answers"][1]["speaker"]["id"] == "valery-kavaleuski"


def test_unreadable_page_is_one_line_on_stderr(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(b"\x00\xff not a page")
    result = _run("parse", str(page), "--url", URL)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("nam-feeds: parsing:")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_bad_url_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    bad_url = _run("parse", str(PAGE), "--url", "not-a-url")
    assert bad_url.returncode == 2 and "absolute http(s) URL" in bad_url.stderr
    missing = _run("parse", str(tmp_path / "nope.html"), "--url", URL)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
