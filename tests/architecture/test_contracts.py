"""The architecture contracts hold, and breaking one fails with a message naming the rule."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "workers", "feeds", "cli")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: pip install -e '.[test]'"
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_hold() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages, the config and the custom contract type, away from the real tree."""
    copy = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        skip = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / package, copy / package, ignore=skip)
    (copy / "tests" / "architecture").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "__init__.py", copy / "tests")
    for name in ("__init__.py", "clock.py"):
        shutil.copy(ROOT / "tests" / "architecture" / name, copy / "tests" / "architecture")
    shutil.copy(ROOT / "pyproject.toml", copy)
    return copy


BREAKS = [
    pytest.param(
        "services/logs.py",
        "from workers import schedule as _schedule\n",
        "Top-level packages import downward only",
        "services.logs -> workers.schedule",
        id="services-imports-workers",
    ),
    pytest.param(
        "feeds/render/_opml.py",
        "from feeds import publish as _publish\n",
        "Inside feeds: serving > publishing > rendering",
        "feeds.render._opml -> feeds.publish",
        id="render-imports-publish",
    ),
    pytest.param(
        "services/model.py",
        "from services import settings as _settings\n",
        "Inside services: orchestration > edges > pure > model",
        "services.model -> services.settings",
        id="model-imports-settings",
    ),
    pytest.param(
        "feeds/publish.py",
        "from services.fetch._client import Fetcher as _Fetcher\n",
        "private modules (leading underscore) are imported only inside it",
        "feeds.publish -> services.fetch._client",
        id="private-module-from-outside",
    ),
    pytest.param(
        "services/parsing/language.py",
        "import redis as _redis\n",
        "Pure modules import no network, Redis, Celery, os, processes or clock",
        "services.parsing.language -> redis",
        id="parser-imports-redis",
    ),
    pytest.param(
        "feeds/render/_entries.py",
        "_STARTED = __import__('datetime').datetime.now()\n",
        "Pure modules never read the clock",
        "feeds.render._entries reads the clock: .now()",
        id="renderer-reads-the-clock",
    ),
]


@pytest.mark.parametrize(("path", "line", "rule", "detail"), BREAKS)
def test_a_broken_rule_fails_and_names_itself(
    tree_copy: Path, path: str, line: str, rule: str, detail: str
) -> None:
    target = tree_copy / path
    original = target.read_text(encoding="utf-8")
    target.write_text(original + "\n" + line, encoding="utf-8")
    try:
        result = _lint(tree_copy)
    finally:
        target.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert rule in broken and detail in broken, result.stdout
