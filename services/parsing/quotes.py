"""Quotation marks and attributions in one paragraph of text.

Pure. The site quotes answers with "…", «…» or “…”, nests „…“ or «…» inside, and sometimes
leaves an inner quote unclosed (the Feb 14 digest has `as a "trade. We …`), so the outer
quote is judged by where the paragraph starts and ends, not by balancing every mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.parsing import lexicon

OPENERS = frozenset("\"«“„”'")
CLOSERS = frozenset("\"»”“'")
_AMBIGUOUS = frozenset("\"“”'")
_MARKS = re.compile("[\"«»“”„']")
_TRAILING = " \t\n.,;:"
_LEADING_DASH = re.compile(r"^[—–-]\s*")
_PAREN_TAIL = re.compile(r"\(\s*([^()]{2,90}?)\s*\)[\s.,;]*$")
_DASH_TAIL = re.compile(r"[\s,]*[—–]\s*([^—–()\"«»“”„]{2,120}?)[\s.]*$")
# a name right after the closing mark, with no parentheses or dash: `"…" A. Azarov.`
_BARE_TAIL = re.compile(r"(?<=[»\"”])[\s,]+([^—–()\"«»“”„]{2,60}?)[\s.]*$")
# Each tail pattern with the marks one of which any match of it holds, from the window's
# start on (a bare tail's closing mark may sit just before the window: see split_attribution).
_TAILS = ((_PAREN_TAIL, "("), (_DASH_TAIL, "—–"), (_BARE_TAIL, "»\"”"))
_NAME_PREFIX_VERB = re.compile(r"\s+(?P<verb>[^\W\d_]+)$")
# after the closing mark: a footnote (`»¹`, `"*`) or a stage remark (`(laughs)`, `(смеется)`)
_TRAILER = re.compile(r"(?:(?<=[»\"”])[\d*†‡¹²³]{1,3}|\s*\([^\W\d_A-ZА-ЯЁІЎ][^()]{0,29}\))$")
_INITIAL_END = re.compile(r"(?:^|[\s.])[^\W\d_]\.$")  # `… P.` ends with an initial
_FOOTNOTE_MARKS = frozenset("0123456789*†‡¹²³")
_TAIL_WINDOW = 200
_COMBINING = re.compile("[\u0300-\u036f]")  # stress marks: Ціхано́ўская
# several people in one attribution: `S. Tsikhanouskaya, P. Latushka`, `С. Т. и П. Л.`
_JOINERS = re.compile(r"\s*,\s*|\s+(?:и|і|and|&)\s+")
_ROLE_DASH = re.compile(r"\s+[—–-]\s+")  # `(Pavel Latushka – head of NAM)`
_CLAUSE_END = re.compile(r"[,;]|(?<=[^\W\d_]{3})\.(?=\s|$)")
SPEECH_VERBS = frozenset(
    """said says added adds noted notes stressed explained emphasised emphasized stated told
    сказал сказала отметил отметила заявил заявила подчеркнул подчеркнула добавил добавила
    пояснил пояснила сказаў адзначыў адзначыла заявіў заявіла падкрэсліў падкрэсліла дадаў
    дадала растлумачыў растлумачыла""".split()
)
_NAME_TOKEN = re.compile(r"^(?:[^\W\d_]\.)+$|^[^\W\d_][^\W\d_'’.\-]*(?:[-'’][^\W\d_]+)*\.?$")
_NAME_PREFIX = re.compile(r"^(?P<name>[^\W\d_][^:«\"“„\n]{1,60}?)\s*:\s*(?P<rest>\S.*)$", re.S)


@dataclass(frozen=True)
class QuoteShape:
    """How a paragraph that opens with a quotation mark ends."""

    body: str  # the quoted text without its outer marks (so far, for an open quote)
    closed: bool  # the quote ends in this paragraph
    attribution: str | None  # a name after the quote, when the paragraph carries one


def strip_dash(text: str) -> str:
    return _LEADING_DASH.sub("", text, count=1)


def opens_quote(text: str) -> bool:
    return len(text) > 1 and text[0] in OPENERS and text[0] != "'"


def split_attribution(text: str) -> tuple[str, str | None]:
    """`"…". (V. Kavaleuski)` or `«…», — В. Ковалевский` into the quote and the name."""
    # The tails are short: searching only the end keeps long answers from being scanned
    # position by position for a match anchored at `$`.
    window = max(0, len(text) - _TAIL_WINDOW)
    # One character before the window: a bare tail's match starts in the window, right
    # after its closing mark. Holding more never makes a pattern match that would not.
    tail = text[max(0, window - 1) :]
    for pattern, marks in _TAILS:
        if marks and not any(mark in tail for mark in marks):
            continue  # the tail lacks the mark each of this pattern's matches holds
        match = pattern.search(text, window)
        if not match:
            continue
        before = _trim(text[: match.start()])
        if not before or before[-1] not in CLOSERS:
            continue  # not after a closing mark: prose, whatever the words look like
        name = name_from(match.group(1))
        if name and _names_the_speaker(match.group(1), name):
            return before, name
    return text, None


def _names_the_speaker(tail: str, name: str) -> bool:
    """The words before the name introduce it (`said`, `заявил представитель Кабинета`),
    rather than carry on the sentence (`Mykola Azarov told the press in Kyiv`)."""
    at = tail.find(name)
    words = tail[: max(at, 0)].replace(",", " ").split()
    verbs = [i for i, word in enumerate(words) if lexicon.is_speech_verb(word)]
    if verbs and lexicon.takes_listener(words[verbs[-1]]):
        return False  # `the volunteer told Name`: Name listened
    rest = words[verbs[-1] + 1 :] if verbs else words
    return not rest or any(lexicon.is_role_word(word) for word in rest)


def _trim(text: str) -> str:
    """Without the punctuation, footnote markers and stage remarks after a closing mark."""
    text = text.rstrip(_TRAILING)
    while text and (text[-1] == ")" or text[-1] in _FOOTNOTE_MARKS):
        match = _TRAILER.search(text, max(0, len(text) - _TAIL_WINDOW))
        if match is None:
            break
        text = text[: match.start()].rstrip(_TRAILING)
    return text


def shape_of(text: str) -> QuoteShape:
    """The shape of a paragraph that opens with a quote: closed here (with or without a name
    after it) or still open, its remaining paragraphs to follow."""
    quoted, name = split_attribution(text)
    trimmed = _trim(quoted)
    if len(trimmed) > 1 and trimmed[-1] in CLOSERS:
        return QuoteShape(trimmed[1:-1].strip(), True, name)
    return QuoteShape(text[1:].strip(), False, None)


def ends_quote(text: str) -> QuoteShape | None:
    """A continuation paragraph that closes an open quote, or None if it does not."""
    quoted, name = split_attribution(text)
    trimmed = _trim(quoted)
    if trimmed and trimmed[-1] in CLOSERS:
        return QuoteShape(trimmed[:-1].strip(), True, name)
    return None


def split_said(text: str) -> tuple[str, str] | None:
    """A quote that closes mid-paragraph and is followed by who said it, in a clause of its
    own: `"…," Pavel Latushka said.`, `"…," said Pavel Latushka, adding that …`,
    `«…», — сказал В. Ковалевский. Он добавил …`. Prose after that clause is narration."""
    close = _closing_index(text)
    if close is None:
        return None
    clause = _CLAUSE_END.split(text[close + 1 :].lstrip(" ,.:;"), maxsplit=1)[0].strip()
    dash = clause[:1] in "—–-"
    words = strip_dash(clause).split()
    if not words:
        return None
    if words[0].lower() in SPEECH_VERBS:
        name = name_from(" ".join(words[1:]))
    elif words[-1].lower() in SPEECH_VERBS:
        name = name_from(" ".join(words[:-1]), allow_lowercase_lead=False)
    elif dash:
        name = name_from(" ".join(words), allow_lowercase_lead=False)
    else:
        return None
    body = text[1:close].strip().rstrip(",").strip()
    return (body, name) if name and body else None


def _closing_index(text: str) -> int | None:
    """Where the paragraph's opening quotation mark is closed, by nesting depth."""
    depth = 0
    for mark in _MARKS.finditer(text):
        i = mark.start()
        if text[i] == "'" and _in_word(text, i):
            continue  # `don't`, `сем'і`: an apostrophe opens and closes nothing
        if _is_opener(text, i):
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i
    return None


def closes_early(text: str) -> bool:
    """The opening quote is closed before the paragraph ends and prose follows it
    (`"Trade" is a word …`): a quoted phrase in narration, not the start of an answer."""
    close = _closing_index(text)
    if close is None:
        return False
    rest = text[close + 1 :].strip(_TRAILING)
    return len(rest) > 0 and not rest.startswith("(")


def _in_word(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()


def _is_opener(text: str, i: int) -> bool:
    char = text[i]
    if char in "«„":
        return True
    if char == "»":
        return False
    if char not in _AMBIGUOUS:
        return False
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([—–-«„") and not after.isspace()


def name_prefix(text: str) -> tuple[str, str] | None:
    """`Name: rest`, where Name looks like a person's name."""
    match = _NAME_PREFIX.match(text)
    if not match:
        return None
    name = match.group("name")
    verb = _NAME_PREFIX_VERB.search(name)  # `Pavel Latushka said: "…"`
    if verb and verb.group("verb").lower() in SPEECH_VERBS:
        name = name[: verb.start()]
    name = name_from(name, allow_lowercase_lead=False)
    return (name, match.group("rest").strip()) if name else None


def name_from(candidate: str, *, allow_lowercase_lead: bool = True) -> str | None:
    """The name in an attribution, or None if there is none.

    A role after a comma or a spaced dash goes (`V. Kavaleuski, Minister of …`); several
    people stay together (`S. Tsikhanouskaya, P. Latushka`) for the caller to split. With
    `allow_lowercase_lead`, whatever precedes the capitalised words goes too (`said V.
    Kavaleuski`, `заявил представитель Кабинета по иностранным делам Валерий Ковалевский`); a
    capitalised role may remain (`глава МИД В. Ковалевский`), which the resolver narrows."""
    candidate = _strip_ends(_ROLE_DASH.split(candidate.strip(), maxsplit=1)[0])
    if len(candidate) > 90:
        return None
    bounds = [0]
    for joiner in _JOINERS.finditer(candidate):
        bounds += [joiner.start(), joiner.end()]
    bounds.append(len(candidate))
    pieces = [candidate[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    first = _one_name(pieces[0], allow_lowercase_lead)
    if first is None:
        return None
    last = 0
    while last + 1 < len(pieces) and _one_name(pieces[last + 1], False) == pieces[last + 1]:
        last += 1
    if last == 0:
        return first
    return candidate[bounds[1] - len(first) : bounds[2 * last + 1]]


def split_names(attribution: str) -> list[str]:
    """The people an attribution names, when it names several."""
    return [p for p in _JOINERS.split(attribution) if p]


def _one_name(candidate: str, allow_lowercase_lead: bool) -> str | None:
    candidate = _strip_ends(candidate)
    tokens = candidate.replace(".", ". ").split()
    start = 0
    if allow_lowercase_lead:
        start = len(tokens)
        while start > 0 and _is_name_token(tokens[start - 1]):
            start -= 1
        tokens = tokens[start:]  # each one a name token already
        if not 1 <= len(tokens) <= 6:
            return None
    elif not 1 <= len(tokens) <= 4 or not all(_is_name_token(t) for t in tokens):
        return None
    if all(t.endswith(".") for t in tokens):
        return None  # initials alone name nobody
    if start == 0:
        return candidate  # every word is the name: `candidate` is stripped already
    return _suffix_with(candidate, "".join(tokens))


def _strip_ends(text: str) -> str:
    """Without punctuation around it, but an initial keeps its period (`Latushka P.`)."""
    text = text.strip().strip(":;").strip()
    while text.endswith(".") and not _INITIAL_END.search(text):
        text = text[:-1].rstrip()
    return text.lstrip(".").strip()


def _is_name_token(token: str) -> bool:
    if not token[:1].isupper() and _COMBINING.match(token) is None:
        return False  # most words: lowercase, and no stress mark before their first letter
    token = _COMBINING.sub("", token)
    return token[:1].isupper() and bool(_NAME_TOKEN.match(token))


def _suffix_with(text: str, compact: str) -> str:
    """The end of `text` that holds exactly the characters of `compact`, spaces aside."""
    needed, i = len(compact), len(text)
    while needed and i:
        i -= 1
        if not text[i].isspace():
            needed -= 1
    return text[i:].strip()


def looks_like_attribution(text: str) -> str | None:
    """A paragraph that is only a name: `(S. Tsikhanouskaya)`, `— В. Ковалевский`, `V. Azarau.`"""
    text = strip_dash(text.strip())
    if text.startswith("(") and text.rstrip(".; ").endswith(")"):
        inside = text.rstrip(".; ")[1:-1]
        return None if ":" in inside else name_from(inside)  # `(Photo: Name)` credits nobody
    if text.endswith(":"):
        return None  # `Political Prisoners:` heads what follows; it names no one
    name = text.split(",")[0]  # a role may follow: `— Pavel Latushka, Deputy Head of …`
    if len(name) > 60:
        return None
    return name_from(text if len(text) <= 90 else name, allow_lowercase_lead=False)
