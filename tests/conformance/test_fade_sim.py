"""tools/fade-sim, the faded-print simulator (docs/fading.md), on real
footage and on synthetic patches: the same seed gives the same bytes and a
different seed or frame different grain; strength 0 is the identity; the
output is finite and in [0, 1]; on vtest frames the fade lowers the chroma
spread about the frame's mean by at least 15%, moves the mean Cb/Cr toward
red and yellow, and keeps the mean luma within 0.02; the stain varies
smoothly over the frame; the grain's RMS density follows the documented
law. Run with Debian's /usr/bin/python3; prints "N passed, N failed"."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import OpenImageIO as oiio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "fade-sim")
VTEST = os.path.join(ROOT, "data", "vtest", "vtest.%04d.png")

# Limits (docs/fading.md has the measured values they guard).
MIN_SPREAD_DROP = 0.15  # chroma spread about the mean falls by >= 15% (measured ~26%)
MIN_CR_SHIFT = 0.03  # mean Cr rises by >= 0.03 (measured ~0.063)
MIN_CB_SHIFT = 0.015  # mean Cb falls by >= 0.015 (measured ~0.032)
MAX_MEAN_DY = 0.02  # |mean Y' change| per frame (measured 0.001 to 0.012)
MAX_ABS_DY = 0.03  # mean |Y' change| per frame (measured 0.005 to 0.013)

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok  ", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def fade_sim(*args):
    r = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr.strip())
    return r.returncode, r.stderr


def read(path):
    buf = oiio.ImageBuf(path)
    px = buf.get_pixels(oiio.FLOAT)
    if px is None or buf.has_error:
        raise RuntimeError("cannot read %s: %s" % (path, buf.geterror()))
    return np.asarray(px, dtype=np.float64)[..., :3]


def write_png(path, rgb):
    spec = oiio.ImageSpec(rgb.shape[1], rgb.shape[0], 3, "uint8")
    out = oiio.ImageOutput.create(path)
    out.open(path, spec)
    out.write_image(np.clip(rgb, 0, 1).astype(np.float32))
    out.close()


def ycbcr(x):
    """BT.709 full-range Y'CbCr of R'G'B' (as reel's Colorspace srgb -> srgb_ycbcr709)."""
    y = x[..., 0] * 0.2126 + x[..., 1] * 0.7152 + x[..., 2] * 0.0722
    return y, (x[..., 2] - y) / 1.8556, (x[..., 0] - y) / 1.5748


def srgb_decode(v):
    return np.where(v <= 0.04045, v / 12.92, ((np.maximum(v, 0.04045) + 0.055) / 1.055) ** 2.4)


def hue(cb, cr):
    return np.degrees(np.arctan2(cr, cb)) % 360


def main():
    if not os.path.exists(VTEST % 1):
        print("data/vtest is missing: run tools/fetch-footage.sh")
        print("0 passed, 1 failed")
        return 1
    t = tempfile.mkdtemp(prefix="reel-fade.")

    # determinism: same seed, same bytes; another seed, other grain
    fade_sim(VTEST.replace("%04d", "####"), t + "/a/f.####.exr", "--range", "1-2", "--seed", "7")
    fade_sim(VTEST.replace("%04d", "####"), t + "/b/f.####.exr", "--range", "1-2", "--seed", "7",
             "--jobs", "1")
    fade_sim(VTEST.replace("%04d", "####"), t + "/c/f.####.exr", "--range", "1-2", "--seed", "8")
    same = all(open("%s/a/f.%04d.exr" % (t, f), "rb").read() == open(
        "%s/b/f.%04d.exr" % (t, f), "rb").read() for f in (1, 2))
    check("same seed: the same bytes (2 jobs or 1)", same)
    a, c = read(t + "/a/f.0001.exr"), read(t + "/c/f.0001.exr")
    d = a - c
    check("another seed: other grain", np.mean(d != 0) > 0.5 and np.std(d) > 0.003,
          "std %.4g" % np.std(d))
    check("another seed: the same fade on average", abs(np.mean(d)) < 0.01, "mean %.4g" % np.mean(d))

    # the same picture on two frames: grain differs per frame
    os.makedirs(t + "/still")
    for f in (1, 2):
        os.symlink(VTEST % 1, "%s/still/s.%04d.png" % (t, f))
    fade_sim(t + "/still/s.####.png", t + "/still/o.####.exr", "--range", "1-2", "--seed", "7",
             "--pixeltype", "float")
    s1, s2 = read(t + "/still/o.0001.exr"), read(t + "/still/o.0002.exr")
    check("one picture, two frames: the grain differs", np.mean(s1 != s2) > 0.5)

    # strength 0: the identity but for the 1e-4 transmittance floor (code 0.0013)
    fade_sim(VTEST % 5, t + "/id.exr", "--range", "5", "--strength", "0", "--pixeltype", "float")
    err = np.abs(read(t + "/id.exr") - read(VTEST % 5)).max()
    check("strength 0 gives the input back (<= 0.0014)", err <= 0.0014, "max error %.4g" % err)

    # real footage: four frames over the clip
    frames = (1, 265, 530, 795)
    os.makedirs(t + "/six")
    for i, f in enumerate(frames, 1):
        os.symlink(VTEST % f, "%s/six/in.%04d.png" % (t, i))
    rc, _ = fade_sim(t + "/six/in.####.png", t + "/six/out.####.exr", "--range", "1-4", "--seed",
                     "7", "--pixeltype", "float")
    check("fade-sim runs on four vtest frames", rc == 0)
    finite = inrange = True
    rows = []
    for i, f in enumerate(frames, 1):
        x, o = read(VTEST % f), read("%s/six/out.%04d.exr" % (t, i))
        finite &= bool(np.isfinite(o).all())
        inrange &= bool(o.min() >= 0 and o.max() <= 1)
        y0, cb0, cr0 = ycbcr(x)
        y1, cb1, cr1 = ycbcr(o)
        spread = lambda cb, cr: np.sqrt(np.mean((cb - cb.mean()) ** 2 + (cr - cr.mean()) ** 2))
        rows.append((f, np.mean(y1 - y0), np.mean(np.abs(y1 - y0)), cb1.mean() - cb0.mean(),
                     cr1.mean() - cr0.mean(), 1 - spread(cb1, cr1) / spread(cb0, cr0)))
    r = np.array(rows)
    print("frame  mean dY'  mean|dY'|  d mean Cb  d mean Cr  chroma spread drop")
    for row in rows:
        print("%5d  %+8.4f  %9.4f  %+9.4f  %+9.4f  %6.1f%%" % (*row[:5], 100 * row[5]))
    print("mean   %+8.4f  %9.4f  %+9.4f  %+9.4f  %6.1f%%" % (*r[:, 1:5].mean(0), 100 * r[:, 5].mean()))
    check("output finite", finite)
    check("output in [0, 1]", inrange)
    check("chroma spread about the mean falls by >= %d%% on every frame" % (100 * MIN_SPREAD_DROP),
          r[:, 5].min() >= MIN_SPREAD_DROP, "least %.3f" % r[:, 5].min())
    check("mean Cr rises by >= %g (toward red)" % MIN_CR_SHIFT, r[:, 4].min() >= MIN_CR_SHIFT)
    check("mean Cb falls by >= %g (toward yellow)" % MIN_CB_SHIFT, -r[:, 3].max() >= MIN_CB_SHIFT)
    # the cast's hue lies between those of pure red and pure yellow
    red, yellow = hue(*ycbcr(np.array([1.0, 0, 0]))[1:]), hue(*ycbcr(np.array([1.0, 1, 0]))[1:])
    h = hue(r[:, 3].mean(), r[:, 4].mean())
    print("cast hue %.1f deg (red %.1f, yellow %.1f)" % (h, red, yellow))
    check("the cast's hue lies between red and yellow", red <= h <= yellow)
    check("|mean Y' change| <= %g on every frame" % MAX_MEAN_DY, np.abs(r[:, 1]).max() <= MAX_MEAN_DY)
    check("mean |Y' change| <= %g on every frame" % MAX_ABS_DY, r[:, 2].max() <= MAX_ABS_DY)

    # the stain on a flat grey, in yellow-minus-magenta density, over 48-px
    # blocks of two frames (the same stain, independent grain): it stands out
    # of the grain, and what a smooth (cubic) surface leaves is grain only
    os.makedirs(t + "/grey")
    write_png(t + "/grey.png", np.full((576, 768, 3), 0.5))
    for f in (1, 2):
        os.symlink(t + "/grey.png", "%s/grey/g.%04d.png" % (t, f))
    fade_sim(t + "/grey/g.####.png", t + "/grey/o.####.exr", "--range", "1-2", "--seed", "7",
             "--pixeltype", "float")
    yb = []
    for f in (1, 2):
        dens = -np.log10(np.maximum(srgb_decode(read("%s/grey/o.%04d.exr" % (t, f))), 1e-4))
        yb.append(dens[..., 2] - dens[..., 1])
    blocks = lambda a: a.reshape(12, 48, 16, 48).mean(axis=(1, 3))
    stain = blocks((yb[0] + yb[1]) / 2)
    noise = blocks((yb[0] - yb[1]) / 2).std()  # the grain left in a block mean of two frames
    yy, xx = np.mgrid[0:12, 0:16] / 16.0
    basis = np.stack([xx**i * yy**j for i in range(4) for j in range(4 - i)], -1).reshape(-1, 10)
    coef, *_ = np.linalg.lstsq(basis, stain.ravel(), rcond=None)
    resid = (stain.ravel() - basis @ coef).std()
    span = stain.max() - stain.min()
    print("stain: yellow-magenta density spans %.4f over the frame; grain in 48-px block means "
          "%.5f; a cubic surface leaves %.5f" % (span, noise, resid))
    check("the stain varies over the frame (span >= 8x the grain in block means)",
          span >= 8 * noise)
    check("the stain varies smoothly (a cubic surface leaves <= 1.5x the grain)",
          resid <= 1.5 * noise)

    # grain: RMS density base + slope sqrt(D) on a light and a dark patch
    step_img = np.full((192, 256, 3), 0.8)
    step_img[:, 128:] = 0.15
    write_png(t + "/step.png", step_img)
    fade_sim(t + "/step.png", t + "/step.exr", "--range", "1", "--seed", "3", "--pixeltype", "float")
    dens = -np.log10(np.maximum(srgb_decode(read(t + "/step.exr")), 1e-4))
    ok = True
    for x0 in (16, 144):
        patch = dens[16:176, x0:x0 + 96]
        for ch in range(3):
            p = patch[..., ch]
            got = np.std(p - p.mean())
            want = 0.006 + 0.012 * np.sqrt(p.mean())
            print("grain: patch at x %3d channel %d: density %.3f, RMS %.4f (law %.4f)"
                  % (x0, ch, p.mean(), got, want))
            ok &= abs(got / want - 1) < 0.1
    check("grain RMS density = 0.006 + 0.012 sqrt(D) within 10%", ok)

    # errors
    rc, err = fade_sim(VTEST.replace("%04d", "####"), t + "/x.####.exr", "--range", "794-796")
    check("a missing frame: non-zero exit, named", rc != 0 and "796" in err, err.strip())

    subprocess.run(["rm", "-rf", t])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
