"""Stored feeds as files, for a static server in front (deploy/nginx.conf): every stored
rendering at the path of its URL under a directory for its `lang` (`any` for none):
`topics/ukraine@ru.atom`, served at `/feeds/topics/ukraine.atom?lang=ru`, is the file
`<dir>/ru/feeds/topics/ukraine.atom`, so a server finds it from the URL's path and a fixed
table of query strings, with no pattern to match. Each has its gzip beside it (`.gz`, for
nginx's gzip_static) and its Last-Modified as the files' mtime.

Redis stays the record; the directory is a copy brought level with it by `export_feeds`
after each publish run. Each file is replaced by a rename, so the server reads the old bytes
or the new, never a part. A file is rewritten only when its feed's ETag moved: its mtime, and
so the ETag and Last-Modified nginx derives from it, stay put while the bytes do. Publishing
moves a changed feed's Last-Modified at least a second forward (feeds.publish), so new bytes
always get a new mtime, and nginx a new ETag, even at the same size.

`<dir>/manifest.json` names the ETag each file holds, so an export reads from Redis only the
bodies that changed. An export holds `<dir>/.lock` (flock): exports from several processes
take turns, and each reads Redis after taking it, so the last one leaves the latest bytes.

A feed whose file cannot be written loses its files instead of keeping old ones: the server
then passes its requests to the app, which serves the stored bytes, so a full disk or a bad
permission costs speed, never freshness. Every export ends by deleting the files under the
feed directories that no stored feed names (feeds no longer stored, temporary files of an
export that was killed), whether or not the manifest knew of them.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog

from feeds.catalog import DOCUMENT_PATH, FORMAT
from services.model import LANGUAGES
from services.storage import Store

log = structlog.get_logger(__name__)

MANIFEST = "manifest.json"
NO_LANGUAGE = "any"  # the directory of feeds in every language
# How long an export waits for another one to finish before giving up (the next publish run
# tries again): a stuck exporter, on a hung disk say, must not stall publishing behind it.
LOCK_WAIT = 30.0
# How long deploy/nginx.conf lets nginx serve a replaced file's old bytes from an open
# descriptor (open_file_cache_valid): whoever is told of new bytes (the WebSub hub) is told
# after this, or would fetch the old ones.
SERVER_FILE_CACHE = 1.0
# Only names publishing makes become paths: a key in Redis is data, and `../x` is not a feed.
_NAME = re.compile(
    rf"(?P<base>{DOCUMENT_PATH})(?:@(?P<lang>{'|'.join(LANGUAGES)}))?\.(?P<fmt>{FORMAT})"
)


def file_of(name: str) -> str | None:
    """Where a stored rendering's file goes, relative to the directory (`ru/feeds/all.atom`
    for `all@ru.atom`); None for a name publishing does not make."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    lang = match["lang"] or NO_LANGUAGE
    return f"{lang}/feeds/{match['base']}.{match['fmt']}"


@dataclass(frozen=True)
class Exported:
    written_names: tuple[str, ...]  # stored names (`all@ru.atom`) whose files were (re)written
    kept: int  # feeds whose files already held the stored bytes
    removed: int  # files no stored feed names, deleted
    failed: tuple[str, ...] = ()  # feeds whose files could not be written, and why

    @property
    def written(self) -> int:
        return len(self.written_names)


class ExportBusy(TimeoutError):
    """Another export held the directory for LOCK_WAIT seconds."""


def export_feeds(store: Store, directory: Path) -> Exported:
    """Bring `directory` level with the feeds stored in Redis; what it did."""
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory / ".lock", LOCK_WAIT):
        held = _read_manifest(directory / MANIFEST)
        paths = {n: f for n in store.feed_keys() if (f := file_of(n)) is not None}
        etags = store.feed_etags(list(paths))
        holds: dict[str, str] = {}  # the manifest to be: what each file holds after this run
        failed: list[str] = []
        written: list[str] = []
        replaced: set[Path] = set()
        kept = removed = 0
        try:
            for name, etag in etags.items():
                path = directory / paths[name]
                if held.get(name) == etag and path.exists() and _gz(path).exists():
                    holds[name] = etag
                    kept += 1
                    continue
                feed = store.get_feed(name)
                if feed is None:  # gone since the etags were read
                    continue
                try:
                    _write_feed(path, feed.body, feed.last_modified.timestamp())
                except OSError as exc:
                    failed.append(f"{paths[name]}: {exc}")
                    _remove_quietly((path, _gz(path)))
                    continue
                holds[name] = feed.etag
                replaced.add(path.parent)
                written.append(name)
            removed = _sweep(directory, {p for n in holds for p in _pair(directory / paths[n])})
        finally:
            # after the files it names are durable, so it never claims bytes a file does not
            # hold (a crash before this line leaves files it does not name: rewritten next
            # time); also when the run stopped halfway, for what it did write
            _sync_directories(replaced)
            if holds != held:
                _write_manifest(directory / MANIFEST, holds)
    if failed:
        log.error("files.write_failed", feeds=len(failed), first=failed[:3])
    exported = Exported(tuple(written), kept, removed, tuple(failed))
    if written or removed or failed:
        log.info(
            "files.exported", written=len(written), removed=removed, kept=kept, failed=len(failed)
        )
    return exported


def _pair(path: Path) -> tuple[Path, Path]:
    return path, _gz(path)


def _sweep(directory: Path, expected: set[Path]) -> int:
    """Delete what the feed directories hold beyond `expected`, and temporary manifests; how
    many files went. Only files: an empty directory answers 404 like a missing one."""
    removed = 0
    for top in (NO_LANGUAGE, *LANGUAGES):
        for root, _dirs, files in os.walk(directory / top / "feeds"):
            for name in files:
                path = Path(root, name)
                if path not in expected:
                    removed += _remove_quietly((path,))
    removed += _remove_quietly(directory.glob(f".{MANIFEST}.*"))
    return removed


def _remove_quietly(paths: Iterable[Path]) -> int:
    """Unlink each path that exists; how many went. A file that cannot go is left for the
    next export to try again."""
    count = 0
    for path in paths:
        try:
            path.unlink()
            count += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("files.remove_failed", path=str(path), error=str(exc))
    return count


def _sync_directories(directories: Iterable[Path]) -> None:
    """Make the renames durable before the manifest names their files: after a power cut a
    manifest must not claim a file whose new name the disk never got."""
    for path in directories:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _gz(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def _write_feed(path: Path, body: bytes, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # the gzip first: nginx prefers it, and it must never be older than the plain file
    _replace(_gz(path), gzip.compress(body, compresslevel=9, mtime=0), mtime)
    _replace(path, body, mtime)


def _replace(path: Path, data: bytes, mtime: float | None = None) -> None:
    """Write `data` to `path` in one step: a temporary file beside it, synced, then renamed
    over it. The temporary name starts with a dot, which no feed URL maps to."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; the server runs as another user
        if mtime is not None:
            os.utime(temporary, (mtime, mtime))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_manifest(path: Path) -> dict[str, str]:
    """The ETag each file holds; an unreadable manifest is an empty one (every file is then
    rewritten once, with the same bytes where they did not move)."""
    try:
        held = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(held, dict):
        return {}
    return {k: v for k, v in held.items() if isinstance(k, str) and isinstance(v, str)}


def _write_manifest(path: Path, held: dict[str, str]) -> None:
    _replace(path, json.dumps(held, sort_keys=True).encode())


@contextmanager
def _locked(path: Path, wait: float) -> Iterator[None]:
    with path.open("a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:  # released when the file closes, or the process dies
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ExportBusy(f"{path} held by another export for {wait:.0f} s") from None
                time.sleep(0.05)
        yield
