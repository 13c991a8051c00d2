"""The sections a post is building: its draft section, its answers so far, and a quote
still waiting for its end or its speaker.

Pure. The Q&A builder (services.parsing.qa) feeds these from the article's blocks; here a
heading or question closes the section before it, an attribution of several people gives
each one the answer, and a quote of several paragraphs is carried until it closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.model import Answer, Speaker
from services.parsing import cues, lexicon, quotes
from services.parsing.speakers import Resolver, looks_like_person, narrow


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

    def __init__(self, resolve: Resolver, interviewee: Callable[[], Speaker | None]) -> None:
        self._resolve = resolve
        self._interviewee = interviewee
        self.sections: list[Draft] = []
        self._draft = Draft()
        # named just before the quote it introduces: `<b>В. Ковалевский:</b>`, `… said:`
        self._next_speaker: str | Speaker | None = None
        self._open: OpenQuote | None = None  # a quote running on to the next paragraphs
        self._closed: ClosedQuote | None = None  # a quote the next paragraph may attribute
        self.last_speaker: Speaker | None = None  # of the latest answer, if it had one

    def _settle(self) -> None:
        """Before anything new: an open quote that never closed was narration, and a closed
        one that no name followed is a question if it asks, the interviewee's answer in an
        interview, and otherwise a quoted phrase of narration."""
        self._open = None
        closed, self._closed = self._closed, None
        if closed is None:
            return
        if closed.speaker is not None:
            self.answer(closed.text, closed.speaker)
        elif closed.text.endswith("?"):
            self.question(closed.text, interview=False)
        elif self._draft.interview:
            self.answer(closed.text, self._interviewee())

    def _take_next_speaker(self) -> str | Speaker | None:
        speaker, self._next_speaker = self._next_speaker, None
        return speaker

    def empty_line(self) -> None:
        """An empty line closes a section; but a quote may run across one, and interviews
        often put one between every paragraph (the next question ends their section)."""
        if self._open is not None:
            return
        self._settle()
        if self._draft.answers and not self._draft.interview:
            self.close_section()

    def _continue_quote(self, text: str) -> bool:
        assert self._open is not None
        if text[:1] == self._open.mark and text[:1] in '“"' and len(text) > 1:
            text = text[1:]  # English: each paragraph of a long quote reopens it
        elif quotes.opens_quote(quotes.strip_dash(text)):
            self._open = None  # a new quote: the open one was narration after all
            return False
        end = quotes.ends_quote(text)
        if end is None and (said := quotes.split_said((self._open.mark or "«") + text)):
            # the last paragraph closes with a clause: `… parts,” Tsikhanouskaya said.`
            end = quotes.QuoteShape(said[0], True, said[1])
        if end is None:
            self._open.paragraphs.append(text)
            return True
        opened, self._open = self._open, None
        body = "\n\n".join([*opened.paragraphs, end.body])
        self._finish_quote(body, end.attribution or opened.speaker)
        return True

    def _finish_quote(self, body: str, speaker: str | Speaker | None) -> None:
        """A closed quote with a speaker is an answer; without one, the next paragraph may
        name the speaker, or show it was a question."""
        speaker = speaker or self._take_next_speaker()
        if isinstance(speaker, Speaker) and not speaker.id and body.endswith("?"):
            if lexicon.asks(speaker.as_written):
                self.question(body, interview=False)  # `A journalist asked:` `"…?"`
                return
        if speaker:
            self.answer(body, speaker)
        else:
            self._closed = ClosedQuote(body, None)

    def close_section(self) -> None:
        self._settle()
        if self._draft.answers:
            self.sections.append(self._draft)
        self._draft = Draft()

    def heading(self, text: str) -> None:
        self._settle()
        text = cues.without_number(text.rstrip(" :—–-").strip())
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
        that each one's feed carries what they said. A comma that handed over to the
        attribution (`"…," said Name`) is not part of the answer."""
        text = text.rstrip().rstrip(",").rstrip()
        if not text:
            return
        speakers = self._speakers(speaker) if isinstance(speaker, str) else [speaker]
        for one in speakers:
            self._draft.answers.append(Answer(text=text, speaker=one))
        self.last_speaker = speakers[-1] if len(speakers) == 1 else None
        self._draft.continuing = continuing

    def _speakers(self, attribution: str) -> list[Speaker | None]:
        names = quotes.split_names(attribution)
        if len(names) > 1 and all(looks_like_person(n, self._resolve) for n in names):
            return [self._resolve(n) for n in names]
        return [self._resolve(narrow(names[0] if names else attribution, self._resolve))]
