-- wrk script for bench/publish.sh: publications to the router's publish API
-- (or to bench/http_floor, which answers the same requests).
--
--   wrk ... -s bench/wrk/publish.lua http://127.0.0.1:PORT -- MODE TOKEN SIZE COUNT
--
-- MODE single: POST /api/v1/publish, COUNT requests pipelined per write
--   (1: one request in flight per connection; more: the known wrk trick,
--   request() returns COUNT requests concatenated and wrk counts each answer).
-- MODE batch: POST /api/v1/publish/batch with COUNT publications in one body,
--   one request in flight per connection.
-- Each publication is {"channel":"bench","type":"bench","data":{"p":"xx..."}}
-- with SIZE bytes of data. done() prints one JSON line (prefixed "WRKJSON ")
-- for the script to keep; wrk's own report goes to stdout as usual.

local function publication(size)
  -- data is {"p":"xxx"}: 8 bytes of its own around the padding.
  local pad = size > 8 and size - 8 or 0
  return '{"channel":"bench","type":"bench","data":{"p":"' .. string.rep("x", pad) .. '"}}'
end

local payload

function init(args)
  local mode, token, size, count = args[1], args[2], tonumber(args[3]), tonumber(args[4])
  if (mode ~= "single" and mode ~= "batch") or token == nil or size == nil or count == nil
      or count < 1 then
    error("publish.lua: arguments are MODE(single|batch) TOKEN SIZE COUNT, got: " ..
          table.concat(args, " "))
  end
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  if mode == "single" then
    local one = wrk.format("POST", "/api/v1/publish", headers, publication(size))
    payload = string.rep(one, count)
  else
    local body = {}
    for i = 1, count do body[i] = publication(size) end
    payload = wrk.format("POST", "/api/v1/publish/batch", headers,
                         '{"messages":[' .. table.concat(body, ",") .. ']}')
  end
end

function request()
  return payload
end

-- wrk's percentile() answers 0 when its rank runs past the recorded counts
-- (seen with pipelined requests, whose latency is recorded once a pipeline):
-- null then, not a latency of 0.
local function percentile(latency, p)
  local v = latency:percentile(p)
  if v == 0 and latency.max > 0 then return "null" end
  return string.format("%d", v)
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"requests_per_s":%.1f,"bytes_read":%d,' ..
    '"non_2xx":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%s,"p99":%s,"p999":%s,"max":%d,"mean":%.1f}}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    e.status, e.connect, e.read, e.write, e.timeout,
    percentile(latency, 50), percentile(latency, 99), percentile(latency, 99.9), latency.max,
    latency.mean))
end
