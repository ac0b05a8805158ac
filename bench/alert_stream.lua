-- wrk script: POST Alertmanager API v2 alert arrays ([{labels, annotations, startsAt, endsAt}]).
--
-- wrk <options> -s bench/alert_stream.lua <url> -- \
--     <path> <bearer key> <alerts per request> <wrk threads> <distinct label sets> \
--     <startsAt> <endsAt> <phase tag> [<requests/s>]
--
-- Alert n (0 <= n < distinct) has the labels
--   {alertname: A<n % 100>, service: svc<n % 20>, instance: host<n>, phase: <tag>}
-- so the stream holds `distinct` label sets in 100 groups (by alertname). Thread t sends the
-- alerts n = t, t + threads, t + 2 * threads, ... cycling, so the threads never overlap and the
-- whole set is re-sent once it is used up (a re-send is what Prometheus does every evaluation).
-- Requests are formatted once in init(); request() only hands out the next one.
--
-- With a rate (requests/s over all threads; absent or 0: as fast as the server answers), each
-- thread paces its requests evenly with delay(), on CLOCK_MONOTONIC read through LuaJIT's FFI.
-- A connection still waits for its response first (wrk is closed-loop), so a server that falls
-- behind is offered less: count the responses to know the rate reached. A thread that fell
-- behind catches up by at most one interval (no burst).
--
-- done() prints one line `WRKJSON {...}` with the counts wrk's text output leaves out: the
-- responses per HTTP status (counted in response()) and the socket errors by kind.

local next_id = 0
local threads = {}

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  local key = args[2]
  local batch = tonumber(args[3])
  local nthreads = tonumber(args[4])
  local distinct = tonumber(args[5])
  local starts = args[6]
  local ends = args[7]
  local tag = args[8]
  local rate = tonumber(args[9] or "0")

  statuses = {}
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. key

  local mine = math.floor(distinct / nthreads)
  local count = math.max(1, math.floor(mine / batch))
  pool = {}
  local n = id
  for r = 1, count do
    local parts = {}
    for b = 1, batch do
      local i = n % distinct
      parts[b] = string.format(
        '{"labels":{"alertname":"A%d","service":"svc%d","instance":"host%d","phase":"%s"},'
          .. '"annotations":{"summary":"bench alert %d"},"startsAt":"%s","endsAt":"%s"}',
        i % 100, i % 20, i, tag, i, starts, ends)
      n = n + nthreads
    end
    pool[r] = wrk.format("POST", path, headers, "[" .. table.concat(parts, ",") .. "]")
  end
  pool_size = count
  cursor = 0
  if rate > 0 then
    pace(1000 * nthreads / rate)
  end
end

-- Defined only with a rate: wrk calls delay() before every request once it exists.
function pace(interval_ms)
  local ffi = require("ffi")
  ffi.cdef([[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock_id, bench_timespec *tp);
  ]])
  local ts = ffi.new("bench_timespec")
  local CLOCK_MONOTONIC = 1
  local next_at = nil
  function delay()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    local now = tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
    if next_at == nil or next_at < now - interval_ms then
      next_at = now
    end
    local wait = next_at - now
    next_at = next_at + interval_ms
    return math.floor(wait)
  end
end

function request()
  cursor = cursor % pool_size + 1
  return pool[cursor]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses")
    if counted then
      for status, n in pairs(counted) do
        merged[status] = (merged[status] or 0) + n
      end
    end
  end
  local codes = {}
  for status, n in pairs(merged) do
    table.insert(codes, string.format('"%d":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"statuses":{%s},'
      .. '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(codes, ","),
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
