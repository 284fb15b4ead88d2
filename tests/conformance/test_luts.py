#!/usr/bin/python3
"""Conformance of ApplyGrade's LUT and CDL readers against OpenColorIO.

1. For every file and input of ../shared/conformance/luts/expected.tsv
   (OpenColorIO 2.1.2 ociochecklut outputs), Reel's ApplyGrade must agree to
   1e-4 (relative to max(1, |value|): cdl_test1.cc reaches 62). ociochecklut
   asks for INTERP_BEST, which is tetrahedral for 3D LUTs: ApplyGrade's
   default (OpenColorIO's FileTransform defaults to trilinear).
2. With OpenColorIO's Python bindings (python3-pyopencolorio), if installed,
   on 4096 inputs spread over [-0.1, 1.2]^3 (outside the LUT domains too):
   every LUT trilinear and tetrahedral; the .ccc/.cdl corrections by id
   (and by position, as OpenColorIO's cccid allows);
   a .3dl with a non-identity shaper and a .csp with a non-linear prelut
   (written here); and files Reel writes (.cube with a Resolve shaper, .cc,
   .cdl) read back by OpenColorIO against Reel's own application.
3. The deliberate difference: Reel applies ASC_SOP/ASC_SAT elements, which
   OpenColorIO 2.1 ignores (with a warning); checked against an explicit
   CDLTransform with those values instead.
Prints "N passed, N failed"; absent material or bindings are skipped with
the reason printed.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REEL = os.path.join(ROOT, "bin", "reel")
LUTS = os.environ.get("REEL_CONFORMANCE", os.path.join(ROOT, "..", "shared", "conformance"))
LUTS = os.path.join(LUTS, "luts")

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name} {detail}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def skip(what, why):
    print(f"skip {what}: {why}")


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


try:
    import OpenImageIO as oiio
except ImportError:
    skip("everything", "no OpenImageIO Python bindings (python3-openimageio)")
    finish()
try:
    import PyOpenColorIO as ocio
except ImportError:
    ocio = None

if not os.path.isfile(os.path.join(LUTS, "expected.tsv")):
    skip("everything", f"no conformance material at {LUTS}")
    finish()

T = tempfile.mkdtemp(prefix="reel-luts.")


def write_exr(path, rgb):
    """rgb: (h, w, 3) float32"""
    spec = oiio.ImageSpec(rgb.shape[1], rgb.shape[0], 3, oiio.FLOAT)
    out = oiio.ImageOutput.create(path)
    out.open(path, spec)
    out.write_image(np.ascontiguousarray(rgb, np.float32))
    out.close()


def read_exr(path):
    return oiio.ImageBuf(path).get_pixels(oiio.FLOAT)


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(jobs):
    """jobs: list of (name, input exr, Lua expression of the node on `src`).
    Renders them all in one process; returns {name: pixels} (None if the
    render failed)."""
    lines = ['local reel = require "reel"', "local out = {}"]
    for name, inp, expr in jobs:
        lines.append(f"do local src = reel.Read {{ {lua_str(inp)} }}")
        lines.append(f"  out[{lua_str(name)}] = reel.Write {{ {expr}, path = "
                     f"{lua_str(os.path.join(T, name + '.out.exr'))}, pixeltype = \"float\", "
                     f"compression = \"none\" }} end")
    lines.append("return out")
    g = os.path.join(T, "graph.lua")
    open(g, "w").write("\n".join(lines) + "\n")
    env = dict(os.environ, LUA_PATH=f"{ROOT}/lua/?.lua;{ROOT}/lua/?/init.lua;;")
    r = subprocess.run([REEL, "render", g], capture_output=True, text=True, env=env)
    if r.returncode:
        print(r.stderr[-3000:])
        return {name: None for name, _, _ in jobs}
    return {name: read_exr(os.path.join(T, name + ".out.exr")) for name, _, _ in jobs}


def rel_err(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def apply_grade(path, id=None, interp=None):
    args = f"file = {lua_str(path)}"
    if interp:
        args += f", interp = \"{interp}\""
    if id:
        args += f", id = {lua_str(id)}"
    return f"reel.ApplyGrade {{ src, {args} }}"


# ---- 1. the stored OpenColorIO answers ----
rows = {}
for line in open(os.path.join(LUTS, "expected.tsv")):
    if line.startswith("#") or not line.strip():
        continue
    f = line.split("\t")
    rows.setdefault(f[0], []).append([float(x) for x in f[1:7]])
jobs, want = [], {}
for i, (name, r) in enumerate(sorted(rows.items())):
    a = np.array(r, np.float32)
    inp = os.path.join(T, f"exp{i}.exr")
    write_exr(inp, a[:, :3].reshape(1, -1, 3))
    jobs.append((f"exp{i}", inp, apply_grade(os.path.join(LUTS, name))))
    want[f"exp{i}"] = (name, a[:, 3:])

# ---- 2. OpenColorIO itself on many inputs ----
rng = np.random.default_rng(7)
grid = rng.uniform(-0.1, 1.2, (64, 64, 3)).astype(np.float32)
grid[0, :27] = np.stack(np.meshgrid([0, 0.5, 1], [0, 0.5, 1], [0, 0.5, 1]), -1).reshape(27, 3)
GRID = os.path.join(T, "grid.exr")
write_exr(GRID, grid)
oracle = {}  # name -> (label, function giving OpenColorIO's output for grid)


def ocio_file(path, id=None, interp=None):
    def run():
        cfg = ocio.Config.CreateRaw()
        t = ocio.FileTransform(path)
        if id:
            t.setCCCId(id)
        if interp:
            t.setInterpolation(interp)
        p = cfg.getProcessor(t).getDefaultCPUProcessor()
        img = grid.copy()
        p.applyRGB(img)
        return img
    return run


def ocio_cdl(slope, offset, power, sat):
    def run():
        cfg = ocio.Config.CreateRaw()
        t = ocio.CDLTransform()
        t.setSlope(slope), t.setOffset(offset), t.setPower(power), t.setSat(sat)
        t.setStyle(ocio.CDL_NO_CLAMP)
        img = grid.copy()
        cfg.getProcessor(t).getDefaultCPUProcessor().applyRGB(img)
        return img
    return run


# crafted files: a .3dl whose shaper is not the identity, a .csp with a curved prelut
SH3DL = os.path.join(T, "shaper.3dl")
with open(SH3DL, "w") as f:
    n = 9
    f.write("# shaper not the identity\n" + " ".join(str(int(1023 * (i / 8) ** 0.6)) for i in range(n)) + "\n")
    for r in range(n):  # blue fastest
        for g_ in range(n):
            for b in range(n):
                f.write("%d %d %d\n" % (4095 * (r / 8) ** 1.2, 4095 * (0.2 + 0.8 * g_ / 8) * (g_ / 8), 4095 * (b / 8) ** 0.8))
CSP = os.path.join(T, "prelut.csp")
with open(CSP, "w") as f:
    f.write("CSPLUTV100\n3D\n\nBEGIN METADATA\nmade by test_luts.py\nEND METADATA\n\n")
    for c in range(3):
        xs = [-0.05, 0.1, 0.3, 0.6, 1.0, 1.3]
        f.write("6\n" + " ".join(map(str, xs)) + "\n" + " ".join("%.6f" % (max(x, 0) ** (0.5 + 0.1 * c) / 1.3 ** (0.5 + 0.1 * c)) for x in xs) + "\n")
    f.write("\n5 5 5\n")
    for b in range(5):  # red fastest
        for g_ in range(5):
            for r in range(5):
                f.write("%.6f %.6f %.6f\n" % ((r / 4) ** 2, 0.5 * g_ / 4 + 0.5 * r / 4, (b / 4) ** 0.5))

if ocio is None:
    skip("OpenColorIO on 4096 inputs", "no PyOpenColorIO (apt install python3-pyopencolorio)")
else:
    for name in ["BLUE_TINT.cube", "CINEMATIC.cube", "GREEN_TINT.cube", "TEAL_ORANGE.cube",
                 "iridas_3d.cube", "resolve_1d3d.cube", "lustre_33x33x33.3dl",
                 "discreet-3d-lut.3dl", "lut3d_arbitrary.csp", "cdl_test1.cc"]:
        p = os.path.join(LUTS, name)
        oracle["tri_" + name] = (f"{name} trilinear", ocio_file(p), apply_grade(p, interp="trilinear"))
        if name.endswith((".cube", ".3dl")) and "resolve" not in name:
            oracle["tet_" + name] = (f"{name} tetrahedral",
                                     ocio_file(p, interp=ocio.INTERP_TETRAHEDRAL),
                                     apply_grade(p))
    for name in ["cdl_test1.ccc", "cdl_test1.cdl"]:
        # ids, and positions from 0 (the .ccc's last two have no usable id)
        for cid in ["cc0001", "cc0002", "cc0003"] + (["3", "4"] if name.endswith(".ccc") else []):
            p = os.path.join(LUTS, name)
            oracle[f"{name}_{cid}"] = (f"{name} id {cid}", ocio_file(p, cid), apply_grade(p, cid))
    oracle["shaper3dl"] = (".3dl with a non-identity shaper", ocio_file(SH3DL), apply_grade(SH3DL))
    oracle["prelut"] = (".csp with a curved prelut", ocio_file(CSP), apply_grade(CSP))
    # the deliberate difference: ASC_SOP / ASC_SAT are applied here
    oracle["asc_sat"] = ("cdl_test_ASC_SAT.cc (ASC_SAT applied, unlike OpenColorIO 2.1)",
                         ocio_cdl([1.1, 1.2, 1.3], [2.1, 2.2, 2.3], [3.1, 3.2, 3.3], 0.42),
                         apply_grade(os.path.join(LUTS, "cdl_test_ASC_SAT.cc")))
    oracle["asc_sop"] = ("cdl_test_ASC_SOP.cc (ASC_SOP applied, unlike OpenColorIO 2.1)",
                         ocio_cdl([1.1, 1.2, 1.3], [2.1, 2.2, 2.3], [3.1, 3.2, 3.3], 0.42),
                         apply_grade(os.path.join(LUTS, "cdl_test_ASC_SOP.cc")))
    for k, (label, fn, expr) in oracle.items():
        jobs.append((k, GRID, expr))

# ---- 3. files Reel writes, read by OpenColorIO ----
# a fitted 3D LUT on a log2 shaper (a Resolve shaper + 3D .cube), a CDL (.cc,
# .cdl) and a matrix (baked into a 3D LUT): Reel's ApplyGrade of the Grade
# itself must agree with OpenColorIO reading the written file.
FIT_IN = os.path.join(T, "fit_src.exr")
fsrc = rng.uniform(0.0, 1.0, (96, 96, 3)).astype(np.float32)
write_exr(FIT_IN, fsrc)
FIT_TG = os.path.join(T, "fit_tgt.exr")
write_exr(FIT_TG, np.clip(fsrc ** 1.1 * np.array([1.05, 0.98, 0.9], np.float32) + 0.01, 0, None))
written = {}
for method, ext in [("lut3d", "cube"), ("cdl", "cc"), ("cdl", "cdl"), ("matrix", "cube")]:
    key = f"w_{method}_{ext}"
    path = os.path.join(T, key + "." + ext)
    written[key] = path
    lines = ['local reel = require "reel"',
             f'local s = reel.Read {{ {lua_str(FIT_IN)} }}',
             f'local t = reel.Read {{ {lua_str(FIT_TG)} }}',
             f'local g = reel.MatchGrade {{ source = s, target = t, frames = {{1}}, method = "{method}", size = 17 }}',
             f'local img = reel.Read {{ {lua_str(GRID)} }}',
             'return {',
             f'  reel.Write {{ g, path = {lua_str(path)} }},',
             f'  reel.Write {{ reel.ApplyGrade {{ img, grade = g }}, path = {lua_str(path + ".self.exr")}, pixeltype = "float" }},',
             '}']
    open(os.path.join(T, key + ".lua"), "w").write("\n".join(lines) + "\n")
    r = subprocess.run([REEL, "render", os.path.join(T, key + ".lua")], capture_output=True, text=True,
                       env=dict(os.environ, LUA_PATH=f"{ROOT}/lua/?.lua;{ROOT}/lua/?/init.lua;;"))
    ok = r.returncode == 0 and os.path.isfile(path)
    check(f"MatchGrade method {method}, written as .{ext}", ok, "" if ok else r.stderr[-500:])

got = render(jobs)
for k, (name, w) in want.items():
    if got[k] is None:
        check(f"{name} vs OpenColorIO 2.1.2 (expected.tsv)", False, "(render failed)")
        continue
    e = rel_err(got[k].reshape(-1, 3), w)
    check(f"{name} vs OpenColorIO 2.1.2 (expected.tsv)", e <= 1e-4, f"(max err {e:.2e})")
for k, (label, fn, expr) in oracle.items():
    if got[k] is None:
        check(label, False, "(render failed)")
        continue
    e = rel_err(got[k], fn())
    check(f"{label} vs OpenColorIO on 4096 inputs", e <= 1e-4, f"(max err {e:.2e})")

if ocio is not None:
    for key, path in written.items():
        if not os.path.isfile(path + ".self.exr"):
            continue
        mine = read_exr(path + ".self.exr")
        base = os.path.basename(path)
        theirs = ocio_file(path, base[:base.rindex(".")] if path.endswith(".cdl") else None,
                           ocio.INTERP_TETRAHEDRAL)()
        # a baked matrix is a 65^3 LUT of a linear map: trilinear is exact
        # inside [0, 1] and clamps outside, so compare inside only
        inside = np.all((grid >= 0) & (grid <= 1), axis=-1) if "matrix" in key else np.ones(grid.shape[:2], bool)
        tol = 1e-4
        e = rel_err(mine[inside], theirs[inside])
        check(f"OpenColorIO reads Reel's {os.path.basename(path)} as Reel applies it", e <= tol,
              f"(max err {e:.2e}, tol {tol:g})")

finish()
