"""Change notes: what an edit at the source changed, shown at the top of the edited entry.

Pure: two versions of a post in, one line of text out.
"""

from __future__ import annotations

from services.model import Post, Section


def describe_change(old: Post, new: Post) -> str:
    """What an edit at the source changed, for the top of the edited entry."""
    changes = []
    if old.title != new.title:
        changes.append("title changed")
    old_sections, new_sections = _keyed_sections(old), _keyed_sections(new)
    changed = added = removed = 0
    for key in old_sections.keys() & new_sections.keys():
        c, a, r = _compare_answers(old_sections[key], new_sections[key])
        changed, added, removed = changed + c, added + a, removed + r
    for count, what in ((changed, "changed"), (added, "added"), (removed, "removed")):
        if count:
            changes.append(f"{_plural(count, 'answer')} {what}")
    changes += _section_changes(old_sections, new_sections)
    if not changes:
        changes.append(_minor_change(old, new))
    return "Edited at the source: " + ", ".join(changes)


_SectionKey = tuple[str, int]


def _keyed_sections(post: Post) -> dict[_SectionKey, Section]:
    # A section is known by its heading or question; repeats are told apart by occurrence.
    keyed: dict[_SectionKey, Section] = {}
    seen: dict[str, int] = {}
    for section in post.sections:
        label = section.heading or section.question or ""
        seen[label] = seen.get(label, -1) + 1
        keyed[(label, seen[label])] = section
    return keyed


def _compare_answers(old: Section, new: Section) -> tuple[int, int, int]:
    """(changed, added, removed) answers, paired by position within the section."""
    changed = sum(1 for a, b in zip(old.answers, new.answers, strict=False) if a != b)
    extra = len(new.answers) - len(old.answers)
    return changed, max(extra, 0), max(-extra, 0)


def _section_changes(old: dict[_SectionKey, Section], new: dict[_SectionKey, Section]) -> list[str]:
    notes = []
    for key in new:
        if key not in old:
            notes.append(_section_note(key[0], "added"))
    for key in old:
        if key not in new:
            notes.append(_section_note(key[0], "removed"))
    return notes


def _section_note(label: str, what: str) -> str:
    if not label:
        return f"a section {what}"
    short = label if len(label) <= 60 else label[:57].rstrip() + "…"
    return f'heading "{short}" {what}'


def _minor_change(old: Post, new: Post) -> str:
    if old.categories != new.categories:
        return "categories changed"
    if old.published != new.published:
        return "date corrected"
    if [s.topics for s in old.sections] != [s.topics for s in new.sections]:
        return "topics changed"
    return "details changed"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
