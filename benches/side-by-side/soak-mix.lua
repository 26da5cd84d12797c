-- wrk script for soak.sh: orgs-random-token.lua (a random token per request, its RESULT line)
-- with a mix of routes: 90 % GET /dashboard, 5 % GET /orgs, 5 % POST /tasks/claim; prints a
-- STATUS line besides (answers by status code: a viewer's claim is a 404 by design).
-- Usage: wrk -t1 ... -s soak-mix.lua http://127.0.0.1:PORT/dashboard -- tokens.txt
dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "orgs-random-token.lua")

local base_setup, base_request, base_done, threads = setup, request, done, {}
function setup(thread) base_setup(thread); threads[#threads + 1] = thread end

statuses = {}
function response(status) statuses[status] = (statuses[status] or 0) + 1 end

-- The base request (GET of the URL's path, a random token) with its request line swapped.
function request()
  local req, r = base_request(), math.random(100)
  if r <= 5 then return (req:gsub("^GET [^ ]+", "GET /orgs", 1)) end
  if r <= 10 then return (req:gsub("^GET [^ ]+", "POST /tasks/claim", 1)) end
  return req
end

function done(summary, latency, requests)
  base_done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  io.write("STATUS " .. table.concat(parts, " ") .. "\n")
end
