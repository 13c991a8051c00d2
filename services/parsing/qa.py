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
from services.parsing import attribution, cues, leads, quotes
from services.parsing._drafts import OpenQuote, SectionDrafts
from services.parsing.blocks import Block
from services.parsing.speakers import (
    INITIALLED,
    MentionFinder,
    Resolver,
    find_interviewee,
    looks_like_person,
)
from services.parsing.statements import statement


class _Builder(SectionDrafts):
    def __init__(
        self,
        resolve: Resolver,
        find_mentions: MentionFinder,
        interviewee: Callable[[], Speaker | None],
    ) -> None:
        super().__init__(resolve, interviewee)
        self._find_mentions = find_mentions
        self.source: str | None = None
        # an interview by its title: a plain `— …?` line asks, as a bold one does elsewhere
        self.dialogue = False
        # the narration paragraph just before this block, where `he said` finds who he is
        self._narration = self._prior = ""
        self._prior_speaker: Speaker | None = None  # of the answer the block before gave

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

    def _quote_or_prefixed(self, text: str, speaker: str | None = None) -> bool:
        if speaker is None and (dashed := attribution.dash_speech(text, self._resolve)):
            self._said([dashed])
            return True
        text = quotes.strip_dash(text)
        if speaker is None:
            # An interview's answer may quote someone in passing; it stays the answer.
            told = self._draft.interview and not quotes.opens_quote(text)
            found = None if told else self._attributed(text)
            prefixed = quotes.name_prefix(text)
            if found is not None and (len(found) > 1 or not prefixed or found[0].speaker):
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

    def _attributed(self, text: str) -> list[attribution.Said] | None:
        return attribution.attributed(
            text, self._resolve, self._find_mentions, self._prior, self._prior_speaker
        )

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
        lead = leads.bold_lead(block)
        if lead is None:
            return False
        if lead.kind == "colon":
            name = lead.text[:-1].strip()
            if quotes.name_from(name, allow_lowercase_lead=False) and self._is_speaker_prefix(
                name, lead.rest
            ):
                return self._quote_or_prefixed(lead.rest, speaker=name)
            self.heading(lead.text)
        elif lead.kind == "question":
            self.question(lead.text, interview=True)
        else:
            self.heading(lead.text)
        self.paragraph(Block("para", lead.rest))
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
            self._narration = text
            if text.endswith(":"):
                self._next_speaker = attribution.introduced(text, self._resolve)
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
        self._prior, self._narration = self._narration, ""
        self._prior_speaker, self.last_speaker = self.last_speaker, None
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
        elif cues.is_question(block) or (self.dialogue and cues.is_dash_question(text)):
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
    builder.dialogue = cues.is_interview_title(title)
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
