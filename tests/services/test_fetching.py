"""Fetcher against the mirror over real HTTP (tests/fixtures/site.py): no mocked transport."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from services.errors import PermanentFetchError, TransientFetchError
from services.fetch import MAX_HOLD_OFF, Fetcher, Page, Validators, normalize_source_url
from services.settings import Settings
from tests.fixtures.site import SiteServer
from tests.reliability.hostile import Fixed, HostileServer

WIX = "www.belarus-nau.org"
TILDA = "belarus-nau.org"
POST = "/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"
POST_FILE = f"{WIX}{POST}.html"


def fetcher(site: SiteServer, **settings: Any) -> Fetcher:
    """Tiny backoff so retries cost milliseconds; Retry-After still sets its own wait."""
    return Fetcher(
        site.settings(**settings), backoff_initial=0.01, backoff_max=0.05, backoff_jitter=0.01
    )


def get(site: SiteServer, path: str, host: str = WIX, **settings: Any) -> Page:
    with fetcher(site, **settings) as f:
        return f.get(site.url(host, path))


def gaps(site: SiteServer, path: str) -> list[float]:
    times = [r.time for r in site.requests(path=path)]
    return [b - a for a, b in zip(times, times[1:], strict=False)]


# -- normal fetches ------------------------------------------------------------------------------
def test_page_is_fetched_from_the_mapped_address_under_its_real_url(
    site: SiteServer, site_dir: Any
) -> None:
    page = get(site, POST)
    assert page.url == page.final_url == f"https://{WIX}{POST}"
    assert page.status == 200 and not page.not_modified
    assert page.body == (site_dir / POST_FILE).read_bytes()
    assert page.etag and page.last_modified
    assert page.content_type == "text/html; charset=utf-8"
    [request] = site.requests(path=POST)
    assert request.headers["user-agent"].startswith("nam-feeds/")
    assert "gzip" in request.headers["accept-encoding"]


def test_xml_is_fetched_the_same_way(site: SiteServer) -> None:
    page = get(site, "/sitemap-feeds.xml", host=TILDA)
    assert page.body.startswith(b"<?xml") and "xml" in (page.content_type or "")


def test_unchanged_page_costs_a_304(site: SiteServer) -> None:
    with fetcher(site) as f:
        first = f.get(site.url(WIX, POST))
        again = f.get(site.url(WIX, POST), first.validators)
        by_date = f.get(site.url(WIX, POST), Validators(last_modified=first.last_modified))
    assert again.not_modified and again.status == 304 and again.body == b""
    assert again.etag == first.etag and again.last_modified == first.last_modified
    assert by_date.not_modified
    conditional = site.requests(path=POST)[1]
    assert conditional.headers["if-none-match"] == first.etag
    assert conditional.headers["if-modified-since"] == first.last_modified


def test_revalidations_reuse_one_connection(site: SiteServer) -> None:
    # A 304 left unread closed its connection: each revalidation opened a new one (a new TLS
    # handshake on the real site).
    with fetcher(site) as f:
        first = f.get(site.url(WIX, POST))
        for _ in range(5):
            assert f.get(site.url(WIX, POST), first.validators).not_modified
    asked = site.requests(path=POST)
    assert [r.status for r in asked] == [200] + [304] * 5
    assert len({r.client_port for r in asked}) == 1


def test_edited_page_is_fetched_again_despite_old_validators(site: SiteServer) -> None:
    with fetcher(site) as f:
        first = f.get(site.url(WIX, POST))
        site.override(WIX, POST, b"<html><body><p>edited</p></body></html>")
        edited = f.get(site.url(WIX, POST), first.validators)
    assert not edited.not_modified and edited.body.endswith(b"edited</p></body></html>")
    assert edited.etag != first.etag


def test_malformed_page_is_returned_for_the_parser_to_judge(site: SiteServer) -> None:
    page = get(site, "/fault/malformed")
    assert page.status == 200 and b"\x00" in page.body


def test_missing_page_is_permanent_with_its_status(site: SiteServer) -> None:
    with pytest.raises(PermanentFetchError) as caught:
        get(site, "/post/no-such-post")
    assert caught.value.status == 404
    assert str(caught.value) == f"fetching: HTTP 404 for https://{WIX}/post/no-such-post"


# -- retries -------------------------------------------------------------------------------------
def test_500_is_retried_then_reported_as_transient(site: SiteServer) -> None:
    with pytest.raises(TransientFetchError) as caught:
        get(site, "/fault/500", max_retries=2)
    assert caught.value.status == 500
    assert "gave up after 3 attempts" in str(caught.value)
    assert f"https://{WIX}/fault/500" in str(caught.value)
    assert len(site.requests(path="/fault/500")) == 3


def test_503_retry_after_seconds_is_honoured(site: SiteServer) -> None:
    path = "/fault/503?retry_after=1"
    with pytest.raises(TransientFetchError) as caught:
        get(site, path, max_retries=1)
    assert caught.value.status == 503 and caught.value.retry_after == 1.0
    [spacing] = gaps(site, path)
    assert spacing >= 0.98  # the backoff alone would be about 0.02 s


def test_429_retry_after_http_date_is_honoured(site: SiteServer) -> None:
    # The fixture sends a date 2 s ahead, truncated to the second: a wait of over 1 s.
    path = "/fault/429?retry_after=1&date=1"
    with pytest.raises(TransientFetchError):
        get(site, path, max_retries=1)
    [spacing] = gaps(site, path)
    assert spacing >= 0.95


def test_long_retry_after_defers_instead_of_sleeping(site: SiteServer) -> None:
    # A host that asks for an hour gets it: no retry sleeps through it, and the host's other
    # pages are deferred too, without a request; the other host is not held.
    path = "/fault/503?retry_after=3600"
    with fetcher(site, max_retries=3) as f:
        started = time.monotonic()
        with pytest.raises(TransientFetchError) as caught:
            f.get(site.url(WIX, path))
        with pytest.raises(TransientFetchError) as later:
            f.get(site.url(WIX, POST))
        f.get(site.url(TILDA, "/sitemap.xml"))
        took = time.monotonic() - started
    assert caught.value.retry_after == 3600.0 and caught.value.status == 503
    assert "HTTP 503, Retry-After 3600 s: deferred" in str(caught.value)
    assert str(later.value).startswith(f"fetching: deferred: {WIX} asked for a pause")
    assert later.value.retry_after is not None and 3590 < later.value.retry_after <= 3600
    assert len(site.requests(path=path)) == 1 and site.requests(path=POST) == []
    assert took < 2


def test_a_retry_after_of_years_defers_for_a_day_at_most(site: SiteServer) -> None:
    with pytest.raises(TransientFetchError) as caught:
        get(site, "/fault/503?retry_after=999999999", max_retries=3)
    assert caught.value.retry_after == MAX_HOLD_OFF == 86400.0
    assert len(site.requests(path="/fault/503?retry_after=999999999")) == 1


def test_retries_stop_when_the_url_budget_is_spent(site: SiteServer) -> None:
    # Each try ends at the 0.2 s deadline, and a retry is made only if another whole
    # deadline still fits in the 0.7 s budget: three tries, not eleven.
    path = "/fault/slow?s=0.5&k=budget"
    settings = {"fetch_timeout": 1.0, "fetch_deadline": 0.2, "retry_budget": 0.7}
    started = time.monotonic()
    with pytest.raises(TransientFetchError, match="retry budget spent") as caught:
        get(site, path, max_retries=10, **settings)
    assert time.monotonic() - started < 1.5
    assert caught.value.reason.startswith("timed out: no complete reply within 0.2 s")
    assert 2 <= len(site.requests(path=path)) <= 3


def test_a_spent_crawl_budget_stops_retries_until_the_next_crawl(site: SiteServer) -> None:
    # 0.5 s of retrying for the whole crawl: the first slow page spends it, the second gets
    # no retry at all, and a new crawl has the budget again.
    settings = {
        "fetch_timeout": 1.0,
        "fetch_deadline": 0.2,
        "retry_budget": 30.0,
        "crawl_retry_budget": 0.5,
        "max_retries": 10,
    }
    paths = [f"/fault/slow?s=0.5&k=crawl{n}" for n in range(3)]
    with fetcher(site, **settings) as f:
        for n, path in enumerate(paths):
            if n == 2:
                f.new_crawl()
            with pytest.raises(TransientFetchError):
                f.get(site.url(WIX, path))
    tries = [len(site.requests(path=p)) for p in paths]
    assert tries[0] >= 2 and tries[1] == 1 and tries[2] >= 2, tries


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_holds_off_the_whole_host(site: SiteServer, status: int) -> None:
    # RFC 9110 section 10.2.3: Retry-After speaks for the service, so other pages of the host
    # wait too; the other host does not.
    busy = f"/fault/{status}?retry_after=1"
    with fetcher(site, max_retries=0) as f:
        f.get(site.url(WIX, "/robots.txt"))
        f.get(site.url(TILDA, "/robots.txt"))
        with pytest.raises(TransientFetchError):
            f.get(site.url(WIX, busy))
        f.get(site.url(TILDA, "/sitemap.xml"))
        f.get(site.url(WIX, POST))
    [told] = site.requests(path=busy)
    [other_host] = site.requests(host=TILDA, path="/sitemap.xml")
    [same_host] = site.requests(host=WIX, path=POST)
    assert same_host.time - told.time >= 0.98
    assert other_host.time - told.time < 0.5


def test_503_without_retry_after_holds_off_the_host_for_the_backoff(site: SiteServer) -> None:
    path = "/fault/flaky?k=hold&fails=1"
    f = Fetcher(site.settings(max_retries=0), backoff_initial=0.4, backoff_jitter=0.0)
    with f:
        f.get(site.url(WIX, "/robots.txt"))
        with pytest.raises(TransientFetchError):
            f.get(site.url(WIX, path))
        f.get(site.url(WIX, POST))
    assert site.requests(path=POST)[0].time - site.requests(path=path)[0].time >= 0.38


def test_500_holds_off_nothing_but_its_own_retry(site: SiteServer) -> None:
    # A 500 may be one broken page: the rest of the host goes on at the crawl delay.
    f = Fetcher(site.settings(max_retries=0), backoff_initial=1.0, backoff_jitter=0.0)
    with f:
        f.get(site.url(WIX, "/robots.txt"))
        with pytest.raises(TransientFetchError):
            f.get(site.url(WIX, "/fault/500"))
        f.get(site.url(WIX, POST))
    assert site.requests(path=POST)[0].time - site.requests(path="/fault/500")[0].time < 0.5


def test_flaky_page_succeeds_after_retries(site: SiteServer) -> None:
    path = "/fault/flaky?k=succeeds"
    page = get(site, path, max_retries=2)
    assert page.body.endswith(b"recovered</p></body></html>")
    assert [r.status for r in site.requests(path=path)] == [503, 503, 200]


def test_flaky_page_fails_when_retries_run_out(site: SiteServer) -> None:
    path = "/fault/flaky?k=runs-out"
    with pytest.raises(TransientFetchError):
        get(site, path, max_retries=1)
    assert len(site.requests(path=path)) == 2


def test_timeout_is_transient(site: SiteServer) -> None:
    with pytest.raises(TransientFetchError, match="timed out") as caught:
        get(site, "/fault/slow?s=1", fetch_timeout=0.2, max_retries=0)
    assert f"https://{WIX}/fault/slow" in str(caught.value)


def test_connection_failure_is_transient(site: SiteServer) -> None:
    doomed = SiteServer()
    doomed.start()
    doomed_address = doomed.origin_map[f"https://{WIX}"].removeprefix("http://")
    settings = site.settings(max_retries=1, origin_map=doomed.origin_map)
    with Fetcher(settings, backoff_initial=0.01, backoff_jitter=0.01) as f:
        f.get(site.url(WIX, "/robots.txt"))  # robots.txt is cached; the host then goes away
        doomed.stop()
        with pytest.raises(TransientFetchError) as caught:
            f.get(site.url(WIX, POST))
    assert caught.value.reason.startswith(f"connection refused ({doomed_address}")
    assert "gave up after 2 attempts" in str(caught.value)


def test_a_name_that_does_not_resolve_says_so(site: SiteServer) -> None:
    # RFC 6761: .invalid never resolves.
    unknown = {f"https://{WIX}": "http://no-such-host.invalid"}
    with Fetcher(site.settings(max_retries=0, origin_map=unknown)) as f:
        with pytest.raises(TransientFetchError) as caught:
            f.get(site.url(WIX, POST))
    assert caught.value.reason == (
        "robots.txt unreachable (name did not resolve (no-such-host.invalid))"
    )


def test_unreachable_robots_disallows_everything(site: SiteServer) -> None:
    # RFC 9309 section 2.3.1.4: an unreachable robots.txt means complete disallow.
    dead = {f"https://{TILDA}": f"http://127.0.0.1:{_closed_port()}"}
    settings = site.settings(max_retries=0, origin_map=site.origin_map | dead)
    with Fetcher(settings) as f, pytest.raises(TransientFetchError) as caught:
        f.get(f"https://{TILDA}/sitemap.xml")
    assert caught.value.reason.startswith("robots.txt unreachable (connection refused")


# -- redirects and hosts -------------------------------------------------------------------------
def test_offsite_redirect_is_refused(site: SiteServer) -> None:
    with pytest.raises(PermanentFetchError, match="example.invalid/elsewhere leaves") as caught:
        get(site, "/fault/offsite-redirect")
    assert f"https://{WIX}/fault/offsite-redirect" in str(caught.value)


@pytest.mark.parametrize(
    "target",
    ["/sitemap.xml", "https://www.belarus-nau.org/sitemap.xml", "LOCAL"],
    ids=["relative", "real-origin", "mapped-address"],
)
def test_redirect_within_the_host_is_followed(site: SiteServer, target: str) -> None:
    if target == "LOCAL":
        target = site.local_url(WIX, "/sitemap.xml")
    page = get(site, f"/fault/redirect?to={target}")
    assert page.final_url == f"https://{WIX}/sitemap.xml"
    assert page.url == f"https://{WIX}/fault/redirect?to={target}"
    assert page.body.startswith(b"<?xml")


def test_redirect_to_the_other_source_host_is_followed(site: SiteServer) -> None:
    page = get(site, f"/fault/redirect?to=https://{TILDA}/sitemap-feeds.xml")
    assert page.final_url == f"https://{TILDA}/sitemap-feeds.xml"
    assert site.requests(host=TILDA, path="/sitemap-feeds.xml")


def test_redirect_with_a_spelled_out_default_port_is_followed(site: SiteServer) -> None:
    page = get(site, "/fault/redirect?to=HTTPS://WWW.Belarus-Nau.org:443/sitemap.xml")
    assert page.final_url == f"https://{WIX}/sitemap.xml"


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (f"http://{WIX}:22/", "http://www.belarus-nau.org:22 is not a source origin"),
        (f"https://{WIX}:8443/sitemap.xml", "https://www.belarus-nau.org:8443 is not a source"),
        (f"http://{WIX}/sitemap.xml", "http://www.belarus-nau.org is not a source origin"),
        (f"https://user:secret@{WIX}/sitemap.xml", "invalid URL"),
        (f"https://{WIX}@example.com/sitemap.xml", "invalid URL"),
        (f"https://{WIX}:99999/sitemap.xml", "invalid URL"),
        ("http://127.0.0.1:1/sitemap.xml", "host 127.0.0.1 is not an allowed source host"),
    ],
    ids=["port-22", "other-https-port", "downgrade", "userinfo", "at-sign", "bad-port", "local"],
)
def test_redirect_off_the_source_origins_is_refused(
    site: SiteServer, target: str, why: str
) -> None:
    # Each of these would once have been followed, and outside the origin map: to the real
    # network, even in a test against the mirror.
    path = f"/fault/redirect?to={target}"
    with pytest.raises(PermanentFetchError) as caught:
        get(site, path)
    assert why in str(caught.value) and f"https://{WIX}{path}" in str(caught.value)
    assert [r.path for r in site.requests(host=WIX)] == ["/robots.txt", path]
    assert site.requests(host=TILDA) == []


@pytest.mark.parametrize(
    "url",
    [f"http://{WIX}{POST}", f"https://{WIX}:8443{POST}", f"http://{WIX}:443{POST}"],
    ids=["downgrade", "other-port", "http-on-443"],
)
def test_request_off_the_source_origins_is_refused_before_any_request(
    site: SiteServer, url: str
) -> None:
    with fetcher(site) as f, pytest.raises(PermanentFetchError, match="is not a source origin"):
        f.get(url)
    assert site.requests() == []


def test_redirect_loop_stops_after_five(site: SiteServer) -> None:
    with pytest.raises(PermanentFetchError, match="more than 5 redirects"):
        get(site, "/fault/redirect-loop")
    assert len(site.requests(path="/fault/redirect-loop")) == 6


def test_host_not_allowed_is_refused_before_any_request(site: SiteServer) -> None:
    with fetcher(site) as f, pytest.raises(PermanentFetchError) as caught:
        f.get("https://example.com/post/x")
    assert str(caught.value) == (
        "fetching: host example.com is not an allowed source host for https://example.com/post/x"
    )
    assert site.requests() == []


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "",
        "ftp://www.belarus-nau.org/post/x",
        "https:///post/x",
        "https://www.belarus-nau.org:99999/post/x",
        "https://user:secret@www.belarus-nau.org/post/x",
    ],
)
def test_bad_url_is_refused(site: SiteServer, url: str) -> None:
    with fetcher(site) as f, pytest.raises(PermanentFetchError, match="invalid URL"):
        f.get(url)
    assert site.requests() == []


# -- body limits ---------------------------------------------------------------------------------
@pytest.mark.parametrize("chunked", ["0", "1"], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_refused(site: SiteServer, chunked: str) -> None:
    with pytest.raises(PermanentFetchError, match="exceeds 64 KiB"):
        get(site, f"/fault/huge?bytes=200000&chunked={chunked}", max_body_bytes=64 * 1024)


def test_gzip_expanding_over_the_limit_is_refused(site: SiteServer) -> None:
    path = f"/fault/gzip-bomb?bytes={4 << 20}"
    with pytest.raises(PermanentFetchError, match="exceeds 1 MiB after decompression"):
        get(site, path, max_body_bytes=1 << 20)


def test_gzip_body_under_the_limit_is_decoded(site: SiteServer) -> None:
    page = get(site, "/fault/gzip-bomb?bytes=1000", max_body_bytes=1 << 20)
    assert page.body == b"<html>" + b"\0" * 1000


def test_an_unknown_encoding_is_a_permanent_error(hostile_server: HostileServer) -> None:
    hostile_server.route("/br", Fixed(200, {"Content-Encoding": "br"}, b"\x00\x01"))
    settings = Settings(
        source_urls=("https://www.belarus-nau.org",),
        origin_map={"https://www.belarus-nau.org": hostile_server.origin},
        crawl_delay=0.0,
    )
    with Fetcher(settings) as f, pytest.raises(PermanentFetchError) as caught:
        f.get("https://www.belarus-nau.org/br")
    assert caught.value.reason == "unsupported Content-Encoding br"


# -- robots.txt ----------------------------------------------------------------------------------
def test_robots_disallow_is_obeyed(site: SiteServer) -> None:
    site.set_robots(WIX, b"User-agent: *\nDisallow: /en/\n")
    with pytest.raises(PermanentFetchError) as caught:
        get(site, POST)
    assert str(caught.value) == f"fetching: disallowed by robots.txt for https://{WIX}{POST}"
    assert site.requests(path=POST) == []


def test_robots_group_for_our_product_token_wins(site: SiteServer) -> None:
    site.set_robots(WIX, b"User-agent: *\nAllow: /\n\nUser-agent: nam-feeds\nDisallow: /en/\n")
    with pytest.raises(PermanentFetchError, match="disallowed by robots.txt"):
        get(site, POST)
    assert get(site, "/sitemap.xml").status == 200


def test_robots_5xx_disallows_everything_and_says_why(site: SiteServer) -> None:
    site.set_robots(WIX, b"oops", status=503)
    with pytest.raises(TransientFetchError) as caught:
        get(site, POST, max_retries=1)
    assert str(caught.value) == (
        f"fetching: robots.txt unreachable (HTTP 503) for https://{WIX}{POST}"
    )
    assert site.requests(path=POST) == []
    assert len(site.requests(path="/robots.txt")) == 1  # cached for a while, not retried


def test_robots_404_allows_everything(site: SiteServer) -> None:
    site.set_robots(WIX, b"gone", status=404)
    assert get(site, POST).status == 200


def test_robots_is_fetched_once_per_host(site: SiteServer) -> None:
    with fetcher(site) as f:
        f.get(site.url(WIX, POST))
        f.get(site.url(WIX, "/sitemap.xml"))
        f.get(site.url(TILDA, "/sitemap.xml"))
        assert f.sitemaps(f"https://{WIX}") == (f"https://{WIX}/sitemap.xml",)
    assert len(site.requests(host=WIX, path="/robots.txt")) == 1
    assert len(site.requests(host=TILDA, path="/robots.txt")) == 1


# -- politeness ----------------------------------------------------------------------------------
def test_crawl_delay_spaces_requests_to_one_host(site: SiteServer) -> None:
    with fetcher(site, crawl_delay=0.25) as f:
        for _ in range(3):
            f.get(site.url(WIX, "/sitemap.xml"))
    times = [r.time for r in site.requests(host=WIX)]  # robots.txt, then 3 sitemaps
    assert len(times) == 4
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.25


def test_one_request_at_a_time_per_host_across_threads(site: SiteServer) -> None:
    path = "/fault/slow?s=0.3"
    with fetcher(site) as f:
        f.get(site.url(WIX, "/robots.txt"))
        threads = [threading.Thread(target=f.get, args=(site.url(WIX, path),)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert min(gaps(site, path)) >= 0.29


def test_hosts_do_not_wait_for_each_other(site: SiteServer) -> None:
    path = "/fault/slow?s=0.5"
    with fetcher(site) as f:
        f.get(site.url(WIX, "/robots.txt"))
        f.get(site.url(TILDA, "/robots.txt"))
        threads = [
            threading.Thread(target=f.get, args=(site.url(host, path),)) for host in (WIX, TILDA)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    first, second = (r.time for r in site.requests(path=path))
    assert second - first < 0.4


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- normalize_source_url (pure) -----------------------------------------------------------------
SOURCES = Settings(source_urls=("https://www.belarus-nau.org", "http://mirror.test:8080"))


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        (f"https://{WIX}{POST}", f"https://{WIX}{POST}"),
        (f" HTTPS://WWW.Belarus-NAU.org:443{POST}#top ", f"https://{WIX}{POST}"),
        (f"https://{WIX}", f"https://{WIX}/"),
        (f"https://{WIX}/en/blog?page=2", f"https://{WIX}/en/blog?page=2"),
        ("http://mirror.test:8080/x", "http://mirror.test:8080/x"),
    ],
)
def test_source_url_is_normalized(url: str, normalized: str) -> None:
    assert normalize_source_url(url, SOURCES) == normalized


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://example.com/x", "host example.com is not an allowed source host"),
        (f"http://{WIX}/x", "http://www.belarus-nau.org is not a source origin"),
        (f"https://{WIX}:22/x", "https://www.belarus-nau.org:22 is not a source origin"),
        ("http://mirror.test/x", "http://mirror.test is not a source origin"),
        ("https://mirror.test:8080/x", "https://mirror.test:8080 is not a source origin"),
        (f"https://user@{WIX}/x", "invalid URL: credentials are not allowed"),
        (f"https://:pw@{WIX}/x", "invalid URL: credentials are not allowed"),
        (f"https://{WIX}:99999/x", "invalid URL (Port out of range"),
        (f"https://{WIX}:http/x", "invalid URL (Port could not be cast"),
        (f"https://{WIX}:0/x", "invalid URL: port 0"),
        ("ftp://www.belarus-nau.org/x", "invalid URL"),
        ("/en/post/x", "invalid URL"),
        ("https://[::1/x", "invalid URL"),
    ],
)
def test_url_off_the_source_origins_is_refused(url: str, why: str) -> None:
    with pytest.raises(PermanentFetchError) as caught:
        normalize_source_url(url, SOURCES)
    assert why in caught.value.reason


def test_a_resolver_that_hangs_is_bounded_by_the_deadline(
    site: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # getaddrinfo takes no timeout; a resolver stuck for a minute must not hold the fetch.
    # Only the resolver is replaced, by one that never answers in time.
    stuck = threading.Event()

    def hang(*args: Any, **kwargs: Any) -> Any:
        stuck.wait(60)
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    unknown = {f"https://{WIX}": "http://slow-resolver.invalid"}
    settings = site.settings(max_retries=0, origin_map=unknown, fetch_deadline=0.5)
    started = time.monotonic()
    try:
        with Fetcher(settings) as f, pytest.raises(TransientFetchError) as caught:
            f.get(site.url(WIX, POST))
    finally:
        stuck.set()
    assert time.monotonic() - started < 2
    timed_out = "timed out: no complete reply within 0.5 s"
    assert caught.value.reason == f"robots.txt unreachable ({timed_out})"


def test_a_tls_failure_says_so(hostile_server: HostileServer) -> None:
    # The hostile server speaks plain HTTP: the TLS handshake it is sent cannot succeed.
    origin = "https://www.belarus-nau.org"
    settings = Settings(
        source_urls=(origin,),
        origin_map={origin: hostile_server.origin.replace("http://", "https://")},
        crawl_delay=0.0,
        max_retries=0,
    )
    with Fetcher(settings) as f, pytest.raises(TransientFetchError) as caught:
        f.get(f"{origin}{POST}")
    assert caught.value.reason.startswith("robots.txt unreachable (TLS failed (")


def test_rules_once_read_outlive_an_unreachable_robots(site: SiteServer) -> None:
    # RFC 9309 section 2.4: the cached rules stand while robots.txt cannot be fetched.
    site.set_robots(WIX, b"User-agent: *\nDisallow: /en/\n")
    with Fetcher(site.settings(max_retries=0), robots_ttl=0.0, robots_error_ttl=0.0) as f:
        f.get(site.url(WIX, "/sitemap.xml"))
        site.set_robots(WIX, b"oops", status=503)
        assert f.get(site.url(WIX, "/sitemap.xml")).status == 200
        with pytest.raises(PermanentFetchError, match="disallowed by robots.txt"):
            f.get(site.url(WIX, POST))
    assert [r.status for r in site.requests(path="/robots.txt")][:2] == [200, 503]


def test_a_reply_cut_short_is_named_as_bad_http(hostile_server: HostileServer) -> None:
    # Content-Length promises more than is sent before the server hangs up.
    hostile_server.route("/short", Fixed(200, {"Content-Length": "1000"}, b"<p>only this"))
    origin = "https://www.belarus-nau.org"
    settings = Settings(
        source_urls=(origin,),
        origin_map={origin: hostile_server.origin},
        crawl_delay=0.0,
        max_retries=0,
    )
    with Fetcher(settings) as f, pytest.raises(TransientFetchError) as caught:
        f.get(f"{origin}/short")
    assert caught.value.reason.startswith("bad HTTP from the server (")
