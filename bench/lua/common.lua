-- Shared by every workload script: the credentials, a helper for fixed
-- requests, and one machine-readable line at the end of a run, which
-- bench/run.py reads (wrk's own summary rounds latencies).
local threads = {}

function setup(thread)
  -- each wrk thread runs its own Lua state; its number keeps the documents
  -- it makes apart from the other threads'
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end

-- The APIs' ready credentials (README, "Ready credentials").
FACTURACION = {["Authorization"] = "Bearer 1|sunat_demo_admin_token"}
DAFTRA = {["APIKEY"] = "demo-daftra-api-key"}

-- One fixed request, sent as is on every connection.
function fixed(method, path, credential, body)
  wrk.method = method
  wrk.path = path
  for name, value in pairs(credential) do wrk.headers[name] = value end
  wrk.headers["Accept"] = "application/json"
  if body then
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = body
  end
end
