-- Shared by the bench's wrk scripts (loaded with dofile): thread numbering, a wall clock, the early end of a
-- run, and one machine-readable line of results (wrk's own text output has no percentiles at full precision).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
  int kill(int pid, int sig);
  int getpid(void);
]]

function bench_now()
  local tv = ffi.new("bench_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

-- wrk sleeps for the whole duration in its main thread; SIGINT wakes it and stops every thread within 100 ms,
-- and wrk then reports the time actually run. A thread whose pool is exhausted stops itself and ends the run.
function bench_end_run()
  if not bench_ended then
    bench_ended = bench_now()
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end

-- A thread that has done its share stops; the last one to stop ends the run. Threads share no Lua state, so
-- they count themselves in a file: each appends its line and then counts, so the last to append sees them all.
function bench_end_share(marks, threads)
  if bench_ended then return end
  bench_ended = bench_now()
  local file = io.open(marks, "a")
  file:write(thread_id, "\n")
  file:close()
  local count = 0
  for _ in io.lines(marks) do count = count + 1 end
  wrk.thread:stop()
  if count >= threads then ffi.C.kill(ffi.C.getpid(), 2) end
end

function bench_getenv(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then return default end
  return value
end

-- Extra headers, one "Name: value" a line.
function bench_headers(text)
  local headers = {}
  for line in (text or ""):gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
  return headers
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local function sum(name)
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get(name) or 0) end
  return total
end

function done(summary, latency, requests)
  local ended = 0
  for _, thread in ipairs(threads) do
    local at = thread:get("bench_ended")
    if at and (ended == 0 or at < ended) then ended = at end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"mean":%.1f,"max":%.1f},' ..
    '"pool":%d,"sent":%d,"captured":%d,"exhausted_threads":%d,"ended_early":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    sum("pool_size"), sum("sent"), sum("captured"), sum("exhausted"), tostring(ended > 0)))
end
