#!/usr/bin/python3
"""Alignment speed: Reel's solver (PoCL, in-process C driver
bench/bench_align.c) against OpenCV's findTransformECC, homography, on the
same float32 lumas, with the same pyramid depth and iteration cap.

Pairs: a real frame (vtest, 768x576) and a photo scaled to 1920x1080
(coffee), each warped by a known homography (corners moved up to 3%) with
warpPerspective: fixed = the frame, moving = the warped one.
- Reel: reel_align_solve as AlignSolve runs it: masks, the coarse search
  (phase correlation; no rotation or scale search), robust ECC from the top
  level down with sums on the device. LEVELS levels below full resolution,
  at most ITER iterations per level, tolerance 0.002 px. Run twice: with
  the local contrast normalisation (normalize = 4, the default) and without.
- OpenCV: pyrDown LEVELS times, then findTransformECC level by level from the
  top (template = fixed, input = moving, MOTION_HOMOGRAPHY, criteria COUNT |
  EPS with ITER and 1e-4, gaussFiltSize 1: no blur, as Reel), the warp
  carried down (x2 translation, /2 perspective terms). Building the pyramid
  is timed with it.
Each side's mean corner error against the true homography is printed, so
the times are for comparable answers. Times are medians over REPS runs
after a warm-up, wall and process CPU (all threads). Ratio = Reel / OpenCV
(< 1: Reel faster). Usage: bench_align.py [REPS].
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
DRIVER = os.path.join(ROOT, "build", "bench", "bench_align")
HALF = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])
LEVELS, ITER = 3, 30


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1e3


def luma(path, size=None):
    im = cv2.imread(path, cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32) / 255.0
    if size:
        im = cv2.resize(im, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(im @ np.float32([0.2126, 0.7152, 0.0722]))


def write_exr(path, a):
    spec = oiio.ImageSpec(a.shape[1], a.shape[0], 1, oiio.FLOAT)
    spec.channelnames = ("Y",)
    spec.attribute("compression", "none")
    out = oiio.ImageOutput.create(path)
    assert out and out.open(path, spec), oiio.geterror()
    assert out.write_image(np.ascontiguousarray(a[:, :, None]))
    out.close()


def corner_error(h_est, h_true, w, h):
    e = []
    for x, y in [(0, 0), (w, 0), (w, h), (0, h)]:
        a, b = h_est @ [x, y, 1.0], h_true @ [x, y, 1.0]
        e.append(np.hypot(*(a[:2] / a[2] - b[:2] / b[2])))
    return float(np.mean(e))


def reel(mov, fix, reps, normalize):
    r = subprocess.run([DRIVER, mov, fix, str(reps), str(LEVELS), str(ITER), "0.002",
                        str(normalize)], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit("bench_align failed: " + r.stderr.strip())
    lines = dict(l.split(None, 1) for l in r.stdout.strip().split("\n"))
    m = np.array([float(x) for x in lines["matrix"].split()]).reshape(3, 3)
    return (statistics.median(float(x) for x in lines["ms"].split()),
            statistics.median(float(x) for x in lines["cpu"].split()), m)


def opencv_pyramid_ecc(fixed, moving):
    fs, ms = [fixed], [moving]
    for _ in range(LEVELS):
        fs.append(cv2.pyrDown(fs[-1]))
        ms.append(cv2.pyrDown(ms[-1]))
    w = np.eye(3, dtype=np.float32)
    crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, ITER, 1e-4)
    for lv in range(LEVELS, -1, -1):
        _, w = cv2.findTransformECC(fs[lv], ms[lv], w, cv2.MOTION_HOMOGRAPHY, crit, None, 1)
        if lv:
            w = w * np.float32([[1, 1, 2], [1, 1, 2], [0.5, 0.5, 1]])
    return w


def opencv(fixed, moving, reps):
    w = opencv_pyramid_ecc(fixed, moving)  # warm-up
    wall, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), cpu_ms()
        w = opencv_pyramid_ecc(fixed, moving)
        wall.append((time.perf_counter() - t) * 1e3)
        cpu.append(cpu_ms() - c)
    # w maps template (fixed) pixels to input (moving) pixels, OpenCV centres
    return statistics.median(wall), statistics.median(cpu), np.linalg.inv(
        HALF @ w.astype(np.float64) @ np.linalg.inv(HALF))


def main():
    reps = int(next((a for a in sys.argv[1:] if a.isdigit()), "5"))
    subprocess.run(["make", "-s", "-C", ROOT, "build/bench/bench_align"], check=True)
    tmp = tempfile.mkdtemp(prefix="reel_bench_align_")
    rng = np.random.default_rng(7)
    print("OpenCV %s, %d threads; Reel on PoCL (CPU); homography, %d levels below full "
          "resolution, at most %d iterations per level; %d runs each, medians"
          % (cv2.__version__, cv2.getNumThreads(), LEVELS, ITER, reps))
    print("%-34s %17s %12s %6s" % ("case", "wall / cpu ms", "ratio w/c", "err px"))
    pairs = [("vtest 768x576", os.path.join(ROOT, "data", "vtest", "vtest.0100.png"), None),
             ("coffee 1920x1080", "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
              (1920, 1080))]
    for name, path, size in pairs:
        fixed = luma(path, size)
        h, w = fixed.shape
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = (src + rng.uniform(-0.03, 0.03, (4, 2)) * [w, h]).astype(np.float32)
        g = cv2.getPerspectiveTransform(src, dst)
        moving = cv2.warpPerspective(fixed, g, (w, h), flags=cv2.INTER_CUBIC)
        truth = np.linalg.inv(HALF @ g @ np.linalg.inv(HALF))
        fpath, mpath = os.path.join(tmp, "fixed.exr"), os.path.join(tmp, "moving.exr")
        write_exr(fpath, fixed)
        write_exr(mpath, moving)
        ow, oc, om = opencv(fixed, moving, reps)
        print("%-34s %8.1f /%7.1f %12s %6.3f" % ("OpenCV ECC " + name, ow, oc, "",
                                                 corner_error(om, truth, w, h)), flush=True)
        for norm in (4, 0):
            rw, rc, rm = reel(mpath, fpath, reps, norm)
            label = "Reel %s%s" % (name, " (normalize 0)" if not norm else "")
            print("%-34s %8.1f /%7.1f %5.2f /%5.2f %6.3f" % (label, rw, rc, rw / ow, rc / oc,
                                                            corner_error(rm, truth, w, h)),
                  flush=True)
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
