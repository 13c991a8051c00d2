"""A real worker with NAMFEEDS_FEED_DIR, as compose runs it: after a crawl its publish run
leaves every stored feed as a file (with its gzip) holding the bytes Redis holds."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from feeds.files import MANIFEST, file_of
from services.storage import Store
from tests.fixtures.site import SiteServer
from tests.workers.conftest import WorkerFactory, clear_broker, wait_for
from tests.workers.test_pipeline import POSTS, run_crawl


def _level(store: Store, directory: Path) -> bool:
    """Every stored feed's file holds its stored bytes, and the manifest says so (it is
    written last: an export caught between its files and its manifest is not done)."""
    names = store.feed_keys()
    if not names or not (directory / MANIFEST).exists():
        return False
    held = json.loads((directory / MANIFEST).read_text())
    if held != {name: store.get_feed(name).etag for name in names}:  # type: ignore[union-attr]
        return False
    for name in names:
        relative = file_of(name)
        feed = store.get_feed(name)
        assert relative is not None and feed is not None, name
        path = directory / relative
        if not path.exists() or path.read_bytes() != feed.body:
            return False
        assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == feed.body
    return True


def test_the_workers_publish_run_exports_the_feeds_it_stored(
    site: SiteServer, redis_url: str, store: Store, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    clear_broker(redis_url)
    files = tmp_path / "feeds"
    try:
        start_worker(redis_url, NAMFEEDS_FEED_DIR=str(files))
        job = run_crawl(store, redis_url)
        assert job["new"] == len(POSTS)
        wait_for(lambda: _level(store, files), 30, "the feed files to match the stored feeds")
        assert len(json.loads((files / MANIFEST).read_text())) > 20
        # an `all` feed that holds every crawled post, read from the file nginx would serve
        body = (files / "any/feeds/all.atom").read_bytes()
        assert body.count(b"<entry") == len(POSTS)
    finally:
        clear_broker(redis_url)
