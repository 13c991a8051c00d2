"""`nam-feeds settings`: the effective configuration, one variable a line, secrets masked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

import click

from services.settings import Settings, shown, variable_names


def describe(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """`NAME=value` for every setting, marked `(default)` when the environment left it."""
    lines = []
    for name, field in zip(variable_names(), fields(Settings), strict=True):
        value = _display(field.name, getattr(settings, field.name), settings)
        origin = "" if (environ.get(name) or "").strip() else "  (default)"
        lines.append(f"{name}={value}{origin}")
    return lines


def _display(attribute: str, value: object, settings: Settings) -> str:
    if attribute == "admin_token":
        if value is None:
            return "(unset: the admin API answers 503)"
        return f"*** ({len(str(value))} characters)"
    if attribute == "redis_url":
        if value is None:
            return f"(unset: an embedded Redis in {settings.data_dir})"
        return shown(str(value)).strip("'")
    if isinstance(value, Mapping):
        return ";".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


@click.command("settings")
def settings_command() -> None:
    """Print the effective settings (NAMFEEDS_* variables and defaults), secrets masked."""
    import os

    for line in describe(Settings.from_env(), os.environ):
        click.echo(line)
