"""The rule that tells an edit from a broken page: when a new parse of a known post is kept
back (quarantined) instead of published. Pure: measures of posts in, a reason or None out.

A real edit on this site fixes a name, rewords an answer or adds a section; it never removes
every answer, nor most of the words. A maintenance page, a markup change the parser does not
follow, or an article body that failed to load does exactly that. See docs/quarantine.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.model import Post

# A new version keeping less than this share of the stored text (UTF-8 bytes of headings,
# questions and answers) is a broken page, not an edit.
MIN_TEXT_KEPT = 0.5
# Below this much stored text a post is too short for a share to mean anything (a lone
# answer rewritten in other words may well halve it); only the answer rule applies.
MIN_TEXT_BYTES = 400


@dataclass(frozen=True)
class Measures:
    """What the rule looks at in a post: how many answers, how much text."""

    answers: int
    text_bytes: int


def measure(post: Post) -> Measures:
    answers = 0
    size = 0
    for section in post.sections:
        size += len((section.heading or "").encode()) + len((section.question or "").encode())
        for answer in section.answers:
            answers += 1
            size += len(answer.text.encode())
    return Measures(answers, size)


def suspicion(current: Measures | None, new: Measures) -> str | None:
    """Why `new` must not replace `current` (a reason for the operator), or None when it may.
    A post seen for the first time is never suspect: there is nothing to lose."""
    if current is None:
        return None
    if current.answers > 0 and new.answers == 0:
        return f"lost every answer ({current.answers} before, none now)"
    if current.text_bytes >= MIN_TEXT_BYTES and new.text_bytes < current.text_bytes * MIN_TEXT_KEPT:
        kept = new.text_bytes / current.text_bytes
        return (
            f"lost most of its text ({new.text_bytes} of {current.text_bytes} bytes kept, "
            f"{kept:.0%}; under {MIN_TEXT_KEPT:.0%} is taken for a broken page)"
        )
    return None
