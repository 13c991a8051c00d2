"""The `nam-feeds` console script.

It lives in feeds/ because `up` wires worker, beat and web together, which only the top
layer can do. Each command loads settings once and reports errors as one line on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from services.errors import NamFeedsError


class _Group(click.Group):
    """Turns the project's own errors into one clear line and exit code 2, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NamFeedsError as exc:
            click.echo(f"nam-feeds: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="nam-feeds")
def main() -> None:
    """Followable RSS and Atom feeds of NAM-media posts."""


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.option("--url", required=True, help="Where the page lives on the real site.")
@click.option("--indent", type=int, default=2, show_default=True, help="JSON indent.")
def parse(path: Path, url: str, indent: int) -> None:
    """Parse a saved post page and print the Post as JSON."""
    from services.parsing import parse_post

    try:
        html = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    click.echo(parse_post(html, url).to_json(indent=indent or None))


if __name__ == "__main__":
    main()
