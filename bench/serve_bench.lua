-- bench/serve_bench.lua — wrk script for bench/serve_bench.sh: POST /v1/recommend {"user", "n": 10} for user ids
-- 1..BENCH_USERS in a scrambled order, an optional pause of BENCH_DELAY_MS before each request of a connection
-- (a target rate: connections × 1000 / (pause + latency) per second; wrk 4 has no fixed-rate mode), and one line
-- "BENCH {...}" with the throughput, the latency percentiles and the failures.
local n_users = tonumber(os.getenv("BENCH_USERS") or "610")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  k = 0
end

function request()
  k = k + 1
  local u = ((k * 7919 + id * 104729) % n_users) + 1
  return wrk.format("POST", "/v1/recommend", {["Content-Type"] = "application/json"},
                    '{"user": "' .. u .. '", "n": 10}')
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
                         '"p999_ms": %.3f, "max_ms": %.3f, "errors": %d, "non2xx": %d}\n',
                         summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                         latency:percentile(99.9) / 1000, latency.max / 1000,
                         e.connect + e.read + e.write + e.timeout, e.status))
end
