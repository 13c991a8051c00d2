"""Who said what, case by case: the attribution corpus in tests/data/attribution/.

Each case is a short post (its title and paragraphs) and the sections a careful reader
expects: headings, questions, and each answer with its speaker. Every case is built in both
site builders' markup and parsed from bytes, as a crawled page would be.

The case format (one `.txt` file per language; `held-out` files were written after the
parser passed the others, and were run before any change made for them):

    ## case-id                      starts a case
    title: …                        the post's title
    builders: wix                   optional: only these builders (default: wix tilda)
    | text                          a paragraph; **…** marks bold
    |b text                         a bold paragraph
    |h text                         a heading
    |-                              an empty paragraph
    =h text                         expected: a section with this heading starts
    =q text                         expected: this question (a new section if needed)
    =s                              expected: a section with neither starts
    = id | as written | text        expected: an answer; id `?` is nobody known, as
                                    written `*` is not checked, `-` is no speaker at all
    =none                           expected: no sections at all
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.pages import Empty, H, P, sections_of, tilda_page, wix_page

CORPUS = Path(__file__).parent.parent / "data" / "attribution"
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_DATES = {"en": "March 3, 2023", "ru": "3 марта 2023", "be": "3 сакавіка 2023"}

Expected = list[tuple[str | None, str | None, list[tuple[str | None, str, str]]]]


@dataclass
class Case:
    name: str
    language: str
    title: str = ""
    builders: tuple[str, ...] = ("wix", "tilda")
    blocks: list[P | H | Empty] = field(default_factory=list)
    expected: Expected = field(default_factory=list)
    no_sections: bool = False
    held_out: bool = False


def _markup(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", text.replace("&", "&amp;").replace("<", "&lt;"))


def _expect(case: Case, line: str) -> None:
    sections = case.expected
    if line == "=none":
        case.no_sections = True
    elif line == "=s":
        sections.append((None, None, []))
    elif line.startswith("=h "):
        sections.append((line[3:].strip(), None, []))
    elif line.startswith("=q "):
        if not sections or sections[-1][1] is not None or sections[-1][2]:
            sections.append((None, None, []))
        heading, _, answers = sections[-1]
        sections[-1] = (heading, line[3:].strip(), answers)
    elif line.startswith("= "):
        person, written, text = (part.strip() for part in line[2:].split("|", 2))
        if not sections:
            sections.append((None, None, []))
        text = text.replace("\\n", "\n")
        sections[-1][2].append((None if person == "?" else person, written, text))
    else:
        raise ValueError(f"{case.name}: cannot read {line!r}")


def _read(path: Path) -> list[Case]:
    language = path.name.split(".")[0]
    cases: list[Case] = []
    for raw in path.read_text("utf-8").splitlines():
        line = raw.rstrip()
        if not line or line.startswith("//"):
            continue
        if line.startswith("## "):
            cases.append(Case(line[3:].strip(), language, held_out="held-out" in path.name))
            continue
        case = cases[-1]
        if line.startswith("title:"):
            case.title = line[6:].strip()
        elif line.startswith("builders:"):
            case.builders = tuple(line[9:].split())
        elif line == "|-":
            case.blocks.append(Empty())
        elif line.startswith("|h "):
            case.blocks.append(H(line[3:].strip()))
        elif line.startswith("|b "):
            case.blocks.append(P(f"<strong>{_markup(line[3:].strip())}</strong>"))
        elif line.startswith("| "):
            case.blocks.append(P(_markup(line[2:].strip())))
        else:
            _expect(case, line)
    return cases


def _cases(held_out: bool) -> list[Any]:
    params = []
    for path in sorted(CORPUS.glob("*.txt")):
        for case in _read(path):
            if case.held_out != held_out:
                continue
            for builder in case.builders:
                params.append(pytest.param(case, builder, id=f"{case.name}-{builder}"))
    return params


def _page(case: Case, builder: str) -> tuple[bytes, str]:
    slug = re.sub(r"[^a-z0-9]+", "-", case.name.lower())
    if builder == "wix":
        prefix = "" if case.language == "ru" else f"/{case.language}"
        url = f"https://www.belarus-nau.org{prefix}/post/{slug}"
        page = wix_page(
            url=url,
            title=case.title,
            lang=case.language,
            published="2023-03-03T10:00:00.000Z",
            blocks=case.blocks,
        )
        return page, url
    url = f"https://belarus-nau.org/tpost/c0rpus{len(slug)}-{slug}"
    return tilda_page(
        url=url, title=case.title, date=_DATES[case.language], blocks=case.blocks
    ), url


def _masked(found: Expected, expected: Expected) -> Expected:
    """The parse, with `as written` left out where the case does not state it."""
    out: Expected = []
    for i, (heading, question, answers) in enumerate(found):
        stated = expected[i][2] if i < len(expected) else []
        row = []
        for j, (person, written, text) in enumerate(answers):
            unchecked = j < len(stated) and stated[j][1] == "*"
            row.append((person, "*" if unchecked else written or "-", text))
        out.append((heading, question, row))
    return out


def _check(case: Case, builder: str) -> None:
    page, url = _page(case, builder)
    found = sections_of(page, url)
    if case.no_sections:
        assert found == [], f"{case.name}: expected no sections"
        return
    assert case.expected, f"{case.name}: the case states nothing"
    assert _masked(found, case.expected) == case.expected, case.name


def test_the_corpus_is_large_enough() -> None:
    cases = [case for path in sorted(CORPUS.glob("*.txt")) for case in _read(path)]
    assert sum(c.held_out for c in cases) >= 30
    main = [c for c in cases if not c.held_out]
    by_language = {lang: sum(c.language == lang for c in main) for lang in ("en", "ru", "be")}
    assert all(count >= 40 for count in by_language.values()), by_language
    nobody = [
        c
        for c in main
        if c.no_sections or all(p is None for _, _, a in c.expected for p, _, _ in a)
    ]
    assert len(main) >= 150 and len(nobody) >= 30, (len(main), len(nobody))
    assert len({c.name for c in cases}) == len(cases), "case names must be unique"


@pytest.mark.parametrize(("case", "builder"), _cases(held_out=False))
def test_corpus_case(case: Case, builder: str) -> None:
    _check(case, builder)


@pytest.mark.parametrize(("case", "builder"), _cases(held_out=True))
def test_held_out_case(case: Case, builder: str) -> None:
    _check(case, builder)
