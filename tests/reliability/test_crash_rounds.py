"""Crash rounds: edits and new posts on the mirror, a crawl through the real worker, and a
SIGKILL to a random one of worker, beat, Redis and web at a random moment.

Each round the test brings back what it killed (and anything that ended on its own), as a
supervisor would, waits for the deployment to settle, and then checks that every post is
stored once, every feed is valid, no entry id changed, the edit is present, no version was
stored twice and the publisher has read the whole change stream. The worker must never end
on its own (it outlives Redis restarts) and nothing may end with status 0 unasked.

NAMFEEDS_RELIABILITY_ROUNDS sets the number of rounds (20 by default, as in CI);
NAMFEEDS_RELIABILITY_SEED replays a run (the seed is printed and named in failures).
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import feedparser

from services.storage import Store
from services.storage import _keys as keys
from tests.conftest import SITE
from tests.fixtures.site import SiteServer
from tests.reliability.conftest import Deployment
from tests.workers.conftest import client_app

ROUNDS = int(os.environ.get("NAMFEEDS_RELIABILITY_ROUNDS", "20"))
VICTIMS = ("worker", "beat", "redis", "web")
SETTLE_TIMEOUT = 60.0  # seconds for one round to settle; a healthy one takes a few
BEAT_TAKEOVER = 10.0  # a restarted beat holds the lock again within this many seconds

WWW, TILDA = "www.belarus-nau.org", "belarus-nau.org"
EDITED_PATH = "/en/post/pavel-latushka-on-sanctions-and-the-border-crossings"
EDITED_URL = f"https://{WWW}{EDITED_PATH}"
EDITED_TEXT = b"We believe that it is necessary to increase pressure"
TEMPLATE_PATH = "/tpost/tvs64iyja1-the-cabinet-held-a-press-conference"
TEMPLATE_TITLE = b"The Cabinet held a press conference"
TILDA_SITEMAP = "/sitemap-feed-28b000b3d1f4.xml"
ORIGINAL_POSTS = {
    f"https://{WWW}/en/post/answers-of-the-cabinet-to-the-most-topical-questions-of-the-february-14-press-conference",
    f"https://{WWW}/en/post/the-cabinet-held-a-press-conference-on-february-14",
    EDITED_URL,
    f"https://{TILDA}{TEMPLATE_PATH}",
    f"https://{TILDA}/tpost/m3p9r2c7a1-glavnoe-s-press-konferentsii-kabineta",
}
FEEDS = ("/feeds/all.atom", "/feeds/all.rss", "/feeds/speakers/pavel-latushka.atom")


def _marker(n: int) -> str:
    return f"crash round {n} edit"


@dataclass
class Mirror:
    """What the source serves: one edit of the same post and one new Tilda post per round."""

    site: SiteServer
    added: list[str] = field(default_factory=list)

    def change(self, n: int) -> None:
        original = (SITE / WWW / f"{EDITED_PATH.lstrip('/')}.html").read_bytes()
        edited = original.replace(EDITED_TEXT, EDITED_TEXT + f" ({_marker(n)})".encode())
        self.site.override(WWW, EDITED_PATH, edited)
        self._add(n)

    def _add(self, n: int) -> None:
        path = f"/tpost/cr{n:04d}x{random.randrange(10**6):06d}-crash-round-post-{n}"
        template = (SITE / TILDA / f"{TEMPLATE_PATH.lstrip('/')}.html").read_bytes()
        body = template.replace(TEMPLATE_PATH.encode(), path.encode())
        self.site.override(TILDA, path, body.replace(TEMPLATE_TITLE, f"Round {n} post".encode()))
        self.added.append(f"https://{TILDA}{path}")
        sitemap = (SITE / TILDA / TILDA_SITEMAP.lstrip("/")).read_bytes()
        extra = "".join(
            f"<url><loc>{u}</loc><lastmod>2023-03-01</lastmod></url>" for u in self.added
        )
        self.site.override(
            TILDA, TILDA_SITEMAP, sitemap.replace(b"</urlset>", f"{extra}</urlset>".encode())
        )

    @property
    def posts(self) -> set[str]:
        return ORIGINAL_POSTS | set(self.added)


@dataclass
class Figures:
    rounds: int = 0
    kills: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VICTIMS, 0))
    settle: list[float] = field(default_factory=list)
    restarted_on_their_own: list[str] = field(default_factory=list)

    def line(self, seed: int) -> str:
        slowest = max(self.settle, default=0.0)
        median = sorted(self.settle)[len(self.settle) // 2] if self.settle else 0.0
        return (
            f"crash rounds: {self.rounds} of {ROUNDS} survived (seed {seed}); kills {self.kills};"
            f" settled in median {median:.1f} s, slowest {slowest:.1f} s; ended on their own:"
            f" {self.restarted_on_their_own or 'none'}"
        )


# -- what "settled" means ---------------------------------------------------------------------


def _stream_caught_up(store: Store) -> str | None:
    """None when the publisher group has read every event and acknowledged it."""
    last = store.client.xinfo_stream(keys.CHANGES)["last-generated-id"]
    groups = {g["name"]: g for g in store.client.xinfo_groups(keys.CHANGES)}
    group = groups.get(b"publisher") or groups.get("publisher")
    if group is None:
        return "no publisher group yet"
    if group["last-delivered-id"] != last or group["pending"]:
        return (
            f"publisher at {group['last-delivered-id']!r} of {last!r}, {group['pending']} pending"
        )
    return None


def _stored(store: Store, posts: set[str], n: int) -> str | None:
    for url in posts:
        post_id = store.post_id_for_url(url)
        stored = store.get_post(post_id) if post_id else None
        if stored is None:
            return f"{url} not stored"
    edited = store.get_post(store.post_id_for_url(EDITED_URL) or "")
    if n and (edited is None or _marker(n) not in edited.post.to_json()):
        return "the edit is not stored yet"
    return None


def _served(deployment: Deployment, posts: set[str], n: int) -> str | None:
    response = deployment.http.get("/feeds/all.atom")
    if response.status_code != 200:
        return f"all.atom answered {response.status_code}"
    parsed = feedparser.parse(response.content)
    links = {e.link: e for e in parsed.entries}
    missing = posts - set(links)
    if missing:
        return f"all.atom lacks {sorted(missing)[:3]}"
    if n and _marker(n) not in links[EDITED_URL].content[0].value:
        return "the edit is not in all.atom yet"
    return None


def _unsettled(deployment: Deployment, mirror: Mirror, n: int) -> str | None:
    """Why the deployment has not settled yet, or None."""
    assert deployment.store is not None
    try:
        return (
            _stored(deployment.store, mirror.posts, n)
            or _stream_caught_up(deployment.store)
            or _served(deployment, mirror.posts, n)
        )
    except Exception as exc:  # Redis or the web app still coming back
        return f"{type(exc).__name__}: {exc}"


# -- the checks after a round -------------------------------------------------------------------


def _check_store(store: Store, mirror: Mirror, n: int) -> None:
    assert store.count_posts() == len(mirror.posts), "a post stored twice or lost"
    ids = {url: store.post_id_for_url(url) for url in mirror.posts}
    assert len(set(ids.values())) == len(ids), ids
    for url, post_id in ids.items():
        assert post_id is not None
        history = store.post_history(post_id)
        numbers = [v.number for v in history]
        assert numbers == list(range(1, len(numbers) + 1)), (url, numbers)
        hashes = [v.content_hash for v in history]
        assert all(a != b for a, b in zip(hashes, hashes[1:], strict=False)), (url, hashes)
        # one new version per round for the edited post, exactly one for every other
        expected = n + 1 if url == EDITED_URL else 1
        assert len(history) == expected, (url, len(history), expected)


def _check_feeds(deployment: Deployment, ids: dict[tuple[str, str], str]) -> None:
    """Every feed parses cleanly, and an entry keeps the id it was first published with."""
    for path in FEEDS:
        response = deployment.http.get(path)
        assert response.status_code == 200, (path, response.status_code)
        parsed: Any = feedparser.parse(response.content)
        assert not parsed.bozo and parsed.get("bozo_exception") is None, (path, parsed.bozo)
        assert parsed.entries, path
        for entry in parsed.entries:
            first = ids.setdefault((path, entry.link), entry.id)
            assert entry.id == first, (path, entry.link, entry.id, first)


def _check_processes(deployment: Deployment) -> None:
    worker = deployment.services["worker"]
    assert worker.exits == [], f"the worker ended on its own: {worker.exits}"
    for name, service in deployment.services.items():
        assert 0 not in service.exits, f"{name} ended with status 0 unasked"


# -- the rounds ---------------------------------------------------------------------------------


def _settle(deployment: Deployment, mirror: Mirror, n: int, seed: int, figures: Figures) -> float:
    started = time.monotonic()
    reason: str | None = "not checked"
    while time.monotonic() - started < SETTLE_TIMEOUT:
        figures.restarted_on_their_own += deployment.supervise()
        reason = _unsettled(deployment, mirror, n)
        if reason is None:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(
        f"round {n} (seed {seed}) did not settle in {SETTLE_TIMEOUT:g} s: {reason}\n"
        f"{figures.line(seed)}\n{deployment.tails()}"
    )


def _beat_took_the_lock(deployment: Deployment, since: int) -> None:
    beat = deployment.services["beat"]
    deadline = time.monotonic() + BEAT_TAKEOVER
    while "Acquired lock" not in beat.output()[since:]:
        assert time.monotonic() < deadline, (
            f"the restarted beat has no lock:\n{beat.output()[since:]}"
        )
        deployment.supervise()
        time.sleep(0.1)


def _one_round(
    deployment: Deployment, mirror: Mirror, n: int, victim: str, rng: random.Random
) -> None:
    assert deployment.store is not None
    mirror.change(n)
    job_id = deployment.store.create_job("recrawl", {})
    client_app(deployment.url).send_task("nam.discover", kwargs={"job_id": job_id})
    time.sleep(rng.uniform(0.0, 1.5))  # the crawl, its upserts or its publishing are under way
    deployment.kill(victim)
    time.sleep(rng.uniform(0.1, 0.8))
    beat_log = len(deployment.services["beat"].output())
    deployment.bring_back(victim)
    if victim == "beat":
        _beat_took_the_lock(deployment, beat_log)


def test_crash_rounds(site: SiteServer, deployment: Deployment) -> None:
    seed = int(os.environ.get("NAMFEEDS_RELIABILITY_SEED", str(random.randrange(10**6))))
    rng = random.Random(seed)
    print(f"crash rounds: seed {seed}")
    mirror = Mirror(site)
    figures = Figures()
    ids: dict[tuple[str, str], str] = {}
    victims = [VICTIMS[i % len(VICTIMS)] for i in range(ROUNDS)]  # each kind as often
    rng.shuffle(victims)
    assert deployment.store is not None
    # round 0: the mirror as it is, crawled with nothing killed
    client_app(deployment.url).send_task("nam.discover")
    _settle(deployment, mirror, 0, seed, figures)
    _check_store(deployment.store, mirror, 0)
    for n, victim in enumerate(victims, start=1):
        _one_round(deployment, mirror, n, victim, rng)
        figures.kills[victim] += 1
        figures.settle.append(_settle(deployment, mirror, n, seed, figures))
        _check_store(deployment.store, mirror, n)
        _check_feeds(deployment, ids)
        _check_processes(deployment)
        figures.rounds = n
    print(figures.line(seed))
    assert figures.rounds == ROUNDS
