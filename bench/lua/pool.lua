-- Requests built from a pool of values, one line of tab-separated fields each ({1}, {2}… in the templates; {i} is
-- the line's index in this thread's slice). Thread k of n takes lines k, k+n, k+2n… so no value is used by two
-- threads. One-time values (codes, refresh tokens) are used once each: when a thread's slice is exhausted it
-- ends the run (bench_end_run) rather than send values twice, and the run is reported as exhausted.
--
-- BENCH_POOL        the file of values
-- BENCH_THREADS     wrk's -t, to slice the pool
-- BENCH_METHOD      GET or POST; BENCH_PATH and BENCH_BODY are templates; BENCH_HEADERS extra headers
-- BENCH_CYCLE=1     reuse the pool in a loop instead (PKCE pairs for authorization requests)
-- BENCH_LIMIT=N     each thread stops after N requests, and the last one ends the run (sizing a harvest);
--                   BENCH_MARKS is the file where the threads count themselves
-- BENCH_CAPTURE     "location" (code and state of a redirect) or "json:FIELD", written to BENCH_OUT.<thread>
-- BENCH_COOKIES     a file of Cookie header values, one a line, used in turn (several signed-in sessions)
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local method = bench_getenv("BENCH_METHOD", "POST")
local path_template = bench_getenv("BENCH_PATH", "/")
local body_template = bench_getenv("BENCH_BODY", nil)
local headers = bench_headers(os.getenv("BENCH_HEADERS"))
if body_template then headers["Content-Type"] = "application/x-www-form-urlencoded" end
local cycle = os.getenv("BENCH_CYCLE") == "1"
local limit = tonumber(bench_getenv("BENCH_LIMIT", "0"))
local capture = os.getenv("BENCH_CAPTURE")

local pool = {}
local cookies = {}
local next_line = 1
local out = nil
-- Globals, read by done() in wrk's main Lua state.
pool_size, sent, captured, exhausted = 0, 0, 0, 0

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

local function encode(value)
  return (value:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function decode(value)
  return (value:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

local function fill(template, fields, index)
  if template == nil then return nil end
  return (template:gsub("{(%w+)}", function(key)
    if key == "i" then return tostring(index) end
    return encode(fields[tonumber(key)] or "")
  end))
end

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local n = 0
  for line in io.lines(os.getenv("BENCH_POOL")) do
    if line ~= "" then
      if n % threads == thread_id - 1 then table.insert(pool, split(line)) end
      n = n + 1
    end
  end
  pool_size = #pool
  if os.getenv("BENCH_COOKIES") then
    for line in io.lines(os.getenv("BENCH_COOKIES")) do
      if line ~= "" then table.insert(cookies, line) end
    end
  end
  if capture then
    out = io.open(os.getenv("BENCH_OUT") .. "." .. thread_id, "w")
    out:setvbuf("line") -- wrk never closes a thread's Lua state: each line is written at once
  end
end

function request()
  local index
  if cycle then
    index = (sent % #pool) + 1
  else
    index = next_line
  end
  if limit > 0 and sent >= limit then
    bench_end_share(os.getenv("BENCH_MARKS"), tonumber(os.getenv("BENCH_THREADS")))
    return wrk.format(method, fill(path_template, { "exhausted", "exhausted" }, 0), headers,
      fill(body_template, { "exhausted", "exhausted" }, 0))
  end
  if pool[index] == nil then
    exhausted = 1
    bench_end_run()
    -- wrk still sends what this returns; an unknown value is refused without side effects.
    return wrk.format(method, fill(path_template, { "exhausted", "exhausted" }, 0), headers,
      fill(body_template, { "exhausted", "exhausted" }, 0))
  end
  next_line = next_line + 1
  if #cookies > 0 then headers["Cookie"] = cookies[(sent + thread_id) % #cookies + 1] end
  sent = sent + 1
  return wrk.format(method, fill(path_template, pool[index], index), headers, fill(body_template, pool[index], index))
end

if capture == "location" then
  -- An authorization response: keep the code with the PKCE verifier of the request it answers (found by state).
  function response(status, response_headers, body)
    local location = response_headers["Location"] or response_headers["location"]
    if not location then return end
    local code = location:match("[?&]code=([^&#]+)")
    local state = tonumber(location:match("[?&]state=([^&#]+)") or "")
    if code and state and pool[state] then
      out:write(decode(code), "\t", pool[state][1], "\n")
      captured = captured + 1
    end
  end
elseif capture then
  local field = capture:match("^json:(.+)$")
  function response(status, response_headers, body)
    local value = body:match('"' .. field .. '"%s*:%s*"([^"]+)"')
    if status == 200 and value then
      out:write(value, "\n")
      captured = captured + 1
    end
  end
end
