"""Pure modules stay pure: no network, Redis, Celery, environment or clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE = [
    "services/model.py",
    "services/people.py",
    "services/people_registry.py",
    "services/name_keys.py",
    "services/topics.py",
    "services/discovery.py",
    "services/urls.py",
    "services/fetched.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "services/parsing").glob("*.py")),
    "feeds/render.py",
    "feeds/entries.py",
    "feeds/changes.py",
    "feeds/conditional.py",
    "feeds/pages.py",
    "feeds/opml.py",
]
FORBIDDEN = {"httpx", "redis", "celery", "kombu", "os", "socket", "subprocess", "time"}


@pytest.mark.parametrize("path", PURE)
def test_pure_module_imports_no_io(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{path} imports {imported & FORBIDDEN}"
    source = (ROOT / path).read_text(encoding="utf-8")
    assert ".now(" not in source and "utcnow" not in source and ".today(" not in source
