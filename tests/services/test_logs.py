"""The field-line writers: a FieldsWriter line is the very line log_fields writes for the same
fields, in both formats; what it keeps is bounded; muted loggers write nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

import services.logs as logs

FIELDS = ("event", "method", "path", "status", "duration_ms")


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """The process's field-line writer, pointed at a buffer for the test."""
    logs.configure_logging(json=True)
    lines = logs._lines
    assert lines is not None
    lines.flush()
    stream, as_json = lines.stream, lines.as_json
    lines.stream = buffer = io.StringIO()
    yield buffer
    lines.flush()
    lines.stream, lines.as_json = stream, as_json


def _both(buffer: io.StringIO, writer: logs.FieldsWriter, *values: object) -> list[str]:
    """The lines of `values` from the writer and from log_fields, timestamps cut off."""
    writer(*values)
    logs.log_fields(writer.logger, dict(zip(FIELDS, values, strict=True)))
    assert logs._lines is not None
    logs._lines.flush()
    found = buffer.getvalue().splitlines()[-2:]
    return [line.split("timestamp")[0] if "{" in line else line[28:] for line in found]


@pytest.mark.parametrize("as_json", [True, False])
@pytest.mark.parametrize(
    "values",
    [
        ("http.request", "GET", "/feeds/all.atom", 304, 0.012),
        ("http.request", "HEAD", '/q"uoted\\ и юникод', 200, 1234.5),
        ("http.request", "GET", "/x", 500, 7),  # an int where a float usually is
        ("http.request", "GET", "/x", None, float("nan")),
    ],
)
def test_a_writer_line_is_the_line_log_fields_writes(
    written: io.StringIO, as_json: bool, values: tuple[object, ...]
) -> None:
    assert logs._lines is not None
    logs._lines.as_json = as_json
    writer = logs.FieldsWriter("test.access", FIELDS, varying=1)
    ours, theirs = _both(written, writer, *values)
    assert ours == theirs
    if as_json:
        record = json.loads(written.getvalue().splitlines()[-2])
        assert record["logger"] == "test.access" and record["level"] == "info"
        assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == 27


def test_two_varying_values_and_a_change_of_format(written: io.StringIO) -> None:
    writer = logs.FieldsWriter("test.access", FIELDS, varying=2)
    assert len(set(_both(written, writer, "e", "GET", "/a", 200, 1.5))) == 1
    assert logs._lines is not None
    logs._lines.as_json = False  # configure_logging again, for a terminal
    assert len(set(_both(written, writer, "e", "GET", "/a", 200, 1.5))) == 1
    with pytest.raises(ValueError, match="varying"):
        logs.FieldsWriter("test.access", FIELDS, varying=0)


def test_what_a_writer_keeps_is_bounded(written: io.StringIO) -> None:
    writer = logs.FieldsWriter("test.access", FIELDS, varying=1)
    for n in range(logs.HEADS_KEPT + 10):
        writer("http.request", "GET", f"/made-up/{n}", 404, 0.1)
    assert len(writer._heads) <= logs.HEADS_KEPT
    assert logs._lines is not None
    logs._lines.flush()
    assert len(written.getvalue().splitlines()) == logs.HEADS_KEPT + 10


def test_a_muted_logger_writes_nothing(written: io.StringIO) -> None:
    writer = logs.FieldsWriter("test.muted", FIELDS, varying=1)
    logs.mute("test.muted")
    writer("http.request", "GET", "/a", 200, 0.1)
    logs.log_fields("test.muted", {"event": "x"})
    assert logs._lines is not None
    logs._lines.flush()
    assert written.getvalue() == ""
