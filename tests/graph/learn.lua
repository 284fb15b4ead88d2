-- The learning proof's graph (tests/graph/test_learn.sh, docs/fading.md):
-- faded vtest frames (tools/fade-sim) are the source, the clean frames the
-- reference. Both go to Y'CbCr (BT.709, full range, of the sRGB-encoded
-- values); the ground truth is the source's Y' with the reference's Cb/Cr.
-- Train learns Cb/Cr in chroma mode on four frames spread over the clip;
-- Infer runs on held-out frames, neither training frames nor next to one.
-- Writes, as float EXR into LEARN_DIR/out/ (frames 1..n = the held-out
-- frames in order): ml.####.exr (Infer's Y, Cb, Cr) and faded.####.exr (the
-- source's Y, Cb, Cr). test_learn.sh sets LEARN_DIR, LEARN_TRAIN, LEARN_HELD
-- and LEARN_STEPS; the defaults here are the same.
local reel = require "reel"

local function list(s, default)
  if not s or s == "" then return default end
  local t = {}
  for n in s:gmatch("[^,%s]+") do t[#t + 1] = assert(tonumber(n), "not a frame number: " .. n) end
  return t
end

local dir = os.getenv("LEARN_DIR") or "build/test-data/learn"
local first, last = 1, 60
local train = list(os.getenv("LEARN_TRAIN"), reel.pick_frames(first, last, 4)) -- 1, 21, 40, 60
local held = list(os.getenv("LEARN_HELD"), { 8, 14, 30, 50 })
local steps = tonumber(os.getenv("LEARN_STEPS") or "") or 1000

local faded = reel.Read { dir .. "/faded/faded.####.exr", range = { first, last } }
local clean = reel.Read { "data/vtest/vtest.####.png", range = { first, last } }
local ycc = "srgb_rec709_ycbcr709_full"
local src = reel.Colorspace { faded, name = "source_ycc", in_space = "srgb", out_space = ycc }
local ref = reel.Colorspace { clean, name = "reference_ycc", in_space = "srgb", out_space = ycc }
local truth = reel.Shuffle { a = src, b = ref, name = "truth", out = "Y=a.Y,Cb=b.Cb,Cr=b.Cr" }

local model = reel.Train {
  input = src, target = truth, frames = train,
  steps = steps, batch = 3, patch = 64, size = "small", mode = "chroma",
  lr = 2e-3, seed = 1, run_dir = dir .. "/run", contact_every = 100,
}
local restored = reel.Infer { src, model = model }

local function held_out(img) return reel.FrameHold { img, frames = held, first = 1 } end
return {
  ml = reel.Write { held_out(restored), path = dir .. "/out/ml.####.exr", pixeltype = "float" },
  faded = reel.Write { held_out(src), path = dir .. "/out/faded.####.exr", pixeltype = "float" },
}
