-- wrk script for orgs-dashboard.sh: GET the URL's path with a bearer token picked at random
-- from a file of tokens, one per line, for every request.
-- Usage: wrk ... -s orgs-random-token.lua http://127.0.0.1:PORT/dashboard -- tokens.txt
-- Prints one RESULT line (latencies in microseconds) when done.
local tokens = {}

function init(args)
  local f = assert(io.open(args[1] or "tokens.txt", "r"))
  for line in f:lines() do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
  f:close()
  assert(#tokens > 0, "no tokens in " .. (args[1] or "tokens.txt"))
  math.randomseed(os.time() + (id or 0))
end

function setup(thread)
  thread:set("id", (setup_n or 0)); setup_n = (setup_n or 0) + 1
end

function request()
  return wrk.format("GET", nil, { ["Authorization"] = tokens[math.random(#tokens)] })
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
