"""An embedded Redis for when NAMFEEDS_REDIS_URL is unset: find a binary, start it, share it.

    _server      EmbeddedRedis: start, share and stop the server of a data dir
    _binary      which redis-server binary to run
    _owner       the owner lock and state file of a data dir, and stale servers
    _probe       PING from outside, and URLs with the password masked
    _processes   child processes tied to our life; is a pid still the program we think
"""

from services.embedded_redis._binary import RedisBinary, find_redis_server
from services.embedded_redis._owner import (
    LOCK_FILE,
    PID_FILE,
    STATE_FILE,
    ServerState,
    running_server,
    stop_stale_server,
)
from services.embedded_redis._probe import redacted, server_answers, why_unreachable
from services.embedded_redis._processes import die_with_parent
from services.embedded_redis._server import LOG_FILE, SOCKET_FILE, AppendFsync, EmbeddedRedis

__all__ = [
    "LOCK_FILE",
    "LOG_FILE",
    "PID_FILE",
    "SOCKET_FILE",
    "STATE_FILE",
    "AppendFsync",
    "EmbeddedRedis",
    "RedisBinary",
    "ServerState",
    "die_with_parent",
    "find_redis_server",
    "redacted",
    "running_server",
    "server_answers",
    "stop_stale_server",
    "why_unreachable",
]
