"""The hostile server's payloads, built once: compression bombs of any depth and a robots.txt
padded past the size RFC 9309 asks a crawler to read."""

from __future__ import annotations

import functools
import zlib

MiB = 1 << 20


@functools.cache
def encoded_zeros(encodings: tuple[str, ...], expanded: int) -> bytes:
    body = _deflated_zeros(expanded, encodings[0])
    for encoding in encodings[1:]:
        wbits = {"gzip": 31, "deflate": 15}[encoding]
        squeeze = zlib.compressobj(9, zlib.DEFLATED, wbits)
        body = squeeze.compress(body) + squeeze.flush()
    return body


def _deflated_zeros(expanded: int, encoding: str) -> bytes:
    """Built from one compressed MiB repeated: after a full flush the compressor's window is
    reset, so every further MiB of zeros compresses to the same bytes (1 GiB in ~0.3 s)."""
    wbits = {"gzip": 31, "deflate": 15}[encoding]
    whole, rest = divmod(expanded, MiB)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, wbits)
    blocks = []
    if whole:
        # The first block also carries the gzip or zlib header; the rest repeat exactly.
        blocks.append(squeeze.compress(bytes(MiB)) + squeeze.flush(zlib.Z_FULL_FLUSH))
    if whole > 1:
        again = squeeze.compress(bytes(MiB)) + squeeze.flush(zlib.Z_FULL_FLUSH)
        blocks.append(again * (whole - 1))
    stream = b"".join(blocks) + squeeze.compress(bytes(rest)) + squeeze.flush()
    # The compressor computed the trailer over what it saw, not over the repeated middle.
    return _fix_trailer(stream, encoding, expanded)


def _fix_trailer(stream: bytes, encoding: str, expanded: int) -> bytes:
    if encoding == "gzip":
        check = 0
        zero = bytes(MiB)
        for start in range(0, expanded, MiB):
            check = zlib.crc32(zero[: min(MiB, expanded - start)], check)
        trailer = check.to_bytes(4, "little") + (expanded & 0xFFFFFFFF).to_bytes(4, "little")
        return stream[:-8] + trailer
    # Adler-32 of zeros in closed form (RFC 1950 section 8.2): the byte sum stays 1, and
    # the running sum grows by 1 for each byte.
    adler = ((expanded % 65521) << 16) | 1
    return stream[:-4] + adler.to_bytes(4, "big")


def big_robots(size: int = MiB, late_rule: str = "Disallow: /hostile/late") -> bytes:
    """A robots.txt of `size` bytes: allow-all for everyone, padded with comments, and
    `late_rule` after the first MiB's worth of padding, where RFC 9309 lets a crawler stop
    reading (section 2.5: at least 500 KiB must be parsed)."""
    head = b"User-agent: *\nDisallow: /hostile/early\n"
    tail = f"\n{late_rule}\n".encode()
    line = b"# " + b"p" * 77 + b"\n"
    padding = line * ((size - len(head) - len(tail)) // len(line) + 1)
    return (head + padding)[: size - len(tail)] + tail


__all__ = ["MiB", "big_robots", "encoded_zeros"]
