-- The wrk script of scripts/bench.sh. BENCH_TOKEN: every request carries "Authorization: Bearer <token>".
-- BENCH_CLIENTS=N: every request carries a random one of N X-Forwarded-For addresses (10.x.y.z; the edge targets
-- of these loads trust 127.0.0.0/8 as a proxy, so each address is a client of its own). The requests are formatted
-- once, at start, so the load generator does no per-request string work.
local token = os.getenv("BENCH_TOKEN")
local clients = tonumber(os.getenv("BENCH_CLIENTS") or "0") or 0

if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

if clients > 0 then
  local requests = {}
  -- Built in init: wrk adds the Host header just before it calls init.
  function init(args)
    for i = 1, clients do
      local n = i - 1
      wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
      requests[i] = wrk.format()
    end
    wrk.headers["X-Forwarded-For"] = nil
    math.randomseed(os.time())
  end
  function request()
    return requests[math.random(clients)]
  end
end
