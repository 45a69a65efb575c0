-- wrk script: request the paths listed in a file (one a line), in turn, starting at a
-- random line per thread, so requests spread over many rows; print a summary as JSON.
--   wrk ... -s bench/paths.lua <url> -- <paths file> [<method> <body file> <unique header>]
-- With a method (POST), every request carries the body file's content and, when named, a
-- header with a value no other request of the run has (an Idempotency-Key).
local paths = {}
local index = 0
local threads = {}
local method = nil
local body = nil
local unique = nil
local sent = 0
local prefix = ""

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no paths in " .. args[1])
  end
  math.randomseed(os.time() + (number or 0) * 7919)
  index = math.random(#paths) - 1
  if args[2] and #args[2] > 0 then
    method = args[2]
    local file = assert(io.open(args[3], "rb"))
    body = file:read("*a")
    file:close()
    if args[4] and #args[4] > 0 then
      unique = args[4]
    end
    prefix = string.format("%d-%d-%d-", os.time(), number or 0, math.random(1000000000))
  end
end

function request()
  index = index % #paths + 1
  if method == nil then
    return wrk.format(nil, paths[index])
  end
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Content-Type"] = "application/json"
  if unique then
    sent = sent + 1
    headers[unique] = prefix .. sent
  end
  return wrk.format(method, paths[index], headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, '
      .. '"read": %d, "write": %d, "status": %d, "timeout": %d}, "latency_us": {"mean": %.1f, '
      .. '"p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max
  ))
end
