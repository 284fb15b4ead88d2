-- Graph construction and evaluation through the Lua scene layer, on real
-- footage (vtest frames): error messages with file:line, keyframes, lazy
-- evaluation and what a change recomputes.
local t = require "testlib"
local reel = require "reel"

local tmp = t.tmpdir()
local cache = tmp .. "/cache"
local src = reel.Read { t.footage, range = {1, 12} }

t.test("read clip info", function()
  local a, b = src:range()
  assert(a == 1 and b == 12, ("range %d-%d"):format(a, b))
end)

t.test("errors point at the graph file line", function()
  local line = t.line() + 1
  local err = t.raises(function() reel.Crop { src, box = {0, 0, 10} } end,
    "Crop", "test_graph.lua:" .. line, "box", "4 numbers")
  line = t.line() + 1
  t.raises(function() reel.Crop { src, bx = {0, 0, 10, 10} } end,
    "test_graph.lua:" .. line, "no parameter or input 'bx'", "box")
  line = t.line() + 1
  t.raises(function() reel.Crop { box = {0, 0, 10, 10} } end,
    "test_graph.lua:" .. line, "input 'img'", "not connected")
  t.raises(function() reel.Crop { src, box = {10, 10, 5, 5} } end, "empty")
  t.raises(function() reel.Write { src, path = "x.exr", compression = "dwx" } end,
    "compression", "\"dwaa\"")
  t.raises(function() reel.Write { src, path = "x.png", compression = "dwaa" } end,
    "png files cannot use compression")
  t.raises(function() reel.Read { "/nonexistent/x.####.exr" } end, "no file matches")
  t.raises(function() reel.FrameRange { src, range = {5, 50} } end, "inside the input's frames 1-12")
  t.raises(function() reel.NoSuchNode { src } end, "no node type 'NoSuchNode'")
  local w = reel.Write { src, path = tmp .. "/never.####.exr" }
  t.raises(function() reel.Crop { w, box = {0, 0, 1, 1} } end, "takes Image values", "Write", "Record")
end)

t.test("cycles are refused", function()
  local a = reel.Crop { src, box = {0, 0, 100, 100} }
  local b = reel.Crop { a, box = {0, 0, 50, 50} }
  t.raises(function() a:set { img = b } end, "cycle")
end)

t.test("second render computes nothing; a change recomputes only downstream", function()
  local crop = reel.Crop { src, name = "crop1", box = {10, 20, 400, 300} }
  local other = reel.Crop { src, name = "crop2", box = {0, 0, 200, 200} }
  reel.output(reel.Write { crop, name = "w1", path = tmp .. "/a.####.exr" })
  reel.output(reel.Write { other, name = "w2", path = tmp .. "/b.####.exr" })
  local s1 = reel.render { cache = cache, frames = {1, 4}, stats_json = tmp .. "/s1.json" }
  local st = t.read_stats(tmp .. "/s1.json")
  assert(st.nodes.crop1.computed == 4 and st.nodes.crop2.computed == 4, "first render")
  assert(st.nodes.w1.computed == 4 and st.nodes.w2.computed == 4)
  local s2 = reel.render { cache = cache, frames = {1, 4} }
  assert(s2.computed == 0, ("second render computed %d"):format(s2.computed))
  crop:set { box = {12, 20, 400, 300} }
  reel.render { cache = cache, frames = {1, 4}, stats_json = tmp .. "/s3.json" }
  st = t.read_stats(tmp .. "/s3.json")
  assert(st.nodes.crop1.computed == 4, "changed crop recomputed")
  assert(st.nodes.w1.computed == 4, "its Write recomputed")
  assert(not st.nodes.crop2 or st.nodes.crop2.computed == 0, "other crop untouched")
  assert(st.nodes.w2.computed == 0 and st.nodes.w2.memory_hits == 4, "other Write cached")
  -- the Read was not decoded again either: it is in the memory cache
  assert(st.computed == 8, ("total computed %d, expected 8"):format(st.computed))
end)

t.test("keyframed crop recomputes only frames whose value changed", function()
  local kc = reel.Crop { src, name = "kc",
    box = {0, 0, 300, reel.keys { {1, 100}, {6, 100}, {7, 200}, interp = "step" }} }
  reel.output(reel.Write { kc, name = "kw", path = tmp .. "/k.####.exr" })
  reel.render { cache = cache, output = "kw", frames = {1, 10} }
  -- move the key at frame 7 to 250: only frames 7-10 change
  kc:set { box = {0, 0, 300, reel.keys { {1, 100}, {6, 100}, {7, 250}, interp = "step" }} }
  reel.render { cache = cache, output = "kw", frames = {1, 10}, stats_json = tmp .. "/k.json" }
  local st = t.read_stats(tmp .. "/k.json")
  assert(st.nodes.kc.computed == 4, ("kc computed %s, expected 4"):format(st.nodes.kc.computed))
  assert(st.nodes.kw.computed == 4)
end)

t.test("dataset frames: FrameHold with a list, AppendClip, TimeOffset", function()
  local picks = reel.pick_frames(1, 12, 4)
  assert(#picks == 4 and picks[1] == 1 and picks[4] == 12 and picks[2] == 5 and picks[3] == 8,
    table.concat(picks, ","))
  local ds = reel.FrameHold { src, frames = picks, first = 101 }
  local a, b = ds:range()
  assert(a == 101 and b == 104)
  local app = reel.AppendClip { reel.FrameRange { src, range = {1, 3} }, reel.FrameRange { src, range = {10, 12} } }
  a, b = app:range()
  assert(a == 1 and b == 6, ("append %d-%d"):format(a, b))
  local off = reel.TimeOffset { src, offset = 1000 }
  a, b = off:range()
  assert(a == 1001 and b == 1012)
end)

t.test("keyframes on a node fed by a still give it the keys' frames", function()
  local still = reel.Read { (os.getenv("REEL_ROOT") or ".") .. "/data/vtest/vtest.0001.png" }
  assert(select(1, still:range()) < -1e9, "a still is the same picture on every frame")
  local kc = reel.Crop { still, box = {0, 0, 100, reel.keys { [10] = 50, [14] = 90 }} }
  local a, b = kc:range()
  assert(a == 10 and b == 14, ("range %d-%d"):format(a, b))
  local w = reel.Write { kc, name = "stillw", path = tmp .. "/still.####.exr" }
  reel.output(w, "stillw")
  reel.render { cache = cache, output = "stillw", stats_json = tmp .. "/st.json" }
  local st = t.read_stats(tmp .. "/st.json")
  assert(st.frames == 5 and st.nodes.stillw.computed == 5, "five frames written")
end)

t.rm(tmp)
t.done()
