#!/usr/bin/python3
"""Colour-node benchmark on a 4096x3112 RGBA float frame (4K full aperture).

Reel, timed in-process by bench/bench_color.c (built here against
build/libreel.a; see its header for what a run includes):
  cdl_chain_3  ACES2065-1 -> ACEScct, CDL (noclamp), ACEScct -> ACES2065-1
  chain_6      Colorspace, CDL, Grade, Saturation, Clamp, Colorspace
  chain_6_unfused  the same six nodes evaluated one at a time
  invert_1     one Invert (one light pass)
  copy_kernel  a plain OpenCL copy of the same bytes on the same device
against
  oiiotool     the same 3-step chain with OpenColorIO (--colorconvert with
               the ACES reference config, --ociofiletransform of a .cc file
               holding the same CDL), timed by its own --runstats per
               operation so that file reading and writing are left out;
  numpy        np.copyto of the same bytes (one read, one write).
Both sides use all cores (oiiotool's default threads, PoCL's device).
Prints the numbers and the ratios. Usage: bench/bench_color.py [iterations]
"""
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
W, H = 4096, 3112
PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
CONFIG = os.path.join(ROOT, "..", "shared", "conformance", "luts", "config-aces-reference.ocio")
if not os.path.exists(CONFIG):
    CONFIG = "/work/shared/conformance/luts/config-aces-reference.ocio"
CC = """<ColorCorrection id="bench">
  <SOPNode>
    <Slope>1.1 1.0 0.95</Slope>
    <Offset>0.01 -0.005 0.02</Offset>
    <Power>1.05 1.0 0.9</Power>
  </SOPNode>
  <SatNode><Saturation>1.2</Saturation></SatNode>
</ColorCorrection>
"""


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def build_driver():
    exe = os.path.join(BUILD, "bench_color")
    src = os.path.join(ROOT, "bench", "bench_color.c")
    lib = os.path.join(ROOT, "build", "libreel.a")
    if not os.path.exists(lib):
        sh(["make", "-C", ROOT, "build/libreel.a"])
    if os.path.exists(exe) and os.path.getmtime(exe) > max(os.path.getmtime(src), os.path.getmtime(lib)):
        return exe
    libs = sh(["pkg-config", "--libs", "luajit", "OpenImageIO", "OpenEXR", "libxxhash", "OpenCL"]).stdout.split()
    sh(["cc", "-std=gnu11", "-O2", "-I" + os.path.join(ROOT, "engine"), "-o", exe, src, lib] + libs +
       ["-lm", "-lpthread", "-ldl", "-lstdc++"])
    return exe


def make_frame(path):
    """The astronaut photo, linearised, tiled to 4096x3112, with an alpha."""
    import OpenImageIO as oiio
    if os.path.exists(path):
        return
    p = oiio.ImageBuf(PHOTO).get_pixels(oiio.FLOAT)[..., :3]
    lin = np.where(p <= 0.04045, p / 12.92, ((p + 0.055) / 1.055) ** 2.4).astype(np.float32)
    rgb = np.tile(lin, (H // lin.shape[0] + 1, W // lin.shape[1] + 1, 1))[:H, :W]
    rgba = np.concatenate([rgb, rgb.mean(-1, keepdims=True)], -1)
    spec = oiio.ImageSpec(W, H, 4, oiio.FLOAT)
    spec.attribute("compression", "none")
    out = oiio.ImageOutput.create(path)
    out.open(path, spec)
    out.write_image(np.ascontiguousarray(rgba))
    out.close()


def oiiotool_times(frame, iters):
    """Seconds per run of the 3 colour ops, from --runstats (best of iters)."""
    cc = os.path.join(BUILD, "bench.cc")
    with open(cc, "w") as f:
        f.write(CC)
    out = os.path.join(BUILD, "oiio_out.exr")
    best = None
    for _ in range(iters):
        r = sh(["oiiotool", "--runstats", "--colorconfig", CONFIG, "-i:now=1", frame,
                "--colorconvert", "ACES - ACES2065-1", "ACES - ACEScct", "--ociofiletransform", cc,
                "--colorconvert", "ACES - ACEScct", "ACES - ACES2065-1", "-o", out])
        ops = {}
        for line in r.stdout.splitlines():
            m = re.match(r"\s+-?(\w+)\s*:\s*([0-9.]+)", line)
            if m:
                ops[m.group(1)] = float(m.group(2))
        t = ops.get("colorconvert", 0) + ops.get("ociofiletransform", 0)
        best = t if best is None else min(best, t)
    os.remove(out)
    return best


def numpy_copy(iters):
    src = np.random.default_rng(1).random((4, H, W), dtype=np.float32)
    dst = np.empty_like(src)
    best = 1e9
    for _ in range(iters):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    os.makedirs(BUILD, exist_ok=True)
    exe = build_driver()
    frame = os.path.join(BUILD, f"frame_{W}x{H}.exr")
    make_frame(frame)
    r = sh([exe, frame, str(iters)], env=dict(os.environ, REEL_CACHE=os.path.join(BUILD, "cache")))
    print(r.stdout, end="")
    reel = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) == 3 and f[0] != "frame":
            reel[f[0]] = float(f[1]) / 1e3  # best
    mb = W * H * 4 * 4 / 1e6
    npc = numpy_copy(iters)
    print(f"numpy_copy {npc * 1e3:.2f}")
    oiio = oiiotool_times(frame, min(iters, 3))
    print(f"oiiotool_3ops {oiio * 1e3:.0f}  (colorconvert x2 + ociofiletransform, from --runstats, 10 ms steps)")
    print()
    print(f"frame: {W}x{H} RGBA float, {mb:.0f} MB; one read + one write = {2 * mb:.0f} MB per pass")
    for k in ("copy_kernel", "invert_1", "cdl_chain_3", "chain_6", "chain_6_unfused"):
        print(f"  {k:15s} {reel[k] * 1e3:8.1f} ms  {2 * mb / 1e3 / reel[k]:6.2f} GB/s")
    print(f"  {'numpy copy':15s} {npc * 1e3:8.1f} ms  {2 * mb / 1e3 / npc:6.2f} GB/s")
    print(f"  {'oiiotool':15s} {oiio * 1e3:8.1f} ms  (3 ops)")
    print("ratios (time / time):")
    print(f"  chain_6 / copy_kernel   {reel['chain_6'] / reel['copy_kernel']:.2f}")
    print(f"  chain_6 / numpy copy    {reel['chain_6'] / npc:.2f}")
    print(f"  chain_6 / invert_1      {reel['chain_6'] / reel['invert_1']:.2f}")
    print(f"  chain_6_unfused / chain_6 {reel['chain_6_unfused'] / reel['chain_6']:.2f}")
    print(f"  cdl_chain_3 / oiiotool  {reel['cdl_chain_3'] / oiio:.2f}")


if __name__ == "__main__":
    main()
