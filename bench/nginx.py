"""nginx on loopback, for the benchmark and the deployment test: deploy/nginx.conf as compose
runs it (in front of an app on a local port), or a static file server as the serving floor.

Debian's nginx runs unprivileged from a scratch directory with a generated main config; the
server part is deploy/nginx.conf itself with only its lines marked `# local:` rewritten.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEPLOY_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
INSTALL = "install Debian's nginx (apt-get install nginx)"

_MAIN = """\
worker_processes {workers};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    # as the nginx image's own nginx.conf has it (sendfile on, tcp_nopush off), but quiet
    access_log off;
    sendfile on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    types {{ application/atom+xml atom; application/rss+xml rss; }}
    default_type application/octet-stream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/server.conf;
}}
"""

# The floor at its strongest: tcp_nopush sends headers and body in full packets, which made
# static files faster here (deploy/nginx.conf sets it where it serves feed files).
_STATIC = """\
server {{
    listen 127.0.0.1:{port};
    root {root};
    etag on;
    tcp_nopush on;
    open_file_cache max=1000 inactive=20s;
    if_modified_since before;
}}
"""


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise RuntimeError(f"nginx is not installed: {INSTALL}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def compose_conf(listen: int, upstream: str, cache_dir: Path, feed_dir: Path) -> str:
    """deploy/nginx.conf with its `# local:` lines pointed at loopback, a scratch cache and
    the directory feeds.files exports to; every other line is what compose runs."""
    text = DEPLOY_CONF.read_text()
    swaps = {
        "cache": lambda line: line.replace("/var/cache/nginx/feeds", str(cache_dir)),
        "feeds": lambda line: line.replace("/srv/feeds", str(feed_dir)),
        "upstream": lambda line: re.sub(r"server \S+;", f"server {upstream};", line),
        "listen": lambda line: re.sub(r"listen \S+;", f"listen 127.0.0.1:{listen};", line),
    }
    lines = []
    for line in text.splitlines():
        mark = re.search(r"# local: (\w+)", line)
        lines.append(swaps[mark.group(1)](line) if mark else line)
    return "\n".join(lines) + "\n"


def static_conf(port: int, root: Path) -> str:
    return _STATIC.format(port=port, root=root)


@contextmanager
def run_nginx(server_conf: str, workdir: Path, port: int, *, workers: int = 1) -> Iterator[str]:
    """nginx with `server_conf` until the block ends; yields its base URL once it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    # as root nginx drops its workers to `nobody`, who could not write the scratch directory
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    (workdir / "server.conf").write_text(server_conf)
    main = _MAIN.format(workers=workers, dir=workdir, user=user)
    (workdir / "nginx.conf").write_text(main)
    log = (workdir / "stderr.log").open("wb")
    command = [find_nginx(), "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    process = subprocess.Popen([*command, "-e", str(workdir / "error.log")], stderr=log)
    try:
        _wait_for(port, process, workdir)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _wait_for(port: int, process: subprocess.Popen[bytes], workdir: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = (workdir / name for name in ("stderr.log", "error.log"))
            errors = " ".join(log.read_text() for log in logs if log.exists())
            raise RuntimeError(f"nginx exited with {process.returncode}: {errors.strip()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on 127.0.0.1:{port}")
