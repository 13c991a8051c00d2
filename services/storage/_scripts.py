"""The Lua scripts that write posts: each runs whole or not at all inside Redis.

Every value spliced into JSON here is an integer, a hex digest or an ISO time from Python.
A write carries a guard, the content hash its caller judged against ('-' for none, '' for
"no post yet"): when the stored post moved meanwhile, the script answers 'stale' and writes
nothing, so the judgement (an edit or a broken page, _suspicion) is never made on old data.
"""

from __future__ import annotations

# Answers whose speaker matched nobody in a post's JSON, for a post stored before the post
# hash kept its own `unmatched` count; such posts hold plain JSON (compression came later).
UNMATCHED_OF = """
local function unmatched_of(raw)
  local n = 0
  if not raw or string.byte(raw, 1) ~= 123 then return n end
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

# Validators are stored with the post (or quarantined version) they led to, so a 304 never
# hides a lost write; a stored page is no longer failing.
WRITE_FETCH = """
local function write_fetch(state, urls, failures, id, f)
  -- f: has fetch, url, etag, last_modified, status, fetched_at, lastmod
  if f[1] ~= '1' then return end
  -- a URL that failed before it gave a post had a state set to expire; now it is kept
  redis.call('PERSIST', state)
  redis.call('HSET', state, 'post_id', id)
  redis.call('HDEL', state, 'error')
  local names = {'etag', 'last_modified', 'status', 'fetched_at'}
  for i, name in ipairs(names) do
    local value = f[2 + i]
    if value == '' then redis.call('HDEL', state, name)
    else redis.call('HSET', state, name, value) end
  end
  if f[7] ~= '' then redis.call('HSET', state, 'lastmod', f[7]) end
  redis.call('SADD', urls, f[2])
  redis.call('ZREM', failures, f[2])
end
"""

UPSERT = """
-- KEYS: 1 post, 2 versions, 3 all posts, 4 changes, 5 urls, 6 fetch state, 7 fetch urls,
--       8 language counts, 9 topic counts, 10 speaker answer counts, 11 answer stats,
--       12 quarantine, 13 quarantined ids, 14 failures, 15 ids that lost every answer
-- ARGV: 1 id, 2 packed json, 3 hash, 4 language, 5 topics, 6 speakers, 7 answer counts,
--       8 published, 9 published score, 10 modified, 11 now, 12 now score, 13 url,
--       14 language prefix, 15 topic prefix, 16 speaker prefix, 17 stream maxlen,
--       18-24 fetch (has, url, etag, last_modified, status, fetched_at, lastmod),
--       25 unmatched answers, 26 guard, 27 answers, 28 text bytes
local id = ARGV[1]
local old = redis.call('HMGET', KEYS[1], 'hash', 'version', 'updated', 'first_seen',
  'first_seen_score', 'language', 'topics', 'speakers', 'answer_counts', 'unmatched',
  'answers')
if ARGV[26] ~= '-' and (old[1] or '') ~= ARGV[26] then return {'stale', '0', '', '', 0} end
write_fetch(KEYS[6], KEYS[7], KEYS[14], id, {ARGV[18], ARGV[19], ARGV[20], ARGV[21],
  ARGV[22], ARGV[23], ARGV[24]})
-- whatever was kept back is moot once a version is stored: the page came back, or changed
local released = redis.call('DEL', KEYS[12])
redis.call('SREM', KEYS[13], id)
redis.call('SREM', KEYS[15], id)
if old[1] == ARGV[3] then
  if not old[11] then redis.call('HSET', KEYS[1], 'answers', ARGV[27], 'text_bytes', ARGV[28]) end
  return {'unchanged', old[2], old[3], '', released}
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
  redis.call('HINCRBY', KEYS[11], 'unmatched', tonumber(ARGV[25]) - before)
end

-- The current version lives once, in the post hash (its json, and its number, hash,
-- stored_at and updated); an edit moves it into the versions hash, which holds the past.
-- Older formats also kept the current version there: as metadata with its post inline,
-- or (briefly) as metadata alone.
if not is_new then
  local meta = redis.call('HGET', KEYS[2], old[2])
  local current = redis.call('HMGET', KEYS[1], 'json', 'stored_at')
  if not meta then
    redis.call('HSET', KEYS[2], old[2], '{"number":' .. old[2] .. ',"hash":"' .. old[1] ..
      '","stored_at":"' .. (current[2] or old[3]) .. '","updated":"' .. old[3] .. '"}',
      old[2] .. ':post', current[1])
  elseif not string.find(meta, '"post":', 1, true) then
    redis.call('HSET', KEYS[2], old[2] .. ':post', current[1])
  end
end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'hash', ARGV[3], 'version', version,
  'updated', updated, 'stored_at', now, 'first_seen', first_seen,
  'first_seen_score', first_seen_score,
  'score', score, 'url', ARGV[13], 'language', ARGV[4], 'topics', ARGV[5],
  'speakers', ARGV[6], 'answer_counts', ARGV[7], 'unmatched', ARGV[25],
  'answers', ARGV[27], 'text_bytes', ARGV[28])
redis.call('ZADD', KEYS[3], score, id)
redis.call('HSET', KEYS[5], ARGV[13], id)
local event = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[17], '*',
  'post_id', id, 'version', version, 'kind', kind, 'updated', updated, 'url', ARGV[13],
  'language_before', old[6] or '', 'language_after', ARGV[4],
  'topics_before', old[7] or '[]', 'topics_after', ARGV[5],
  'speakers_before', old[8] or '[]', 'speakers_after', ARGV[6])
return {kind, version, updated, event, released}
"""

QUARANTINE = """
-- KEYS: 1 post, 2 quarantine, 3 quarantined ids, 4 fetch state, 5 fetch urls, 6 failures,
--       7 ids of those that lost every answer
-- ARGV: 1 id, 2 packed json, 3 hash, 4 guard, 5 reason, 6 now, 7 url, 8 answers,
--       9 text bytes, 10-16 fetch (has, url, etag, last_modified, status, fetched_at, lastmod),
--       17 lost every answer ('1' or '0')
local id = ARGV[1]
local current = redis.call('HMGET', KEYS[1], 'hash', 'version', 'updated')
if (current[1] or '') ~= ARGV[4] then return {'stale', '0', '', 0} end
write_fetch(KEYS[4], KEYS[5], KEYS[6], id, {ARGV[10], ARGV[11], ARGV[12], ARGV[13],
  ARGV[14], ARGV[15], ARGV[16]})
if redis.call('HGET', KEYS[2], 'hash') == ARGV[3] then
  redis.call('HSET', KEYS[2], 'seen_at', ARGV[6])
  return {'quarantined', current[2], current[3], 0}
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'json', ARGV[2], 'hash', ARGV[3], 'reason', ARGV[5],
  'stored_at', ARGV[6], 'seen_at', ARGV[6], 'url', ARGV[7], 'base_version', current[2],
  'answers', ARGV[8], 'text_bytes', ARGV[9])
redis.call('SADD', KEYS[3], id)
if ARGV[17] == '1' then redis.call('SADD', KEYS[7], id) else redis.call('SREM', KEYS[7], id) end
return {'quarantined', current[2], current[3], 1}
"""

# KEYS: 1 all posts, 2 answer stats; ARGV: 1 post key prefix
COUNT_UNMATCHED = """
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
