-- wrk script for the CloudMart bench. GET by default; with BENCH_ORDERS=1 every
-- request is a POST /api/orders, rotating over BENCH_PRODUCTS product ids so the
-- rows being locked are spread out. done() prints one JSON line the bench parses.
local orders = os.getenv("BENCH_ORDERS") == "1"
local requests = {}
local n = 0
local i = 0

init = function(args)
  if not orders then return end
  local products = tonumber(os.getenv("BENCH_PRODUCTS") or "20")
  local headers = { ["Content-Type"] = "application/json" }
  for id = 1, products do
    local body = string.format('{"items":[{"productId":%d,"quantity":1}],"customerEmail":"bench-%d@example.com"}', id, id)
    n = n + 1
    requests[n] = wrk.format("POST", "/api/orders", headers, body)
  end
end

-- Defined only for orders: without a request() function wrk reuses one prebuilt GET.
if orders then
  request = function()
    i = i % n + 1
    return requests[i]
  end
end

done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
