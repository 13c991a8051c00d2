"""Stored feeds exported as files (feeds.files): the same bytes as Redis, whole at every
moment, rewritten only when they move, and never a path that publishing did not name."""

from __future__ import annotations

import dataclasses
import fcntl
import gzip
import json
import threading
import time
from pathlib import Path

import pytest
import structlog.testing

from feeds import files as feed_files
from feeds.files import MANIFEST, ExportBusy, export_feeds, file_of
from feeds.publish import publish_changes
from services.model import Post
from services.storage import Store
from tests.feeds.test_publish import CRAWLED, SETTINGS, load_mirror


@pytest.fixture
def mirror(store: Store) -> list[Post]:
    return load_mirror(store)


def _files(directory: Path) -> dict[str, Path]:
    """Every file of the export by the stored name it holds (`.gz` added for the gzip)."""
    names = {}
    for path in directory.rglob("*"):
        if not path.is_file() or path.parent == directory:  # the manifest and the lock
            continue
        lang, _, rest = str(path.relative_to(directory)).partition("/feeds/")
        base, dot, ext = rest.partition(".")
        name = f"{base}@{lang}.{ext}" if lang != "any" else rest
        names[name] = path
    return names


def test_a_files_path_is_its_urls_path_under_its_language() -> None:
    assert file_of("all.atom") == "any/feeds/all.atom"
    assert file_of("topics/ukraine@ru.rss") == "ru/feeds/topics/ukraine.rss"
    assert file_of("all/archive/3@be.json") == "be/feeds/all/archive/3.json"
    assert file_of("speakers/x/archive/open.atom") == "any/feeds/speakers/x/archive/open.atom"
    for name in ("all@xx.atom", "../all.atom", "all.html", "topics/A.atom", "all.atom/x.atom"):
        assert file_of(name) is None, name


def test_every_stored_feed_becomes_a_file_with_its_gzip_and_its_time(
    store: Store, mirror: list[Post], tmp_path: Path
) -> None:
    done = export_feeds(store, tmp_path)
    names = store.feed_keys()
    assert done.written == len(names) > 50 and done.kept == done.removed == 0
    files = _files(tmp_path)
    assert set(files) == set(names) | {name + ".gz" for name in names}
    for name in names:
        feed = store.get_feed(name)
        assert feed is not None
        plain, zipped = files[name], files[name + ".gz"]
        assert plain.read_bytes() == feed.body
        assert gzip.decompress(zipped.read_bytes()) == feed.body
        # Last-Modified as the files' time: what nginx sends, and derives its ETag from
        assert plain.stat().st_mtime == zipped.stat().st_mtime == feed.last_modified.timestamp()
        assert plain.stat().st_mode & 0o777 == 0o644  # readable by a server of another user
    assert any("@" in name for name in files)  # the languages' feeds too
    held = json.loads((tmp_path / MANIFEST).read_text())
    assert held == {name: store.get_feed(name).etag for name in names}  # type: ignore[union-attr]


def test_a_second_export_touches_nothing_and_an_edit_rewrites_only_its_feeds(
    store: Store, mirror: list[Post], tmp_path: Path
) -> None:
    export_feeds(store, tmp_path)
    before = {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in _files(tmp_path).items()}
    again = export_feeds(store, tmp_path)
    assert again.written == 0 and again.kept == len(store.feed_keys())
    after = {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in _files(tmp_path).items()}
    assert after == before  # same inode and time: nginx's ETag did not move

    old_all = (tmp_path / "any/feeds/all.atom").read_bytes()
    old_mtime = (tmp_path / "any/feeds/all.atom").stat().st_mtime
    store.upsert_post(dataclasses.replace(mirror[0], title="Edited for the files"), now=CRAWLED)
    publish_changes(store, SETTINGS)
    edit = export_feeds(store, tmp_path)
    assert 0 < edit.written < len(store.feed_keys()) // 2
    new_all = (tmp_path / "any/feeds/all.atom").read_bytes()
    assert new_all != old_all and b"Edited for the files" in new_all
    # new bytes, a later time: nginx's ETag (time and size) moves even when the size would not
    assert (tmp_path / "any/feeds/all.atom").stat().st_mtime > old_mtime
    changed = {n for n, (ino, _) in before.items() if _files(tmp_path)[n].stat().st_ino != ino}
    assert len(changed) == 2 * edit.written


def test_a_lost_manifest_or_file_is_rewritten_with_the_same_bytes_and_time(
    store: Store, mirror: list[Post], tmp_path: Path
) -> None:
    export_feeds(store, tmp_path)
    first = {name: (p.read_bytes(), p.stat().st_mtime) for name, p in _files(tmp_path).items()}
    (tmp_path / MANIFEST).write_text("{not json")
    (tmp_path / "any/feeds/all.atom.gz").unlink()
    redone = export_feeds(store, tmp_path)
    assert redone.written == len(store.feed_keys())
    now = {name: (p.read_bytes(), p.stat().st_mtime) for name, p in _files(tmp_path).items()}
    assert now == first


def test_a_feed_no_longer_stored_loses_its_files(
    store: Store, mirror: list[Post], tmp_path: Path
) -> None:
    export_feeds(store, tmp_path)
    name = next(n for n in store.feed_keys() if n.startswith("speakers/"))
    store.client.delete(f"nam:feed:{name}")
    store.client.srem("nam:feeds", name)
    assert name not in store.feed_keys(), "the test must remove the feed the way the store keeps it"
    done = export_feeds(store, tmp_path)
    assert done.removed == 2 and done.written == 0  # the file and its gzip
    assert name not in _files(tmp_path) and name + ".gz" not in _files(tmp_path)
    assert name not in json.loads((tmp_path / MANIFEST).read_text())


@pytest.mark.parametrize(
    "name", ["../../escaped.atom", "/etc/escaped.atom", "all.atom/../../x.atom", "topics/A.atom"]
)
def test_a_stored_name_publishing_would_not_make_never_becomes_a_path(
    store: Store, mirror: list[Post], tmp_path: Path, name: str
) -> None:
    store.put_feed(name, b"<feed/>", '"x"', CRAWLED, "application/atom+xml")
    root = tmp_path / "root"
    export_feeds(store, root)
    assert not list(tmp_path.glob("**/escaped.atom*")) and not Path("/etc/escaped.atom").exists()
    assert name not in _files(root)
    assert "all.atom" in _files(root)  # the rest is exported all the same


def test_a_reader_sees_whole_old_or_whole_new_bytes_while_exports_run(
    store: Store, mirror: list[Post], tmp_path: Path
) -> None:
    export_feeds(store, tmp_path)
    path = tmp_path / "any/feeds/all.atom"
    versions = {path.read_bytes()}
    stop = threading.Event()
    seen: list[bytes] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(path.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(5):
            store.upsert_post(dataclasses.replace(mirror[0], title=f"Version {n}"), now=CRAWLED)
            publish_changes(store, SETTINGS)
            export_feeds(store, tmp_path)
            versions.add(path.read_bytes())
    finally:
        stop.set()
        reader.join()
    assert len(versions) == 6 and len(seen) > 10
    assert set(seen) <= versions, "a reader saw bytes that were never a whole feed"


def test_exports_from_two_threads_take_turns_and_end_at_the_stored_bytes(
    store: Store, mirror: list[Post], tmp_path: Path
) -> None:
    errors: list[BaseException] = []

    def export() -> None:
        try:
            for _ in range(3):
                export_feeds(store, tmp_path)
        except BaseException as exc:  # noqa: BLE001  # reported below, with the thread's own
            errors.append(exc)

    threads = [threading.Thread(target=export) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    files = _files(tmp_path)
    for name in store.feed_keys():
        assert files[name].read_bytes() == store.get_feed(name).body  # type: ignore[union-attr]
    assert not [p for p in tmp_path.rglob(".*.*")], "temporary files were left"


def test_files_no_stored_feed_names_are_swept_even_when_no_manifest_names_them(
    store: Store, mirror: list[Post], tmp_path: Path
) -> None:
    export_feeds(store, tmp_path)
    first = {name: p.read_bytes() for name, p in _files(tmp_path).items()}
    # what an export killed halfway leaves (temporary files), and a feed stored no more whose
    # manifest entry was lost with the manifest
    strays = [
        tmp_path / "any/feeds/.all.atom.k2j4x9",
        tmp_path / "ru/feeds/topics/.x.rss.gz.a8b7c6",
        tmp_path / "any/feeds/speakers/gone-for-good.atom",
        tmp_path / "any/feeds/speakers/gone-for-good.atom.gz",
        tmp_path / f".{MANIFEST}.q1w2e3",
    ]
    for stray in strays:
        stray.parent.mkdir(parents=True, exist_ok=True)
        stray.write_bytes(b"<feed>half</feed>")
    (tmp_path / MANIFEST).unlink()
    done = export_feeds(store, tmp_path)
    assert done.removed == len(strays)
    assert [p for p in strays if p.exists()] == []
    assert {name: p.read_bytes() for name, p in _files(tmp_path).items()} == first


def test_a_feed_that_cannot_be_written_loses_its_files_and_the_rest_are_written(
    store: Store, mirror: list[Post], tmp_path: Path
) -> None:
    export_feeds(store, tmp_path)
    # the gzip of one feed cannot be replaced: a non-empty directory stands at its path
    blocked = tmp_path / "any/feeds/all.rss.gz"
    blocked.unlink()
    (blocked / "in-the-way").mkdir(parents=True)
    store.upsert_post(dataclasses.replace(mirror[0], title="Written all the same"), now=CRAWLED)
    publish_changes(store, SETTINGS)
    with structlog.testing.capture_logs() as logs:
        done = export_feeds(store, tmp_path)
    assert [f.split(":")[0] for f in done.failed] == ["any/feeds/all.rss"]
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["files.write_failed"]
    # no stale bytes left to serve: the server asks the app, which has the edit
    assert not (tmp_path / "any/feeds/all.rss").exists()
    assert b"Written all the same" in (tmp_path / "any/feeds/all.atom").read_bytes()
    assert "all.rss" not in json.loads((tmp_path / MANIFEST).read_text())
    (blocked / "in-the-way").rmdir()
    blocked.rmdir()
    again = export_feeds(store, tmp_path)  # the next export writes it
    assert again.failed == () and again.written == 1
    assert (tmp_path / "any/feeds/all.rss").read_bytes() == store.get_feed("all.rss").body  # type: ignore[union-attr]


def test_an_export_gives_up_on_a_directory_another_holds_too_long(
    store: Store, mirror: list[Post], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_files, "LOCK_WAIT", 0.3)
    with (tmp_path / ".lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a stuck exporter
        started = time.monotonic()
        with pytest.raises(ExportBusy):
            export_feeds(store, tmp_path)
        assert time.monotonic() - started < 2
    assert export_feeds(store, tmp_path).written > 0  # once it lets go


def test_an_export_stopped_halfway_syncs_what_it_wrote_before_its_manifest_names_it(
    store: Store, mirror: list[Post], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.errors import StorageError

    export_feeds(store, tmp_path)
    store.upsert_post(dataclasses.replace(mirror[0], title="Halfway"), now=CRAWLED)
    publish_changes(store, SETTINGS)
    steps: list[str] = []
    sync, write = feed_files._sync_directories, feed_files._write_manifest
    monkeypatch.setattr(
        feed_files, "_sync_directories", lambda dirs: (steps.append("sync"), sync(dirs))[1]
    )
    monkeypatch.setattr(
        feed_files, "_write_manifest", lambda *a: (steps.append("manifest"), write(*a))[1]
    )
    reads = 0
    get_feed = store.get_feed

    def failing_get_feed(name: str) -> object:
        nonlocal reads
        reads += 1
        if reads == 3:  # Redis goes away after two changed feeds were written
            raise StorageError("Redis went away")
        return get_feed(name)

    monkeypatch.setattr(store, "get_feed", failing_get_feed)
    with pytest.raises(StorageError):
        export_feeds(store, tmp_path)
    assert steps == ["sync", "manifest"]
    held = json.loads((tmp_path / MANIFEST).read_text())
    monkeypatch.setattr(store, "get_feed", get_feed)
    written = [n for n in held if n in store.feed_keys() and held[n] == get_feed(n).etag]  # type: ignore[union-attr]
    assert len(written) == len(held) >= 2  # what was written before it stopped, no more
