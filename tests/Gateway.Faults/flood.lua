-- wrk script of the key flood (tests/Gateway.Faults/LoadFaults.cs): every request carries a client key (X-Forwarded-For)
-- never sent before. Arguments: the first key number and how many keys this wrk process sends (run it with one thread).
-- Globals, not locals: done() reads them from each thread.
first, count, sent, answered, failed = 0, 0, 0, 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  first = tonumber(args[1])
  count = tonumber(args[2])
end

function request()
  if sent < count then
    sent = sent + 1
  end
  local key = first + sent
  local address = string.format("100.%d.%d.%d", 64 + math.floor(key / 65536), math.floor(key / 256) % 256, key % 256)
  return wrk.format("GET", "/api/flood/x", { ["X-Forwarded-For"] = address })
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 and status ~= 429 then
    failed = failed + 1
  end
  if answered >= count then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local keys, bad = 0, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, thread in ipairs(threads) do
    keys = keys + thread:get("sent")
    bad = bad + thread:get("failed")
  end
  io.write(string.format("flood: keys=%d answered=%d failed=%d p99_ms=%.1f\n", keys, summary.requests, bad, latency:percentile(99) / 1000))
end
