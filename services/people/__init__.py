"""People: who may be named, and matching their names in any script, spelling or case form.

Pure: the registry is package data read once; no other I/O.

    _registry   the people registry and how each surname declines
    _keys       spelling keys: one coarse Latin key for a word in any script
    _matcher    attributions and mentions to a Speaker
"""

from services.people._matcher import find_mentions, resolve_speaker
from services.people._registry import Person, all_people, get_person

__all__ = ["Person", "all_people", "find_mentions", "get_person", "resolve_speaker"]
