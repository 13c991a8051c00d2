"""Publishing in bursts: one scheduled run per burst, one run at a time, and nothing rendered
again when a crawl changed nothing."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import structlog.testing

from services.settings import Settings
from services.storage import Store
from tests.feeds.test_websub import Hub, hub  # noqa: F401  (the hub fixture)
from tests.fixtures.site import SiteServer
from workers import _publishing as publishing


def _renders(store: Store) -> int:
    counts = store.publish_counts()
    return sum(counts.get(k, 0) for k in ("renders_written", "renders_unchanged"))


def test_a_burst_of_changes_schedules_one_run(store: Store) -> None:
    scheduled: list[float] = []
    asked = [publishing.request_publish(store, scheduled.append) for _ in range(50)]
    assert asked.count(True) == 1 and scheduled == [publishing.DEBOUNCE]
    # the run clears the mark before reading the stream: the next change asks again
    assert publishing.publish_once(store, Settings()) == 0
    assert publishing.request_publish(store, scheduled.append)
    assert len(scheduled) == 2


def test_only_one_run_renders_at_a_time(store: Store) -> None:
    token = store.take_lease(publishing.RUNNING, 5)
    assert token is not None
    assert publishing.publish_once(store, Settings()) is None  # the caller comes back later
    store.end_lease(publishing.RUNNING, "someone else's token")  # not ours: stays
    assert publishing.publish_once(store, Settings()) is None
    store.end_lease(publishing.RUNNING, token)
    assert publishing.publish_once(store, Settings()) == 0


def test_a_run_longer_than_its_lease_keeps_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run over thousands of posts outlasts RUN_LEASE: it renews the lease, so no second run
    # takes over its pending events and renders them all again beside it.
    monkeypatch.setattr(publishing, "RUN_LEASE", 0.3)
    others: list[str | None] = []

    def long_run(*args: Any, **kwargs: Any) -> int:
        for _ in range(4):
            time.sleep(0.25)
            others.append(store.take_lease(publishing.RUNNING, 5))
        return 7

    monkeypatch.setattr(publishing, "publish_changes", long_run)
    assert publishing.publish_once(store, Settings()) == 7
    assert others == [None] * 4
    assert store.take_lease(publishing.RUNNING, 5) is not None  # ended with the run


def test_a_crawl_that_changed_nothing_renders_nothing(
    site: SiteServer, redis_url: str, store: Store
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NAMFEEDS_")}
    env = clean | site.env(NAMFEEDS_REDIS_URL=redis_url)

    def crawl() -> None:
        done = subprocess.run(
            [sys.executable, "-m", "cli", "crawl"], env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]

    crawl()
    first = _renders(store)
    assert first > 0
    crawl()
    assert _renders(store) == first, "an unchanged crawl rendered feeds again"


def test_an_export_that_fails_is_logged_and_leaves_the_previous_files_whole(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    from feeds import files
    from tests.feeds.test_publish import load_mirror

    load_mirror(store)
    settings = dataclasses.replace(Settings(), feed_dir=tmp_path)
    assert publishing.publish_once(store, settings) is not None
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.atom")}
    assert before
    # another export holds the directory and does not let go (a hung disk, say)
    monkeypatch.setattr(files, "LOCK_WAIT", 0.2)
    with (tmp_path / ".lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with structlog.testing.capture_logs() as logs:
            assert publishing.publish_once(store, settings) == 0  # the run itself goes on
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["publish.export_failed"]
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.atom")} == before
    assert not list(tmp_path.rglob(".*.*")), "a temporary file was left behind"


def test_the_hub_is_not_told_of_bytes_a_failed_export_left_unserved(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hub: Hub,  # noqa: F811
) -> None:
    import fcntl

    from feeds import files
    from tests.feeds.test_publish import load_mirror

    load_mirror(store)
    settings = dataclasses.replace(Settings(), feed_dir=tmp_path, websub_hub=hub.url.rstrip("/"))
    monkeypatch.setattr(files, "LOCK_WAIT", 0.2)
    with (tmp_path / ".lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the export cannot run: nginx keeps the old files
        with structlog.testing.capture_logs() as logs:
            assert publishing.publish_once(store, settings)
    assert hub.pings == []
    assert "websub.ping_skipped" in [e["event"] for e in logs]
    # the next run writes the files, and tells the hub of them then
    assert publishing.publish_once(store, settings) == 0
    told = {url for ping in hub.pings for url in ping}
    assert settings.public_url.rstrip("/") + "/feeds/all.atom" in told, told


def test_feeds_another_process_rendered_are_told_to_the_hub_once_their_files_are_written(
    store: Store,
    tmp_path: Path,
    hub: Hub,  # noqa: F811
) -> None:
    """The web app publishes every feed at its start and has no feed files: a hub told then
    fetched nginx's old file, so the worker tells it again once it has written the new one."""
    from feeds.publish import publish_all
    from tests.feeds.test_publish import CRAWLED, load_mirror

    posts = load_mirror(store)
    settings = dataclasses.replace(Settings(), feed_dir=tmp_path, websub_hub=hub.url.rstrip("/"))
    assert publishing.publish_once(store, settings)
    store.upsert_post(
        dataclasses.replace(posts[0], title="Rendered at the web's start"), now=CRAWLED
    )
    publish_all(store, dataclasses.replace(settings, feed_dir=None))  # the web app's start
    hub.pings.clear()
    assert publishing.publish_once(store, settings) == 1  # its event: nothing left to render
    told = {url for ping in hub.pings for url in ping}
    atom = settings.public_url.rstrip("/") + "/feeds/all.atom"
    assert atom in told, told
    assert b"Rendered at the web's start" in (tmp_path / "any/feeds/all.atom").read_bytes()
    assert not [url for url in told if "/archive/" in url], "archive pages are not announced"
