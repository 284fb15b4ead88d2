-- spatial_recovery: transfers sharpness and grain from a better source of
-- the same footage (another print, a better scan of some reels) onto the
-- source, trained on the frames both have.
--
--   local spatial = require "reel.templates.spatial_recovery"
--   return spatial {
--     source = soft, better = sharp, better_offset = -12,   -- reel sync tells it
--     frames = {1201, 1260, 1320}, mode = "luma",
--     train  = {steps = 40000, patch = 256, size = "medium"},
--     output = "renders/r3_sharp.####.exr",
--   }
--
-- The skeleton of chroma_recovery: dataset frames, the better source aligned
-- onto the source (Align, or a manual Transform, switched by a Dissolve), one
-- linked crop, ground truth, Train, Infer over the whole source, render,
-- report. The ground truth is the aligned better source itself (mode "rgb":
-- its detail and its colour), or its luma with the source's chroma (mode
-- "luma": detail and grain only, the source keeps its colour). Returns the
-- sinks (ml, model, report) and `nodes`. docs/templates.md documents every
-- option.
local reel = require "reel"
local U = require "reel.templates.util"

local NAME = "spatial_recovery"

local spec = {
  source = { type = "node", required = true, doc = "the soft source (Read)" },
  better = { type = "node", required = true, doc = "the better source of (some of) the same frames" },
  truth = { type = "node", doc = "optional: the true frames for the report's metrics (tests, demos)" },
  space = { type = "string", default = "srgb", doc = "encoding of the source's R,G,B" },
  better_space = { type = "string", doc = "encoding of the better source (default: space)" },
  work_space = { type = "string", default = "srgb", doc = "R'G'B' encoding training uses" },
  better_offset = { type = "number", default = 0, doc = "frames to shift the better source by (reel sync)" },
  mode = { type = "string", default = "luma", doc = "'luma' (detail only) or 'rgb' (detail and colour)" },
  frames = { type = "list", doc = "training frames (frames both sources have)" },
  count = { type = "number", default = 4, doc = "training frames to pick when `frames` is not given" },
  held_out = { type = "list", doc = "frames for the report (default: midpoints between training frames)" },
  crop = { type = "box", doc = "{x0, y0, x1, y1} (or reel.keys) applied to both training streams" },
  align = { type = "any", default = {}, doc = "Align options or false" },
  manual = { type = "table", doc = "reel.Transform options for a manual alignment" },
  use_manual = { type = "number", doc = "0 automatic .. 1 manual (keyframable)" },
  train = { type = "table", default = {}, doc = "Train options" },
  infer = { type = "table", default = {}, doc = "Infer options ({tile = 1024})" },
  output = { type = "string", required = true, doc = "frame pattern of the render" },
  output_space = { type = "string", default = "aces2065-1", doc = "colour space of the render" },
  output_crop = { type = "box", doc = "crop of the render (default: the whole frame)" },
  compression = { type = "string", default = "dwaa", doc = "EXR compression" },
  pixeltype = { type = "string", default = "half", doc = "EXR sample type" },
  model_path = { type = "string", doc = "where to save the model (.reelnet)" },
  report = { type = "any", doc = "path of the QC report (.html), or false (default: beside the output)" },
  name = { type = "string", default = "spatial", doc = "prefix of node names" },
}
local order = { "source", "better", "truth", "space", "better_space", "work_space", "better_offset", "mode", "frames", "count", "held_out", "crop", "align", "manual", "use_manual", "train", "infer", "output", "output_space", "output_crop", "compression", "pixeltype", "model_path", "report", "name" }

local TRAIN = { "steps", "batch", "patch", "size", "lr", "seed", "loss", "eps", "multires",
  "augment", "run_dir", "checkpoint_every", "contact_every" }
local ALIGN = { "model", "box", "levels", "iterations", "tolerance", "keys", "max_residual",
  "strict", "filter", "borders", "black" }

local function build(opts)
  local o = U.check(NAME, opts, spec)
  if o.mode ~= "luma" and o.mode ~= "rgb" then
    U.fail(NAME, ("mode '%s': use 'luma' (detail only) or 'rgb' (detail and colour)"):format(o.mode))
  end
  local tr = U.check_sub(NAME, "train", o.train, TRAIN)
  local inf = U.check_sub(NAME, "infer", o.infer, { "tile" })
  local al = o.align and U.check_sub(NAME, "align", o.align, ALIGN)
  local n = o.name
  -- the shared stages speak of a reference: here it is the better source
  o.reference, o.reference_space, o.reference_offset = o.better, o.better_space, o.better_offset
  local st = U.prepare(NAME, o, al, ALIGN)
  local src, src_c, ref_c = st.src, st.src_c, st.ref_c

  -- ground truth: the better source, or its luma with the source's chroma
  local target
  if o.mode == "luma" then
    local ycc = U.ycc(o.work_space)
    target = U.ycc_mix(
      reel.Colorspace { ref_c, in_space = o.work_space, out_space = ycc, name = n .. "_better_ycc" },
      reel.Colorspace { src_c, in_space = o.work_space, out_space = ycc, name = n .. "_source_ycc" },
      o.work_space, n .. "_truth")
  else
    target = reel.Clamp { ref_c, min = 0, max = 1, name = n .. "_truth" }
  end
  local input = reel.Clamp { src_c, min = 0, max = 1, name = n .. "_input" }
  local t = U.pass({ input = input, target = target, frames = st.frames, mode = "rgb",
    name = n .. "_train" }, tr, TRAIN)
  t.size = t.size or "medium"
  local model = reel.Train(t)

  local ml = reel.Infer { reel.Clamp { src, min = 0, max = 1, name = n .. "_whole_input" },
    model = model, tile = inf.tile, name = n .. "_infer" }
  local out = ml
  if o.output_crop then out = reel.Crop { out, box = o.output_crop, name = n .. "_out_crop" } end
  out = reel.Colorspace { out, in_space = o.work_space, out_space = o.output_space, name = n .. "_out" }
  local outputs = {
    ml = reel.Write { out, path = o.output, compression = o.compression, pixeltype = o.pixeltype,
      colorspace = o.output_space, name = n .. "_write" },
  }
  if o.model_path then outputs.model = reel.Write { model, path = o.model_path, name = n .. "_model_write" } end
  if o.report ~= false and #st.held > 0 then
    local path = type(o.report) == "string" and o.report
      or (o.output:gsub("%.#+%.[%w]+$", ""):gsub("%.[%w]+$", "") .. "_report.html")
    local truth = o.truth and st.to_work(o.truth, o.space, "truth") or st.aligned
    outputs.report = reel.Report { source = src, ml = ml, reference = truth, model = model,
      dataset = reel.FrameHold { src_c, frames = st.frames, name = n .. "_dataset" },
      frames = st.held, path = path, space = o.work_space == "srgb" and "srgb" or "linear",
      name = n .. "_report" }
  end
  outputs.nodes = { source = src, better = st.ref, aligned = st.aligned, source_crop = src_c,
    better_crop = ref_c, truth = target, model = model, ml = ml, frames = st.frames,
    held_out = st.held }
  return outputs
end

-- The module is callable (chroma { ... }) and carries its option table, from
-- which tools/template-docs.lua writes docs/templates.md.
return setmetatable({ name = NAME, spec = spec, order = order, train = TRAIN, align = ALIGN,
  doc = [==[
spatial_recovery: transfers sharpness and grain from a better source of
the same footage (another print, a better scan of some reels) onto the
source, trained on the frames both have.

  local spatial = require "reel.templates.spatial_recovery"
  return spatial {
    source = soft, better = sharp, better_offset = -12,   -- reel sync tells it
    frames = {1201, 1260, 1320}, mode = "luma",
    train  = {steps = 40000, patch = 256, size = "medium"},
    output = "renders/r3_sharp.####.exr",
  }

The skeleton of chroma_recovery: dataset frames, the better source aligned
onto the source (Align, or a manual Transform, switched by a Dissolve), one
linked crop, ground truth, Train, Infer over the whole source, render,
report. The ground truth is the aligned better source itself (mode "rgb":
its detail and its colour), or its luma with the source's chroma (mode
"luma": detail and grain only, the source keeps its colour). Returns the
sinks (ml, model, report) and `nodes`. docs/templates.md documents every
option.
]==] }, { __call = function(_, opts) return build(opts) end })
