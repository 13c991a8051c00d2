"""The `nam-feeds` console script: the click group and the commands that start a process.

Each command loads settings once and reports errors as one line on stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import structlog

from cli._data import crawl, history, recrawl, status
from cli._heartbeat import healthcheck, keep_heartbeat
from cli._redis import shared_redis
from cli._settings import settings_command
from services.errors import NamFeedsError
from services.logs import configure_logging
from services.settings import Settings, unknown_variables

log = structlog.get_logger(__name__)


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
    """Followable RSS and Atom feeds of NAM-media posts.

    Settings are NAMFEEDS_* environment variables (the README lists them); `nam-feeds
    settings` prints the effective ones, secrets masked."""
    configure_logging()
    warn_unknown_variables(os.environ)


def warn_unknown_variables(environ: dict[str, str] | os._Environ[str]) -> None:
    for name, closest in unknown_variables(environ):
        hint = f"; did you mean {closest}?" if closest else ""
        log.warning(
            f"settings: {name} is not a setting and is ignored{hint}",
            variable=name,
            did_you_mean=closest,
        )


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


@main.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
)
@click.option(
    "--visibility-timeout",
    type=click.FloatRange(1, 86400),
    default=None,
    help="Seconds before an unacknowledged task is redelivered (default 3600).",
)
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int, pool: str, visibility_timeout: float | None, loglevel: str) -> None:
    """Run a Celery worker for the crawl and publish tasks, in this process."""
    from workers.app import VISIBILITY_TIMEOUT, make_celery

    settings = Settings.from_env()
    redis_url = shared_redis(settings)
    app = make_celery(
        settings, redis_url, visibility_timeout=visibility_timeout or VISIBILITY_TIMEOUT
    )
    app.set_default()
    _route_celery_prints()
    keep_heartbeat(redis_url, "worker")
    app.worker_main(
        [
            *_quiet(),
            "worker",
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            f"--loglevel={loglevel}",
        ]
    )


@main.command()
@click.option("--loglevel", default="INFO", show_default=True)
def beat(loglevel: str) -> None:
    """Run the beat scheduler; with two beats running, only the lock holder schedules."""
    from workers import schedule
    from workers.app import make_celery

    settings = Settings.from_env()
    redis_url = shared_redis(settings)
    app = make_celery(settings, redis_url)
    app.set_default()
    keep_heartbeat(redis_url, "beat")
    app.start([*_quiet(), "beat", f"--scheduler={schedule.SCHEDULER}", f"--loglevel={loglevel}"])


def _quiet() -> list[str]:
    """Celery's banners are for a person at a terminal; elsewhere they would be the only
    lines of a service's output that are not JSON records."""
    return [] if sys.stderr.isatty() else ["--quiet"]


def _route_celery_prints() -> None:
    """The worker prints its shutdown notes ("worker: Warm shutdown") straight to the
    standard streams; send them through logging, in the one format."""
    import celery.apps.worker as celery_worker

    celery_log = structlog.get_logger("celery.apps.worker")

    def say(message: str, f: object = None) -> None:
        celery_log.info(message.strip())

    celery_worker.safe_say = say


# -- web and up ------------------------------------------------------------------------------

_HOST = click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
_PORT = click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port."
)


@main.command()
@_HOST
@_PORT
def web(host: str, port: int) -> None:
    """Serve the feeds, the index page, OPML and the admin API."""
    from feeds.web import serve

    settings = Settings.from_env()
    serve(settings, shared_redis(settings), host, port)


@main.command()
@_HOST
@_PORT
@click.option("--no-crawl", is_flag=True, help="Do not start with a crawl.")
def up(host: str, port: int, no_crawl: bool) -> None:
    """Everything in one command: Redis (embedded if none is configured), a worker, beat and
    the web app, with a first crawl. Ctrl-C stops every process it started."""
    from cli._up import run_up

    sys.exit(run_up(Settings.from_env(), host, port, first_crawl=not no_crawl))


for _command in (crawl, status, history, recrawl, settings_command, healthcheck):
    main.add_command(_command)
