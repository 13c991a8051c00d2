"""Dates as the site shows them ("15 февраля 2023", "Feb 15, 2023", "5 ліст. 2023 г.").

Pure. The shapes the site uses are read with a month table for English, Russian and
Belarusian (every case form a day-month-year date puts a month in, and the abbreviations Wix
and Tilda print), which costs microseconds; dateparser, which took 60% of a Tilda page's
parse, is only the fallback for a shape the table does not know.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from services.parsing.meta import SITE_TZ


def _months(*rows: str) -> dict[str, int]:
    """One row a month, January first: the spellings of that month."""
    return {word: number for number, row in enumerate(rows, 1) for word in row.split()}


# Nominative, genitive ("15 февраля"), prepositional or locative ("в феврале"), and the
# abbreviations (with or without their period). Abbreviations the languages share ("май",
# "мар") mean the same month in each.
MONTHS: dict[str, int] = {
    **_months(
        "january jan",
        "february feb",
        "march mar",
        "april apr",
        "may",
        "june jun",
        "july jul",
        "august aug",
        "september sep sept",
        "october oct",
        "november nov",
        "december dec",
    ),
    **_months(
        "январь января январе янв",
        "февраль февраля феврале фев февр",
        "март марта марте мар",
        "апрель апреля апреле апр",
        "май мая мае",
        "июнь июня июне июн",
        "июль июля июле июл",
        "август августа августе авг",
        "сентябрь сентября сентябре сен сент",
        "октябрь октября октябре окт",
        "ноябрь ноября ноябре ноя нояб",
        "декабрь декабря декабре дек",
    ),
    **_months(
        "студзень студзеня студзені студз сту",
        "люты лютага лютым лют",
        "сакавік сакавіка сакавіку сак",
        "красавік красавіка красавіку крас",
        "травень траўня траўні трав тра мая маі",
        "чэрвень чэрвеня чэрвені чэрв",
        "ліпень ліпеня ліпені ліп",
        "жнівень жніўня жніўні жн жнів",
        "верасень верасня верасні вер",
        "кастрычнік кастрычніка кастрычніку кастр",
        "лістапад лістапада лістападзе ліст",
        "снежань снежня снежні снеж",
    ),
}

_TIME = r"(?:[,\s]+(?:at\s+|в\s+|а\s+|о\s+)?(\d{1,2}):(\d{2})(?::\d{2})?\s*([ap]\.?m\.?)?)?"
_YEAR_WORD = r"(?:\s*(?:г\.?|года|году|гг\.?))?"
_DAY_FIRST = re.compile(
    r"(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4})" + _YEAR_WORD + _TIME + r"\.?", re.IGNORECASE
)
_MONTH_FIRST = re.compile(
    r"([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME, re.IGNORECASE
)
# 03.02.2023 is the 3rd of February on this site: day first, as in Russian and Belarusian.
_NUMERIC = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})" + _YEAR_WORD + _TIME)
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})" + _TIME)


def parse_shown_date(text: str, languages: list[str]) -> datetime | None:
    """A shown date as a UTC time, or None.

    Shown dates are local time. A day with no time is kept at noon UTC: that instant falls
    on the same calendar day in every zone from UTC-11 to UTC+11, so the day survives any
    conversion a reader makes.
    """
    text = " ".join(text.split())
    if not text or len(text) > 60:
        return None
    parts = _from_table(text)
    if parts is None:
        return _with_dateparser(text, languages)
    return _instant(*parts)  # None for 31 February: no guess from dateparser either


_Parts = tuple[int, int, int, str | None, str | None, str | None]


def _from_table(text: str) -> _Parts | None:
    """Year, month, day and time of the shapes the site prints; None for any other."""
    if match := _DAY_FIRST.fullmatch(text):
        day, word, year, *clock = match.groups()
        month = MONTHS.get(word.lower())
    elif match := _MONTH_FIRST.fullmatch(text):
        word, day, year, *clock = match.groups()
        month = MONTHS.get(word.lower())
    elif match := _NUMERIC.fullmatch(text):
        day, number, year, *clock = match.groups()
        month = int(number)
    elif match := _ISO_DAY.fullmatch(text):
        year, number, day, *clock = match.groups()
        month = int(number)
    else:
        return None
    if month is None:
        return None
    hour, minute, half = clock
    return int(year), month, int(day), hour, minute, half


def _instant(
    year: int, month: int, day: int, hour: str | None, minute: str | None, half: str | None
) -> datetime | None:
    try:
        if hour is None or minute is None:
            return datetime(year, month, day, 12, 0, tzinfo=UTC)
        hours = int(hour)
        if half:
            if not 1 <= hours <= 12:
                return None
            hours = hours % 12 + (12 if half.lower().startswith("p") else 0)
        shown = datetime(year, month, day, hours, int(minute), tzinfo=SITE_TZ)
    except ValueError:  # 31 February, 25:00
        return None
    return shown.astimezone(UTC)


def _with_dateparser(text: str, languages: list[str]) -> datetime | None:
    import dateparser  # slow to import, and to run: only for shapes the table does not know

    text = _BE_MONTH.sub(lambda m: _BE_GENITIVE[m.group(1).lower()], text)
    try:
        parsed = dateparser.parse(
            text,
            languages=languages,
            settings={
                "REQUIRE_PARTS": ["day", "month", "year"],
                "RETURN_AS_TIMEZONE_AWARE": False,
                "DATE_ORDER": "DMY",
            },
        )
    except (ValueError, OverflowError, TypeError):
        return None
    if not isinstance(parsed, datetime):
        return None
    if parsed.time() == time(0, 0) and not re.search(r"\d{1,2}:\d{2}", text):
        return datetime.combine(parsed.date(), time(12, 0), tzinfo=UTC)
    return parsed.replace(tzinfo=SITE_TZ).astimezone(UTC)


# Belarusian abbreviations as Wix shows them, which dateparser's Belarusian data lacks for
# most months, spelled out in the genitive it does know: for shapes the table does not read,
# such as one that starts with the day of the week.
_BE_GENITIVE = {
    "студз": "студзеня",
    "лют": "лютага",
    "сак": "сакавіка",
    "крас": "красавіка",
    "трав": "траўня",
    "чэрв": "чэрвеня",
    "ліп": "ліпеня",
    "жн": "жніўня",
    "вер": "верасня",
    "кастр": "кастрычніка",
    "ліст": "лістапада",
    "снеж": "снежня",
}
_BE_MONTH = re.compile(r"\b(" + "|".join(_BE_GENITIVE) + r")\.", re.IGNORECASE)
