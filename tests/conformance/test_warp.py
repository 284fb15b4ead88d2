#!/usr/bin/python3
"""Conformance of the warp nodes against OpenCV (and float64 numpy
references written here) on real photos from python3-skimage.

Each photo becomes a float EXR; one Lua graph renders every case through
bin/reel to float EXRs, read back with OpenImageIO over the display window.

Pixel centres: Reel puts pixel (i, j)'s centre at (i + 0.5, j + 0.5),
OpenCV at (i, j). A forward matrix H_cv in OpenCV's convention is
H_reel = T(+0.5) H_cv T(-0.5) in Reel's (and H_cv = T(-0.5) H_reel T(+0.5)).

Tolerances, and why (per pixel, from the source neighbourhood each output
pixel reads, so they are bounds, not fudge factors):
- warpPerspective / warpAffine: OpenCV rounds source positions to 1/32
  pixel (INTER_BITS = 5, plus 1/1024 from its fixed-point affine
  coordinates), so its result is the exact interpolant at a point up to
  d = 1/64 + 1/1024 px away on each axis. The interpolant's slope is at most
  G * (range of the taps) per axis, G = max_t sum|K'(t - k)| / 2 *
  max_t sum|K(t - k)| (bilinear: G = 1; Keys a = -0.75: G ~ 2.06, computed
  below), so |diff| <= 2 d G range + 1e-5. Mean |diff| must also be < 1e-3.
- Against numpy (float64, Reel's conventions, written here): Reel computes
  source positions in float32, a few ulp off (6e-5 px at 512 px), so
  |diff| <= 3e-4 * range + 2e-6.
- Transform bicubic uses cubic_a = -0.75, OpenCV's INTER_CUBIC kernel (Reel's
  default is Keys a = -0.5, Catmull-Rom). No minification: OpenCV does not
  widen its kernels, Reel does (they would differ by design).
- Reformat Lanczos-3 vs resize(INTER_LANCZOS4): different kernels (3 vs 4
  lobes), both normalised to sum 1, so the two results differ by at most
  D * range of the 8x8 taps, D = half the L1 distance between the two 2-D
  weight sets (computed below for the actual sample phases: 0.28 on an
  upscale by 1.75). Mean |diff| < 3e-3. The exact check is against a numpy
  Lanczos-3 (normalised weights): |diff| <= 1e-5 * range + 2e-6.
- Reformat box 2x down vs resize(INTER_AREA): both average 2x2 blocks:
  max |diff| < 1e-6 over the whole frame.
Interiors only: output pixels whose source taps lie 4 px inside the photo
(borders differ by design: Reel samples 0 outside the data window; OpenCV
does too for the warps here but replicates edges in resize).
Prints "N passed, N failed"; runs in well under 60 s.
"""
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import OpenImageIO as oiio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REEL = os.path.join(ROOT, "bin", "reel")
PHOTOS = "/usr/lib/python3/dist-packages/skimage/data"

passed = failed = 0


def result(name, ok, detail):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print("%s %s: %s" % ("ok" if ok else "FAIL", name, detail), file=sys.stderr)


def photo(name):
    im = cv2.imread(os.path.join(PHOTOS, name), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(im[:, :, ::-1].astype(np.float32) / 255.0)


def write_exr(path, a):
    spec = oiio.ImageSpec(a.shape[1], a.shape[0], a.shape[2], oiio.FLOAT)
    out = oiio.ImageOutput.create(path)
    assert out and out.open(path, spec), oiio.geterror()
    assert out.write_image(a)
    out.close()


def read_display(path):
    """Pixels over the display window (zeros outside the data window)."""
    b = oiio.ImageBuf(path)
    a = b.get_pixels(oiio.FLOAT, roi=b.roi_full)
    assert a is not None and a.size, "cannot read %s: %s" % (path, oiio.geterror())
    return a.reshape(b.roi_full.height, b.roi_full.width, -1)


HALF = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])


def to_cv(h):
    """Reel's forward matrix in OpenCV's convention: T(-.5) H T(+.5)."""
    return np.linalg.inv(HALF) @ h @ HALF


def from_cv(h):
    """OpenCV's forward matrix in Reel's convention: T(+.5) H T(-.5)."""
    return HALF @ h @ np.linalg.inv(HALF)


# ---- float64 references, Reel's conventions ----

def ref_warp_bilinear(src, h_reel, shape):
    """Output pixel centre p = (x + .5, y + .5) samples src at H^-1 p."""
    hi = np.linalg.inv(h_reel)
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    X, Y = xs + 0.5, ys + 0.5
    w = hi[2, 0] * X + hi[2, 1] * Y + hi[2, 2]
    u = (hi[0, 0] * X + hi[0, 1] * Y + hi[0, 2]) / w - 0.5
    v = (hi[1, 0] * X + hi[1, 1] * Y + hi[1, 2]) / w - 0.5
    x0, y0 = np.floor(u).astype(int), np.floor(v).astype(int)
    tx, ty = (u - x0)[..., None], (v - y0)[..., None]
    H, W = src.shape[:2]
    s = src.astype(np.float64)

    def at(x, y):
        ok = (x >= 0) & (x < W) & (y >= 0) & (y < H)
        return np.where(ok[..., None], s[np.clip(y, 0, H - 1), np.clip(x, 0, W - 1)], 0.0)

    out = (1 - ty) * ((1 - tx) * at(x0, y0) + tx * at(x0 + 1, y0)) + \
        ty * ((1 - tx) * at(x0, y0 + 1) + tx * at(x0 + 1, y0 + 1))
    return out, u, v


def lanczos3(x):
    x = np.abs(x)
    return np.where(x < 3, np.sinc(x) * np.sinc(x / 3), 0.0)


def lanczos_matrix(n_in, n_out, scale):
    """Rows: output pixels; sample at (o + .5) / scale, weights over the whole
    support normalised, then taps outside the input dropped."""
    fs = max(1.0, 1.0 / scale)
    u = (np.arange(n_out) + 0.5) / scale
    j = np.arange(-int(6 * fs) - 2, n_in + int(6 * fs) + 2)
    w = lanczos3((j[None, :] + 0.5 - u[:, None]) / fs)
    w /= w.sum(axis=1, keepdims=True)
    keep = (j >= 0) & (j < n_in)
    return w[:, keep]


def interior_from_coords(u, v, W, H, margin):
    return (u >= margin) & (u <= W - 1 - margin) & (v >= margin) & (v <= H - 1 - margin)


def src_range(src, u, v, k, anchor):
    """Range of src over the k x k taps from (floor(u) - anchor, floor(v) -
    anchor), for each output pixel (u, v: OpenCV-convention positions)."""
    ker = np.ones((k, k), np.uint8)
    # cv2's anchor is the kernel cell on the pixel: window x - a .. x - a + k - 1
    a = (anchor, anchor)
    rng = cv2.dilate(src, ker, anchor=a) - cv2.erode(src, ker, anchor=a)
    H, W = src.shape[:2]
    iy = np.clip(np.floor(v).astype(int), 0, H - 1)
    ix = np.clip(np.floor(u).astype(int), 0, W - 1)
    return rng[iy, ix]


def slope_gain(kernel, taps):
    t = np.linspace(0, 1, 20001)[:, None]
    k = np.arange(-(taps // 2) + 1, taps // 2 + 1)[None, :]
    h = 1e-6
    dk = (kernel(t - k + h) - kernel(t - k - h)) / (2 * h)
    return np.abs(dk).sum(1).max() / 2 * np.abs(kernel(t - k)).sum(1).max()


def check_bound(name, got, other, mask, tol, mean_max):
    d = np.abs(got - other)
    bad = (d > tol) & mask[..., None]
    md = d[mask].mean()
    worst = (d / np.maximum(tol, 1e-12))[mask].max()
    detail = "max %.2e mean %.2e over %d px, worst at %.2f of its bound, %d beyond" % (
        d[mask].max(), md, int(mask.sum()), worst, int(bad.sum()))
    result(name, not bad.any() and md < mean_max, detail)


def keys(a):
    def k(x):
        x = np.abs(x)
        return np.where(x < 1, (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1,
                        np.where(x < 2, a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a, 0.0))
    return k


def lanczos(n):
    return lambda x: np.where(np.abs(x) < n, np.sinc(x) * np.sinc(x / n), 0.0)


def phase_weights(kernel, n, frac):
    """Normalised weights of taps floor(u) - n + 1 .. floor(u) + n at phase frac."""
    k = np.arange(-n + 1, n + 1)
    w = kernel(frac[:, None] - k[None, :])
    return w / w.sum(1, keepdims=True)


D_OPENCV = 1 / 64 + 1 / 1024  # OpenCV's position rounding (see the top)


def main():
    tmp = tempfile.mkdtemp(prefix="reel_conf_warp_")
    try:
        run(tmp)
    finally:
        subprocess.run(["rm", "-rf", tmp])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run(tmp):
    t0 = time.time()
    astro = photo("astronaut.png")            # 512 x 512
    coffee = photo("coffee.png")              # 600 x 400
    write_exr(os.path.join(tmp, "astro.exr"), astro)
    write_exr(os.path.join(tmp, "coffee.exr"), coffee)
    H, W = astro.shape[:2]

    # A perspective in OpenCV's convention, and Reel's.
    src_pts = np.float32([[30, 40], [480, 20], [500, 470], [10, 500]])
    dst_pts = np.float32([[0, 0], [511, 30], [470, 511], [40, 480]])
    h_cv = cv2.getPerspectiveTransform(src_pts, dst_pts).astype(np.float64)
    h_reel = from_cv(h_cv)
    corners_from = [0, 0, W, 0, W, H, 0, H]
    c = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float64)
    ch = np.c_[c, np.ones(4)] @ h_reel.T
    corners_to = (ch[:, :2] / ch[:, 2:]).ravel().tolist()

    # An affine: rotate 12 degrees counter-clockwise about the middle, scale
    # 1.15, move by (7.25, -3.5), in Reel's parameters; cv2 gets the same map.
    ang, sc, tr, ce = 12.0, 1.15, (7.25, -3.5), (W / 2, H / 2)
    a = np.radians(ang)
    R = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]])
    T = lambda x, y: np.array([[1, 0, x], [0, 1, y], [0, 0, 1.0]])
    a_reel = T(tr[0] + ce[0], tr[1] + ce[1]) @ R @ np.diag([sc, sc, 1]) @ T(-ce[0], -ce[1])
    a_cv = to_cv(a_reel)

    fmt = lambda v: "{" + ", ".join("%.17g" % x for x in v) + "}"
    graph = """
local reel = require "reel"
local astro = reel.Read {{ "{tmp}/astro.exr" }}
local coffee = reel.Read {{ "{tmp}/coffee.exr" }}
local function w(n, p) return reel.Write {{ n, path = "{tmp}/" .. p .. ".exr", pixeltype = "float" }} end
return {{
  w(reel.CornerPin {{ astro, from = {cf}, to = {ct}, filter = "bilinear" }}, "pin_corners"),
  w(reel.CornerPin {{ astro, matrix = {hm}, filter = "bilinear" }}, "pin_matrix"),
  w(reel.Transform {{ astro, rotate = {ang}, scale = {{{sc}, {sc}}}, translate = {{{tx}, {ty}}},
      center = {{{cx}, {cy}}}, filter = "bicubic", cubic_a = -0.75 }}, "xf_cubic"),
  w(reel.Transform {{ astro, rotate = {ang}, scale = {{{sc}, {sc}}}, translate = {{{tx}, {ty}}},
      center = {{{cx}, {cy}}}, filter = "bilinear" }}, "xf_bilinear"),
  w(reel.Reformat {{ coffee, width = 1050, height = 700, resize = "distort",
      filter = "lanczos3" }}, "rs_lanczos"),
  w(reel.Reformat {{ coffee, width = 300, height = 200, filter = "box" }}, "rs_box"),
}}
""".format(tmp=tmp, cf=fmt(corners_from), ct=fmt(corners_to), hm=fmt(h_reel.ravel()),
           ang=ang, sc=sc, tx=tr[0], ty=tr[1], cx=ce[0], cy=ce[1])
    gpath = os.path.join(tmp, "graph.lua")
    with open(gpath, "w") as f:
        f.write(graph)
    env = dict(os.environ)
    env.setdefault("REEL_CACHE", os.path.join(tmp, "cache"))
    r = subprocess.run([REEL, "render", gpath, "--quiet"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    result("render", r.returncode == 0, (r.stderr or r.stdout).strip()[-300:])
    if r.returncode != 0:
        return

    g_lin = slope_gain(lambda x: np.maximum(0, 1 - np.abs(x)), 2)  # 1
    g_cub = slope_gain(keys(-0.75), 4)
    print("slope gains: bilinear %.3f, Keys a=-0.75 %.3f" % (g_lin, g_cub), file=sys.stderr)

    # CornerPin (both ways of giving it) vs warpPerspective and numpy.
    cv = cv2.warpPerspective(astro, h_cv, (W, H), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    ref, u, v = ref_warp_bilinear(astro, h_reel, (H, W))
    mask = interior_from_coords(u, v, W, H, 4)
    rng = src_range(astro, u, v, 2, 0)
    for case in ("pin_corners", "pin_matrix"):
        got = read_display(os.path.join(tmp, case + ".exr"))
        check_bound(case + " vs cv2.warpPerspective(INTER_LINEAR)", got, cv, mask,
                    2 * D_OPENCV * g_lin * rng + 1e-5, 1e-3)
        check_bound(case + " vs numpy bilinear (float64)", got, ref, mask, 3e-4 * rng + 2e-6, 1)
    # OpenCV's matrix taken as Reel's, unconverted, is off by a fraction of a
    # pixel: the conversion is needed and the test sees it.
    wrong = cv2.warpPerspective(astro, h_reel, (W, H), flags=cv2.INTER_LINEAR)
    got = read_display(os.path.join(tmp, "pin_matrix.exr"))
    off = np.abs(got - wrong)[mask].mean()
    result("pixel-centre conversion matters", off > 5 * np.abs(got - cv)[mask].mean(),
           "mean |diff| %.2e with the unconverted matrix" % off)

    # Transform vs warpAffine (same cubic kernel, a = -0.75) and bilinear.
    ref, u, v = ref_warp_bilinear(astro, a_reel, (H, W))
    mask = interior_from_coords(u, v, W, H, 4)
    cvc = cv2.warpAffine(astro, a_cv[:2], (W, H), flags=cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    got = read_display(os.path.join(tmp, "xf_cubic.exr"))
    check_bound("Transform bicubic a=-0.75 vs cv2.warpAffine(INTER_CUBIC)", got, cvc, mask,
                2 * D_OPENCV * g_cub * src_range(astro, u, v, 4, 1) + 1e-5, 1e-3)
    cvl = cv2.warpAffine(astro, a_cv[:2], (W, H), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    got = read_display(os.path.join(tmp, "xf_bilinear.exr"))
    rng = src_range(astro, u, v, 2, 0)
    check_bound("Transform bilinear vs cv2.warpAffine(INTER_LINEAR)", got, cvl, mask,
                2 * D_OPENCV * g_lin * rng + 1e-5, 1e-3)
    check_bound("Transform bilinear vs numpy bilinear (float64)", got, ref, mask,
                3e-4 * rng + 2e-6, 1)

    # Reformat Lanczos-3 upscale 1.75 vs resize(INTER_LANCZOS4) and numpy.
    ch_, cw_ = coffee.shape[:2]
    s = 1050 / cw_
    got = read_display(os.path.join(tmp, "rs_lanczos.exr"))
    cvr = cv2.resize(coffee, (1050, 700), interpolation=cv2.INTER_LANCZOS4)
    u = ((np.arange(1050) + 0.5) / s - 0.5)[None, :].repeat(700, 0)
    v = ((np.arange(700) + 0.5) / s - 0.5)[:, None].repeat(1050, 1)
    mask = interior_from_coords(u, v, cw_, ch_, 5)
    frac = np.unique(np.round(u[0] - np.floor(u[0]), 9))
    w3 = phase_weights(lanczos(3), 4, frac)  # 8 taps, the outer ones 0 for Lanczos-3
    w4 = phase_weights(lanczos(4), 4, frac)
    d2 = max(0.5 * np.abs(np.outer(w3[i], w3[j]) - np.outer(w4[i], w4[j])).sum()
             for i in range(len(frac)) for j in range(len(frac)))
    print("Lanczos-3 vs -4 weight distance D = %.3f over %d phases" % (d2, len(frac)),
          file=sys.stderr)
    rng = src_range(coffee, u, v, 8, 3)
    check_bound("Reformat lanczos3 vs cv2.resize(INTER_LANCZOS4), different kernels", got, cvr,
                mask, d2 * rng + 1e-5, 3e-3)
    wy, wx = lanczos_matrix(ch_, 700, 700 / ch_), lanczos_matrix(cw_, 1050, s)
    ref = np.stack([wy @ coffee[:, :, k].astype(np.float64) @ wx.T for k in range(3)], -1)
    check_bound("Reformat lanczos3 vs numpy Lanczos-3 (float64)", got, ref, mask,
                1e-5 * rng + 2e-6, 1)

    # Reformat box 2x down vs resize(INTER_AREA): 2x2 averages, whole frame.
    got = read_display(os.path.join(tmp, "rs_box.exr"))
    cva = cv2.resize(coffee, (300, 200), interpolation=cv2.INTER_AREA)
    d = np.abs(got - cva).max()
    result("Reformat box 2x down vs cv2.resize(INTER_AREA)", got.shape == cva.shape and d < 1e-6,
           "max %.2e over the whole frame" % d)

    print("(%.1f s)" % (time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
