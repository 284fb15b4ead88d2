"""Filter nodes against OpenCV on real photos (skimage's astronaut, chelsea,
coffee; 8-bit PNG). Each photo goes through one `bin/reel render` of a small
Lua graph: Read -> Median / Blur / Sharpen / Convolve -> Write (float EXR),
and the EXRs, data windows included, are compared with:

- Median: cv2.medianBlur on the uint8 pixels, 3x3 to 15x15. Reel reads the
  PNG as code/255 in float and the median picks one of the window's values,
  so Reel's result must be exactly Reel's own float for medianBlur's code.
  Borders differ by design: medianBlur replicates the edge pixels, Reel
  reads 0 outside the data window (OpenEXR/Nuke). So (a) on the photo the
  interior (pixels whose whole window is inside) must match exactly, and
  (b) on the photo padded beforehand by replicating its edges (so both see
  the same neighbours), the whole of the unpadded area must match exactly.
- Blur: cv2.GaussianBlur with Reel's sigma (size / 2.4) and taps (radius
  ceil(1.25 size)), on the photo padded with zeros by the radius
  (BORDER_CONSTANT): the blur spreads into the black around the picture, so
  the whole grown data window is compared. Tolerance 1e-5 absolute: Reel
  sums in float, OpenCV here in double; observed below 4e-7.
- Sharpen: in + amount * (in - GaussianBlur), the same way.
- Convolve: cv2.filter2D (correlation, anchor at the kernel's centre) on the
  zero-padded photo, for 3x3, 5x5 and 4x3 (even width) kernels; 1e-5
  (observed below 5e-6 on results that reach 20).
Run with Debian's /usr/bin/python3; prints "N passed, N failed"."""
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import OpenImageIO as oiio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REEL = os.path.join(ROOT, "bin", "reel")
SKDATA = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png"]
RADII = [1, 2, 5, 7]
BLUR = [2.5, 12]
SHARPEN = [(0.8, 4)]  # amount, size
KERNELS = {
    "k3": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "k5": (np.arange(25).reshape(5, 5) % 7 - 3).tolist(),
    "k43": [[1, 2, 3, 4], [0, 1, 0, 2], [5, -1, 1, 1]],
}
TOL = 1e-5

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok  ", name, detail)
    else:
        failed += 1
        print("FAIL", name, detail)


def read_exr(path):
    """(pixels HxWxC float32, data window x0, y0, x1, y1)."""
    inp = oiio.ImageInput.open(path)
    if not inp:
        raise RuntimeError(oiio.geterror())
    s = inp.spec()
    px = inp.read_image(oiio.FLOAT)
    inp.close()
    return px, (s.x, s.y, s.x + s.width, s.y + s.height)


def lua_list(k):
    return "{" + ", ".join("{" + ", ".join(str(v) for v in row) + "}" for row in k) + "}"


def render(tmp, png, padded_png):
    """One graph for every filter of one photo; returns {name: exr path}."""
    outs, lines = {}, ["local reel = require 'reel'",
                       "local src = reel.Read { '%s' }" % png,
                       "local pad = reel.Read { '%s' }" % padded_png, "return {"]

    def write(name, expr):
        path = os.path.join(tmp, name + ".exr")
        outs[name] = path
        lines.append("  reel.Write { %s, path = '%s', pixeltype = 'float' }," % (expr, path))

    write("read", "src")
    for r in RADII:
        write("median%d" % r, "reel.Median { src, radius = %d }" % r)
        write("median%d_pad" % r, "reel.Median { pad, radius = %d }" % r)
    for s in BLUR:
        write("blur%g" % s, "reel.Blur { src, size = %g }" % s)
    for a, s in SHARPEN:
        write("sharpen%g_%g" % (a, s), "reel.Sharpen { src, amount = %g, size = %g }" % (a, s))
    for name, k in KERNELS.items():
        write(name, "reel.Convolve { src, kernel = %s, width = %d }" % (lua_list(k), len(k[0])))
    lines.append("}")
    graph = os.path.join(tmp, "graph.lua")
    with open(graph, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run([REEL, "render", graph, "--no-cache", "--quiet"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError("reel render failed: " + r.stderr)
    return outs


def grown(img, m):
    """img with m zero pixels around (the data window grown by m)."""
    return cv2.copyMakeBorder(img, m, m, m, m, cv2.BORDER_CONSTANT, value=0)


def run_photo(tmp, name):
    u8 = cv2.cvtColor(cv2.imread(os.path.join(SKDATA, name)), cv2.COLOR_BGR2RGB)
    h, w = u8.shape[:2]
    rmax = max(RADII)
    png = os.path.join(tmp, "photo.png")
    padded = os.path.join(tmp, "padded.png")
    cv2.imwrite(png, cv2.cvtColor(u8, cv2.COLOR_RGB2BGR))
    cv2.imwrite(padded, cv2.cvtColor(cv2.copyMakeBorder(u8, rmax, rmax, rmax, rmax,
                                                         cv2.BORDER_REPLICATE), cv2.COLOR_RGB2BGR))
    outs = render(tmp, png, padded)

    # Reel's float for each 8-bit code, from the plain read
    f, box = read_exr(outs["read"])
    lut = np.zeros(256, np.float32)
    lut[u8.ravel()] = f.ravel()
    check(name + " read: one float per code", np.array_equal(lut[u8], f) and box == (0, 0, w, h))
    x = f.astype(np.float64)

    for r in RADII:
        ref = lut[cv2.medianBlur(u8, 2 * r + 1)]
        out, box = read_exr(outs["median%d" % r])
        inner = (slice(r, h - r), slice(r, w - r))
        check("%s median r=%d interior exact" % (name, r),
              box == (0, 0, w, h) and np.array_equal(out[inner], ref[inner]),
              "box %s, %d pixels differ" % (box, np.count_nonzero(out[inner] != ref[inner])))
        out, box = read_exr(outs["median%d_pad" % r])
        whole = (slice(rmax, rmax + h), slice(rmax, rmax + w))
        check("%s median r=%d replicate-padded exact" % (name, r),
              np.array_equal(out[whole], ref), "%d pixels differ" % np.count_nonzero(out[whole] != ref))

    def gauss(size, m):
        rad = int(np.ceil(1.25 * size))
        return rad, cv2.GaussianBlur(grown(x, rad), (2 * rad + 1, 2 * rad + 1), size / 2.4,
                                     borderType=cv2.BORDER_CONSTANT)

    for s in BLUR:
        rad, ref = gauss(s, 0)
        out, box = read_exr(outs["blur%g" % s])
        err = np.abs(out - ref).max() if out.shape == ref.shape else np.inf
        check("%s blur size=%g" % (name, s), box == (-rad, -rad, w + rad, h + rad) and err <= TOL,
              "box %s, max error %g" % (box, err))
    for a, s in SHARPEN:
        rad, bl = gauss(s, 0)
        xp = grown(x, rad)
        ref = xp + a * (xp - bl)
        out, box = read_exr(outs["sharpen%g_%g" % (a, s)])
        err = np.abs(out - ref).max() if out.shape == ref.shape else np.inf
        check("%s sharpen amount=%g size=%g" % (name, a, s),
              box == (-rad, -rad, w + rad, h + rad) and err <= TOL, "box %s, max error %g" % (box, err))
    for kn, k in KERNELS.items():
        k = np.array(k, np.float64)
        kh, kw = k.shape
        cx, cy = kw // 2, kh // 2  # filter2D's default anchor, Reel's centre
        m = max(kw, kh)
        ref = cv2.filter2D(grown(x, m), cv2.CV_64F, k, anchor=(cx, cy),
                           borderType=cv2.BORDER_CONSTANT)
        # Reel's window: grown by kw-1-cx left, cx right, kh-1-cy up, cy down
        x0, y0 = -(kw - 1 - cx), -(kh - 1 - cy)
        ref = ref[m + y0:m + h + cy, m + x0:m + w + cx]
        out, box = read_exr(outs[kn])
        err = np.abs(out - ref).max() if out.shape == ref.shape else np.inf
        check("%s convolve %dx%d" % (name, kw, kh), box == (x0, y0, w + cx, h + cy) and err <= TOL,
              "box %s, max error %g" % (box, err))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for p in PHOTOS:
            try:
                run_photo(tmp, p)
            except Exception as e:  # a failed render fails the photo, not the script
                check(p, False, str(e))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
