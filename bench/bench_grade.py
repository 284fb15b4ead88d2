#!/usr/bin/python3
"""ApplyGrade and MatchGrade on 2048x1556 (2K full aperture) float frames.

Four vtest frames (100, 300, 500, 700) upscaled to 2048x1556 R, G, B float
EXRs. Reel, timed in-process by bench/bench_grade.c (see its header):
  applygrade_file_tetrahedral  kdenlive's TEAL_ORANGE.cube (16^3), tetrahedral
  applygrade_file_trilinear    the same, trilinear
  applygrade_fitted_shaper_65  a 65^3 LUT on a log2 shaper (MatchGrade's)
  copy_kernel                  a plain copy of the same bytes (R, G, B)
  MatchGrade fit               65^3 from the 4 frames (2.1M samples), as
                               the node reports it on stderr
against OpenColorIO 2.1 applying the same .cube (tetrahedral) to the same
frame with its CPU processor (one thread, as PyOpenColorIO calls it).
Prints the numbers and the ratios. Usage: bench/bench_grade.py [iterations]
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
W, H = 2048, 1556
LUT = os.path.join(ROOT, "..", "shared", "conformance", "luts", "TEAL_ORANGE.cube")
if not os.path.exists(LUT):
    LUT = "/work/shared/conformance/luts/TEAL_ORANGE.cube"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def build_driver():
    exe = os.path.join(BUILD, "bench_grade")
    src = os.path.join(ROOT, "bench", "bench_grade.c")
    lib = os.path.join(ROOT, "build", "libreel.a")
    if not os.path.exists(lib):
        sh(["make", "-C", ROOT, "build/libreel.a"])
    os.makedirs(BUILD, exist_ok=True)
    if os.path.exists(exe) and os.path.getmtime(exe) > max(os.path.getmtime(src), os.path.getmtime(lib)):
        return exe
    libs = sh(["pkg-config", "--libs", "luajit", "OpenImageIO", "OpenEXR", "libxxhash", "OpenCL"]).stdout.split()
    sh(["cc", "-std=gnu11", "-O2", "-I" + os.path.join(ROOT, "engine"), "-o", exe, src, lib] + libs +
       ["-lm", "-lpthread", "-ldl", "-lstdc++"])
    return exe


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    if not os.path.exists(LUT):
        print(f"skip: no {LUT}")
        return 0
    import cv2
    import OpenImageIO as oiio
    tmp = tempfile.mkdtemp(prefix="reel-bench-grade.")
    frames = []
    for i, f in enumerate([100, 300, 500, 700]):
        im = cv2.imread(os.path.join(ROOT, "data", "vtest", f"vtest.{f:04d}.png"))[:, :, ::-1]
        im = cv2.resize(im.astype(np.float32) / 255, (W, H), interpolation=cv2.INTER_LINEAR)
        path = os.path.join(tmp, f"f.{i + 1:04d}.exr")
        out = oiio.ImageOutput.create(path)
        out.open(path, oiio.ImageSpec(W, H, 3, oiio.FLOAT))
        out.write_image(np.ascontiguousarray(im))
        out.close()
        frames.append(im)
    exe = build_driver()
    env = dict(os.environ, REEL_DECODER=os.path.join(ROOT, "lib", "reel", "reel-decode"))
    r = subprocess.run([exe, os.path.join(tmp, "f.####.exr"), LUT, str(iters)], capture_output=True,
                       text=True, env=env)
    if r.returncode:
        print(r.stderr)
        return 1
    print(r.stdout, end="")
    fit = re.search(r"MatchGrade.*\(\d+ iterations, ([0-9.]+) s\)", r.stderr)
    print("matchgrade_fit_65 %.0f ms (the node's own figure)" % (float(fit.group(1)) * 1e3) if fit else r.stderr)
    t = {l.split()[0]: float(l.split()[1]) for l in r.stdout.splitlines() if len(l.split()) == 3}
    try:
        import PyOpenColorIO as ocio
        cfg = ocio.Config.CreateRaw()
        ft = ocio.FileTransform(LUT)
        ft.setInterpolation(ocio.INTERP_TETRAHEDRAL)
        p = cfg.getProcessor(ft).getDefaultCPUProcessor()
        best = 1e9
        for _ in range(max(3, iters // 2)):
            img = frames[0].copy()
            t0 = time.perf_counter()
            p.applyRGB(img)
            best = min(best, time.perf_counter() - t0)
        print("ocio_cpu_tetrahedral %.2f" % (best * 1e3))
        print("ratio applygrade_file_tetrahedral / OpenColorIO CPU: %.2f" % (t["applygrade_file_tetrahedral"] / (best * 1e3)))
    except ImportError:
        print("skip OpenColorIO: no PyOpenColorIO")
    print("ratio applygrade_file_tetrahedral / copy_kernel: %.2f" % (t["applygrade_file_tetrahedral"] / t["copy_kernel"]))
    print("ratio applygrade_fitted_shaper_65 / copy_kernel: %.2f" % (t["applygrade_fitted_shaper_65"] / t["copy_kernel"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
