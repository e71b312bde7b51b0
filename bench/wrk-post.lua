-- wrk script: POST the file named by WRK_BODY as JSON (a GET when WRK_BODY
-- is empty), optionally pace each connection (WRK_DELAY_MS between its
-- requests, for a fixed offered rate), and print one JSON line of results
-- when done.
local body_file = os.getenv("WRK_BODY") or ""
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"requests_per_sec":%.1f,"errors":%d,"non_2xx":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, seconds, summary.requests / seconds, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
