-- wrk script for `make bench`: one request shape per run, set by the driver (bench/bench.py)
-- through environment variables, and a JSON summary written when the run ends.
--
--   BENCH_METHOD   GET or POST
--   BENCH_PATH     request path with query (static requests)
--   BENCH_HOST     Host header (e.g. dev.localhost:PORT: the vault is chosen by Host)
--   BENCH_TOKEN    bearer token (from the server's managed-identity endpoint)
--   BENCH_BODY     request body (JSON), optional
--   BENCH_PATHS    optional file with one path per line, cycled per thread (list pages)
--   BENCH_CREATE   optional name prefix: POST /keys/PREFIX-T-N/create, a new name per request
--   BENCH_SET_SECRET optional name prefix: PUT /secrets/PREFIX-T-N, a new secret per request
--   BENCH_OUT      where done() writes {"requests":..,"p50_us":..,...}

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
local paths_file = os.getenv("BENCH_PATHS")
local create_prefix = os.getenv("BENCH_CREATE")
local secret_prefix = os.getenv("BENCH_SET_SECRET")
local api_version = os.getenv("BENCH_API_VERSION") or "7.4"

wrk.method = method
wrk.path = path
wrk.body = body
wrk.headers["Host"] = os.getenv("BENCH_HOST")
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
if body then wrk.headers["Content-Type"] = "application/json" end

local next_tid = 0
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

if paths_file and paths_file ~= "" then
  local list = {}
  for line in io.lines(paths_file) do
    if line ~= "" then list[#list + 1] = line end
  end
  local i = 0
  function request()
    -- Threads start at different pages so that together they cycle the whole listing.
    i = i + 1
    local p = list[((i + (tid or 0) * 7) % #list) + 1]
    return wrk.format(method, p, nil, body)
  end
elseif secret_prefix and secret_prefix ~= "" then
  local n = 0
  function request()
    n = n + 1
    local p = "/secrets/" .. secret_prefix .. "-" .. (tid or 0) .. "-" .. n ..
              "?api-version=" .. api_version
    return wrk.format("PUT", p, nil, body)
  end
elseif create_prefix and create_prefix ~= "" then
  local n = 0
  function request()
    n = n + 1
    local p = "/keys/" .. create_prefix .. "-" .. (tid or 0) .. "-" .. n ..
              "/create?api-version=" .. api_version
    return wrk.format("POST", p, nil, body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max)
  local f = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  f:write(out)
  f:close()
end
