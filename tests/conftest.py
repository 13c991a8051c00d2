"""Shared fixtures. Server fixtures live in tests/fixtures/ and are registered here."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.redis", "tests.fixtures.site"]

DATA = Path(__file__).parent / "data"
SITE = DATA / "site"


@pytest.fixture(scope="session")
def site_dir() -> Path:
    return SITE
