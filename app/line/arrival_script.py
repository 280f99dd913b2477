"""The greeting's one Redis round trip, as a Lua script: a command and a reply instead of a
pipeline of seven, whose packing and reply parsing cost the greeting more than the server did.
"""

ARRIVE = """
local order = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not order then
  order = redis.call('ZCARD', KEYS[1])
  redis.call('ZADD', KEYS[1], order, ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local found = {tonumber(order),
  redis.call('HGET', KEYS[3], ARGV[3]), redis.call('ZSCORE', KEYS[4], ARGV[3])}
for i = 5, #KEYS do found[#found + 1] = redis.call('GET', KEYS[i]) end
return found
"""
"""Count a call against its caller's hour and note it greeted; read what the greeting needs.

KEYS[1]: the caller's arrivals this hour (a sorted set of CallSids scored by the order they
first came in: 0, 1, 2, ... exactly, where two arrivals in one millisecond would tie a time);
KEYS[2]: the greeted CallSids by time; KEYS[3]: the languages callers chose (a hash by
identity); KEYS[4]: when callers last waited (a sorted set by identity); KEYS[5..]: the
per-process caches' version numbers.
ARGV[1]: the CallSid; ARGV[2]: the arrival (ms); ARGV[3]: the caller's newest identity;
ARGV[4]: seconds the arrivals set lives.
Returns {how many of the hour's arrivals came before this CallSid, the language chosen or nil,
when the caller last waited or nil, each version or nil}. A CallSid counted before keeps its
place.
"""
