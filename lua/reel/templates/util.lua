-- Shared helpers of the workflow templates: option validation with errors
-- that name the template and the graph file's line, as node errors do.
local reel = require "reel"

local M = {}

-- The graph file's line that called the template (the first frame outside
-- lua/reel/).
function M.caller()
  return reel._where()
end

function M.fail(name, msg)
  local file, line = M.caller()
  reel._last_class = 2
  error(("%s (%s:%d): %s"):format(name, file, line, msg), 0)
end

local function kind(v)
  if reel.is_node(v) then return "node" end
  if reel.is_keys(v) then return "keys" end
  return type(v)
end

-- check(name, opts, spec): spec maps option names to
--   { type = "node" | "number" | "string" | "boolean" | "table" | "list" | "box" | "any",
--     required = bool, default = value, doc = "..." }
-- "box" takes 4 numbers or reel.keys; "list" a list of numbers. Unknown
-- options are refused with the list of known ones. Returns a copy with
-- defaults filled in.
function M.check(name, opts, spec)
  if type(opts) ~= "table" then M.fail(name, "call it with a table of options: " .. name .. " { ... }") end
  local out = {}
  for k, v in pairs(opts) do
    local s = spec[k]
    if not s then
      local names = {}
      for n in pairs(spec) do names[#names + 1] = n end
      table.sort(names)
      M.fail(name, ("has no option '%s' (it has: %s)"):format(tostring(k), table.concat(names, ", ")))
    end
    local t, kv = s.type, kind(v)
    local ok = t == "any" or kv == t
      or (t == "box" and ((kv == "table" and #v == 4) or kv == "keys"))
      or (t == "list" and kv == "table")
      or (t == "number" and kv == "keys")
    if t == "list" and ok then
      for i, x in ipairs(v) do
        if type(x) ~= "number" or x ~= math.floor(x) then
          M.fail(name, ("option '%s': entry %d is not a frame number"):format(k, i))
        end
      end
    end
    if not ok then
      M.fail(name, ("option '%s' must be a %s (%s), not a %s"):format(k, t, s.doc or "", kv))
    end
    out[k] = v
  end
  for k, s in pairs(spec) do
    if out[k] == nil then
      if s.required then M.fail(name, ("option '%s' is required: %s"):format(k, s.doc or "")) end
      out[k] = s.default
    end
  end
  return out
end

-- Sub-tables of options (train = {...}) are checked against a list of names.
function M.check_sub(name, key, t, allowed)
  if t == nil then return {} end
  if type(t) ~= "table" then M.fail(name, ("option '%s' must be a table"):format(key)) end
  local ok = {}
  for _, n in ipairs(allowed) do ok[n] = true end
  for k in pairs(t) do
    if not ok[k] then
      M.fail(name, ("option '%s' has no field '%s' (it has: %s)"):format(key, tostring(k),
        table.concat(allowed, ", ")))
    end
  end
  return t
end

-- Copies t's fields named in `names` into dst (when set).
function M.pass(dst, t, names)
  for _, n in ipairs(names) do if t[n] ~= nil then dst[n] = t[n] end end
  return dst
end

-- The Y'CbCr encoding of an R'G'B' colour space name (full range, Rec.709).
function M.ycc(space)
  return space .. "_ycbcr709_full"
end

-- R'G'B' (work space, clamped to 0-1) with the luma of a_ycc and the
-- chroma of b_ycc (both Y'CbCr images of the same frames): the chroma
-- recovery ground truth, or luma transfer the other way round.
function M.ycc_mix(a_ycc, b_ycc, work, name)
  local ycc = M.ycc(work)
  local mix = reel.Shuffle { a_ycc, b_ycc, out = "Y=a.Y,Cb=b.Cb,Cr=b.Cr", name = name .. "_ycc" }
  return reel.Clamp { reel.Colorspace { mix, in_space = ycc, out_space = work, name = name .. "_rgb" },
    min = 0, max = 1, name = name .. "_clamp" }
end

-- Held-out frames: midpoints between consecutive training frames.
function M.held_out(frames, n)
  local out = {}
  for i = 1, #frames - 1 do
    local f = math.floor((frames[i] + frames[i + 1]) / 2)
    if f ~= frames[i] and f ~= frames[i + 1] then out[#out + 1] = f end
  end
  if n and #out > n then
    local sel = {}
    for i = 1, n do sel[i] = out[math.floor((i - 1) * (#out - 1) / math.max(n - 1, 1) + 1.5)] end
    out = sel
  end
  return out
end

-- Stages 1 and 2 shared by the templates: the training frames, both streams
-- in the work space (alpha dropped), the reference shifted by
-- reference_offset, the frames where both exist, the reference aligned onto
-- the source (Align, a manual Transform, or a Dissolve between them), and one
-- crop for both. o: checked options (source, reference, space,
-- reference_space, work_space, reference_offset, frames, count, held_out,
-- manual, use_manual, crop, name); al: Align options or false.
function M.prepare(NAME, o, al, ALIGN)
  local reel = require "reel"
  local U = M
  local n = o.name
  local rspace = o.reference_space or o.space
  local st = {}
  -- 1. dataset frames

  -- work space R'G'B', alpha dropped
  local function to_work(img, space, label)
    local rgb = reel.Shuffle { img, out = "R=a.R,G=a.G,B=a.B", name = n .. "_" .. label .. "_rgb" }
    if space == o.work_space then return rgb end
    return reel.Colorspace { rgb, in_space = space, out_space = o.work_space, name = n .. "_" .. label .. "_work" }
  end
  local src = to_work(o.source, o.space, "source")
  local ref = o.reference
  if o.reference_offset ~= 0 then
    ref = reel.TimeOffset { ref, offset = o.reference_offset, name = n .. "_ref_offset" }
  end
  ref = to_work(ref, rspace, "reference")
  -- the pairs exist where both streams have frames
  local sf, sl = src:range()
  local rf, rl = ref:range()
  local cf, cl = math.max(sf, rf), math.min(sl, rl)
  if cf > cl then
    U.fail(NAME, ("source (%d-%d) and reference (%d-%d, after reference_offset %d) share no "
      .. "frames: check reference_offset (reel sync SOURCE REFERENCE tells it)"):format(sf, sl, rf, rl,
      o.reference_offset))
  end
  local src_pair, ref_pair = src, ref
  if cf ~= sf or cl ~= sl then src_pair = reel.FrameRange { src, range = {cf, cl}, name = n .. "_source_pairs" } end
  if cf ~= rf or cl ~= rl then ref_pair = reel.FrameRange { ref, range = {cf, cl}, name = n .. "_reference_pairs" } end
  -- training frames: given, or begin, end and evenly spaced middles of the pairs
  local frames = o.frames or reel.pick_frames(cf, cl, o.count)
  if #frames < 1 then U.fail(NAME, "no training frames: give `frames` or `count`") end
  local held = o.held_out or U.held_out(frames, 4)
  for _, f in ipairs(frames) do
    if f < cf or f > cl then
      U.fail(NAME, ("training frame %d has no reference frame (pairs exist for %d-%d)"):format(f, cf, cl))
    end
  end

  -- 2. alignment: automatic, manual, or a Dissolve between them
  local aligned = ref_pair
  local auto, manual
  if al then
    local a = U.pass({ moving = ref_pair, fixed = src_pair, name = n .. "_align" }, al, ALIGN)
    auto = reel.Align(a)
    aligned = auto
  end
  if o.manual then
    local t = { ref_pair, name = n .. "_manual" }
    for k, v in pairs(o.manual) do t[k] = v end
    manual = reel.Transform(t)
    if auto then
      aligned = reel.Dissolve { auto, manual, factor = o.use_manual or 1, name = n .. "_align_switch" }
    else
      aligned = manual
    end
  end
  local src_c, ref_c = src_pair, aligned
  if o.crop then
    src_c = reel.Crop { src_pair, box = o.crop, name = n .. "_crop_source" }
    ref_c = reel.Crop { aligned, box = o.crop, name = n .. "_crop_reference" }
  end

  st.frames, st.held, st.to_work = frames, held, to_work
  st.src, st.ref, st.src_pair, st.ref_pair = src, ref, src_pair, ref_pair
  st.aligned, st.auto, st.manual, st.src_c, st.ref_c = aligned, auto, manual, src_c, ref_c
  return st
end

return M
