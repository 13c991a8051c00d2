"""What a fetch returns (Page), and the validators sent back to ask "changed?" (RFC 9110
section 13). Pure: no network; the Fetcher builds these from its replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Validators:
    """What the last fetch of a URL said about its version, sent back to ask "changed?"."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        # RFC 9110 section 13.1.3: send Last-Modified back exactly as received.
        found: dict[str, str] = {}
        if self.etag:
            found["If-None-Match"] = self.etag
        if self.last_modified:
            found["If-Modified-Since"] = self.last_modified
        return found


@dataclass(frozen=True)
class Page:
    """One fetched page. `url` is the URL asked for and `final_url` the one answered, both
    at the real origin even when the request went to a mapped address."""

    url: str
    final_url: str
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    not_modified: bool = False

    @property
    def validators(self) -> Validators:
        return Validators(etag=self.etag, last_modified=self.last_modified)


def page_from_reply(
    url: str,
    final_url: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    validators: Validators | None,
) -> Page:
    """`headers` must look names up regardless of case, as httpx.Headers does."""
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    if status == 304 and validators is not None:
        # RFC 9110 section 15.4.5: a 304 may omit validators that have not changed.
        etag, modified = etag or validators.etag, modified or validators.last_modified
    return Page(
        url=url,
        final_url=final_url,
        status=status,
        body=body,
        etag=etag,
        last_modified=modified,
        content_type=headers.get("Content-Type"),
        not_modified=status == 304,
    )


__all__ = ["Page", "Validators", "page_from_reply"]
