"""The README is the operator's reference: it must name every setting and every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from services.settings import variable_names
from tests.conftest import require_program

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    variables = set(variable_names())
    assert variables, "no NAMFEEDS_ variables found in services.settings"
    missing = sorted(v for v in variables if f"`{v}`" not in README)
    assert missing == []


def test_every_command_is_documented() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    commands = re.findall(r"^  ([a-z]+)\s", result.output.split("Commands:")[1], re.MULTILINE)
    assert len(commands) >= 9
    missing = [c for c in commands if f"nam-feeds {c}" not in README]
    assert missing == []


def test_the_two_set_up_commands_are_there() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/nam-feeds up" in blocks
    test_command = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest -q"
    )
    assert test_command in blocks
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert ".venv/bin/pytest -q" in ci


def test_a_missing_client_program_fails_in_ci_and_is_skipped_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y no-such-reader"):
        require_program("no-such-reader", "apt-get install -y no-such-reader")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no-such-reader is not installed"):
        require_program("no-such-reader", "apt-get install -y no-such-reader")
    assert require_program("sh", "apt-get install -y dash").endswith("sh")
