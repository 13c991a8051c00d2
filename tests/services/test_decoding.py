"""Content-Encoding undone layer by layer under the size and ratio caps (pure: no network)."""

from __future__ import annotations

import zlib

import pytest

from services.fetch._decode import MAX_RATIO, DecodeError, TooLarge, decode_bounded, encodings_of
from tests.reliability.hostile import encoded_zeros


def _encoded(body: bytes, *encodings: str) -> bytes:
    for encoding in encodings:
        wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[encoding]
        squeeze = zlib.compressobj(6, zlib.DEFLATED, wbits)
        body = squeeze.compress(body) + squeeze.flush()
    return body


def _pieces(body: bytes, size: int = 1000) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


TEXT = " ".join(f"word{n % 997} line {n}" for n in range(40_000)).encode()


@pytest.mark.parametrize(
    "encodings", [(), ("gzip",), ("deflate",), ("gzip", "gzip"), ("deflate", "gzip")]
)
def test_layers_are_undone_in_reverse_order_of_application(encodings: tuple[str, ...]) -> None:
    body = _encoded(TEXT, *encodings)
    assert decode_bounded(_pieces(body), encodings, limit=1 << 20) == TEXT


def test_raw_deflate_is_accepted_as_deflate() -> None:
    # Some servers send deflate without the zlib wrapper RFC 9110 asks for.
    body = _encoded(TEXT, "raw-deflate")
    assert decode_bounded(_pieces(body), ("deflate",), limit=1 << 20) == TEXT


@pytest.mark.parametrize("encodings", [("gzip",), ("gzip", "gzip"), ("deflate", "gzip")])
def test_a_bomb_stops_at_the_limit_whatever_the_layers(encodings: tuple[str, ...]) -> None:
    bomb = encoded_zeros(encodings, 1 << 30)
    with pytest.raises(TooLarge, match="after decompression|compression bomb"):
        decode_bounded(_pieces(bomb, 65536), encodings, limit=5 << 20)


def test_inflating_past_the_ratio_is_a_bomb_even_under_the_limit() -> None:
    bomb = encoded_zeros(("gzip",), 8 << 20)
    with pytest.raises(TooLarge, match=f"exceeds the {MAX_RATIO}x inflation limit"):
        decode_bounded(_pieces(bomb, 65536), ("gzip",), limit=64 << 20)


def test_truncating_keeps_the_first_bytes() -> None:
    body = _encoded(TEXT, "gzip")
    assert decode_bounded(_pieces(body), ("gzip",), limit=1000, truncate=True) == TEXT[:1000]


def test_corrupt_and_unknown_encodings_are_refused() -> None:
    with pytest.raises(DecodeError, match="undecodable gzip body"):
        decode_bounded([b"not gzip at all"], ("gzip",), limit=1000)
    with pytest.raises(DecodeError, match="unsupported Content-Encoding br"):
        encodings_of("gzip, br")
    assert encodings_of(" GZIP , identity") == ("gzip",)
