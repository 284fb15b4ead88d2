-- Chroma recovery of one reel: a faded 2K print scan (scene-linear EXR)
-- against a DVD transfer made while the print's colours were good. The
-- template runs the five stages; this file only says what is particular to
-- the reel. (Paths are a production's; graphs/demo.lua runs on footage the
-- project makes.)
local reel   = require "reel"
local chroma = require "reel.templates.chroma_recovery"

local src = reel.Read { "scans/r1/src.####.exr", range = {1001, 1240} }
local ref = reel.Read { "ref/dvd_r1.####.png",  range = {1001, 1240} }

-- the DVD's letterbox and, on 1100-1130, a burned-in subtitle stay out of training
local bottom = reel.keys { {1001, 1000}, {1100, 860}, {1131, 1000}, interp = "step" }

return chroma {
  source = src, space = "linear", reference = ref, reference_space = "srgb",
  reference_offset = -2,                       -- reel sync ref/dvd_r1.####.png scans/r1/src.####.exr
  crop   = {96, 40, 1824, bottom},
  frames = {1001, 1081, 1161, 1240},
  train  = {steps = 30000, patch = 256, batch = 3, size = "medium", multires = true},
  output = "renders/r1_ml.####.exr",
  baseline = { method = "lut3d", size = 33, file = "renders/r1_baseline.cube" },
  model_path = "models/r1.reelnet",
}
