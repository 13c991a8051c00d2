"""Blocks to sections: headings, questions, answers and their speakers.

Pure. One pass over the article's blocks with a little state, because the site's families
differ mostly in where things sit: digests put the speaker after the quote (same paragraph,
or alone on the next one) or before it as `Name: "…"`; interviews ask in bold (or italics,
or after `Q:`) and answer in plain paragraphs by the person the title or lead names; news
has neither.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from services.model import Answer, Section, Speaker
from services.parsing import attribution, cues, quotes
from services.parsing._drafts import ClosedQuote, OpenQuote, SectionDrafts
from services.parsing.blocks import Block
from services.parsing.speakers import (
    INITIALLED,
    MentionFinder,
    Resolver,
    find_interviewee,
    looks_like_person,
    mentioned_speaker,
)
from services.parsing.statements import statement


class _Builder(SectionDrafts):
    def __init__(
        self,
        resolve: Resolver,
        find_mentions: MentionFinder,
        interviewee: Callable[[], Speaker | None],
    ) -> None:
        super().__init__(resolve)
        self._find_mentions = find_mentions
        self._interviewee = interviewee
        self.source: str | None = None
        self._open: OpenQuote | None = None
        self._closed: ClosedQuote | None = None

    def empty_line(self) -> None:
        """An empty line closes a section; but a quote may run across one, and interviews
        often put one between every paragraph (the next question ends their section)."""
        if self._open is not None:
            return
        self._settle()
        if self._draft.answers and not self._draft.interview:
            self.close_section()

    # -- quotes -------------------------------------------------------------------------

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

    def paragraph(self, block: Block) -> None:
        text = block.text
        if cues.is_hashtags(text):
            return  # `#NAM #Latushka` after the last answer is not part of it
        if self._closed is not None:
            self._settle()
        if self._open is not None and self._continue_quote(text):
            return
        if block.bold_lead and self._bold_lead(block):
            return
        if self._quote_or_prefixed(text):
            return
        self._plain(text)

    def _continue_quote(self, text: str) -> bool:
        assert self._open is not None
        if text[:1] == self._open.mark and text[:1] in '“"' and len(text) > 1:
            text = text[1:]  # English: each paragraph of a long quote reopens it
        elif quotes.opens_quote(quotes.strip_dash(text)):
            self._open = None  # a new quote: the open one was narration after all
            return False
        end = quotes.ends_quote(text)
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
        if speaker:
            self.answer(body, speaker)
        else:
            self._closed = ClosedQuote(body, None)

    def _quote_or_prefixed(self, text: str, speaker: str | None = None) -> bool:
        text = quotes.strip_dash(text)
        if speaker is None:
            found = attribution.attributed(text, self._resolve)
            prefixed = quotes.name_prefix(text)
            if found is not None and (len(found) > 1 or not prefixed):
                self._said(found)
                return True
            if prefixed and self._is_speaker_prefix(*prefixed):
                speaker, text = prefixed
            elif found is not None:
                self._said(found)
                return True
            elif (role := attribution.role_line(text, self._resolve)) is not None:
                self._said([role])
                return True
        if not quotes.opens_quote(text):
            if speaker:
                self.answer(text, speaker)
                return True
            return False
        shape = quotes.shape_of(text)
        if shape.closed:
            self._finish_quote(shape.body, shape.attribution or speaker)
            return True
        if quotes.closes_early(text):
            said = quotes.split_said(text)
            if said:
                self.answer(said[0], said[1])
                return True
            if speaker:
                self.answer(text, speaker)
                return True
            return False
        mark = text[0]
        self._open = OpenQuote([shape.body], speaker or self._take_next_speaker(), mark)
        return True

    def _said(self, found: list[attribution.Said]) -> None:
        """Quotes with their attributions before, inside or after them, several per
        paragraph (services.parsing.attribution)."""
        for said in found:
            if said.question:
                self.question(said.text, interview=False)
            elif said.speaker is not None or not self._draft.interview:
                self.answer(said.text, said.speaker)
            else:
                self.answer(said.text, self._interviewee())

    def _is_speaker_prefix(self, name: str, rest: str) -> bool:
        """`Name:` opens an answer when the name is someone we know, or looks like a person
        and a quote follows; a heading such as `Sanctions:` must not pass for a speaker."""
        if self._resolve(name).id:
            return True
        return quotes.opens_quote(rest) and looks_like_person(name, self._resolve)

    def _speaker_line(self, text: str) -> str | None:
        """A bold `В. Ковалевский:` alone on its line names the speaker of the next quote."""
        if not text.endswith(":"):
            return None
        name = quotes.name_from(text[:-1], allow_lowercase_lead=False)
        if name and (self._resolve(name).id or INITIALLED.match(name)):
            return name
        return None

    def _bold_lead(self, block: Block) -> bool:
        lead = block.bold_lead
        if not lead.endswith((":", "?")) and ":" in lead and block.text.startswith(lead):
            # the bold ran on past the heading into the quote: `<b>Sanctions: "We</b> must`
            cut = lead.rindex(":") + 1
            if quotes.opens_quote(block.text[cut:].strip()):
                lead = lead[:cut]
        rest = block.text[len(lead) :].strip() if block.text.startswith(lead) else ""
        if not rest:
            return False
        if lead.endswith(":"):
            name = lead[:-1].strip()
            if quotes.name_from(name, allow_lowercase_lead=False) and self._is_speaker_prefix(
                name, rest
            ):
                return self._quote_or_prefixed(rest, speaker=name)
            self.heading(lead)
        elif lead.endswith("?"):
            self.question(quotes.strip_dash(lead), interview=True)
        else:
            return False
        self.paragraph(Block("para", rest))
        return True

    def _source_line(self, text: str) -> bool:
        if self.source is not None:
            return False
        label = cues.source_label(text)
        if label is None:
            return False
        self.source = label
        return True

    def _plain(self, text: str) -> None:
        """Plain prose answers an interview question; anywhere else it is narration, which
        may introduce the speaker of the quote after it (`Тихановская обратилась:`)."""
        text = quotes.strip_dash(text)
        draft = self._draft
        if not draft.interview:
            if text.endswith(":"):
                self._next_speaker = mentioned_speaker(text, self._find_mentions)
            return
        if draft.continuing and draft.answers:
            last = draft.answers[-1]
            draft.answers[-1] = Answer(text=f"{last.text}\n\n{text}", speaker=last.speaker)
            return
        self.answer(text, self._interviewee(), continuing=True)

    def _labelled(self, label: re.Match[str], text: str) -> None:
        rest = quotes.strip_dash(text[label.end() :].strip())
        self._settle()
        if label.group("q"):
            self.question(rest, interview=True)
        else:
            self._draft.interview = True
            self._plain(rest)

    # -- entry --------------------------------------------------------------------------

    def block(self, block: Block) -> None:
        text = block.text
        if block.kind == "empty":
            self.empty_line()
        elif block.kind == "para" and (self._source_line(text) or cues.is_aside(text)):
            pass  # `Read also: …`, a byline or a caption is nobody's words
        elif (
            self._closed is not None
            and block.kind == "para"
            and (name := quotes.looks_like_attribution(text))
        ):
            closed, self._closed = self._closed, None  # bold or not, a name after a quote
            self.answer(closed.text, name)
        elif label := cues.transcript_label(text):
            self._labelled(label, text)
        elif cues.is_question(block):
            self._settle()
            self.question(quotes.strip_dash(text), interview=True)
        elif block.bold and (name := self._speaker_line(text)):
            self._settle()
            self._next_speaker = name
        elif cues.is_heading(block):
            self.heading(text)
        else:
            self.paragraph(block)


def build_sections(
    blocks: Iterable[Block],
    *,
    resolve: Resolver,
    find_mentions: MentionFinder,
    title: str,
) -> tuple[str | None, list[Section]]:
    """The post's source label and its sections (each with at least one answer)."""
    block_list = list(blocks)
    cache: list[Speaker | None] = []

    def interviewee() -> Speaker | None:
        # Looked up only when a plain paragraph answers a question: most posts never need it.
        if not cache:
            cache.append(find_interviewee(title, block_list, find_mentions))
        return cache[0]

    builder = _Builder(resolve, find_mentions, interviewee)
    for block in block_list:
        builder.block(block)
    builder.close_section()
    sections = [
        Section(heading=d.heading, question=d.question, answers=tuple(d.answers))
        for d in builder.sections
    ]
    if not sections:
        spoken = statement(block_list, title, resolve, find_mentions)
        sections = [spoken] if spoken else []
    return builder.source, sections
