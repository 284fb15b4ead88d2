"""`reel compare A B --json` against independent implementations on real
photos: skimage.metrics.peak_signal_noise_ratio and structural_similarity
(gaussian_weights, sigma 1.5, population covariance, data range 1, mean over
channels), skimage.color.deltaE_ciede2000 on skimage.color.rgb2lab, and a
numpy BT.709 Cb/Cr PSNR. Inputs: skimage's astronaut and coffee, degraded
here (blur + JPEG, noise) and saved losslessly, so both sides read the same
values; a pair of frames of the real footage when data/vtest is present.
Exit codes: missing file, bad region, different formats. Run with Debian's
/usr/bin/python3; prints "N passed, N failed"."""
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
from skimage import color, metrics

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REEL = os.path.join(ROOT, "bin", "reel")
SKDATA = "/usr/lib/python3/dist-packages/skimage/data"

# Tolerances. Reel stores per-pixel maps and L*a*b* as float32 (computing
# in double where the device has it) and reduces them on the device; skimage
# works in float64. Observed errors are below 3e-7 dB, 1e-7 in SSIM and
# 5e-7 relative in CIEDE2000; the limits leave a margin of about 30.
TOL_PSNR = 1e-5  # dB
TOL_SSIM = 1e-6  # absolute
TOL_DE = 1e-5  # relative

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok  ", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def load(path):
    """R'G'B' in [0, 1] as float64, the way reel's Read scales integers."""
    im = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    peak = 65535.0 if im.dtype == np.uint16 else 255.0
    return cv2.cvtColor(im, cv2.COLOR_BGR2RGB).astype(np.float64) / peak


def save(path, rgb):
    cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def reel_compare(a, b, *extra):
    r = subprocess.run([REEL, "compare", a, b, "--json", *extra], capture_output=True, text=True)
    return r.returncode, (json.loads(r.stdout) if r.returncode == 0 else None), r.stderr


def chroma_psnr(a, b):
    def cbcr(x):
        y = 0.2126 * x[..., 0] + 0.7152 * x[..., 1] + 0.0722 * x[..., 2]
        return np.stack([(x[..., 2] - y) / 1.8556, (x[..., 0] - y) / 1.5748], -1)

    return 10 * np.log10(1.0 / np.mean((cbcr(a) - cbcr(b)) ** 2))


def expected(a, b):
    de = color.deltaE_ciede2000(color.rgb2lab(a), color.rgb2lab(b))
    return {
        "psnr": metrics.peak_signal_noise_ratio(b, a, data_range=1.0),
        "psnr_chroma": chroma_psnr(a, b),
        "ssim": metrics.structural_similarity(a, b, channel_axis=2, gaussian_weights=True,
                                              sigma=1.5, use_sample_covariance=False,
                                              data_range=1.0),
        "de2000_mean": de.mean(),
        "de2000_p95": np.percentile(de, 95),
    }


def compare_case(name, pa, pb, region=None):
    a, b = load(pa), load(pb)
    extra = []
    if region:
        x0, y0, x1, y1 = region
        a, b = a[y0:y1, x0:x1], b[y0:y1, x0:x1]
        extra = ["--region", "%d,%d,%d,%d" % region]
    rc, got, err = reel_compare(pa, pb, *extra)
    check(name + ": exit 0", rc == 0, err)
    if rc:
        return
    want = expected(a, b)
    h, w = a.shape[:2]
    if region:
        check(name + ": region", got["region"] == list(region), got["region"])
    else:
        check(name + ": region", got["region"] == [0, 0, w, h], got["region"])
    for k, tol, rel in (("psnr", TOL_PSNR, False), ("psnr_chroma", TOL_PSNR, False),
                        ("ssim", TOL_SSIM, False), ("de2000_mean", TOL_DE, True),
                        ("de2000_p95", TOL_DE, True)):
        lim = tol * abs(want[k]) if rel else tol
        err = abs(got[k] - want[k])
        check("%s: %s %.6f vs %.6f (error %.1e)" % (name, k, got[k], want[k], err), err <= lim,
              "> %.1e" % lim)


def main():
    if not os.access(REEL, os.X_OK):
        print("bin/reel is not built: run make")
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="reel_conf_compare_")
    rng = np.random.default_rng(7)

    # astronaut (8-bit) against a blurred, JPEG-compressed copy
    ast = cv2.imread(os.path.join(SKDATA, "astronaut.png"))
    a_png, b_png = os.path.join(tmp, "a.png"), os.path.join(tmp, "b.png")
    cv2.imwrite(a_png, ast)
    blur = cv2.GaussianBlur(ast, (5, 5), 1.0)
    ok, jpg = cv2.imencode(".jpg", blur, [cv2.IMWRITE_JPEG_QUALITY, 40])
    cv2.imwrite(b_png, cv2.imdecode(jpg, cv2.IMREAD_COLOR))
    compare_case("astronaut vs blur+jpeg", a_png, b_png)
    compare_case("astronaut region", a_png, b_png, (100, 50, 400, 300))

    # coffee (16-bit) against a noisy copy, some of it out of 0..1 before the clip
    cof = cv2.cvtColor(cv2.imread(os.path.join(SKDATA, "coffee.png")), cv2.COLOR_BGR2RGB)
    c = cof.astype(np.float64) / 255.0
    n = np.clip(c + rng.normal(0, 0.03, c.shape), 0, 1)
    c_png, n_png = os.path.join(tmp, "c16.png"), os.path.join(tmp, "n16.png")
    save(c_png, np.round(c * 65535).astype(np.uint16))
    save(n_png, np.round(n * 65535).astype(np.uint16))
    compare_case("coffee 16-bit vs noise", c_png, n_png)

    # real footage: two neighbouring frames
    f1 = os.path.join(ROOT, "data", "vtest", "vtest.0001.png")
    f2 = os.path.join(ROOT, "data", "vtest", "vtest.0002.png")
    if os.path.exists(f1) and os.path.exists(f2):
        compare_case("vtest frames 1 vs 2", f1, f2)

    # identical inputs: PSNR infinite (null in JSON), SSIM 1, no difference
    rc, got, err = reel_compare(a_png, a_png)
    check("identical: psnr null, ssim 1, de 0",
          rc == 0 and got["psnr"] is None and got["psnr_chroma"] is None and
          abs(got["ssim"] - 1) < 1e-6 and got["de2000_mean"] == 0 and got["de2000_p95"] == 0,
          str(got) + err)

    # text output
    r = subprocess.run([REEL, "compare", a_png, b_png], capture_output=True, text=True)
    check("text output", r.returncode == 0 and "psnr" in r.stdout and "de2000_p95" in r.stdout,
          r.stdout + r.stderr)

    # user errors: exit 2 with a message
    small = os.path.join(tmp, "small.png")
    cv2.imwrite(small, ast[:100, :120])
    for name, args, needle in (
            ("missing file", [a_png, os.path.join(tmp, "nope.png")], "nope.png"),
            ("different formats", [a_png, small], "different formats"),
            ("bad region", [a_png, b_png, "--region", "10,10,5,20"], "--region"),
            ("one file", [a_png], "two image files"),
            ("unknown option", [a_png, b_png, "--psnr"], "unknown option")):
        r = subprocess.run([REEL, "compare", *args], capture_output=True, text=True)
        check("%s: exit 2" % name, r.returncode == 2 and needle in r.stderr,
              "rc %d: %s" % (r.returncode, r.stderr.strip()))

    subprocess.run(["rm", "-rf", tmp])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
