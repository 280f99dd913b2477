"""The waiting pool's Lua scripts. Redis runs each atomically: matching and leaving cannot
interleave, so of a pairing and a timeout racing for one caller exactly one wins.

Keys, under the configured prefix: `pool:<language>` (or another pool's name and the
language) is a sorted set of wait tokens scored by arrival in milliseconds, one per language,
so matching never crosses languages; `wait:<token>` is a hash with the waiting caller's
`identity`, `room`, `call_id` and `since` (ms).
"""

MATCH_OR_WAIT = """
local pool, prefix = KEYS[1], ARGV[1]
local now, stale = tonumber(ARGV[2]), tonumber(ARGV[3])
local token, identity, room, call_id = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local excluded = {}
for i = 9, #ARGV do excluded[ARGV[i]] = true end
for _, other in ipairs(redis.call('ZRANGE', pool, 0, 199)) do
  local entry = prefix .. 'wait:' .. other
  local data = redis.call('HMGET', entry, 'identity', 'room', 'call_id', 'since')
  if not data[1] or tonumber(data[4]) < stale then
    redis.call('ZREM', pool, other)
    redis.call('DEL', entry)
  elseif other ~= token and data[1] ~= identity and not excluded[data[1]] then
    redis.call('ZREM', pool, other)
    redis.call('DEL', entry)
    return {'paired', other, data[2], data[3]}
  end
end
if ARGV[8] ~= '1' then return {'none', '', '', ''} end
redis.call('ZADD', pool, now, token)
redis.call('HSET', prefix .. 'wait:' .. token,
  'identity', identity, 'room', room, 'call_id', call_id, 'since', now)
return {'waiting', token, room, call_id}
"""
"""Take the oldest compatible waiting caller, or (optionally) join the pool.

KEYS[1]: the pool of the caller's language.
ARGV[1]: the key prefix; ARGV[2]: now (ms); ARGV[3]: entries that arrived before this (ms)
are stale and dropped; ARGV[4..7]: the caller's token, identity, room and call id;
ARGV[8]: '1' to wait when nobody matches, '0' only to take; ARGV[9..]: identities this
caller must not meet.
Returns {kind, token, room, call_id}: 'paired' with the partner's entry, 'waiting' with the
caller's own, or 'none' (nothing taken, not waiting). Never pairs a caller with their own
token or identity.
"""

LEAVE = """
for _, pool in ipairs(KEYS) do
  if redis.call('ZREM', pool, ARGV[2]) == 1 then
    redis.call('DEL', ARGV[1] .. 'wait:' .. ARGV[2])
    return 1
  end
end
return 0
"""
"""Remove a waiting caller from whichever language's pool holds them.

KEYS: the pool of each language. ARGV[1]: the key prefix; ARGV[2]: the caller's wait token.
Returns 1 if this call removed the entry (it alone won), else 0.
"""
