-- One fixed request, sent again and again: wrk's fastest path (the request is built once per thread).
-- BENCH_METHOD, BENCH_BODY (form body), BENCH_HEADERS ("Name: value" lines).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = bench_getenv("BENCH_METHOD", "GET")
wrk.body = bench_getenv("BENCH_BODY", nil)
for name, value in pairs(bench_headers(os.getenv("BENCH_HEADERS"))) do wrk.headers[name] = value end
if wrk.body then wrk.headers["Content-Type"] = "application/x-www-form-urlencoded" end
