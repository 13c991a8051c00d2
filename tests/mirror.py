"""Serve the offline mirror of the site on 127.0.0.1 until interrupted, for trying the
whole system by hand:

    python -m tests.mirror            # prints the NAMFEEDS_ORIGIN_MAP to export
"""

from __future__ import annotations

import signal
import sys
import threading

from tests.fixtures.site import SiteServer


def main() -> None:
    server = SiteServer()
    server.start()
    mapping = ";".join(f"{real}={local}" for real, local in server.origin_map.items())
    print(f"NAMFEEDS_ORIGIN_MAP='{mapping}'", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
