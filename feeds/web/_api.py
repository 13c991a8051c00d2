"""The admin API: POST /api/recrawl queues a crawl, GET /api/jobs/{id} reports on it.

Requests are checked here (bearer token, body); the crawl itself is the workers' business,
reached only through the broker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from services.broker import Broker
from services.errors import PermanentFetchError
from services.fetch import normalize_source_url
from services.settings import Settings
from services.storage import Store

log = structlog.get_logger(__name__)

MAX_BODY = 16 * 1024
_JOB_ID = re.compile(r"[0-9a-f]{32}")


class AdminApi:
    """Admin handlers bound to one store, settings and broker; without a broker a valid
    recrawl is answered 503 rather than queued nowhere."""

    def __init__(self, settings: Settings, store: Store, broker: Broker | None) -> None:
        self.settings, self.store, self.broker = settings, store, broker

    async def recrawl(self, request: Request) -> Response:
        token = self.settings.admin_token
        if not token:
            return _error(503, "the admin API is disabled: NAMFEEDS_ADMIN_TOKEN is not set")
        if not bearer_ok(request.headers.get("authorization"), token):
            return _error(401, "a valid Authorization: Bearer token is required", auth=True)
        try:
            body = await read_capped(request, MAX_BODY)
        except ClientDisconnect:
            # the client went away mid-body: nothing to answer, nothing queued, no alarm
            log.info("recrawl.client_disconnected", path=request.url.path)
            return Response(status_code=400)
        if body is None:
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        parsed = parse_recrawl(body, self.settings)
        if isinstance(parsed, str):
            return _error(400, parsed)
        if self.broker is None:
            return _error(503, "no task broker is configured")
        return self._enqueue(*parsed)

    def _enqueue(self, url: str | None, force: bool) -> Response:
        kind = "crawl_url" if url else "discover"
        # one URL is one page: total=1 lets count_job_outcome mark it done; a discover job
        # learns its total only once the listing is read (workers.tasks sets it)
        total = 1 if url else None
        job_id = self.store.create_job(kind, {"url": url, "force": force}, total=total)
        kwargs: dict[str, Any] = {"force": force, "job_id": job_id}
        if url:
            kwargs["url"] = url
        else:
            kwargs["every"] = True  # by hand: every page is checked, not only changed ones
        assert self.broker is not None
        try:
            self.broker.send_task(f"nam.{kind}", kwargs)
        except Exception as exc:  # any broker failure: the job is marked, the client told
            log.warning("recrawl.enqueue_failed", job_id=job_id, error=str(exc))
            self.store.update_job(job_id, status="failed", error="the task broker is unreachable")
            return _error(503, "the task broker is unreachable", job_id=job_id)
        log.info("recrawl.queued", job_id=job_id, url=url, force=force)
        return JSONResponse({"job_id": job_id, "status": "queued"}, status_code=202)

    def job(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        job = self.store.get_job(job_id) if _JOB_ID.fullmatch(job_id) else None
        if job is None:
            return _error(404, f"no job {job_id}")
        return JSONResponse(job)


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit`: from Content-Length before
    reading anything, else after `limit` + 1 bytes, so a huge body is never held in memory
    (the server closes the connection on the rest)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def bearer_ok(header: str | None, token: str) -> bool:
    """Constant time whatever the lengths: both sides are hashed to 32 bytes first, so a
    token of another length takes the same path and leaks nothing about ours."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    ours = hashlib.sha256(token.encode()).digest()
    theirs = hashlib.sha256(given.strip().encode("utf-8", "surrogateescape")).digest()
    return hmac.compare_digest(ours, theirs)


def parse_recrawl(body: bytes, settings: Settings) -> tuple[str | None, bool] | str:
    """`{"url": optional http(s) URL on a source origin, "force": bool}`, or why not. The URL
    comes back as the crawler names it, so a recrawl updates the same fetch state."""
    if len(body) > MAX_BODY:
        return "the body is too large"
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return "the body is not valid JSON"
    if not isinstance(data, dict):
        return "the body must be a JSON object"
    unknown = set(data) - {"url", "force"}
    if unknown:
        return f"unknown field(s): {', '.join(sorted(unknown))}"
    force, url = data.get("force", False), data.get("url")
    if not isinstance(force, bool):
        return "force must be true or false"
    if url is not None and not isinstance(url, str):
        return "url must be a string"
    if url is not None:
        try:
            url = normalize_source_url(url, settings)
        except PermanentFetchError as exc:
            return f"url: {exc.reason}"
    return url, force


def _error(status: int, reason: str, *, auth: bool = False, **extra: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="nam-feeds"'} if auth else None
    return JSONResponse({"error": reason, **extra}, status_code=status, headers=headers)
