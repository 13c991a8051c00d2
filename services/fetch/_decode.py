"""Content-Encoding undone layer by layer, bounded while it streams.

httpx inflates a whole network read through every layer before its caller sees a byte, so
`Content-Encoding: gzip, gzip` turned 3.5 KB into 4 GB. Here each layer is a zlib
decompressobj asked for at most `_STEP` bytes at a time (`max_length`), and layers are
chained generators: nothing is inflated before the reader has counted what came before, so
a bomb is stopped at the size limit (or the ratio cap) with at most one step per layer in
memory. Pure: no network.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

_STEP = 64 * 1024
# RFC 9110 section 8.4.1: gzip and x-gzip are one coding; deflate is the zlib format, though
# some servers send raw deflate, so that is tried when the zlib header is wrong.
_WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
# HTML compresses about 5 to 15 times; a stream past this after its first MiB is a bomb.
MAX_RATIO = 100
_RATIO_AFTER = 1 << 20


class DecodeError(ValueError):
    """The body cannot be decoded; `reason` is fit for a fetch error."""


class TooLarge(ValueError):
    """The decoded body went past a bound; `reason` says which."""


def encodings_of(header: str | None) -> tuple[str, ...]:
    """The codings of a Content-Encoding header, in the order they were applied, without
    `identity`; an unknown one raises DecodeError before any byte is read."""
    found = tuple(c.strip().lower() for c in (header or "").split(",") if c.strip())
    unknown = [c for c in found if c not in _WBITS and c != "identity"]
    if unknown:
        raise DecodeError(f"unsupported Content-Encoding {', '.join(unknown)}")
    return tuple(c for c in found if c != "identity")


def decode_bounded(
    raw: Iterable[bytes], encodings: tuple[str, ...], *, limit: int, truncate: bool = False
) -> bytes:
    """The decoded body, at most `limit` bytes. Past the limit, or inflating more than
    MAX_RATIO times, TooLarge is raised; with `truncate` the first `limit` bytes are kept
    instead (robots.txt: RFC 9309 section 2.5)."""
    wire = _Counter(raw)
    stream: Iterable[bytes] = wire
    for coding in reversed(encodings):
        stream = _inflate(stream, coding)
    chunks: list[bytes] = []
    size = 0
    for chunk in stream:
        if size + len(chunk) > limit:
            if truncate:
                chunks.append(chunk[: limit - size])
                break
            after = " after decompression" if encodings else ""
            raise TooLarge(f"body exceeds {format_size(limit)}{after}")
        size += len(chunk)
        chunks.append(chunk)
        if encodings and size > _RATIO_AFTER and size > MAX_RATIO * wire.count:
            raise TooLarge(
                f"body exceeds the {MAX_RATIO}x inflation limit ({wire.count} bytes sent, "
                f"{size} bytes so far): a compression bomb"
            )
    return b"".join(chunks)


class _Counter:
    """The raw chunks, counted as they pass."""

    def __init__(self, raw: Iterable[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._raw:
            self.count += len(chunk)
            yield chunk


def _inflate(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    wbits = _WBITS[coding]
    inflater = zlib.decompressobj(wbits)
    first = True
    for chunk in chunks:
        data = chunk
        while data:
            try:
                out = inflater.decompress(data, _STEP)
            except zlib.error as exc:
                if not (first and coding == "deflate"):
                    raise DecodeError(f"undecodable {coding} body ({exc})") from None
                inflater, wbits = zlib.decompressobj(-15), -15
                first = False
                continue
            first = False
            if out:
                yield out
            data = inflater.unconsumed_tail
            if inflater.eof:
                # Anything after the end of the stream is not part of the body.
                return
    # Output still held inside zlib comes out a step at a time too (flush() has no bound).
    while not inflater.eof:
        try:
            out = inflater.decompress(b"", _STEP)
        except zlib.error as exc:
            raise DecodeError(f"undecodable {coding} body ({exc})") from None
        if not out:
            break
        yield out


def format_size(limit: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"


__all__ = ["MAX_RATIO", "DecodeError", "TooLarge", "decode_bounded", "encodings_of", "format_size"]
