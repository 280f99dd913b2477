-- Pre-signed Twilio webhooks for wrk, one request a line of a file made by bench/wrk_webhooks.py:
--   path <TAB> form body <TAB> X-Twilio-Signature
-- wrk -t T -c C -d D -s bench/wrk/signed.lua URL -- FILE T [RATE]
-- Each of the T threads sends its own share of the lines (line i goes to thread i mod T), each
-- once; `wrapped` counts the sends after a thread ran out of lines. With RATE (requests a
-- second, all threads together), delay() holds each send until its slot on a fixed schedule
-- (open loop per thread: a slot missed is sent at once, and `late` counts sends more than
-- 1 ms after their slot). wrk measures latency from the send, so a late send's wait is not
-- in its latency: `late` says how far that matters.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local threads, ids = {}, 0

function setup(thread)
  thread:set("id", ids)
  ids = ids + 1
  table.insert(threads, thread)
end

local requests, nextone, slot, interval = {}, 1, nil, nil
late, late_max_ms, wrapped = 0, 0, 0

function init(args)
  local file, count, rate = args[1], tonumber(args[2]), tonumber(args[3] or "0")
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  local index = 0
  for line in io.lines(file) do
    if index % count == id then
      local path, body, signature = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
      headers["X-Twilio-Signature"] = signature
      table.insert(requests, wrk.format("POST", path, headers, body))
    end
    index = index + 1
  end
  if rate > 0 then
    interval = count / rate
    delay = paced -- wrk looks for delay() after init: unpaced runs send back to back
  end
end

function request()
  local chosen = requests[nextone]
  nextone = nextone + 1
  if nextone > #requests then
    nextone = 1
  end
  if nextone == 1 then
    wrapped = wrapped + 1
  end
  return chosen
end

function paced()
  local t = now()
  if slot == nil then
    slot = t
  end
  local wait = slot - t
  slot = slot + interval
  if wait < -0.001 then
    late = late + 1
    late_max_ms = math.max(late_max_ms, -wait * 1000)
  end
  return math.max(0, math.floor(wait * 1000 + 0.5))
end

function done(summary, latency, _requests)
  local late_all, late_worst, wraps = 0, 0, 0
  for _, thread in ipairs(threads) do
    late_all = late_all + thread:get("late")
    late_worst = math.max(late_worst, thread:get("late_max_ms"))
    wraps = wraps + thread:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d, "late": %d, "late_max_ms": %.1f, '
      .. '"wrapped": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, late_all, late_worst, wraps
  ))
end
