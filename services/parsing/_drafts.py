"""The sections a post is building: its draft section and the answers it has so far.

Pure. The Q&A builder (services.parsing.qa) feeds these from the article's blocks; here a
heading or question closes the section before it, and an attribution of several people
gives each one the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.model import Answer, Speaker
from services.parsing import cues, quotes
from services.parsing.speakers import INITIALLED, Resolver, narrow


@dataclass
class Draft:
    heading: str | None = None
    question: str | None = None
    answers: list[Answer] = field(default_factory=list)
    # the question was asked interview-style (bold), so plain paragraphs answer it
    interview: bool = False
    # the last answer is an interview answer that the next plain paragraph continues
    continuing: bool = False


@dataclass
class OpenQuote:
    paragraphs: list[str]
    speaker: str | Speaker | None  # from a `Name:` before the quote
    mark: str = ""  # the quotation mark that opened it


@dataclass
class ClosedQuote:
    text: str
    speaker: str | Speaker | None


class SectionDrafts:
    """Sections closed so far and the one in progress."""

    def __init__(self, resolve: Resolver) -> None:
        self._resolve = resolve
        self.sections: list[Draft] = []
        self._draft = Draft()
        # named just before the quote it introduces: `<b>В. Ковалевский:</b>`, `… said:`
        self._next_speaker: str | Speaker | None = None

    def _settle(self) -> None:
        """Resolve whatever quote is pending before something new starts."""

    def close_section(self) -> None:
        self._settle()
        if self._draft.answers:
            self.sections.append(self._draft)
        self._draft = Draft()

    def heading(self, text: str) -> None:
        self._settle()
        text = text.rstrip(" :—–-").strip()
        if self._draft.answers:
            self.close_section()
        self._draft.heading = text
        self._draft.continuing = False
        self._next_speaker = None

    def question(self, text: str, *, interview: bool) -> None:
        self._settle()
        if self._draft.answers or self._draft.question:
            self.close_section()
        self._draft.question = cues.without_number(text)
        self._draft.interview = interview
        self._draft.continuing = False

    def answer(self, text: str, speaker: str | Speaker | None, *, continuing: bool = False) -> None:
        """One answer per person named: an attribution of two people credits both, so
        that each one's feed carries what they said."""
        if not text:
            return
        speakers = self._speakers(speaker) if isinstance(speaker, str) else [speaker]
        for one in speakers:
            self._draft.answers.append(Answer(text=text, speaker=one))
        self._draft.continuing = continuing

    def _speakers(self, attribution: str) -> list[Speaker | None]:
        names = quotes.split_names(attribution)
        if len(names) > 1 and all(self._resolve(n).id or INITIALLED.match(n) for n in names):
            return [self._resolve(n) for n in names]
        return [self._resolve(narrow(names[0] if names else attribution, self._resolve))]
