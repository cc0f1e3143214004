-- wrk script for the intake benchmark: POSTs pre-made sealed submissions to /api/v1/tips on
-- kept-alive connections, rotating through a file of distinct bodies (one per line, made by
-- make-bodies.py), so no two requests in a run carry the same ciphertext until the file wraps.
--
--   BODIES=FILE wrk -s post-tips.lua ...
--
-- Requests are formatted once at start-up, so the load generator spends its time on TLS and
-- sockets, not on Lua. Each wrk thread takes every Nth line of the file. done() prints one
-- machine-readable line for bench.sh:
--   RESULT requests=R seconds=S rps=X p50_ms=A p99_ms=B non2xx=E errors=F wraps=W

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local path = os.getenv("BODIES")
   local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
   local headers = { ["Content-Type"] = "application/json" }
   reqs = {}
   local i = 0
   for line in io.lines(path) do
      if i % nthreads == tid then
         reqs[#reqs + 1] = wrk.format("POST", "/api/v1/tips", headers, line)
      end
      i = i + 1
   end
   assert(#reqs > 0, "no bodies in " .. tostring(path))
   idx = 0
   wraps = 0
   non2xx = 0
end

function request()
   idx = idx + 1
   if idx > #reqs then
      idx = 1
      wraps = wraps + 1
   end
   return reqs[idx]
end

function response(status, headers, body)
   if status ~= 201 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local non, wr = 0, 0
   for _, t in ipairs(threads) do
      non = non + (t:get("non2xx") or 0)
      wr = wr + (t:get("wraps") or 0)
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d wraps=%d\n",
      summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, non, e.connect + e.read + e.write + e.timeout, wr))
end
