"""The `nam-feeds` commands that work on stored data: crawl, status, history and recrawl,
and the two ways they reach Redis (the configured one, or the data dir's embedded one)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import structlog

from cli._redis import data_redis, shared_redis
from services.settings import Settings

log = structlog.get_logger(__name__)

# A page the sitemap names but the site no longer has: recorded, not a failure of the crawl
# (DESIGN.md, the mirror README: the real site lists language versions that do not exist).
MISSING_STATUSES = (404, 410)


# -- crawl -------------------------------------------------------------------------------------


@click.command()
@click.option("--url", "urls", multiple=True, help="Crawl only this page (repeatable).")
@click.option("--force", is_flag=True, help="Ignore validators: fetch and parse every page.")
def crawl(urls: tuple[str, ...], force: bool) -> None:
    """One full crawl in the foreground, through the same pipeline as the workers."""
    from services.crawl import open_deps

    settings = Settings.from_env()
    with data_redis(settings) as redis_url, open_deps(settings, redis_url) as deps:
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
        _echo_causes(failed, summary.deferred)
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


def _echo_causes(failed: list[tuple[str, str]], deferred: list[tuple[str, str]]) -> None:
    """The failures summed up by cause, so a site that is down reads as one line."""
    from services.crawl import failures_by_cause

    for cause, count in failures_by_cause(failed):
        click.echo(f"failed by cause: {count} × {cause}", err=True)
    if deferred:
        click.echo(f"deferred: {len(deferred)} (the server asked to wait)", err=True)


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
    from feeds.publish import publish_all

    try:
        rendered = publish_all(deps.store, deps.settings)
    except Exception as exc:  # an entry point: report, keep the crawled data, exit non-zero
        log.error("publish.failed", error=str(exc), exc_info=True)
        click.echo(f"nam-feeds: publishing failed: {exc}", err=True)
        return False
    log.info("publish.done", feeds=rendered)
    return True


# -- status and history ----------------------------------------------------------------------


@click.command()
def status() -> None:
    """Print what is stored as JSON: posts, posts per language, the last crawl, failing URLs."""
    from services.storage import Store

    settings = Settings.from_env()
    with data_redis(settings) as redis_url:
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


@click.command()
@click.argument("post_id")
@click.option("--full", is_flag=True, help="Include each version's whole post.")
def history(post_id: str, full: bool) -> None:
    """Print every stored version of a post as JSON, oldest first."""
    from services.storage import Store

    settings = Settings.from_env()
    with data_redis(settings) as redis_url:
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


@click.command()
@click.option("--url", "urls", multiple=True, help="Recrawl this page (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Discover and recrawl every page.")
@click.option("--force", is_flag=True, help="Ignore validators: fetch and parse again.")
def recrawl(urls: tuple[str, ...], everything: bool, force: bool) -> None:
    """Enqueue a crawl on the running workers and print the job id."""
    if bool(urls) == everything:
        raise click.UsageError("give --url (one or more) or --all")
    from services.errors import PermanentFetchError
    from services.fetch import normalize_source_url
    from services.storage import Store
    from workers.app import make_celery

    settings = Settings.from_env()
    try:
        urls = tuple(normalize_source_url(url, settings) for url in urls)
    except PermanentFetchError as exc:
        raise click.BadParameter(exc.reason, param_hint="--url") from None
    redis_url = shared_redis(settings)
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
