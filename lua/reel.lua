-- reel: the scene language. Builds a node graph through the C API (LuaJIT
-- FFI); never touches pixels. Node constructors are generated from the C
-- node descriptors, so every node in `reel nodes` is reel.<Name> here:
--   local img = reel.Read { "scans/src.####.exr", range = {1001, 1100} }
--   local c   = reel.Crop { img, box = {96, 40, 1824, 1000} }
--   reel.Write { c, path = "out/r1.####.exr", compression = "dwaa" }
-- Positional entries are inputs in port order (a positional string or number
-- goes to the node's first parameter); named entries are ports or parameters.
local ffi = require "ffi"

local M = {}

-- Where this file lives decides where the library and its header are:
-- source tree <root>/lua/reel.lua -> <root>/lib, <root>/engine/reel.h;
-- installed <prefix>/share/reel/lua/reel.lua -> <prefix>/lib, <prefix>/share/reel/include.
local src = debug.getinfo(1, "S").source
local here = (src:sub(1, 1) == "@" and src:sub(2) or src):match("^(.*)/[^/]*$") or "."
M.lua_dir = here

local function readable(p)
  local f = io.open(p, "r")
  if f then f:close() return true end
  return false
end

local function first_existing(...)
  for i = 1, select("#", ...) do
    local p = select(i, ...)
    if p and readable(p) then return p end
  end
end

local header = first_existing(os.getenv("REEL_HEADER"), here .. "/../engine/reel.h",
  here .. "/../include/reel.h")
if not header then error("reel: cannot find reel.h next to " .. here .. " (set REEL_HEADER)", 0) end
do
  local f = assert(io.open(header))
  local text = f:read("*a"):gsub("\n#[^\n]*", "\n"):gsub("^#[^\n]*", "")
  f:close()
  ffi.cdef(text)
end

-- The library: already in the process when run by bin/reel, else loaded.
local C
do
  local ok = pcall(function() return ffi.C.reel_version end)
  if ok then
    C = ffi.C
  else
    local lib = first_existing(os.getenv("REEL_LIB"), here .. "/../lib/libreel.so",
      here .. "/../../../lib/libreel.so")
    if not lib then error("reel: cannot find libreel.so (build with make, or set REEL_LIB)", 0) end
    C = ffi.load(lib, true)
  end
end
M.C = C

M._last_class = 0
local function cerr()
  local msg = ffi.string(C.reel_error_get())
  local cls = C.reel_error_class()
  C.reel_error_clear()
  M._last_class = cls ~= 0 and cls or 2
  return msg ~= "" and msg or "reel: unknown error"
end

-- The Lua location a user wrote: the first stack frame outside reel's own
-- Lua files (templates included), so errors point at the graph file. A
-- graph file that ends in `return reel.Write {...}` makes a tail call, which
-- leaves no frame behind; a line hook remembers the last line run outside
-- reel's files for that case.
local function outside(info)
  local full = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
  return not full:find(here .. "/", 1, true)
end

local last_src, last_line = "?", 0
debug.sethook(function(_, line)
  local info = debug.getinfo(2, "S")
  if info and info.what ~= "C" and outside(info) then last_src, last_line = info.short_src, line end
end, "l")

local function where()
  local level = 3
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.what ~= "C" and info.what ~= "tail" and outside(info) and info.currentline > 0 then
      return info.short_src, info.currentline
    end
    level = level + 1
  end
  return last_src, last_line
end

-- For templates: the graph file's location of the current call.
function M._where() return where() end

local function fail(label, msg)
  M._last_class = 2
  error(label .. ": " .. msg, 0)
end

-- ---- keyframes ----
local Keys = {}
Keys.__index = Keys

-- reel.keys { [1001] = 40, [1100] = 80 }            linear by default
-- reel.keys { {1001, {0,0,10,10}}, {1050, {...}}, interp = "step" }
function M.keys(t)
  local ks = {}
  -- pairs form when the array part holds {frame, value} entries
  local pairs_form = type(t[1]) == "table" and #t[1] == 2 and type(t[1][1]) == "number"
  for k, v in pairs(t) do
    if k ~= "interp" then
      if pairs_form and type(k) == "number" and k >= 1 and k <= #t then
        ks[#ks + 1] = { v[1], v[2] }
      else
        ks[#ks + 1] = { k, v }
      end
    end
  end
  table.sort(ks, function(a, b) return a[1] < b[1] end)
  return setmetatable({ keys = ks, interp = t.interp or "linear" }, Keys)
end
function M.is_keys(v) return getmetatable(v) == Keys end

-- ---- nodes ----
local Node = {}
Node.__index = Node
function M.is_node(v) return getmetatable(v) == Node end

local graph = C.reel_graph_default()

local desc_cache = {}
local function desc(d)
  local ds = desc_cache[d]
  if ds then return ds end
  ds = { name = ffi.string(C.reel_desc_name(d)), inputs = {}, params = {}, pindex = {}, iindex = {} }
  for i = 0, C.reel_desc_ninputs(d) - 1 do
    local n = ffi.string(C.reel_desc_input_name(d, i))
    ds.inputs[#ds.inputs + 1] = n
    ds.iindex[n] = #ds.inputs
  end
  for p = 0, C.reel_desc_nparams(d) - 1 do
    local pd = { name = ffi.string(C.reel_desc_param_name(d, p)),
                 type = ffi.string(C.reel_desc_param_type(d, p)),
                 count = C.reel_desc_param_count(d, p) }
    ds.params[#ds.params + 1] = pd
    ds.pindex[pd.name] = pd
  end
  desc_cache[d] = ds
  return ds
end

local function check(rc) if rc ~= 0 then error(cerr(), 0) end end

local function set_curve(p, pd, comp, keys, label)
  local n = #keys.keys
  local f, v = ffi.new("double[?]", n), ffi.new("double[?]", n)
  for i, kv in ipairs(keys.keys) do
    local val = kv[2]
    if type(val) == "table" then val = val[comp + 1] end
    if type(kv[1]) ~= "number" or type(val) ~= "number" then
      fail(label, ("parameter '%s': keyframe %d needs a frame number and %s"):format(
        pd.name, i, pd.count > 1 and ("%d numbers"):format(pd.count) or "a number"))
    end
    f[i - 1], v[i - 1] = kv[1], val
  end
  check(C.reel_node_set_curve(p, pd.name, comp, n, f, v, keys.interp))
end

local function set_param(p, pd, val, label)
  local t = type(val)
  if pd.type == "list" then
    if t == "number" then val = { val } t = "table" end
    if t ~= "table" then fail(label, ("parameter '%s' takes a list of numbers"):format(pd.name)) end
    if type(val[1]) == "table" then -- a table of rows: flattened row by row
      local flat = {}
      for i, row in ipairs(val) do
        if type(row) ~= "table" or #row ~= #val[1] then
          fail(label, ("parameter '%s': row %d is not a list of %d numbers like row 1"):format(
            pd.name, i, #val[1]))
        end
        for _, x in ipairs(row) do flat[#flat + 1] = x end
      end
      val = flat
    end
    local arr = ffi.new("double[?]", math.max(#val, 1))
    for i, x in ipairs(val) do
      if type(x) ~= "number" then fail(label, ("parameter '%s': entry %d is not a number"):format(pd.name, i)) end
      arr[i - 1] = x
    end
    return check(C.reel_node_set_list(p, pd.name, #val, arr))
  end
  if M.is_keys(val) then
    for comp = 0, pd.count - 1 do set_curve(p, pd, comp, val, label) end
    return
  end
  if t == "number" then
    -- a number given for a vector sets every component (gain = 2)
    local n = pd.type == "vector" and pd.count or 1
    for comp = 0, n - 1 do check(C.reel_node_set_number(p, pd.name, comp, val)) end
    return
  end
  if t == "boolean" then
    if pd.type ~= "boolean" then fail(label, ("parameter '%s' takes a %s, not a boolean"):format(pd.name, pd.type)) end
    return check(C.reel_node_set_number(p, pd.name, 0, val and 1 or 0))
  end
  if t == "string" then return check(C.reel_node_set_string(p, pd.name, val)) end
  if t == "table" and not M.is_node(val) then
    if pd.type ~= "box" and pd.type ~= "vector" then
      fail(label, ("parameter '%s' takes a %s, not a table"):format(pd.name, pd.type))
    end
    if #val ~= pd.count then
      fail(label, ("parameter '%s' takes %d numbers%s, got %d"):format(pd.name, pd.count,
        pd.type == "box" and " {x0, y0, x1, y1}" or "", #val))
    end
    for i = 1, pd.count do
      local x = val[i]
      if M.is_keys(x) then set_curve(p, pd, i - 1, x, label)
      elseif type(x) == "number" then check(C.reel_node_set_number(p, pd.name, i - 1, x))
      else fail(label, ("parameter '%s': entry %d is not a number"):format(pd.name, i)) end
    end
    return
  end
  fail(label, ("parameter '%s' cannot take a %s"):format(pd.name, M.is_node(val) and "node" or t))
end

local function apply(self, ds, t, label, positional)
  local p = self._p
  if positional then
    local port = 1
    for i, v in ipairs(t) do
      if M.is_node(v) then
        if port > #ds.inputs then
          fail(label, ("takes %d input%s; entry %d is one too many"):format(#ds.inputs, #ds.inputs == 1 and "" or "s", i))
        end
        check(C.reel_node_set_input(p, ds.inputs[port], v._p))
        port = port + 1
      elseif i == 1 and ds.params[1] then
        set_param(p, ds.params[1], v, label)
      else
        fail(label, ("entry %d: give inputs as nodes, parameters by name"):format(i))
      end
    end
  end
  local n = #t
  for k, v in pairs(t) do
    if type(k) == "number" and k >= 1 and k <= n and k == math.floor(k) then
      -- positional, done above
    elseif type(k) ~= "string" then
      fail(label, "table keys must be port or parameter names")
    elseif ds.iindex[k] and type(v) == "string" and ds.pindex[k .. "_file"] then
      -- a path given to an input that can also be read from a file
      -- (Infer { img, model = "shot.reelnet" })
      set_param(p, ds.pindex[k .. "_file"], v, label)
    elseif ds.iindex[k] then
      if v ~= false and not M.is_node(v) then
        fail(label, ("input '%s' must be a node (reel.Read{...} and the like)"):format(k))
      end
      check(C.reel_node_set_input(p, k, v and v._p or nil))
    elseif ds.pindex[k] then
      set_param(p, ds.pindex[k], v, label)
    elseif k == "name" then
      check(C.reel_node_set_name(p, v))
    else
      local names = {}
      for _, pd in ipairs(ds.params) do names[#names + 1] = pd.name end
      for _, i in ipairs(ds.inputs) do names[#names + 1] = i end
      fail(label, ("has no parameter or input '%s' (it has: %s)"):format(k, table.concat(names, ", ")))
    end
  end
end

local function construct(d, t)
  local ds = desc(d)
  local file, line = where()
  if type(t) ~= "table" then
    fail(("%s (%s:%d)"):format(ds.name, file, line), "call it with a table: reel." .. ds.name .. " { ... }")
  end
  local p = C.reel_node_new(graph, ds.name, file, line)
  if p == nil then error(cerr(), 0) end
  local self = setmetatable({ _p = p, _type = ds.name, _d = d }, Node)
  local label = ffi.string(C.reel_node_label(p))
  apply(self, ds, t, label, true)
  check(C.reel_node_finish(p))
  return self
end

-- node:set { box = {...} } changes parameters or inputs of an existing node.
function Node:set(t)
  local ds = desc(self._d)
  apply(self, ds, t, ffi.string(C.reel_node_label(self._p)), false)
  check(C.reel_node_finish(self._p))
  return self
end
function Node:label() return ffi.string(C.reel_node_label(self._p)) end
function Node:range() return C.reel_node_first(self._p), C.reel_node_last(self._p) end
Node.__tostring = Node.label

for d = 0, C.reel_desc_count() - 1 do
  local name = ffi.string(C.reel_desc_name(d))
  M[name] = function(t) return construct(d, t) end
end

-- ---- outputs and rendering ----

-- Marks a node as something `reel render` renders (optionally named, for
-- --output NAME). Graph files may instead return a node or a table of nodes.
function M.output(node, name)
  if not M.is_node(node) then error("reel.output: expects a node", 2) end
  check(C.reel_graph_add_output(graph, node._p, name))
  return node
end

-- Called by bin/reel with what the graph file returned.
function M._collect(ret)
  if M.is_node(ret) then M.output(ret) return end
  if type(ret) == "table" then
    for k, v in pairs(ret) do
      if M.is_node(v) then M.output(v, type(k) == "string" and k or nil) end
    end
  end
end

local function parse_size(s)
  if type(s) == "number" then return s end
  local n, u = tostring(s):match("^([%d%.]+)([KMGTkmgt]?)")
  if not n then error("bad size: " .. tostring(s), 3) end
  local mult = ({ [""] = 1, k = 2^10, m = 2^20, g = 2^30, t = 2^40 })[u:lower()]
  return tonumber(n) * mult
end

-- reel.render { frames = {a, b}, output = "name", cache = dir | false,
--               mem = "4G", device = "0", explain = bool, verify = bool,
--               stats_json = path } -> stats table
function M.render(o)
  o = o or {}
  local opts = ffi.new("reel_render_opts_t")
  opts.first, opts.last = 1, 0
  if o.frames then opts.first, opts.last = o.frames[1], o.frames[2] or o.frames[1] end
  local keep = {}
  local function str(s) keep[#keep + 1] = s return s end
  if o.output then opts.output = str(o.output) end
  if o.cache == false then opts.no_disk_cache = 1 elseif o.cache then opts.cache_dir = str(o.cache) end
  if o.mem then opts.mem_bytes = parse_size(o.mem) end
  if o.device then opts.device = str(tostring(o.device)) end
  opts.explain = o.explain and 1 or 0
  opts.verify = o.verify and 1 or 0
  if o.stats_json then opts.stats_json = str(o.stats_json) end
  local st = ffi.new("reel_render_stats_t")
  if C.reel_render(graph, opts, st) ~= 0 then error(cerr(), 0) end
  return {
    computed = tonumber(st.computed), memory_hits = tonumber(st.memory_hits),
    disk_hits = tonumber(st.disk_hits), frames = tonumber(st.frames),
    seconds = st.seconds, verified = tonumber(st.verified),
  }
end

-- Training-frame picker: begin, end and n - 2 evenly spaced middles.
function M.pick_frames(first, last, n)
  assert(type(first) == "number" and type(last) == "number" and last >= first,
    "pick_frames(first, last, n): first <= last")
  n = math.min(n or 4, last - first + 1)
  if n <= 1 then return { first } end
  local out, seen = {}, {}
  for i = 0, n - 1 do
    local f = math.floor(first + (last - first) * i / (n - 1) + 0.5)
    if not seen[f] then seen[f] = true out[#out + 1] = f end
  end
  return out
end

M.version = ffi.string(C.reel_version())

-- reel.Misspelt { ... } names the node type in the error, at the caller's line.
return setmetatable(M, { __index = function(_, k)
  if type(k) == "string" and k:match("^%u") then
    local file, line = where()
    M._last_class = 2
    error(("%s:%d: there is no node type '%s' (reel nodes lists them)"):format(file, line, k), 0)
  end
end })
