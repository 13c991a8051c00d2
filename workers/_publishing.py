"""Publishing in bursts: one publish run per burst of changes, one run at a time.

A crawl that stores a change asks for a run (`request_publish`); the first ask of a burst
schedules it DEBOUNCE seconds later and the rest of the burst finds it scheduled, so a crawl
of many pages renders each touched feed once per run instead of once per page. A run clears
the `publish-due` lease before it reads the stream, so a change stored after that read asks
for the next run: no change waits for the next burst or for beat's safety net.

Only the holder of the `publishing` lease renders. Knowing no other publisher runs, it takes
over every event left pending at once, so events a killed worker had read are published by
the next run rather than after feeds.publish's minute of staleness. With NAMFEEDS_FEED_DIR
set, the feed files a static server serves are brought level with Redis (feeds.files) after
each batch is rendered, before the WebSub hub is told of it, and at the end of every run,
beat's minutely run included: a feed published elsewhere (the web app's start) reaches the
files within a minute, an edit within its own run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import structlog

from feeds.catalog import current_url
from feeds.files import SERVER_FILE_CACHE, Exported, export_feeds
from feeds.publish import publish_changes
from feeds.websub import ping_hub
from services.errors import StorageError
from services.settings import Settings
from services.storage import Store

log = structlog.get_logger(__name__)

DUE = "publish-due"
RUNNING = "publishing"
# Seconds between the first change of a burst and its run: short enough for an edit to be in
# its feeds within 2 s of the fetch, long enough to gather the pages fetched meanwhile.
DEBOUNCE = 0.5
# A scheduled run that never happened (its worker was killed) stops blocking new asks after
# this long; beat's minutely run and the broker's redelivery catch the lost one.
DUE_LEASE = 10.0
# A killed publisher delays the next run by at most this; a live one renews it while it runs
# (_renew). Were two runs to overlap, it would be harmless (feeds.publish orders renderings
# by generation), only wasted.
RUN_LEASE = 10.0
# Events per read: a cold crawl's burst is rendered in one pass, each feed once.
BATCH = 2000


def request_publish(store: Store, schedule: Callable[[float], object]) -> bool:
    """Schedule a run in DEBOUNCE seconds unless one is already due; True if scheduled."""
    if store.take_lease(DUE, DUE_LEASE) is None:
        return False
    schedule(DEBOUNCE)
    return True


def publish_once(store: Store, settings: Settings) -> int | None:
    """One run: the number of events published, or None when another run holds the lease
    (the caller runs again later, since that run may have read the stream before its
    events)."""
    token = store.take_lease(RUNNING, RUN_LEASE)
    if token is None:
        return None
    done = threading.Event()
    renewing = threading.Thread(target=_renew, args=(store, token, done), daemon=True)
    renewing.start()
    try:
        store.end_lease(DUE)  # changes stored from here on ask for another run
        export = (
            None
            if settings.feed_dir is None
            else partial(_export_for_hub, store, settings.feed_dir, settings)
        )
        try:
            return publish_changes(
                store, settings, stale_after_ms=0, batch=BATCH, on_stored=export
            )
        finally:
            # what did render is exported even when some feeds failed
            if settings.feed_dir is not None:
                _tell_hub_of(settings, _export(store, settings.feed_dir))
    finally:
        done.set()
        renewing.join()
        store.end_lease(RUNNING, token)


def _renew(store: Store, token: str, done: threading.Event) -> None:
    """Keep the run's lease while it renders: a run longer than RUN_LEASE (thousands of
    posts) would otherwise let a second run take over its pending events and render them
    all again beside it. A killed run stops renewing, and its lease ends RUN_LEASE later."""
    while not done.wait(RUN_LEASE / 3):
        try:
            if not store.renew_lease(RUNNING, token, RUN_LEASE):
                return
        except StorageError:
            return  # Redis is away: the run itself fails or finishes, the lease expires


def _export_for_hub(store: Store, directory: Path, settings: Settings) -> list[str] | None:
    """Export a batch's feeds before the hub is told of them: the URLs of the current
    documents whose files it wrote, or None when it failed and nginx serves the old files.
    A file that was replaced or removed may be served from nginx's open descriptor for
    SERVER_FILE_CACHE more, so the hub waits that long: told at once, it would fetch the old
    bytes and push nothing new."""
    exported = _export(store, directory)
    if exported is None:
        return None
    if settings.websub_hub and (exported.written or exported.removed or exported.failed):
        _wait_out_file_cache()
    return _current_urls(settings, exported)


def _tell_hub_of(settings: Settings, exported: Exported | None) -> None:
    """The hub hears of the feeds a run's last export wrote: bytes another process stored
    (the web app's publish at its start) reach nginx only with an export, and a hub told of
    them before would have fetched the old file."""
    if not settings.websub_hub or exported is None:
        return
    if urls := _current_urls(settings, exported):
        _wait_out_file_cache()
        ping_hub(settings.websub_hub, urls, user_agent=settings.user_agent)


def _wait_out_file_cache() -> None:
    """Until nginx no longer serves a replaced file's old bytes from its open descriptor."""
    time.sleep(SERVER_FILE_CACHE + 0.1)


def _current_urls(settings: Settings, exported: Exported) -> list[str]:
    urls = (current_url(settings.public_url, name) for name in exported.written_names)
    return [url for url in urls if url is not None]


def _export(store: Store, directory: Path) -> Exported | None:
    """The files a static server serves, level with Redis. A failure is logged, not raised:
    the server keeps the previous files, which are whole, and the next run tries again."""
    try:
        return export_feeds(store, directory)
    except (OSError, StorageError) as exc:
        log.error("publish.export_failed", directory=str(directory), error=str(exc))
        return None
