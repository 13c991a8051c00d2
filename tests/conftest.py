"""Shared fixtures. Server fixtures live in tests/fixtures/ and are registered here."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.redis", "tests.fixtures.site", "tests.reliability.hostile"]

DATA = Path(__file__).parent / "data"
SITE = DATA / "site"


@pytest.fixture(scope="session")
def site_dir() -> Path:
    return SITE


def require_program(name: str, install: str, *also: str) -> str:
    """A real client a test drives (a feed reader, a browser), from Debian's packages.

    In CI (CI=true, where .ci/run installs them) a missing one fails the test. On a
    developer's machine the test is skipped with the command that installs it, so that the
    README's test command runs anywhere with only Python; the skip is reported, not hidden.
    """
    found = shutil.which(name) or next((p for p in also if Path(p).exists()), None)
    if found:
        return found
    message = f"{name} is not installed; this test drives the real program: `{install}`"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
