-- The restoration demo: chroma recovery of a faded shot from a degraded
-- video reference, end to end, on real footage (opencv-doc's vtest.avi).
-- tools/make-demo-data.sh makes the footage: data/demo/faded.####.png is
-- the shot faded like an old print (tools/fade-sim), data/demo/ref.####.png
-- a reference of the same shot as a DVD transfer would give it (smaller,
-- re-upscaled, JPEG, regraded, letterboxed, subtitled on frames 300-360 and
-- 600-640, slightly misaligned, starting two frames early), and
-- data/demo/graded.####.png the truth the report measures against: the
-- clean frames with only the reference's grade.
--   tools/run-demo.sh        (what `make demo` runs: data, sync, render, checks)
--   reel render graphs/demo.lua
local reel = require "reel"
local chroma = require "reel.templates.chroma_recovery"

-- `reel sync` finds the reference's offset (tools/run-demo.sh passes it in)
local offset = tonumber(os.getenv("REEL_DEMO_OFFSET") or "-2")
local last = tonumber(os.getenv("REEL_DEMO_LAST") or "795")

local src = reel.Read { os.getenv("REEL_DEMO_SOURCE") or "data/demo/faded.####.png", range = {1, last}, name = "source" }
local ref = reel.Read { "data/demo/ref.####.png", range = {1, last}, name = "reference" }
local truth = reel.Read { os.getenv("REEL_DEMO_TRUTH") or "data/demo/graded.####.png", range = {1, last}, name = "truth" }

-- the reference's letterbox bars (46 px) and, on subtitled frames, its
-- lower third stay out of training: one crop, keyed, for both streams
local lo, hi = 520, 400
local bottom = reel.keys { {1, lo}, {296, hi}, {360, lo}, {596, hi}, {640, lo}, interp = "step" }

return chroma {
  source = src, reference = ref, truth = truth,
  reference_offset = offset,
  crop = {8, 56, 760, bottom},
  frames = reel.pick_frames(20, last - 20, 6),
  align = { model = "affine" },
  train = { steps = tonumber(os.getenv("REEL_DEMO_STEPS") or "3000"), patch = 128, batch = 3,
            size = os.getenv("REEL_DEMO_SIZE") or "medium", lr = 2e-3, seed = 1, run_dir = "out/demo/run" },
  output = "out/demo/ml/shot.####.exr",
  baseline = { method = "lut3d", size = 33, output = "out/demo/baseline/shot.####.exr",
               file = "out/demo/baseline.cube" },
  model_path = "out/demo/shot.reelnet",
  report = "out/demo/report.html",
}
