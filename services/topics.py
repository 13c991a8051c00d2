"""The topic registry and section tagging: which few topics a section is about.

Pure: the registry is package data read once; no network, Redis, environment or clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, NamedTuple

from services.model import LANGUAGES

# A heading names the section's subject and a question asks about it, while answers wander:
# one heading hit outweighs several passing mentions in the answers.
HEADING_WEIGHT = 6
QUESTION_WEIGHT = 3
# One long answer repeating a word is one speaker's emphasis, not the section's subject.
ANSWER_HIT_CAP = 3
# A topic found only in the answers needs repeated evidence and a fair share of the best score.
MIN_ANSWER_HITS = 2
ANSWER_SHARE = 0.5
MAX_TOPICS = 3
# A weak cue names an actor or a circumstance, not a subject ("EU sanctions", "attacks on
# journalists"): it counts this much of a hit, and a topic only weak cues found in a heading or
# question is not named there when another topic's subject cue is.
WEAK_WEIGHT = 0.5

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Typographic apostrophes are common in Belarusian (з’ехаць) and English (EU’s) alike.
# Belarusian у turns into ў after a vowel (ўварванне, ва ўніверсітэце): both read as у.
_NORMALIZE = str.maketrans({"ё": "е", "ў": "у", "’": "'", "ʼ": "'", "`": "'"})
_NEEDS_NORMALIZING = re.compile("[ёў’ʼ`]")


@dataclass(frozen=True)
class Topic:
    """A feed-worthy subject. Equal and hashed by slug, which is what feeds and URLs use."""

    slug: str
    names: Mapping[str, str] = field(compare=False)
    cues: Mapping[str, tuple[str, ...]] = field(compare=False, repr=False)
    # Per language, the cues (among `cues`) that are weak: see WEAK_WEIGHT.
    weak: Mapping[str, frozenset[str]] = field(compare=False, repr=False, default_factory=dict)

    def name(self, language: str) -> str:
        """Display name in `language`, English when the registry has none for it."""
        return self.names.get(language) or self.names["en"]


@dataclass(frozen=True)
class _Matcher:
    """One regex over every cue of a language; group n (1-based) marks cue n-1's topics, each
    with whether the cue is weak for it."""

    pattern: re.Pattern[str]
    topics_of_group: tuple[tuple[tuple[str, bool], ...], ...]


class _Hits(NamedTuple):
    """A topic's cue hits in one text: subject (strong) and weak ones, and where the first
    one starts. A tuple: a section makes one per topic and text, and a frozen dataclass
    costs several times as much to build."""

    strong: int
    weak: int
    first: int

    @property
    def weighted(self) -> float:
        return self.strong + WEAK_WEIGHT * self.weak


_NO_HITS = _Hits(0, 0, 0)


def all_topics() -> tuple[Topic, ...]:
    """Every topic, in registry order (the order indexes and OPML list them)."""
    return _registry()


def get_topic(slug: str) -> Topic | None:
    return _by_slug().get(slug)


def classify_section(
    heading: str | None, question: str | None, answers: Sequence[str], language: str
) -> tuple[str, ...]:
    """Slugs of the few topics a section is about, best first, at most MAX_TOPICS.

    The heading's strongest topic leads (the question's when there is no heading). Topics
    named in the heading or question are kept; a topic seen only in the answers must recur
    and score at least ANSWER_SHARE of the best, so a passing mention tags nothing. An unknown
    `language` matches the cues of every language.
    """
    matcher = _matcher(language if language in LANGUAGES else "*")
    in_heading = _scan(heading, matcher)
    in_question = _scan(question, matcher)
    in_answers = _scan_answers(answers, matcher)
    scores = {
        slug: HEADING_WEIGHT * in_heading.get(slug, _NO_HITS).weighted
        + QUESTION_WEIGHT * in_question.get(slug, _NO_HITS).weighted
        + in_answers.get(slug, 0)
        for slug in in_heading.keys() | in_question.keys() | in_answers.keys()
    }
    if not scores:
        return ()
    best = max(scores.values())
    named_in_heading = _named(in_heading)
    named_in_question = _named(in_question)
    chosen = [
        slug
        for slug, score in scores.items()
        if slug in named_in_heading
        or slug in named_in_question
        or (in_answers.get(slug, 0) >= MIN_ANSWER_HITS and score >= ANSWER_SHARE * best)
    ]
    rank = _rank()
    chosen.sort(key=lambda slug: (-scores[slug], rank[slug]))
    lead = _lead(named_in_heading, scores) or _lead(named_in_question, scores)
    if lead is not None:
        chosen.remove(lead)
        chosen.insert(0, lead)
    return tuple(chosen[:MAX_TOPICS])


def _named(hits: Mapping[str, _Hits]) -> dict[str, _Hits]:
    """The topics a heading or question names: those with a subject cue there, or, when it has
    none, those with a weak one."""
    strong = {slug: found for slug, found in hits.items() if found.strong}
    return strong or dict(hits)


def _lead(hits: Mapping[str, _Hits], scores: Mapping[str, float]) -> str | None:
    """The topic a heading or question is mostly about: most hits there; on a tie, the one the
    whole section dwells on more, then the one named first."""
    if not hits:
        return None
    return min(hits, key=lambda slug: (-hits[slug].weighted, -scores[slug], hits[slug].first))


def _scan_answers(answers: Sequence[str], matcher: _Matcher) -> dict[str, float]:
    """Per topic: cue hits over all answers, at most ANSWER_HIT_CAP from any one answer."""
    hits: dict[str, float] = {}
    for answer in answers:
        for slug, (strong, weak, _) in _tallies(answer, matcher).items():
            hits[slug] = hits.get(slug, 0) + min(strong + WEAK_WEIGHT * weak, ANSWER_HIT_CAP)
    return hits


def _scan(text: str | None, matcher: _Matcher) -> dict[str, _Hits]:
    """Per topic: how many subject and weak cues matched in `text`, and where the first starts."""
    return {slug: _Hits(*tally) for slug, tally in _tallies(text, matcher).items()}


def _tallies(text: str | None, matcher: _Matcher) -> dict[str, list[int]]:
    """_scan's counts as plain lists, [strong, weak, first]: a section's answers match dozens
    of times, and only their counts are wanted."""
    if not text:
        return {}
    text = text.lower()
    if _NEEDS_NORMALIZING.search(text):  # most text has none: skip translate's per-char work
        text = text.translate(_NORMALIZE)
    counts: dict[str, list[int]] = {}
    groups = matcher.topics_of_group
    for match in matcher.pattern.finditer(text):
        for slug, weak in groups[(match.lastindex or 1) - 1]:
            tally = counts.get(slug)
            if tally is None:
                tally = counts[slug] = [0, 0, match.start()]
            tally[1 if weak else 0] += 1  # subject cues, then weak ones
    return counts


@cache
def _matcher(language: str) -> _Matcher:
    """Compile the cues of `language` ("*": all languages) into one regex shaped as a trie.

    A flat alternation of ~250 cues tries every cue at every word start and costs milliseconds
    per section; sharing prefixes makes it about 50 times faster. Each cue ends in an empty
    group, so `lastindex` names the cue that matched.
    """
    languages = LANGUAGES if language == "*" else (language,)
    topics_of_cue: dict[str, dict[str, bool]] = {}
    for topic in _registry():
        for lang in languages:
            for cue in topic.cues[lang]:
                slugs = topics_of_cue.setdefault(_normalize_cue(cue), {})
                # A cue weak in one language but a subject in another is a subject for "*".
                slugs[topic.slug] = slugs.get(topic.slug, True) and cue in topic.weak[lang]
    trie: _Trie = {}
    for cue in topics_of_cue:
        node = trie
        for symbol in _cue_symbols(cue):
            node = node.setdefault(symbol, {})
        node[_TERM] = cue
    ends: list[str] = []
    body = _trie_regex(trie, ends)
    return _Matcher(
        pattern=re.compile(rf"(?<!\w){body}"),
        topics_of_group=tuple(tuple(topics_of_cue[cue].items()) for cue in ends),
    )


# Trie symbols besides literal characters. Their order is the order alternatives are tried in:
# a literal continuation before the end of a word, so at any position the longest cue wins and
# consumes its words ("political prisoners" is a political-prisoners hit, not also "prison*").
_SPACE, _STAR, _WORD_END, _TERM = "\x01", "\x02", "\x03", "\x04"
# Quotes may sit between a phrase's words: the plan «Перамога», the "Victory" plan.
_SYMBOL_REGEX = {_SPACE: r'[\s"«»„“”]+', _STAR: r"\w*", _WORD_END: r"(?!\w)"}
_Trie = dict[str, Any]


def _cue_symbols(cue: str) -> list[str]:
    """A word ending in * is a stem and takes any ending; any other word must end there."""
    symbols: list[str] = []
    words = cue.split()
    for index, word in enumerate(words):
        if index:
            symbols.append(_SPACE)
        symbols.extend(word.rstrip("*"))
        if word.endswith("*"):
            symbols.append(_STAR)
        elif index == len(words) - 1:
            symbols.append(_WORD_END)
    return symbols


def _trie_regex(node: _Trie, ends: list[str]) -> str:
    alternatives = []
    for symbol in sorted(node, key=lambda s: (s < " ", s)):
        if symbol == _TERM:
            ends.append(node[symbol])
            alternatives.append("()")
        else:
            regex = _SYMBOL_REGEX.get(symbol) or re.escape(symbol)
            alternatives.append(regex + _trie_regex(node[symbol], ends))
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


def _normalize_cue(cue: str) -> str:
    return " ".join(cue.lower().translate(_NORMALIZE).split())


@cache
def _registry() -> tuple[Topic, ...]:
    raw = json.loads(
        resources.files("services").joinpath("data/topics.json").read_text(encoding="utf-8")
    )
    topics = tuple(_topic_from_dict(entry) for entry in raw["topics"])
    slugs = [topic.slug for topic in topics]
    if len(set(slugs)) != len(slugs):
        raise ValueError("topics: duplicate slug in services/data/topics.json")
    return topics


def _topic_from_dict(entry: Mapping[str, Any]) -> Topic:
    """Check one registry entry: a bad registry must fail loudly at load, not tag silently."""
    slug = entry["slug"]
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        raise ValueError(f"topics: bad slug {slug!r}")
    names = {lang: str(entry["names"].get(lang) or "") for lang in LANGUAGES}
    cues = {lang: tuple(entry["cues"].get(lang) or ()) for lang in LANGUAGES}
    weak = {lang: frozenset(entry.get("weak", {}).get(lang) or ()) for lang in LANGUAGES}
    for lang in LANGUAGES:
        if not names[lang].strip() or not cues[lang]:
            raise ValueError(f"topics: {slug} needs a name and cues in {lang!r}")
        for cue in cues[lang]:
            if not isinstance(cue, str) or not _is_valid_cue(cue):
                raise ValueError(f"topics: {slug} has a bad {lang} cue {cue!r}")
        if not weak[lang] <= set(cues[lang]):
            raise ValueError(f"topics: {slug} has weak {lang} cues that are not among its cues")
    return Topic(
        slug=slug,
        names=MappingProxyType(names),
        cues=MappingProxyType(cues),
        weak=MappingProxyType(weak),
    )


def _is_valid_cue(cue: str) -> bool:
    words = cue.split()
    return bool(words) and all(word.rstrip("*") and "*" not in word.rstrip("*") for word in words)


@cache
def _by_slug() -> Mapping[str, Topic]:
    return MappingProxyType({topic.slug: topic for topic in _registry()})


@cache
def _rank() -> Mapping[str, int]:
    return MappingProxyType({topic.slug: index for index, topic in enumerate(_registry())})
