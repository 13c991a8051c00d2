"""Redis memory per post against the text it holds (goal: under 3x, feeds aside).

Run: python -m bench.storage [--posts N]

The mirror's pages are parsed once and stored N times under new ids in a Redis of its own
(started here, in a temporary directory), a fifth of them edited once so history counts.
Prints Redis's used memory per post, the stored text per post (title, headings, questions
and answers, UTF-8), their ratio, and the share of the post hash and the versions hash.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from services.embedded_redis import EmbeddedRedis
from services.model import Answer, Post, Section
from services.storage import FetchInfo, Store
from services.storage import _keys as keys
from services.storage._suspicion import measure
from tests.feeds.test_publish import mirror_posts

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def variant(post: Post, n: int) -> Post:
    """Another post like this one: own id and URL, its answers numbered so no two are equal."""
    sections = tuple(
        replace(s, answers=tuple(replace(a, text=f"{n}. {a.text}") for a in s.answers))
        for s in post.sections
    )
    return replace(post, id=f"{post.id}-{n}", url=f"{post.url}-{n}", sections=sections)


def edited(post: Post) -> Post:
    extra = Section(heading="Correction", answers=(Answer(text="A sentence added later."),))
    return replace(post, sections=(*post.sections, extra))


def text_bytes(post: Post) -> int:
    return len(post.title.encode()) + measure(post).text_bytes


def run(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as server:
        client = redis.Redis.from_url(server.url, decode_responses=False)
        store = Store(client)
        base = int(client.info("memory")["used_memory"])
        bases = mirror_posts()
        stored_text = 0
        post_bytes = versions_bytes = 0
        for n in range(count):
            post = variant(bases[n % len(bases)], n)
            fetched = FetchInfo(url=post.url, fetched_at=NOW, etag=f'W/"{n}"')
            store.upsert_post(post, fetched=fetched, now=NOW)
            if n % 5 == 0:
                post = edited(post)
                store.upsert_post(post, fetched=fetched, now=NOW + timedelta(hours=1))
            stored_text += text_bytes(post)
            post_bytes += int(client.memory_usage(keys.post(post.id), samples=0) or 0)
            versions_bytes += int(client.memory_usage(keys.post_versions(post.id), samples=0) or 0)
        used = int(client.info("memory")["used_memory"]) - base
        client.close()
    return {
        "posts": count,
        "memory_per_post": used / count,
        "text_per_post": stored_text / count,
        "ratio": used / stored_text,
        "post_hash_per_post": post_bytes / count,
        "versions_per_post": versions_bytes / count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    figures = run(parser.parse_args().posts)
    print(
        f"{figures['posts']:.0f} posts: {figures['memory_per_post'] / 1024:.2f} KiB of Redis "
        f"memory per post for {figures['text_per_post'] / 1024:.2f} KiB of text: "
        f"{figures['ratio']:.2f}x (goal < 3x); post hash "
        f"{figures['post_hash_per_post'] / 1024:.2f} KiB, versions "
        f"{figures['versions_per_post'] / 1024:.2f} KiB"
    )


if __name__ == "__main__":
    main()
