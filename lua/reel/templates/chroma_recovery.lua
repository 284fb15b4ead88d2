-- chroma_recovery: the five stages of chroma recovery as one function.
--
--   local chroma = require "reel.templates.chroma_recovery"
--   return chroma {
--     source = src, reference = ref,
--     crop   = {96, 40, 1824, 1000},          -- linked crop for both streams
--     frames = {1001, 1081, 1161, 1240},      -- training frames
--     train  = {steps = 30000, patch = 256, batch = 3, size = "medium"},
--     output = "renders/r1_ml.####.exr",
--   }
--
-- 1. dataset: the training frames (given, or `count` picked: begin, end and
--    evenly spaced middles); 2. alignment: the reference registered onto the
--    source (Align), or a keyed manual Transform, switched by a Dissolve;
--    one linked crop for both streams; 3. training: Median on the
--    reference, both to Y'CbCr, ground truth = source Y' + reference Cb/Cr,
--    back to R'G'B', clamped to 0-1, alpha dropped, Train in chroma mode;
--    4. Infer over the whole source, to the output colour space, Write
--    (EXR half DWAA by default); 5. the MatchGrade baseline fitted on the
--    same frames and rendered beside it; and a QC report.
-- Returns the sinks to render (ml, baseline, model, grade, report) and, in
-- `nodes`, the intermediate nodes for further composition. docs/templates.md
-- documents every option.
local reel = require "reel"
local U = require "reel.templates.util"

local NAME = "chroma_recovery"

local spec = {
  source = { type = "node", required = true, doc = "the faded scan (Read)" },
  reference = { type = "node", required = true, doc = "the reference with good colour (Read)" },
  truth = { type = "node", doc = "optional: true colours for the report's metrics (tests and demos)" },
  space = { type = "string", default = "srgb", doc = "encoding of the source's R,G,B" },
  reference_space = { type = "string", doc = "encoding of the reference (default: space)" },
  work_space = { type = "string", default = "srgb", doc = "R'G'B' encoding the ground truth and training use" },
  reference_offset = { type = "number", default = 0, doc = "frames to shift the reference by (reel sync tells)" },
  frames = { type = "list", doc = "training frames" },
  count = { type = "number", default = 4, doc = "training frames to pick when `frames` is not given" },
  held_out = { type = "list", doc = "frames for the report (default: midpoints between training frames)" },
  crop = { type = "box", doc = "{x0, y0, x1, y1} (or reel.keys) applied to both training streams" },
  align = { type = "any", default = {}, doc = "Align options ({model = 'homography', ...}) or false" },
  manual = { type = "table", doc = "reel.Transform options for a manual alignment of the reference" },
  use_manual = { type = "number", doc = "0 automatic .. 1 manual (keyframable; default 1 with `manual`)" },
  median = { type = "number", default = 5, doc = "Median radius on the reference (0: none)" },
  train = { type = "table", default = {}, doc = "Train options" },
  infer = { type = "table", default = {}, doc = "Infer options ({tile = 1024})" },
  output = { type = "string", required = true, doc = "frame pattern of the ML render" },
  output_space = { type = "string", default = "aces2065-1", doc = "colour space of the renders" },
  output_crop = { type = "box", doc = "crop of the renders (default: the whole frame)" },
  compression = { type = "string", default = "dwaa", doc = "EXR compression of the renders" },
  pixeltype = { type = "string", default = "half", doc = "EXR sample type of the renders" },
  baseline = { type = "any", default = {}, doc = "MatchGrade options ({method = 'lut3d', output = ...}) or false" },
  model_path = { type = "string", doc = "where to save the model (.reelnet)" },
  report = { type = "any", doc = "path of the QC report (.html), or false (default: beside the output)" },
  name = { type = "string", default = "chroma", doc = "prefix of node names" },
}
local order = { "source", "reference", "truth", "space", "reference_space", "work_space", "reference_offset", "frames", "count", "held_out", "crop", "align", "manual", "use_manual", "median", "train", "infer", "output", "output_space", "output_crop", "compression", "pixeltype", "baseline", "model_path", "report", "name" }

local TRAIN = { "steps", "batch", "patch", "size", "lr", "seed", "loss", "eps", "multires",
  "augment", "run_dir", "checkpoint_every", "contact_every" }
local ALIGN = { "model", "box", "levels", "iterations", "tolerance", "keys", "max_residual",
  "strict", "filter", "borders", "black" }
local BASE = { "method", "size", "shaper", "smooth", "output", "file", "interp" }

-- renders/r1_ml.####.exr -> renders/r1_ml_baseline.####.exr
local function beside(path, suffix, ext)
  local stem = path:gsub("%.#+%.[%w]+$", ""):gsub("%.[%w]+$", "")
  return stem .. suffix .. (ext or path:match("(%.#+%.[%w]+)$") or ".####.exr")
end

local function build(opts)
  local o = U.check(NAME, opts, spec)
  local tr = U.check_sub(NAME, "train", o.train, TRAIN)
  local inf = U.check_sub(NAME, "infer", o.infer, { "tile" })
  local al = o.align and U.check_sub(NAME, "align", o.align, ALIGN)
  local bl = o.baseline and U.check_sub(NAME, "baseline", o.baseline, BASE)
  local n = o.name

  -- 1-2. dataset frames, work space, pairs, alignment, linked crop
  local st = U.prepare(NAME, o, al, ALIGN)
  local frames, held, src, src_pair, aligned, auto, manual, src_c, ref_c =
    st.frames, st.held, st.src, st.src_pair, st.aligned, st.auto, st.manual, st.src_c, st.ref_c
  local ref = st.ref

  -- 3. ground truth and training
  local ref_clean = ref_c
  if o.median > 0 then ref_clean = reel.Median { ref_c, radius = o.median, name = n .. "_median" } end
  local ycc = U.ycc(o.work_space)
  local src_ycc = reel.Colorspace { src_c, in_space = o.work_space, out_space = ycc, name = n .. "_source_ycc" }
  local ref_ycc = reel.Colorspace { ref_clean, in_space = o.work_space, out_space = ycc, name = n .. "_reference_ycc" }
  local gt_rgb = U.ycc_mix(src_ycc, ref_ycc, o.work_space, n .. "_truth")
  -- train on Y'CbCr so that Infer keeps the source's Y' bit for bit
  local target = reel.Colorspace { gt_rgb, in_space = o.work_space, out_space = ycc, name = n .. "_target" }
  local input = reel.Clamp { src_ycc, channels = "Y", min = 0, max = 1, name = n .. "_input" }
  local t = U.pass({ input = input, target = target, frames = frames, mode = "chroma",
    name = n .. "_train" }, tr, TRAIN)
  t.size = t.size or "medium"
  local model = reel.Train(t)

  -- 4. inference over the whole source, render
  local whole_ycc = reel.Clamp { reel.Colorspace { src, in_space = o.work_space, out_space = ycc,
    name = n .. "_whole_ycc" }, channels = "Y", min = 0, max = 1, name = n .. "_whole_input" }
  local ml_ycc = reel.Infer { whole_ycc, model = model, tile = inf.tile, name = n .. "_infer" }
  local ml = reel.Colorspace { ml_ycc, in_space = ycc, out_space = o.work_space, name = n .. "_ml" }
  local function render(img, path, label)
    local out = img
    if o.output_crop then out = reel.Crop { out, box = o.output_crop, name = n .. "_" .. label .. "_crop" } end
    out = reel.Colorspace { out, in_space = o.work_space, out_space = o.output_space,
      name = n .. "_" .. label .. "_out" }
    return reel.Write { out, path = path, compression = o.compression, pixeltype = o.pixeltype,
      colorspace = o.output_space, name = n .. "_" .. label .. "_write" }
  end
  local outputs = { ml = render(ml, o.output, "ml") }
  if o.model_path then outputs.model = reel.Write { model, path = o.model_path, name = n .. "_model_write" } end

  -- 5. the MatchGrade baseline on the same frames
  local baseline, grade
  if bl then
    grade = reel.MatchGrade { source = src_c, target = gt_rgb, frames = frames,
      method = bl.method or "lut3d", size = bl.size, shaper = bl.shaper, smooth = bl.smooth,
      name = n .. "_matchgrade" }
    baseline = reel.ApplyGrade { src, grade = grade, interp = bl.interp, name = n .. "_baseline" }
    outputs.baseline = render(baseline, bl.output or beside(o.output, "_baseline"), "baseline")
    if bl.file then outputs.grade = reel.Write { grade, path = bl.file, name = n .. "_grade_write" } end
  end

  -- the QC report
  if o.report ~= false and #held > 0 then
    local path = type(o.report) == "string" and o.report or beside(o.output, "_report", ".html")
    local truth = o.truth and st.to_work(o.truth, o.space, "truth")
      or U.ycc_mix(reel.Colorspace { src_pair, in_space = o.work_space, out_space = ycc,
        name = n .. "_report_src_ycc" }, reel.Colorspace { aligned, in_space = o.work_space,
        out_space = ycc, name = n .. "_report_ref_ycc" }, o.work_space, n .. "_report_truth")
    local space = o.work_space == "srgb" and "srgb" or "linear"
    outputs.report = reel.Report { source = src, ml = ml, baseline = baseline, reference = truth,
      model = model, dataset = reel.FrameHold { src_c, frames = frames, name = n .. "_dataset" },
      frames = held, path = path, space = space, name = n .. "_report" }
  end

  outputs.nodes = { source = src, reference = ref, aligned = aligned, auto = auto, manual = manual,
    source_crop = src_c, reference_crop = ref_c, truth = gt_rgb, target = target, model = model,
    ml = ml, baseline = baseline, grade = grade, frames = frames, held_out = held }
  return outputs
end

-- The module is callable (chroma { ... }) and carries its option table, from
-- which tools/template-docs.lua writes docs/templates.md.
return setmetatable({ name = NAME, spec = spec, order = order, train = TRAIN, align = ALIGN,
  doc = [==[
chroma_recovery: the five stages of chroma recovery as one function.

  local chroma = require "reel.templates.chroma_recovery"
  return chroma {
    source = src, reference = ref,
    crop   = {96, 40, 1824, 1000},          -- linked crop for both streams
    frames = {1001, 1081, 1161, 1240},      -- training frames
    train  = {steps = 30000, patch = 256, batch = 3, size = "medium"},
    output = "renders/r1_ml.####.exr",
  }

1. dataset: the training frames (given, or `count` picked: begin, end and
   evenly spaced middles); 2. alignment: the reference registered onto the
   source (Align), or a keyed manual Transform, switched by a Dissolve;
   one linked crop for both streams; 3. training: Median on the
   reference, both to Y'CbCr, ground truth = source Y' + reference Cb/Cr,
   back to R'G'B', clamped to 0-1, alpha dropped, Train in chroma mode;
   4. Infer over the whole source, to the output colour space, Write
   (EXR half DWAA by default); 5. the MatchGrade baseline fitted on the
   same frames and rendered beside it; and a QC report.
Returns the sinks to render (ml, baseline, model, grade, report) and, in
`nodes`, the intermediate nodes for further composition. docs/templates.md
documents every option.
]==] }, { __call = function(_, opts) return build(opts) end })
