"""wrk, the load generator, with a Lua script that sends the request headers a case needs
(If-None-Match for 304s, Accept-Encoding) and counts every status but the expected one.

A Python client saturates before a Python server does, so wrk (Debian's package, C) drives
every serving figure, in the benchmark and in the load test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL = "install Debian's wrk (apt-get install wrk)"

_SCRIPT = """\
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  expected = tonumber(args[1])
  wrong, statuses = 0, {}
  if args[2] ~= "" then wrk.headers["If-None-Match"] = args[2] end
  wrk.headers["Accept-Encoding"] = args[3]
  -- a response callback makes wrk copy every body into Lua: fine for 304s and errors,
  -- but for large 200s it would make the client the bottleneck of the floor itself
  if args[4] ~= "statuses" then response = nil end
end
function response(status, headers, body)
  if status ~= expected then
    wrong = wrong + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
  local retry = headers["retry-after"] or headers["Retry-After"]
  if retry then retry_after = retry end
end
function done(summary, latency, requests)
  local total, seen, retry = 0, {}, nil
  for _, thread in ipairs(threads) do
    total = total + thread:get("wrong")
    for status, count in pairs(thread:get("statuses")) do
      seen[status] = (seen[status] or 0) + count
    end
    retry = retry or thread:get("retry_after")
  end
  io.write(string.format("nam: requests %d\\n", summary.requests))
  io.write(string.format("nam: wrong %d\\n", total))
  io.write(string.format("nam: socket_errors %d\\n", summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
  io.write(string.format("nam: p99_us %d\\n", latency:percentile(99)))
  io.write(string.format("nam: bytes %d\\n", summary.bytes))
  io.write(string.format("nam: status_errors %d\\n", summary.errors.status))
  for status, count in pairs(seen) do
    io.write(string.format("nam: status %d %d\\n", status, count))
  end
  if retry then io.write("nam: retry_after " .. retry .. "\\n") end
end
"""


@dataclass(frozen=True)
class WrkResult:
    rps: float
    requests: int
    wrong: int  # responses with another status than the expected one (counted with `statuses`;
    #             else only statuses of 400 and above are seen)
    socket_errors: int
    bytes: int  # read in all, headers included
    p99_ms: float
    statuses: dict[int, int]  # the unexpected statuses, by count
    retry_after: str | None  # a Retry-After seen on any response


def find_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError(f"wrk is not installed: {INSTALL}")
    return found


def run_wrk(
    url: str,
    expect: int,
    etag: str | None,
    connections: int,
    workdir: Path,
    *,
    seconds: float,
    gzip: bool = False,
    timeout: float = 5.0,
    statuses: bool = True,
) -> WrkResult:
    """One wrk run, one thread (on two cores the other belongs to the server). Without
    `statuses` wrk does not hand bodies to Lua, and only statuses >= 400 count as wrong:
    check `bytes` to know every answer was whole."""
    script = workdir / "nam-wrk.lua"
    script.write_text(_SCRIPT)
    command = [
        find_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout))}s", "-s", str(script), url,
        "--", str(expect), etag or "", "gzip" if gzip else "identity",
        "statuses" if statuses else "bytes",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stdout + done.stderr).strip()}")
    return _parse(done.stdout, statuses)


def _parse(out: str, statuses: bool) -> WrkResult:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise RuntimeError(f"wrk printed no rate: {out}")
    fields = dict(re.findall(r"^nam: (\w+) (\S+)$", out, re.M))
    seen = {int(s): int(n) for s, n in re.findall(r"^nam: status (\d+) (\d+)$", out, re.M)}
    return WrkResult(
        rps=float(rate.group(1)),
        requests=int(fields["requests"]),
        wrong=int(fields["wrong" if statuses else "status_errors"]),
        socket_errors=int(fields["socket_errors"]),
        bytes=int(fields["bytes"]),
        p99_ms=int(fields["p99_us"]) / 1000,
        statuses=seen,
        retry_after=fields.get("retry_after"),
    )
