-- Plain test helper for Lua tests: t.test(name, fn) runs fn and records a
-- failure if it raises; t.done() prints "N passed, N failed" and exits.
local M = { passed = 0, failed = 0 }

function M.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    M.passed = M.passed + 1
    io.stderr:write("ok ", name, "\n")
  else
    M.failed = M.failed + 1
    io.stderr:write("not ok ", name, "\n  ", tostring(err):gsub("\n", "\n  "), "\n")
  end
end

function M.done()
  print(("%d passed, %d failed"):format(M.passed, M.failed))
  os.exit(M.failed == 0 and 0 or 1)
end

-- Asserts that fn raises an error whose message contains every pattern
-- (plain substrings); returns the message.
function M.raises(fn, ...)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  err = tostring(err)
  for _, s in ipairs({ ... }) do
    assert(err:find(s, 1, true), ("error message lacks %q:\n%s"):format(s, err))
  end
  return err
end

function M.tmpdir()
  local p = io.popen("mktemp -d /tmp/reel-test.XXXXXX")
  local d = p:read("*l")
  p:close()
  return d
end

function M.rm(dir) os.execute("rm -rf '" .. dir .. "'") end

-- The line number of the caller (for file:line assertions).
function M.line() return debug.getinfo(2, "l").currentline end

-- Frame files of the real footage (tools/fetch-footage.sh).
M.footage = (os.getenv("REEL_ROOT") or ".") .. "/data/vtest/vtest.####.png"

-- Reads a --stats-json file into a table: totals and per-node counts by name.
function M.read_stats(path)
  local f = assert(io.open(path))
  local s = f:read("*a")
  f:close()
  local st = { nodes = {} }
  for _, k in ipairs { "computed", "memory_hits", "disk_hits", "frames" } do
    st[k] = tonumber(s:match('"' .. k .. '": (%d+)'))
  end
  for obj in s:gmatch("{[^{}]*}") do
    local name = obj:match('"name": "([^"]*)"')
    local ty = obj:match('"type": "([^"]*)"')
    if name and name ~= "" then
      st.nodes[name] = { type = ty, computed = tonumber(obj:match('"computed": (%d+)')),
        memory_hits = tonumber(obj:match('"memory_hits": (%d+)')),
        disk_hits = tonumber(obj:match('"disk_hits": (%d+)')) }
    end
  end
  return st
end

return M
