"""Writing a post: one Lua script stores its JSON, version, indexes, counts and change event.

All of it appears together or not at all, so a worker killed mid-write leaves the previous
state; the same content twice changes nothing and emits nothing. Keys come from _keys.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cached_property

import redis
from redis.commands.core import Script

from services.errors import StorageError
from services.model import Post
from services.storage import _keys as keys
from services.storage._codec import as_text, as_time, describe, iso, score, storage_errors
from services.storage._records import FetchInfo, UpsertResult, answer_counts, content_hash

# Answers whose speaker matched nobody in a post's JSON, for a post stored before the post
# hash kept its own `unmatched` count. Shared by the upsert and the one-off full count.
_UNMATCHED_OF_LUA = """
local function unmatched_of(raw)
  local n = 0
  if not raw then return n end
  local sections = cjson.decode(raw).sections
  if type(sections) ~= 'table' then return n end
  for _, section in ipairs(sections) do
    if type(section.answers) == 'table' then
      for _, answer in ipairs(section.answers) do
        local who = answer.speaker
        if type(who) ~= 'table' or type(who.id) ~= 'string' or who.id == '' then n = n + 1 end
      end
    end
  end
  return n
end
"""

_UPSERT_LUA = """
-- KEYS: 1 post, 2 versions, 3 all posts, 4 changes, 5 urls, 6 fetch state, 7 fetch urls,
--       8 language counts, 9 topic counts, 10 speaker answer counts, 11 answer stats
-- ARGV: 1 id, 2 json, 3 hash, 4 language, 5 topics, 6 speakers, 7 answer counts,
--       8 published, 9 published score, 10 modified, 11 now, 12 now score, 13 url,
--       14 language prefix, 15 topic prefix, 16 speaker prefix, 17 stream maxlen,
--       18 has fetch, 19 fetched url, 20 etag, 21 last_modified, 22 status, 23 fetched_at,
--       24 unmatched answers
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
  'first_seen_score', 'language', 'topics', 'speakers', 'answer_counts', 'unmatched')
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
-- counted only once a full count exists (unmatched_answers): an increment on a missing
-- field would start it from 0 and miss every post stored before
if redis.call('HEXISTS', KEYS[11], 'unmatched') == 1 then
  local before = 0
  if not is_new then
    before = tonumber(old[10] or '') or unmatched_of(redis.call('HGET', KEYS[1], 'json'))
  end
  redis.call('HINCRBY', KEYS[11], 'unmatched', tonumber(ARGV[24]) - before)
end

redis.call('HSET', KEYS[1], 'json', ARGV[2], 'hash', ARGV[3], 'version', version,
  'updated', updated, 'first_seen', first_seen, 'first_seen_score', first_seen_score,
  'score', score, 'url', ARGV[13], 'language', ARGV[4], 'topics', ARGV[5],
  'speakers', ARGV[6], 'answer_counts', ARGV[7], 'unmatched', ARGV[24])
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

# KEYS: 1 all posts, 2 answer stats; ARGV: 1 post key prefix
_COUNT_UNMATCHED_LUA = """
local known = redis.call('HGET', KEYS[2], 'unmatched')
if known then return tonumber(known) end
local total = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local post = redis.call('HMGET', ARGV[1] .. id, 'unmatched', 'json')
  total = total + (tonumber(post[1] or '') or unmatched_of(post[2]))
end
redis.call('HSET', KEYS[2], 'unmatched', total)
return total
"""


class UpsertMixin:
    """Store's write path for posts."""

    client: redis.Redis
    _stream_maxlen: int
    _upsert: Script

    def _init_upsert(self, stream_maxlen: int) -> None:
        self._stream_maxlen = stream_maxlen
        self._upsert = self.client.register_script(_UNMATCHED_OF_LUA + _UPSERT_LUA)

    @cached_property
    def _count_unmatched(self) -> Script:
        return self.client.register_script(_UNMATCHED_OF_LUA + _COUNT_UNMATCHED_LUA)

    @storage_errors("counting unmatched answers")
    def unmatched_answers(self) -> int:
        """Stored answers whose speaker matched nobody, over all current posts. Kept up to
        date by every upsert once it exists; the first call (data stored before the counter)
        counts every post once, in one script so no upsert slips between count and store."""
        reply = self._count_unmatched(keys=[keys.POSTS, keys.ANSWER_COUNTS], args=[keys.post("")])
        return int(reply)

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
                f"storage: writing post {post.id} ({post.url}) failed: {describe(exc)}"
            ) from exc
        kind, version, updated, event = reply
        return UpsertResult(
            kind=as_text(kind),  # type: ignore[arg-type]  # the script returns only the three
            version=int(version),
            updated=as_time(updated),
            event_id=as_text(event) or None,
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
                iso(fetched.fetched_at),
            ]
        return [
            post.id,
            post.to_json(),
            content_hash(post),
            post.language,
            json.dumps(list(post.topic_slugs), ensure_ascii=False),
            json.dumps(list(post.speaker_ids), ensure_ascii=False),
            json.dumps(answer_counts(post), ensure_ascii=False),
            iso(published) if published else "",
            score(published) if published else "",
            iso(post.modified) if post.modified else "",
            iso(now),
            score(now),
            post.url,
            keys.LANGUAGE_PREFIX,
            keys.TOPIC_PREFIX,
            keys.SPEAKER_PREFIX,
            self._stream_maxlen,
            *fetch_args,
            _unmatched_in(post),
        ]


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
        keys.ANSWER_COUNTS,
    ]


def _unmatched_in(post: Post) -> int:
    """Answers in the post whose speaker is unknown or matched no person in the registry."""
    return sum(1 for s in post.sections for a in s.answers if not (a.speaker and a.speaker.id))
