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
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import re
import tempfile
from collections.abc import Iterator
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
    written: int  # feeds whose files were (re)written
    removed: int  # feeds no longer stored, whose files were deleted
    kept: int  # feeds whose files already held the stored bytes


def export_feeds(store: Store, directory: Path) -> Exported:
    """Bring `directory` level with the feeds stored in Redis; what it did."""
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory / ".lock"):
        held = _read_manifest(directory / MANIFEST)
        paths = {n: f for n in store.feed_keys() if (f := file_of(n)) is not None}
        etags = store.feed_etags(list(paths))
        written = kept = 0
        gone = [name for name in held if name not in etags]
        try:
            for name, etag in etags.items():
                path = directory / paths[name]
                if held.get(name) == etag and path.exists() and _gz(path).exists():
                    kept += 1
                    continue
                feed = store.get_feed(name)
                if feed is None:  # gone since the etags were read
                    continue
                _write_feed(path, feed.body, feed.last_modified.timestamp())
                held[name] = feed.etag
                written += 1
            for name in gone:
                if (relative := file_of(name)) is not None:
                    for path in (directory / relative, _gz(directory / relative)):
                        path.unlink(missing_ok=True)
                del held[name]
        finally:
            # after the files it names, so it never claims bytes a file does not hold (a
            # crash before this line leaves files it does not name: rewritten next time)
            if written or gone:
                _write_manifest(directory / MANIFEST, held)
    if written or gone:
        log.info("files.exported", written=written, removed=len(gone), kept=kept)
    return Exported(written, len(gone), kept)


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
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        yield
