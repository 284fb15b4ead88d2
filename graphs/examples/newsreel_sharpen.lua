-- Spatial recovery: a soft duplicate negative of a newsreel, and 300 frames
-- of it that survive in a sharper first-generation print. The network learns
-- the print's detail and grain on the overlap and applies it to the whole
-- reel; the source keeps its own colour (luma mode).
local reel    = require "reel"
local spatial = require "reel.templates.spatial_recovery"

local dupe  = reel.Read { "scans/dupe/n.####.dpx", range = {1, 4800} }
local print = reel.Read { "scans/print/p.####.dpx", range = {1, 300} }

return spatial {
  source = dupe, space = "cineon", better = print, better_space = "cineon",
  better_offset = 1210,                        -- reel sync: the print starts at dupe frame 1211
  mode = "luma", count = 6, crop = {64, 32, 1984, 1524},
  train = {steps = 40000, patch = 256, size = "medium"},
  output = "renders/newsreel_sharp.####.exr", output_space = "aces2065-1",
}
