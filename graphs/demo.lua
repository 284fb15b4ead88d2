-- The demo graph: real footage (opencv-doc's vtest.avi, extracted by
-- tools/fetch-footage.sh into data/vtest), dataset curation and a render.
--   reel render graphs/demo.lua          (run it twice: the second run
--                                         recomputes nothing)
local reel = require "reel"

local first, last = 1, 795
local src = reel.Read { "data/vtest/vtest.####.png", range = {first, last} }

-- One crop for the whole shot: trims 8 px of border and, from frame 300 to
-- 420, also the lower third (as if a subtitle was burned in there).
local crop = reel.Crop { src, name = "border",
  box = {8, 8, 760, reel.keys { {299, 568}, {300, 400}, {420, 400}, {421, 568}, interp = "step" }},
}

-- Dataset curation: begin, end and evenly spaced middles, as training
-- frames 1..6.
local frames = reel.pick_frames(first, last, 6)
local dataset = reel.FrameHold { crop, frames = frames, first = 1 }

return {
  dataset = reel.Write { dataset, path = "out/demo/dataset.####.exr", compression = "zip" },
  shot    = reel.Write { crop, path = "out/demo/shot.####.exr", compression = "dwaa" },
}
