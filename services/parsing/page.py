"""What a site builder's module hands to the shared parser: one page, before Q&A."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.parsing.blocks import Block


@dataclass
class RawPage:
    title: str | None
    published: datetime | None
    modified: datetime | None
    language: str | None
    canonical: str | None
    categories: list[str]
    blocks: list[Block]
    alternates: dict[str, str] = field(default_factory=dict)
    native_id: str | None = None  # the site builder's own id of the post, when it shows one
