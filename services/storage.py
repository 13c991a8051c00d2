"""Redis storage of posts, their history, fetch state, the change stream, feeds and jobs.

The only module that imports redis for posts and feeds; keys come from services.keys. A post
is written by one Lua script, so its JSON, version, indexes and change event appear together
or not at all (a worker killed mid-write leaves the previous state). Redis errors surface as
StorageError.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, ParamSpec, TypeVar

import redis
from redis.typing import EncodableT, FieldT, StreamIdT

from services import keys
from services.errors import StorageError
from services.model import Post

P = ParamSpec("P")
R = TypeVar("R")

UpsertKind = Literal["new", "edited", "unchanged"]

# Fields that may change without a reader seeing a difference: a bumped modified time alone
# is not an edit, so it is left out of the content hash (and the stored JSON keeps the old one).
VOLATILE_FIELDS = frozenset({"modified"})
STREAM_MAXLEN = 100_000  # approximate cap of nam:changes; far above a site's edits per day
JOB_TTL_SECONDS = 7 * 86400
CRAWLS_KEPT = 100

_UPSERT_LUA = """
-- KEYS: 1 post, 2 versions, 3 all posts, 4 changes, 5 urls, 6 fetch state, 7 fetch urls,
--       8 language counts, 9 topic counts, 10 speaker answer counts
-- ARGV: 1 id, 2 json, 3 hash, 4 language, 5 topics, 6 speakers, 7 answer counts,
--       8 published, 9 published score, 10 modified, 11 now, 12 now score, 13 url,
--       14 language prefix, 15 topic prefix, 16 speaker prefix, 17 stream maxlen,
--       18 has fetch, 19 fetched url, 20 etag, 21 last_modified, 22 status, 23 fetched_at
local id = ARGV[1]
if ARGV[18] == '1' then
  -- validators are stored with the post they led to, so a 304 never hides a lost write
  redis.call('HSET', KEYS[6], 'post_id', id)
  redis.call('HDEL', KEYS[6], 'error')
  local names = {'etag', 'last_modified', 'status', 'fetched_at'}
  for i, name in ipairs(names) do
    local value = ARGV[19 + i]
    if value == '' then redis.call('HDEL', KEYS[6], name)
    else redis.call('HSET', KEYS[6], name, value) end
  end
  redis.call('SADD', KEYS[7], ARGV[19])
end

local old = redis.call('HMGET', KEYS[1], 'hash', 'version', 'updated', 'first_seen',
  'first_seen_score', 'language', 'topics', 'speakers', 'answer_counts')
if old[1] == ARGV[3] then
  return {'unchanged', old[2], old[3], ''}
end

local is_new = not old[2]
local kind = is_new and 'new' or 'edited'
local version = is_new and 1 or tonumber(old[2]) + 1
local now, modified, published = ARGV[11], ARGV[10], ARGV[8]
-- updated: the source's modified time when it moved forward, else the crawl that saw it;
-- ISO strings in one UTC format compare correctly as strings
local updated = now
if is_new then
  if modified ~= '' then updated = modified elseif published ~= '' then updated = published end
elseif modified ~= '' and modified > old[3] then
  updated = modified
end
local first_seen = old[4] or now
local first_seen_score = old[5] or ARGV[12]
local score = first_seen_score
if ARGV[9] ~= '' then score = ARGV[9] end

local function bump(hash, name, delta)
  if delta == 0 then return end
  if redis.call('HINCRBY', hash, name, delta) <= 0 then redis.call('HDEL', hash, name) end
end
local function as_set(list)
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set
end
local function reindex(prefix, counts, old_list, new_list)
  local old_set, new_set = as_set(old_list), as_set(new_list)
  for _, v in ipairs(old_list) do
    if not new_set[v] then
      redis.call('ZREM', prefix .. v, id)
      if counts then bump(counts, v, -1) end
    end
  end
  for _, v in ipairs(new_list) do
    redis.call('ZADD', prefix .. v, score, id)
    if counts and not old_set[v] then bump(counts, v, 1) end
  end
end

local old_language = {}
if old[6] then old_language = {old[6]} end
reindex(ARGV[14], KEYS[8], old_language, {ARGV[4]})
reindex(ARGV[15], KEYS[9], cjson.decode(old[7] or '[]'), cjson.decode(ARGV[5]))
reindex(ARGV[16], nil, cjson.decode(old[8] or '[]'), cjson.decode(ARGV[6]))
local old_counts, new_counts = cjson.decode(old[9] or '{}'), cjson.decode(ARGV[7])
for person, n in pairs(new_counts) do bump(KEYS[10], person, n - (old_counts[person] or 0)) end
for person, n in pairs(old_counts) do
  if new_counts[person] == nil then bump(KEYS[10], person, -n) end
end

redis.call('HSET', KEYS[1], 'json', ARGV[2], 'hash', ARGV[3], 'version', version,
  'updated', updated, 'first_seen', first_seen, 'first_seen_score', first_seen_score,
  'score', score, 'url', ARGV[13], 'language', ARGV[4], 'topics', ARGV[5],
  'speakers', ARGV[6], 'answer_counts', ARGV[7])
-- every value spliced in is an integer, a hex digest, an ISO time or JSON from Python
redis.call('HSET', KEYS[2], version, '{"number":' .. version .. ',"hash":"' .. ARGV[3] ..
  '","stored_at":"' .. now .. '","updated":"' .. updated .. '","post":' .. ARGV[2] .. '}')
redis.call('ZADD', KEYS[3], score, id)
redis.call('HSET', KEYS[5], ARGV[13], id)
local event = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[17], '*',
  'post_id', id, 'version', version, 'kind', kind, 'updated', updated, 'url', ARGV[13],
  'language_before', old[6] or '', 'language_after', ARGV[4],
  'topics_before', old[7] or '[]', 'topics_after', ARGV[5],
  'speakers_before', old[8] or '[]', 'speakers_after', ARGV[6])
return {kind, version, updated, event}
"""

_UPDATE_JOB_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


@dataclass(frozen=True)
class FetchInfo:
    """The fetch that produced a post; its validators are stored with the post."""

    url: str
    fetched_at: datetime
    status: int | None = 200
    etag: str | None = None
    last_modified: str | None = None  # the Last-Modified header as sent


@dataclass(frozen=True)
class FetchState:
    """What the crawler knows about one URL: validators, outcome, and sitemap lastmod."""

    etag: str | None = None
    last_modified: str | None = None
    status: int | None = None
    error: str | None = None
    fetched_at: datetime | None = None
    post_id: str | None = None
    lastmod: datetime | None = None


@dataclass(frozen=True)
class UpsertResult:
    kind: UpsertKind
    version: int
    updated: datetime
    event_id: str | None = None  # the change stream entry; None when unchanged

    @property
    def changed(self) -> bool:
        return self.kind != "unchanged"


@dataclass(frozen=True)
class StoredPost:
    post: Post
    version: int
    updated: datetime
    first_seen: datetime
    content_hash: str


@dataclass(frozen=True)
class Version:
    number: int
    content_hash: str
    stored_at: datetime
    updated: datetime
    post: Post


@dataclass(frozen=True)
class ChangeEvent:
    """One entry of nam:changes: which post changed and which feeds it touched."""

    event_id: str
    post_id: str
    version: int
    kind: Literal["new", "edited"]
    updated: datetime
    url: str
    language_before: str | None
    language_after: str
    topics_before: tuple[str, ...] = ()
    topics_after: tuple[str, ...] = ()
    speakers_before: tuple[str, ...] = ()
    speakers_after: tuple[str, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        before = (self.language_before,) if self.language_before else ()
        return _union(before, (self.language_after,))

    @property
    def topics(self) -> tuple[str, ...]:
        """Topic feeds to re-render: the post left some and joined others."""
        return _union(self.topics_before, self.topics_after)

    @property
    def speakers(self) -> tuple[str, ...]:
        return _union(self.speakers_before, self.speakers_after)


@dataclass(frozen=True)
class StoredFeed:
    feed_key: str
    body: bytes
    etag: str
    last_modified: datetime
    content_type: str


def content_hash(post: Post) -> str:
    """SHA-256 of the post's canonical JSON without volatile fields: equal content, equal hash."""
    data = {k: v for k, v in post.to_dict().items() if k not in VOLATILE_FIELDS}
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def answer_counts(post: Post) -> dict[str, int]:
    """Known person id -> how many answers they give in the post."""
    counts = Counter(
        a.speaker.id for s in post.sections for a in s.answers if a.speaker and a.speaker.id
    )
    return dict(counts)


def _storage_errors(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except redis.RedisError as exc:
                raise StorageError(f"storage: {action} failed: {_describe(exc)}") from exc

        return wrapper

    return decorate


class Store:
    """Posts, fetch state, changes, feeds and jobs in one Redis database."""

    def __init__(self, client: redis.Redis, *, stream_maxlen: int = STREAM_MAXLEN) -> None:
        if client.get_connection_kwargs().get("decode_responses"):
            raise StorageError("storage: the Redis client must use decode_responses=False")
        self.client = client
        self._stream_maxlen = stream_maxlen
        self._upsert = client.register_script(_UPSERT_LUA)
        self._update_job = client.register_script(_UPDATE_JOB_LUA)
        # consumer groups known to exist, so read_changes does not XGROUP CREATE every call
        self._groups: set[str] = set()

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(redis.Redis.from_url(url, decode_responses=False))

    def close(self) -> None:
        self.client.close()

    @_storage_errors("ping")
    def ping(self) -> bool:
        return bool(self.client.ping())

    # posts -----------------------------------------------------------------------------

    def upsert_post(
        self, post: Post, *, fetched: FetchInfo | None = None, now: datetime
    ) -> UpsertResult:
        """Store a post in one atomic write. The same content twice changes nothing and emits
        nothing (fetch validators are still refreshed); changed content becomes a new version
        with its indexes moved and one event on nam:changes."""
        try:
            reply = self._upsert(
                keys=_upsert_keys(post, fetched), args=self._upsert_args(post, fetched, now)
            )
        except redis.RedisError as exc:
            raise StorageError(
                f"storage: writing post {post.id} ({post.url}) failed: {_describe(exc)}"
            ) from exc
        kind, version, updated, event = reply
        return UpsertResult(
            kind=_text(kind),  # type: ignore[arg-type]  # the script returns only the three
            version=int(version),
            updated=_time(updated),
            event_id=_text(event) or None,
        )

    def _upsert_args(self, post: Post, fetched: FetchInfo | None, now: datetime) -> list[str | int]:
        published = post.published
        fetch_args: list[str | int] = ["0", "", "", "", "", ""]
        if fetched is not None:
            fetch_args = [
                "1",
                fetched.url,
                fetched.etag or "",
                fetched.last_modified or "",
                "" if fetched.status is None else str(fetched.status),
                _iso(fetched.fetched_at),
            ]
        return [
            post.id,
            post.to_json(),
            content_hash(post),
            post.language,
            json.dumps(list(post.topic_slugs), ensure_ascii=False),
            json.dumps(list(post.speaker_ids), ensure_ascii=False),
            json.dumps(answer_counts(post), ensure_ascii=False),
            _iso(published) if published else "",
            _score(published) if published else "",
            _iso(post.modified) if post.modified else "",
            _iso(now),
            _score(now),
            post.url,
            keys.LANGUAGE_PREFIX,
            keys.TOPIC_PREFIX,
            keys.SPEAKER_PREFIX,
            self._stream_maxlen,
            *fetch_args,
        ]

    @_storage_errors("reading a post")
    def get_post(self, post_id: str) -> StoredPost | None:
        return _stored_post(self.client.hmget(keys.post(post_id), *_POST_FIELDS))

    @_storage_errors("reading post history")
    def post_history(self, post_id: str) -> list[Version]:
        raw = self.client.hgetall(keys.post_versions(post_id))
        return sorted((_version(v) for v in raw.values()), key=lambda v: v.number)

    @_storage_errors("reading a post version")
    def get_version(self, post_id: str, number: int) -> Version | None:
        raw = self.client.hget(keys.post_versions(post_id), str(number))
        return _version(raw) if raw is not None else None

    @_storage_errors("looking up a URL")
    def post_id_for_url(self, url: str) -> str | None:
        raw = self.client.hget(keys.URLS, url)
        return _text(raw) if raw is not None else None

    @_storage_errors("listing recent posts")
    def recent_posts(
        self,
        *,
        limit: int,
        language: str | None = None,
        topic: str | None = None,
        speaker: str | None = None,
    ) -> list[StoredPost]:
        """Newest first by published time (first-seen when unknown); filters combine with AND.
        Ties are broken by post id, so the order is stable and renders give the same bytes."""
        if limit <= 0:
            return []
        indexes = [
            build(value)
            for build, value in (
                (keys.language, language),
                (keys.topic, topic),
                (keys.speaker, speaker),
            )
            if value is not None
        ]
        ids = self._newest_ids(indexes or [keys.POSTS], limit)
        pipe = self.client.pipeline(transaction=False)
        for post_id in ids:
            pipe.hmget(keys.post(post_id), *_POST_FIELDS)
        stored = (_stored_post(values) for values in pipe.execute())
        return [s for s in stored if s is not None]

    def _newest_ids(self, indexes: list[str], limit: int) -> list[str]:
        if len(indexes) == 1:
            return _texts(self.client.zrevrange(indexes[0], 0, limit - 1))
        # ZINTER answers ascending (score, then member); reversed it matches ZREVRANGE's order
        return _texts(self.client.zinter(indexes, aggregate="MAX"))[::-1][:limit]

    @_storage_errors("counting posts")
    def count_posts(self) -> int:
        return int(self.client.zcard(keys.POSTS))

    @_storage_errors("counting posts by language")
    def counts_by_language(self) -> dict[str, int]:
        return _int_hash(self.client.hgetall(keys.LANGUAGE_COUNTS))

    @_storage_errors("counting answers by speaker")
    def speaker_answer_counts(self) -> dict[str, int]:
        return _int_hash(self.client.hgetall(keys.SPEAKER_ANSWER_COUNTS))

    @_storage_errors("listing topics")
    def topic_slugs(self) -> list[str]:
        """Topics with at least one post, sorted."""
        return sorted(_text(k) for k in self.client.hkeys(keys.TOPIC_COUNTS))

    @_storage_errors("listing speakers")
    def speaker_ids(self) -> list[str]:
        """People with at least one answer, sorted."""
        return sorted(_text(k) for k in self.client.hkeys(keys.SPEAKER_ANSWER_COUNTS))

    # fetch state and crawls ------------------------------------------------------------

    @_storage_errors("reading fetch state")
    def get_fetch_state(self, url: str) -> FetchState | None:
        raw = self.client.hgetall(keys.fetch_state(url))
        return _fetch_state(raw) if raw else None

    @_storage_errors("writing fetch state")
    def set_fetch_state(self, url: str, state: FetchState) -> None:
        """Replace the whole state of a URL (fields left None are removed)."""
        key = keys.fetch_state(url)
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(key)
        mapping = _fetch_state_fields(state)
        if mapping:
            pipe.hset(key, mapping=mapping)
        pipe.sadd(keys.FETCH_URLS, url)
        pipe.execute()

    @_storage_errors("listing fetched URLs")
    def fetch_urls(self) -> list[str]:
        """Every URL with a fetch state, sorted: what `recrawl --all` goes through."""
        return sorted(_text(u) for u in self.client.smembers(keys.FETCH_URLS))

    @_storage_errors("recording a crawl")
    def record_crawl(self, summary: Mapping[str, Any]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.lpush(keys.CRAWLS, json.dumps(summary, default=_json_default, ensure_ascii=False))
        pipe.ltrim(keys.CRAWLS, 0, CRAWLS_KEPT - 1)
        pipe.execute()

    @_storage_errors("reading the last crawl")
    def last_crawl(self) -> dict[str, Any] | None:
        raw = self.client.lindex(keys.CRAWLS, 0)
        return _json_object(raw) if raw is not None else None

    # the change stream -----------------------------------------------------------------

    @_storage_errors("reading changes")
    def read_changes(
        self, group: str, consumer: str, count: int = 10, block_ms: int | None = None
    ) -> list[ChangeEvent]:
        """New events for a consumer group (created on first use, from the stream's start so
        a new publisher catches up). `block_ms=None` returns at once."""
        self._ensure_group(group)
        try:
            reply = self._xreadgroup(group, consumer, count, block_ms)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # the stream or group was deleted behind our back (a flush): create it again
            self._groups.discard(group)
            self._ensure_group(group)
            reply = self._xreadgroup(group, consumer, count, block_ms)
        return [_change_event(i, f) for i, f in _stream_entries(reply)]

    def _xreadgroup(self, group: str, consumer: str, count: int, block: int | None) -> Any:
        return self.client.xreadgroup(group, consumer, {keys.CHANGES: ">"}, count, block)

    def _ensure_group(self, group: str) -> None:
        if group in self._groups:
            return
        try:
            self.client.xgroup_create(keys.CHANGES, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(group)

    @_storage_errors("acknowledging a change")
    def ack_change(self, group: str, event_id: str) -> bool:
        return bool(self.client.xack(keys.CHANGES, group, event_id))

    @_storage_errors("claiming stale changes")
    def claim_stale_changes(
        self, group: str, consumer: str, *, min_idle_ms: int, count: int = 10
    ) -> list[ChangeEvent]:
        """Take over events another consumer read but never acknowledged (it died).

        XPENDING + XCLAIM rather than XAUTOCLAIM: XAUTOCLAIM answers [cursor, entries] on
        Redis 6.2 and [cursor, entries, deleted ids] on 7, and on 6.2 an entry trimmed from
        the stream comes back as a bare nil, without its id, so it could never be
        acknowledged. Here the ids come from XPENDING; one that XCLAIM does not return and
        that is gone from the stream is acknowledged, so it stops coming back."""
        self._ensure_group(group)
        pending: Any = self.client.xpending_range(
            keys.CHANGES, group, "-", "+", count, idle=min_idle_ms
        )
        ids: list[str] = [_text(entry["message_id"]) for entry in pending]
        if not ids:
            return []
        claimed: list[Any] = self.client.xclaim(
            keys.CHANGES, group, consumer, min_idle_ms, list[StreamIdT](ids)
        )
        events = [_change_event(i, f) for i, f in claimed if i is not None and f]
        returned = {e.event_id for e in events}
        for event_id in ids:
            # not returned: claimed by someone else meanwhile, or trimmed from the stream
            if event_id not in returned and not self.client.xrange(
                keys.CHANGES, event_id, event_id
            ):
                self.client.xack(keys.CHANGES, group, event_id)
        return events

    @_storage_errors("counting pending changes")
    def pending_changes(self, group: str) -> int:
        """Events read by the group but not yet acknowledged."""
        self._ensure_group(group)
        return int(self.client.xpending(keys.CHANGES, group)["pending"])

    # rendered feeds --------------------------------------------------------------------

    @_storage_errors("storing a feed")
    def put_feed(
        self,
        feed_key: str,
        body: bytes,
        etag: str,
        last_modified: datetime,
        content_type: str,
    ) -> None:
        """Replace a rendered feed in one step: a reader sees the old bytes or the new."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            keys.feed(feed_key),
            mapping={
                "body": body,
                "etag": etag,
                "last_modified": _iso(last_modified),
                "content_type": content_type,
            },
        )
        pipe.sadd(keys.FEEDS, feed_key)
        pipe.execute()

    @_storage_errors("reading a feed")
    def get_feed(self, feed_key: str) -> StoredFeed | None:
        body, etag, last_modified, content_type = self.client.hmget(
            keys.feed(feed_key), "body", "etag", "last_modified", "content_type"
        )
        if body is None or etag is None or last_modified is None or content_type is None:
            return None
        return StoredFeed(
            feed_key, _bytes(body), _text(etag), _time(last_modified), _text(content_type)
        )

    @_storage_errors("listing feeds")
    def feed_keys(self) -> list[str]:
        return sorted(_text(k) for k in self.client.smembers(keys.FEEDS))

    # jobs ------------------------------------------------------------------------------

    @_storage_errors("creating a job")
    def create_job(self, kind: str, params: Mapping[str, Any]) -> str:
        """A job record for the admin API; it expires a week after its last update."""
        job_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        fields = {
            "id": job_id,
            "kind": kind,
            "params": dict(params),
            "status": "queued",
            "created_at": now,
            "updated_at": now,
        }
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(keys.job(job_id), mapping=_json_fields(fields))
        pipe.expire(keys.job(job_id), JOB_TTL_SECONDS)
        pipe.execute()
        return job_id

    @_storage_errors("updating a job")
    def update_job(self, job_id: str, **fields: Any) -> bool:
        """Set fields (any JSON value) of a job; False when it does not exist (expired)."""
        encoded = _json_fields({**fields, "updated_at": datetime.now(UTC)})
        args: list[EncodableT] = [JOB_TTL_SECONDS]
        for name, value in encoded.items():
            args += [name, value]
        return bool(self._update_job(keys=[keys.job(job_id)], args=args))

    @_storage_errors("reading a job")
    def get_job(self, job_id: str) -> dict[str, Any] | None:
        raw = self.client.hgetall(keys.job(job_id))
        if not raw:
            return None
        return {_text(k): json.loads(v) for k, v in raw.items()}


# helpers -------------------------------------------------------------------------------

_POST_FIELDS = ("json", "version", "updated", "first_seen", "hash")


def _upsert_keys(post: Post, fetched: FetchInfo | None) -> list[str]:
    return [
        keys.post(post.id),
        keys.post_versions(post.id),
        keys.POSTS,
        keys.CHANGES,
        keys.URLS,
        keys.fetch_state(fetched.url if fetched else post.url),
        keys.FETCH_URLS,
        keys.LANGUAGE_COUNTS,
        keys.TOPIC_COUNTS,
        keys.SPEAKER_ANSWER_COUNTS,
    ]


def _stored_post(values: list[Any]) -> StoredPost | None:
    raw_json, version, updated, first_seen, digest = values
    if raw_json is None:
        return None
    return StoredPost(
        post=Post.from_json(raw_json),
        version=int(version),
        updated=_time(updated),
        first_seen=_time(first_seen),
        content_hash=_text(digest),
    )


def _version(raw: bytes | str) -> Version:
    data = json.loads(raw)
    return Version(
        number=int(data["number"]),
        content_hash=data["hash"],
        stored_at=_time(data["stored_at"]),
        updated=_time(data["updated"]),
        post=Post.from_dict(data["post"]),
    )


def _change_event(event_id: bytes | str, fields: Mapping[Any, Any]) -> ChangeEvent:
    get = {_text(k): _text(v) for k, v in fields.items()}.__getitem__
    return ChangeEvent(
        event_id=_text(event_id),
        post_id=get("post_id"),
        version=int(get("version")),
        kind="new" if get("kind") == "new" else "edited",
        updated=_time(get("updated")),
        url=get("url"),
        language_before=get("language_before") or None,
        language_after=get("language_after"),
        topics_before=tuple(json.loads(get("topics_before"))),
        topics_after=tuple(json.loads(get("topics_after"))),
        speakers_before=tuple(json.loads(get("speakers_before"))),
        speakers_after=tuple(json.loads(get("speakers_after"))),
    )


def _stream_entries(reply: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """XREADGROUP entries of our one stream, from a RESP2 list or a RESP3 map."""
    if not reply:
        return []
    if isinstance(reply, dict):
        streams = list(reply.values())
        return list(streams[0][0]) if streams else []
    return list(reply[0][1])


_FETCH_TEXT = ("etag", "last_modified", "error", "post_id")
_FETCH_TIMES = ("fetched_at", "lastmod")


def _fetch_state(raw: Mapping[Any, Any]) -> FetchState:
    data = {_text(k): _text(v) for k, v in raw.items()}
    when = {name: _time(data[name]) if name in data else None for name in _FETCH_TIMES}
    return FetchState(
        etag=data.get("etag"),
        last_modified=data.get("last_modified"),
        status=int(data["status"]) if "status" in data else None,
        error=data.get("error"),
        fetched_at=when["fetched_at"],
        post_id=data.get("post_id"),
        lastmod=when["lastmod"],
    )


def _fetch_state_fields(state: FetchState) -> dict[FieldT, EncodableT]:
    fields: dict[FieldT, EncodableT] = {}
    for name in _FETCH_TEXT:
        value = getattr(state, name)
        if value is not None:
            fields[name] = value
    for name in _FETCH_TIMES:
        when = getattr(state, name)
        if when is not None:
            fields[name] = _iso(when)
    if state.status is not None:
        fields["status"] = str(state.status)
    return fields


def _json_fields(fields: Mapping[str, Any]) -> dict[FieldT, EncodableT]:
    return {
        name: json.dumps(value, default=_json_default, ensure_ascii=False)
        for name, value in fields.items()
    }


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json_object(raw: bytes | str) -> dict[str, Any]:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise StorageError(f"storage: expected a JSON object, found {type(data).__name__}")
    return data


def _int_hash(raw: Mapping[Any, Any]) -> dict[str, int]:
    return {_text(k): int(v) for k, v in sorted(raw.items())}


def _union(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for group in groups for v in group))


def _utc(value: datetime) -> datetime:
    """Aware UTC; a naive time is taken to be UTC already (the parser emits aware times)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    # one fixed width format, so the upsert script can compare times as strings
    return _utc(value).isoformat(timespec="microseconds")


def _score(value: datetime) -> str:
    return repr(_utc(value).timestamp())


def _time(raw: bytes | str) -> datetime:
    return datetime.fromisoformat(_text(raw))


def _texts(values: Any) -> list[str]:
    return [_text(v) for v in values]


def _bytes(raw: bytes | str) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode()


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _describe(exc: redis.RedisError) -> str:
    return f"{type(exc).__name__}: {exc}"
