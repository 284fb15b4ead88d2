#!/usr/bin/python3
"""Warp and resize speed: Reel (PoCL, in-process C driver bench/bench_warp.c)
against OpenCV in the same script, on RGBA float frames of 2048x1556 and
4096x3112 made from a real photo.

Cases (each side in its own layout: Reel planar, OpenCV interleaved):
- perspective: a mild keystone, bilinear, same size out. Reel: CornerPin by
  matrix (converted to Reel's pixel centres); OpenCV: warpPerspective
  INTER_LINEAR into a preallocated dst.
- resize down 2x / up 2x: Reel Reformat lanczos3 (antialiased: 12 taps per
  axis going down, 6 going up); OpenCV resize INTER_LANCZOS4 (8 taps, never
  widened) into a preallocated dst. Not the same kernel: the ratio is for
  orientation.
Times are medians over REPS runs after a warm-up: wall clock and process CPU
(all threads). The machine is shared, so wall times move with other jobs;
CPU time is steadier. Ratio = Reel / OpenCV (> 1: Reel slower).
Usage: bench_warp.py [REPS] [--small] (--small: 2048x1556 only).
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import OpenImageIO as oiio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(ROOT, "build", "bench", "bench_warp")
PHOTO = "/usr/lib/python3/dist-packages/skimage/data/coffee.png"
HALF = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1e3


def frame(w, h):
    im = cv2.imread(PHOTO, cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32) / 255.0
    im = cv2.resize(im, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(np.dstack([im, np.ones((h, w, 1), np.float32)]))


def write_exr(path, a):
    spec = oiio.ImageSpec(a.shape[1], a.shape[0], a.shape[2], oiio.FLOAT)
    spec.attribute("compression", "none")
    out = oiio.ImageOutput.create(path)
    assert out and out.open(path, spec), oiio.geterror()
    assert out.write_image(a)
    out.close()


def keystone(w, h):
    """A mild perspective (OpenCV convention): the top edge pulled in 4%."""
    src = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    dst = np.float32([[0.04 * w, 0.02 * h], [0.96 * w, 0.0], [w - 1, h - 1], [0, 0.98 * h]])
    return cv2.getPerspectiveTransform(src, dst).astype(np.float64)


def reel(exr, args, reps, env):
    r = subprocess.run([DRIVER, exr] + [str(a) for a in args[:2]] + [str(reps)] +
                       [repr(float(a)) if isinstance(a, float) else str(a) for a in args[2:]],
                       capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        sys.exit("bench_warp failed: " + r.stderr.strip())
    lines = dict(l.split(None, 1) for l in r.stdout.strip().split("\n"))
    wall = [float(x) for x in lines["ms"].split()]
    cpu = [float(x) for x in lines["cpu"].split()]
    return statistics.median(wall), statistics.median(cpu)


def opencv(fn, reps):
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), cpu_ms()
        fn()
        wall.append((time.perf_counter() - t) * 1e3)
        cpu.append(cpu_ms() - c)
    return statistics.median(wall), statistics.median(cpu)


def main():
    reps = int(next((a for a in sys.argv[1:] if a.isdigit()), "7"))
    sizes = [(2048, 1556)] if "--small" in sys.argv else [(2048, 1556), (4096, 3112)]
    subprocess.run(["make", "-s", "-C", ROOT, "build/bench/bench_warp"], check=True)
    tmp = tempfile.mkdtemp(prefix="reel_bench_warp_")
    env = dict(os.environ)
    env.setdefault("REEL_CACHE", os.path.join(tmp, "cache"))  # kernel binaries
    print("OpenCV %s, %d threads; Reel on PoCL (CPU); %d runs each, medians"
          % (cv2.__version__, cv2.getNumThreads(), reps))
    print("%-28s %17s %17s %13s" % ("case (RGBA float)", "Reel wall/cpu ms", "OpenCV wall/cpu",
                                    "ratio wall/cpu"))
    rows = []
    for w, h in sizes:
        a = frame(w, h)
        exr = os.path.join(tmp, "in_%d.exr" % w)
        write_exr(exr, a)
        hcv = keystone(w, h)
        hreel = HALF @ hcv @ np.linalg.inv(HALF)
        out = np.empty_like(a)
        cases = [
            ("perspective bilinear %dx%d" % (w, h), ["pin", "bilinear"] + list(hreel.ravel()),
             lambda: cv2.warpPerspective(a, hcv, (w, h), dst=out, flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_CONSTANT)),
        ]
        down = np.empty((h // 2, w // 2, 4), np.float32)
        cases.append(("resize lanczos %dx%d -> 1/2" % (w, h),
                      ["resize", "lanczos3", w // 2, h // 2],
                      lambda: cv2.resize(a, (w // 2, h // 2), dst=down,
                                         interpolation=cv2.INTER_LANCZOS4)))
        if w == 2048:
            up = np.empty((h * 2, w * 2, 4), np.float32)
            cases.append(("resize lanczos %dx%d -> 2x" % (w, h),
                          ["resize", "lanczos3", w * 2, h * 2],
                          lambda: cv2.resize(a, (w * 2, h * 2), dst=up,
                                             interpolation=cv2.INTER_LANCZOS4)))
        for name, args, fn in cases:
            rw, rc = reel(exr, args, reps, env)
            ow, oc = opencv(fn, reps)
            rows.append((name, rw, rc, ow, oc))
            print("%-28s %8.1f /%7.1f %8.1f /%7.1f %6.2f /%5.2f"
                  % (name, rw, rc, ow, oc, rw / ow, rc / oc), flush=True)
        os.unlink(exr)
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
