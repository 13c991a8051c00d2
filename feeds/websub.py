"""WebSub publishing (W3C WebSub, section 7): tell the hub which feed URLs have new content.

The hub then fetches them and pushes to subscribers. A ping that fails is logged and left:
the feed is already stored and served, and subscribers' hubs poll as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import httpx
import structlog

log = structlog.get_logger(__name__)

PING_TIMEOUT = 5.0
# Hubs take several hub.url in one publish request; keep each request modest.
URLS_PER_PING = 50
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def ping_hub(hub: str, urls: Sequence[str], *, user_agent: str) -> int:
    """POST `hub.mode=publish` with the changed URLs; how many URLs the hub accepted (2xx)."""
    accepted = 0
    unique = list(dict.fromkeys(urls))
    headers = {**_FORM, "User-Agent": user_agent}
    with httpx.Client(timeout=PING_TIMEOUT, headers=headers) as client:
        for start in range(0, len(unique), URLS_PER_PING):
            batch = unique[start : start + URLS_PER_PING]
            form = urlencode([("hub.mode", "publish"), *(("hub.url", url) for url in batch)])
            try:
                response = client.post(hub, content=form.encode("ascii"))
            except httpx.HTTPError as exc:
                log.warning("websub.ping_failed", hub=hub, error=str(exc), urls=len(batch))
                continue
            if response.is_success:
                accepted += len(batch)
            else:
                log.warning("websub.ping_refused", hub=hub, status=response.status_code)
    log.info("websub.pinged", hub=hub, urls=len(unique), accepted=accepted)
    return accepted
