"""Shown dates: the month table reads what the site prints, and dateparser is only a fallback."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.parsing import dates
from services.parsing.dates import MONTHS, parse_shown_date

ALL = ["ru", "be", "en"]

# Every month in every form the table claims, as a date would carry it: "15 <form> 2023".
FORMS = {
    "en": [
        "January Jan", "February Feb", "March Mar", "April Apr", "May", "June Jun",
        "July Jul", "August Aug", "September Sep Sept", "October Oct", "November Nov",
        "December Dec",
    ],
    "ru": [
        "января январь январе янв", "февраля февраль феврале фев февр", "марта март марте мар",
        "апреля апрель апреле апр", "мая май мае", "июня июнь июне июн", "июля июль июле июл",
        "августа август августе авг", "сентября сентябрь сентябре сен сент",
        "октября октябрь октябре окт", "ноября ноябрь ноябре ноя нояб",
        "декабря декабрь декабре дек",
    ],
    "be": [
        "студзеня студзень студзені студз", "лютага люты лютым лют",
        "сакавіка сакавік сакавіку сак", "красавіка красавік красавіку крас",
        "траўня травень траўні трав мая", "чэрвеня чэрвень чэрвені чэрв",
        "ліпеня ліпень ліпені ліп", "жніўня жнівень жніўні жн жнів",
        "верасня верасень верасні вер", "кастрычніка кастрычнік кастрычніку кастр",
        "лістапада лістапад лістападзе ліст", "снежня снежань снежні снеж",
    ],
}
CASES = [
    (lang, word, month)
    for lang, rows in FORMS.items()
    for month, row in enumerate(rows, 1)
    for word in row.split()
]


def _noon(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, 0, tzinfo=UTC)


@pytest.fixture
def no_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str, languages: list[str]) -> None:
        raise AssertionError(f"dateparser was asked about {text!r}")

    monkeypatch.setattr(dates, "_with_dateparser", refuse)


@pytest.mark.parametrize(("lang", "word", "month"), CASES, ids=[c[1] for c in CASES])
def test_every_month_form_is_in_the_table(
    lang: str, word: str, month: int, no_dateparser: None
) -> None:
    assert MONTHS[word.lower()] == month
    for shown in (f"15 {word} 2023", f"15 {word.upper()}. 2023 г.", f"15 {word.title()} 2023"):
        assert parse_shown_date(shown, [lang]) == _noon(2023, month, 15), shown


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("Feb 15, 2023", _noon(2023, 2, 15)),
        ("February 14, 2023", _noon(2023, 2, 14)),
        ("March 3rd, 2023", _noon(2023, 3, 3)),
        ("15 февраля 2023", _noon(2023, 2, 15)),
        ("3 мар. 2023 г.", _noon(2023, 3, 3)),
        ("15 февраля 2023 года", _noon(2023, 2, 15)),
        ("5 ліст. 2023 г.", _noon(2023, 11, 5)),
        ("03.02.2023", _noon(2023, 2, 3)),  # day first on this site
        ("2023-02-15", _noon(2023, 2, 15)),
        # a shown time is Minsk's (UTC+3)
        ("15 лютага 2023 14:30", datetime(2023, 2, 15, 11, 30, tzinfo=UTC)),
        ("15 февраля 2023, 09:05", datetime(2023, 2, 15, 6, 5, tzinfo=UTC)),
        ("Feb 15, 2023, 2:30 PM", datetime(2023, 2, 15, 11, 30, tzinfo=UTC)),
        ("Feb 15, 2023 12:10 am", datetime(2023, 2, 14, 21, 10, tzinfo=UTC)),
    ],
)
def test_shapes_the_site_prints(shown: str, expected: datetime, no_dateparser: None) -> None:
    assert parse_shown_date(shown, ALL) == expected


@pytest.mark.parametrize("shown", ["31 февраля 2023", "30.02.2023", "Feb 15, 2023 25:00"])
def test_impossible_dates_are_none(shown: str, no_dateparser: None) -> None:
    assert parse_shown_date(shown, ALL) is None


@pytest.mark.parametrize(("lang", "word", "month"), CASES[::3], ids=[c[1] for c in CASES[::3]])
def test_the_table_agrees_with_dateparser(lang: str, word: str, month: int) -> None:
    shown = f"15 {word} 2023"
    found = dates._with_dateparser(shown, [lang])
    if found is not None:  # dateparser lacks some abbreviations; where it knows, we agree
        assert found == parse_shown_date(shown, [lang])


def test_other_shapes_fall_back_to_dateparser() -> None:
    assert parse_shown_date("среда, 15 февраля 2023", ALL) == _noon(2023, 2, 15)
    assert parse_shown_date("Wednesday, 15 February 2023", ALL) == _noon(2023, 2, 15)
    assert parse_shown_date("нядзеля, 5 ліст. 2023 г.", ["be"]) == _noon(2023, 11, 5)


@pytest.mark.parametrize("shown", ["", "   ", "soon", "15 2023", "x" * 61, "15 smarch 2023"])
def test_no_date(shown: str) -> None:
    assert parse_shown_date(shown, ALL) is None


def test_parsing_the_mirror_never_imports_dateparser() -> None:
    root = Path(__file__).resolve().parents[2]
    script = (
        "import sys\n"
        "from services.parsing import parse_post\n"
        "from tests.services.test_parsing import EXPECTED, page_path\n"
        "import json\n"
        "for p in EXPECTED:\n"
        "    url = json.loads(p.read_text())['url']\n"
        "    parse_post(page_path(url).read_bytes(), url)\n"
        "print('dateparser' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    # The mirror's Tilda pages show their dates only in words ("15 февраля 2023").
    assert done.stdout.strip() == "False"
