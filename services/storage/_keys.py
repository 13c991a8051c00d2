"""Every Redis key the project uses, in one place. Pure: builds strings, talks to nobody.

All keys start with `nam:` so the data can share a server (and a database) with anything
else, and a test can clear exactly this namespace. Times are stored as ISO-8601 UTC strings
with microseconds (`2023-02-15T16:05:00.000000+00:00`): one fixed format, so they compare
correctly as strings, also inside Lua.

Posts
    nam:post:<id>               hash    the current post: json, hash (content hash), version,
                                        updated, first_seen, first_seen_score, score, url,
                                        language, topics (JSON list), speakers (JSON list),
                                        answer_counts (JSON object person id -> answers),
                                        unmatched, stored_at (of this version), answers
                                        and text_bytes (the measures _suspicion compares);
                                        json is zlib-compressed (plain JSON in data
                                        stored before compression)
    nam:post:<id>:versions      hash    the past versions: number -> JSON {number, hash,
                                        stored_at, updated}, and "<number>:post" -> that
                                        version's compressed JSON. The current version is
                                        the post hash (with stored_at); an edit moves it
                                        here. Older data also holds the current version
                                        here, with its post inline as "post".
    nam:post:<id>:quarantine    hash    a new parse kept back as a broken page: json, hash,
                                        reason, stored_at, seen_at, url, base_version,
                                        answers, text_bytes; gone once a version is stored
    nam:quarantined             set     ids of the posts with a quarantined version
    nam:quarantined:no-answers  set     those whose quarantined parse lost every answer
                                        (the broken-markup alarm)
    nam:posts                   zset    post id, scored by published time (or first seen)
    nam:lang:<code>             zset    post ids in that language, same score
    nam:topic:<slug>            zset    post ids with a section tagged <slug>, same score
    nam:speaker:<person id>     zset    post ids where that person answers, same score
    nam:urls                    hash    canonical URL -> post id (old URLs keep pointing)
    nam:stats:languages         hash    language -> number of posts
    nam:stats:topics            hash    topic slug -> number of posts
    nam:stats:speaker-answers   hash    person id -> number of answers over all posts
    nam:stats:answers           hash    unmatched: answers whose speaker matched nobody, over
                                        all posts (absent until first counted in full)
    nam:changes                 stream  one entry per new or edited post (see storage)

Crawling
    nam:fetch:<url>             hash    fetch state: etag, last_modified, status, error,
                                        fetched_at, post_id, lastmod
    nam:fetch-urls              set     every URL that has a fetch state
    nam:failures                zset    URLs whose last fetch or parse failed, scored by the
                                        time; capped by count and age (storage's failures)
    nam:stats:failures          hash    counters: recorded (failures ever recorded), pruned
    nam:crawls                  list    JSON summaries of the last crawls, newest first
    nam:stats:fetches           hash    counters: crawl steps by outcome (new, edited,
                                        unchanged, not_modified, failed, transient, ...)
    nam:queued:<url>            string  a crawl of the URL is queued; expires on its own
    nam:defer:<url>             string  why the URL waits (Retry-After); expires when it may
                                        be asked again

    nam:host:<host>:lock        string  who holds the host's turn (a token); expires
    nam:host:<host>:next        string  Redis time (ms) when the host may next be asked

Feeds and jobs
    nam:feed:<feed key>         hash    body, etag, last_modified, content_type, generation
                                        (id of the newest change event before rendering)
    nam:feeds                   set     every feed key that has been stored
    nam:stats:publish           hash    counters: renders_written, renders_unchanged,
                                        renders_superseded, failures
    nam:job:<id>                hash    admin API job: each field a JSON value; expires
    nam:lease:<name>            string  a short lease (a token): `publish-due` while a
                                        publish run is scheduled, `publishing` while one runs

Processes
    nam:heartbeats              hash    <part>:<host>:<pid> -> Redis time of its last beat
"""

from __future__ import annotations

NAMESPACE = "nam:"

POSTS = "nam:posts"
URLS = "nam:urls"
CHANGES = "nam:changes"
LANGUAGE_COUNTS = "nam:stats:languages"
TOPIC_COUNTS = "nam:stats:topics"
SPEAKER_ANSWER_COUNTS = "nam:stats:speaker-answers"
ANSWER_COUNTS = "nam:stats:answers"
PUBLISH_COUNTS = "nam:stats:publish"
FETCH_URLS = "nam:fetch-urls"
FAILURES = "nam:failures"
FAILURE_COUNTS = "nam:stats:failures"
QUARANTINED = "nam:quarantined"
QUARANTINED_NO_ANSWERS = "nam:quarantined:no-answers"
CRAWLS = "nam:crawls"
FEEDS = "nam:feeds"
HEARTBEATS = "nam:heartbeats"
FETCH_COUNTS = "nam:stats:fetches"

# Prefixes of the per-value indexes. The upsert script needs them because it learns the
# *old* language, topics and speakers of a post only once it runs inside Redis.
LANGUAGE_PREFIX = "nam:lang:"
TOPIC_PREFIX = "nam:topic:"
SPEAKER_PREFIX = "nam:speaker:"


def post(post_id: str) -> str:
    return f"nam:post:{post_id}"


def post_versions(post_id: str) -> str:
    return f"nam:post:{post_id}:versions"


def quarantine(post_id: str) -> str:
    return f"nam:post:{post_id}:quarantine"


def language(code: str) -> str:
    return LANGUAGE_PREFIX + code


def topic(slug: str) -> str:
    return TOPIC_PREFIX + slug


def speaker(person_id: str) -> str:
    return SPEAKER_PREFIX + person_id


def fetch_state(url: str) -> str:
    return f"nam:fetch:{url}"


def feed(feed_key: str) -> str:
    return f"nam:feed:{feed_key}"


def job(job_id: str) -> str:
    return f"nam:job:{job_id}"


def host_lock(host: str) -> str:
    return f"nam:host:{host}:lock"


def host_next(host: str) -> str:
    return f"nam:host:{host}:next"


def host_wanted(host: str) -> str:
    return f"nam:host:{host}:wanted"


def lease(name: str) -> str:
    return f"nam:lease:{name}"


def queued(url: str) -> str:
    return f"nam:queued:{url}"


def deferred(url: str) -> str:
    return f"nam:defer:{url}"
