"""Filter speed: Reel's Median (5x5, 11x11), Blur and Convolve against OpenCV,
at 2048x1556 and 4096x3112 RGBA float, in the same run.

Reel is timed in-process by build/bench/bench_filter (the public API's
reel_eval_image with fresh = 1: the read stays cached, each run pads, filters
and waits for the device), 7 runs after one untimed run (kernel builds),
median reported. OpenCV (cv2, its default threads) gets the same picture
(skimage's astronaut, resized) and the same number of runs:
  medianBlur float32 5x5 (OpenCV's float median stops at 5x5),
  medianBlur uint8 11x11 (its O(1) histogram path; no float 11x11 exists),
  GaussianBlur float32 at Reel's sigma, with Reel's taps and with OpenCV's
  default (4 sigma each side: more taps),
  filter2D float32 5x5.
Ratios are Reel / OpenCV time (below 1: Reel is faster). Single-channel
OpenCV times are printed too, since peers often quote those. The machine
is shared, so its load average is printed; run it on a quiet machine."""
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import OpenImageIO as oiio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(ROOT, "build", "bench", "bench_filter")
PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
SIZES = [(2048, 1556), (4096, 3112)]
RUNS = 7
BLUR_SIZE = 12  # sigma 5, radius 15


def timed(f):
    f()
    t = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return sorted(t)[RUNS // 2] * 1e3


def reel(path, node, *params):
    r = subprocess.run([DRIVER, path, node, *params, "-n", str(RUNS)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit("bench_filter: " + r.stderr.strip())
    return float(r.stdout.split()[2])


def picture(w, h):
    rgb = cv2.cvtColor(cv2.imread(PHOTO), cv2.COLOR_BGR2RGB)
    rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.dstack([rgb, np.full((h, w), 255, np.uint8)])


def write_exr(path, f32):
    h, w, c = f32.shape
    out = oiio.ImageOutput.create(path)
    spec = oiio.ImageSpec(w, h, c, oiio.FLOAT)
    spec.attribute("compression", "none")
    out.open(path, spec)
    out.write_image(f32)
    out.close()


def main():
    if subprocess.run(["make", "-s", "-C", ROOT, "build/bench/bench_filter"]).returncode:
        sys.exit("cannot build build/bench/bench_filter")
    print("load average %.2f %.2f %.2f, cv2 %s with %d threads" %
          (*os.getloadavg(), cv2.__version__, cv2.getNumThreads()))
    rad = int(np.ceil(1.25 * BLUR_SIZE))
    sigma = BLUR_SIZE / 2.4
    k5 = (np.arange(25).reshape(5, 5) % 7 - 3).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for w, h in SIZES:
            u8 = picture(w, h)
            f32 = u8.astype(np.float32) / 255
            path = os.path.join(tmp, "in.exr")
            write_exr(path, f32)
            print("\n%dx%d RGBA float" % (w, h))
            print("%-34s %9s %9s %7s %12s" % ("", "Reel ms", "cv2 ms", "ratio", "cv2 1ch ms"))

            def row(name, r_ms, cv_ms, cv1_ms):
                print("%-34s %9.1f %9.1f %7.2f %12.1f" % (name, r_ms, cv_ms, r_ms / cv_ms, cv1_ms))

            g1, u1 = f32[:, :, 0].copy(), u8[:, :, 0].copy()
            r = reel(path, "Median", "radius=2")
            row("Median 5x5 vs float medianBlur", r, timed(lambda: cv2.medianBlur(f32, 5)),
                timed(lambda: cv2.medianBlur(g1, 5)))
            r = reel(path, "Median", "radius=5")
            row("Median 11x11 vs uint8 medianBlur", r, timed(lambda: cv2.medianBlur(u8, 11)),
                timed(lambda: cv2.medianBlur(u1, 11)))
            r = reel(path, "Blur", "size=%g" % BLUR_SIZE)
            row("Blur sigma 5, %d taps" % (2 * rad + 1), r,
                timed(lambda: cv2.GaussianBlur(f32, (2 * rad + 1, 2 * rad + 1), sigma)),
                timed(lambda: cv2.GaussianBlur(g1, (2 * rad + 1, 2 * rad + 1), sigma)))
            row("  vs GaussianBlur default taps", r,
                timed(lambda: cv2.GaussianBlur(f32, (0, 0), sigma)),
                timed(lambda: cv2.GaussianBlur(g1, (0, 0), sigma)))
            r = reel(path, "Convolve", "kernel=" + ",".join("%g" % v for v in k5.ravel()))
            row("Convolve 5x5 vs filter2D", r, timed(lambda: cv2.filter2D(f32, -1, k5)),
                timed(lambda: cv2.filter2D(g1, -1, k5)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
