-- wrk script of the key flood (tests/Gateway.Faults/LoadFaults.cs): every request carries a client key (X-Forwarded-For)
-- never sent before. Arguments: the first key number, how many keys this wrk process sends (run it with one thread), and
-- the rate to send them at, per second. The rate is held by delay() against a monotonic clock (LuaJIT's ffi): without it
-- the connections send as fast as the edge answers, and 100k keys meant for 60 s went out in about 15 s, followed by 45 s
-- of nothing while wrk waited out its -d. When the last key is answered the thread prints its line and stops; the
-- driver reads that line and ends wrk (done() prints the same line when -d runs out first).
-- Globals, not locals: done() reads them from each thread.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } flood_timespec;
  int clock_gettime(int clock, flood_timespec *now);
]]
local clock = ffi.new("flood_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

first, count, rate, sent, answered, failed, scheduled, started, ended = 0, 0, 0, 0, 0, 0, 0, nil, nil
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  first = tonumber(args[1])
  count = tonumber(args[2])
  rate = tonumber(args[3])
end

-- Key number n goes out at started + n / rate, whichever connection sends it.
function delay()
  local now = now_ms()
  if started == nil then
    started = now
  end
  scheduled = scheduled + 1
  local due = started + (scheduled - 1) * 1000 / rate - now
  return due > 0 and due or 0
end

function request()
  if sent < count then
    sent = sent + 1
  end
  local key = first + sent
  local address = string.format("100.%d.%d.%d", 64 + math.floor(key / 65536), math.floor(key / 256) % 256, key % 256)
  return wrk.format("GET", "/api/flood/x", { ["X-Forwarded-For"] = address })
end

local function summary(keys, requests, bad, seconds)
  io.write(string.format("flood: keys=%d answered=%d failed=%d seconds=%.2f\n", keys, requests, bad, seconds))
  io.flush()
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 and status ~= 429 then
    failed = failed + 1
  end
  if answered == count then
    ended = now_ms()
    summary(sent, answered, failed, (ended - started) / 1000)
    wrk.thread:stop()
  end
end

function done(summary_, latency, requests)
  local keys, bad = 0, summary_.errors.connect + summary_.errors.read + summary_.errors.write + summary_.errors.timeout
  for _, thread in ipairs(threads) do
    keys = keys + thread:get("sent")
    bad = bad + thread:get("failed")
  end
  summary(keys, summary_.requests, bad, summary_.duration / 1e6)
end
