"""The `nam-feeds` console script.

It lives in feeds/ because `up` wires worker, beat and web together, which only the top
layer can do. Each command loads settings once and reports errors as one line on stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import structlog

from services.errors import ConfigError, NamFeedsError
from services.logs import configure_logging
from services.settings import Settings

log = structlog.get_logger(__name__)

# A page the sitemap names but the site no longer has: recorded, not a failure of the crawl
# (DESIGN.md, the mirror README: the real site lists language versions that do not exist).
MISSING_STATUSES = (404, 410)


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
    configure_logging()


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


# -- Redis for the commands ----------------------------------------------------------------


@contextmanager
def _data_redis(settings: Settings) -> Iterator[str]:
    """The configured Redis, else the embedded one of data_dir: the running server when another
    command (`up`) owns it, which is left running, or one started for this command alone."""
    if settings.redis_url is not None:
        yield settings.redis_url
        return
    from services.redis_server import EmbeddedRedis, redacted

    with EmbeddedRedis(settings.data_dir) as server:
        log.info(
            "redis.embedded",
            url=redacted(server.url),
            data_dir=str(settings.data_dir),
            shared=not server.owned,
        )
        yield server.url


def _shared_redis(settings: Settings) -> str:
    """Workers, beat and recrawl must meet on one broker: a private Redis would be useless."""
    if settings.redis_url is None:
        from workers.app import NO_REDIS

        raise ConfigError("NAMFEEDS_REDIS_URL", f"unset: {NO_REDIS}")
    return settings.redis_url


# -- crawl -------------------------------------------------------------------------------------


@main.command()
@click.option("--url", "urls", multiple=True, help="Crawl only this page (repeatable).")
@click.option("--force", is_flag=True, help="Ignore validators: fetch and parse every page.")
def crawl(urls: tuple[str, ...], force: bool) -> None:
    """One full crawl in the foreground, through the same pipeline as the workers."""
    from services.crawl import open_deps

    settings = Settings.from_env()
    with _data_redis(settings) as redis_url, open_deps(settings, redis_url) as deps:
        summary = _run_crawl(deps, list(urls) or None, force)
        failed, missing = _split_failures(deps, summary.failures, explicit=bool(urls))
        counts = summary.counts
        click.echo(
            f"crawl: {sum(counts.values())} fetched, "
            f"{counts['not_modified'] + counts['unchanged']} unchanged, "
            f"{counts['new']} new, {counts['edited']} edited, "
            f"{len(failed)} failed, {len(missing)} missing"
        )
        for url, error in failed:
            click.echo(f"failed: {url}: {error}", err=True)
        published = _publish_all(deps)
    if failed or not published:
        sys.exit(1)


def _run_crawl(deps: Any, urls: list[str] | None, force: bool) -> Any:
    from rich.console import Console
    from rich.progress import Progress

    from services.crawl import crawl_all

    console = Console(stderr=True)
    if not console.is_terminal:
        return crawl_all(deps, urls=urls, force=force)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("discovering", total=None)
        return crawl_all(
            deps,
            urls=urls,
            force=force,
            on_start=lambda n: progress.update(task, total=n, description="crawling"),
            on_done=lambda _url, _outcome: progress.advance(task),
        )


def _split_failures(
    deps: Any, failures: list[tuple[str, str]], *, explicit: bool
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Failures, and pages missing at the source (404/410) that discovery listed. A URL the
    operator named is expected to exist, so there a 404 is a failure too."""
    failed: list[tuple[str, str]] = []
    missing: list[tuple[str, str]] = []
    for url, error in failures:
        state = deps.store.get_fetch_state(url)
        gone = state is not None and state.status in MISSING_STATUSES
        (missing if gone and not explicit else failed).append((url, error))
    return failed, missing


def _publish_all(deps: Any) -> bool:
    """Render every feed after a foreground crawl (no worker is there to do it)."""
    try:
        from feeds.publish import publish_all
    except ModuleNotFoundError as exc:
        if exc.name != "feeds.publish":
            raise
        log.warning("publish.unavailable", reason="feeds.publish is not installed")
        return True
    try:
        rendered = publish_all(deps.store, deps.settings)
    except Exception as exc:  # an entry point: report, keep the crawled data, exit non-zero
        log.error("publish.failed", error=str(exc), exc_info=True)
        click.echo(f"nam-feeds: publishing failed: {exc}", err=True)
        return False
    log.info("publish.done", feeds=rendered)
    return True


# -- status and history ----------------------------------------------------------------------


@main.command()
def status() -> None:
    """Print what is stored as JSON: posts, posts per language, the last crawl, failing URLs."""
    from services.storage import Store

    settings = Settings.from_env()
    with _data_redis(settings) as redis_url:
        store = Store.from_url(redis_url)
        try:
            report = {
                "posts": store.count_posts(),
                "by_language": store.counts_by_language(),
                "last_crawl": store.last_crawl(),
                "failures": _failing_urls(store),
            }
        finally:
            store.close()
    click.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))


def _failing_urls(store: Any) -> list[dict[str, Any]]:
    failing = []
    for url in store.fetch_urls():
        state = store.get_fetch_state(url)
        if state is not None and state.error:
            fetched_at = state.fetched_at.isoformat() if state.fetched_at else None
            failing.append(
                {"url": url, "status": state.status, "error": state.error, "at": fetched_at}
            )
    return failing


@main.command()
@click.argument("post_id")
@click.option("--full", is_flag=True, help="Include each version's whole post.")
def history(post_id: str, full: bool) -> None:
    """Print every stored version of a post as JSON, oldest first."""
    from services.storage import Store

    settings = Settings.from_env()
    with _data_redis(settings) as redis_url:
        store = Store.from_url(redis_url)
        try:
            versions = store.post_history(post_id)
        finally:
            store.close()
    if not versions:
        raise click.ClickException(f"no post with id {post_id!r}")
    rows = [
        {
            "version": v.number,
            "content_hash": v.content_hash,
            "stored_at": v.stored_at.isoformat(),
            "updated": v.updated.isoformat(),
            "title": v.post.title,
            **({"post": v.post.to_dict()} if full else {}),
        }
        for v in versions
    ]
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))


# -- workers ---------------------------------------------------------------------------------


@main.command()
@click.option("--url", "urls", multiple=True, help="Recrawl this page (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Discover and recrawl every page.")
@click.option("--force", is_flag=True, help="Ignore validators: fetch and parse again.")
def recrawl(urls: tuple[str, ...], everything: bool, force: bool) -> None:
    """Enqueue a crawl on the running workers and print the job id."""
    if bool(urls) == everything:
        raise click.UsageError("give --url (one or more) or --all")
    from services.errors import PermanentFetchError
    from services.fetching import normalize_source_url
    from services.storage import Store
    from workers.app import make_celery

    settings = Settings.from_env()
    try:
        urls = tuple(normalize_source_url(url, settings) for url in urls)
    except PermanentFetchError as exc:
        raise click.BadParameter(exc.reason, param_hint="--url") from None
    redis_url = _shared_redis(settings)
    app = make_celery(settings, redis_url)
    store = Store.from_url(redis_url)
    try:
        params = {"urls": list(urls), "all": everything, "force": force}
        job_id = store.create_job("recrawl", params)
        if everything:
            kwargs = {"force": force, "job_id": job_id, "every": True}
            app.send_task("nam.discover", kwargs=kwargs)
        else:
            store.update_job(job_id, total=len(urls), done=0, status="running")
            for url in urls:
                app.send_task(
                    "nam.crawl_url", args=(url,), kwargs={"force": force, "job_id": job_id}
                )
    finally:
        store.close()
    click.echo(job_id)


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
    app = make_celery(
        settings,
        _shared_redis(settings),
        visibility_timeout=visibility_timeout or VISIBILITY_TIMEOUT,
    )
    app.set_default()
    app.worker_main(
        ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--loglevel={loglevel}"]
    )


@main.command()
@click.option("--loglevel", default="INFO", show_default=True)
def beat(loglevel: str) -> None:
    """Run the beat scheduler; with two beats running, only the lock holder schedules."""
    from workers import schedule
    from workers.app import make_celery

    settings = Settings.from_env()
    app = make_celery(settings, _shared_redis(settings))
    app.set_default()
    app.start(["beat", f"--scheduler={schedule.SCHEDULER}", f"--loglevel={loglevel}"])


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
    serve(settings, _shared_redis(settings), host, port)


@main.command()
@_HOST
@_PORT
@click.option("--no-crawl", is_flag=True, help="Do not start with a crawl.")
def up(host: str, port: int, no_crawl: bool) -> None:
    """Everything in one command: Redis (embedded if none is configured), a worker, beat and
    the web app, with a first crawl. Ctrl-C stops every process it started."""
    from feeds.up import run_up

    sys.exit(run_up(Settings.from_env(), host, port, first_crawl=not no_crawl))


if __name__ == "__main__":
    main()
