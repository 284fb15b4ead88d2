-- The filter nodes through the Lua scene layer, on the real footage: a
-- Convolve kernel given as a table of rows is the same node as the flat
-- list (same key: the second render computes nothing), bad
-- tables are refused with the node's file:line, and a Median on footage
-- keeps the frame's data window.
local t = require "testlib"
local reel = require "reel"

local tmp = t.tmpdir()
local src = reel.Read { t.footage, range = {1, 2} }

t.test("a table of rows is flattened row by row", function()
  local rows = reel.Convolve { src, name = "rows", kernel = {{0, -1, 0}, {-1, 5, -1}, {0, -1, 0}} }
  local flat = reel.Convolve { src, name = "flat", kernel = {0, -1, 0, -1, 5, -1, 0, -1, 0} }
  reel.output(rows, "rows")
  local s1 = reel.render { frames = {1, 1}, output = "rows", cache = false }
  assert(s1.computed == 2, ("read and convolve: computed %d"):format(s1.computed))
  reel.output(flat, "flat")
  local s2 = reel.render { frames = {1, 1}, output = "flat", cache = false }
  assert(s2.computed == 0, ("the flat list is the same kernel: computed %d"):format(s2.computed))
end)

t.test("ragged or non-numeric rows are refused at the caller's line", function()
  local line = t.line() + 1
  t.raises(function() reel.Convolve { src, kernel = {{1, 2}, {3}} } end,
    "test_filter.lua:" .. line, "row 2 is not a list of 2 numbers")
  t.raises(function() reel.Convolve { src, kernel = {{1, "x"}, {3, 4}} } end, "entry 2 is not a number")
  t.raises(function() reel.Convolve { src, kernel = {1, 2, 3, 4, 5} } end, "not a square: give width")
end)

t.test("Median and Blur on footage: data windows", function()
  local m = reel.Median { src, radius = 5 }
  local b = reel.Blur { m, size = 8 }
  reel.output(reel.Write { b, name = "wb", path = tmp .. "/b.####.exr", pixeltype = "float" })
  reel.render { frames = {1, 1}, output = "wb", cache = false }
  local p = io.popen("'" .. (os.getenv("REEL_ROOT") or ".") .. "/bin/reel' info " .. tmp .. "/b.0001.exr")
  local info = p:read("*a")
  p:close()
  assert(info:find("data%s+%(%-10, %-10%) %- %(778, 586%)"), info)
end)

t.rm(tmp)
t.done()
