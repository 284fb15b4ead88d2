"""Figures and assertions of the learning proof (tests/graph/test_learn.sh).

Reads what tests/graph/learn.lua wrote into DIR/out (ml.####.exr: Infer's
Y, Cb, Cr; faded.####.exr: the source's Y, Cb, Cr; frame i = the i-th
held-out frame), the faded source DIR/faded/faded.####.exr (R'G'B') and the
clean frames data/vtest/vtest.####.png (the truth). On the held-out frames it
measures chroma PSNR for (i) the faded source, (ii) a per-channel gain/offset
fit (least squares per R', G', B' from faded to clean on the training
frames, clipped to [0, 1]) and (iii) the ML output, and asserts:
  ML >= faded + 3 dB, ML >= gain/offset + 1 dB,
  the ML's Y' equals the source's Y' bit for bit,
  DIR/run/loss.csv falls (mean of its last quarter < mean of its first),
  DIR/run holds at least one contact sheet PNG.
Chroma PSNR is reel:psnr_chroma of nodes/compare.c: BT.709 full-range
Cb = (B' - Y')/1.8556, Cr = (R' - Y')/1.5748 with Y' = .2126 R' + .7152 G' +
.0722 B' of the sRGB-encoded values; 10 log10(1 / MSE) with the MSE over the
Cb and Cr planes jointly (peak 1.0), here pooled over all held-out frames.
A 3x4 affine colour fit is printed too, for information.
Run with Debian's /usr/bin/python3; prints "N passed, N failed" last."""
import argparse
import csv
import glob
import os
import sys

import numpy as np
import OpenImageIO as oiio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARGIN_FADED = 3.0  # dB the ML output must gain over the faded source
MARGIN_GAINOFF = 2.0  # dB the ML output must gain over the gain/offset fit
MAX_YCC_ERR = 1e-5  # graph's Y'CbCr of the faded source against the formula here

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok  ", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def done():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def read(path, names=None):
    """float32 (h, w, c) of the named channels (all when None), or raises."""
    inp = oiio.ImageInput.open(path)
    if inp is None:
        raise RuntimeError("cannot read %s: %s" % (path, oiio.geterror()))
    spec = inp.spec()
    px = inp.read_image(0, 0, 0, spec.nchannels, "float")
    inp.close()
    if px is None:
        raise RuntimeError("cannot decode %s" % path)
    px = np.asarray(px, dtype=np.float32).reshape(spec.height, spec.width, spec.nchannels)
    if names is None:
        return px
    have = list(spec.channelnames)
    missing = [n for n in names if n not in have]
    if missing:
        raise RuntimeError("%s has channels %s, not %s" % (path, ",".join(have), ",".join(missing)))
    return px[..., [have.index(n) for n in names]]


def ycbcr(rgb):
    rgb = rgb.astype(np.float64)
    y = rgb[..., 0] * 0.2126 + rgb[..., 1] * 0.7152 + rgb[..., 2] * 0.0722
    return np.stack([y, (rgb[..., 2] - y) / 1.8556, (rgb[..., 0] - y) / 1.5748], -1)


def chroma_se(a_ycc, b_ycc):
    """Sum of squared Cb and Cr differences, and the number of samples."""
    d = a_ycc[..., 1:3].astype(np.float64) - b_ycc[..., 1:3]
    return float(np.sum(d * d)), d.size


def psnr(se_n):
    se, n = se_n
    return float("inf") if se == 0 else 10 * np.log10(n / se)


def loss_column(path):
    """The loss values of a CSV log: the column named loss, else the first
    whose name contains "loss", else the last; a first row of numbers is
    data (no header)."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].strip().startswith("#")]
    if not rows:
        return []

    def number(x):
        try:
            return float(x)
        except ValueError:
            return None

    head = [h.strip().lower() for h in rows[0]]
    if all(number(h) is not None for h in head):
        col, data = len(head) - 1, rows
    else:
        named = [i for i, h in enumerate(head) if "loss" in h]
        col = head.index("loss") if "loss" in head else (named[0] if named else len(head) - 1)
        data = rows[1:]
    return [v for v in (number(r[col]) if col < len(r) else None for r in data) if v is not None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="build/test-data/learn")
    ap.add_argument("--train", required=True, help="training frames, e.g. 1,21,40,60")
    ap.add_argument("--held", required=True, help="held-out frames, in the order written")
    ap.add_argument("--truth", default=os.path.join(ROOT, "data/vtest/vtest.%04d.png"))
    a = ap.parse_args()
    train = [int(x) for x in a.train.split(",")]
    held = [int(x) for x in a.held.split(",")]
    faded_rgb = os.path.join(a.dir, "faded", "faded.%04d.exr")
    run = os.path.join(a.dir, "run")

    # the run directory: a falling loss and a contact sheet
    lpath = os.path.join(run, "loss.csv")
    loss = loss_column(lpath) if os.path.exists(lpath) else []
    check("run directory has loss.csv with >= 8 values", len(loss) >= 8,
          "(%s: %d values)" % (lpath, len(loss)))
    if len(loss) >= 8:
        q = len(loss) // 4
        first, last = float(np.mean(loss[:q])), float(np.mean(loss[-q:]))
        print("loss: %d values, first quarter mean %.5g, last quarter mean %.5g" % (len(loss), first, last))
        check("loss falls (last quarter mean < first quarter mean)", last < first)
    sheets = [p for p in glob.glob(os.path.join(run, "**", "*.png"), recursive=True)]
    readable = []
    for p in sheets:
        inp = oiio.ImageInput.open(p)
        if inp is not None:
            readable.append(p)
            inp.close()
    check("run directory has a contact sheet PNG", len(readable) >= 1,
          "(%d PNG files under %s)" % (len(sheets), run))

    # the gain/offset fit on the training frames: R'G'B' faded -> clean
    try:
        fx = np.concatenate([read(faded_rgb % f, ["R", "G", "B"]).reshape(-1, 3) for f in train])
        tx = np.concatenate([read(a.truth % f, ["R", "G", "B"]).reshape(-1, 3) for f in train])
    except RuntimeError as e:
        check("faded and clean training frames readable", False, str(e))
        return done()
    gain_off = [np.polyfit(fx[:, c].astype(np.float64), tx[:, c], 1) for c in range(3)]
    affine, *_ = np.linalg.lstsq(np.c_[fx, np.ones(len(fx))].astype(np.float64), tx, rcond=None)
    print("gain/offset fit (R', G', B'): " + ", ".join("%.4f x %+.4f" % tuple(g) for g in gain_off))

    sums = {k: [0.0, 0] for k in ("faded", "gain/offset", "affine 3x4", "ML")}
    y_exact = True
    ycc_err = 0.0
    print("held-out frame   faded  gain/offset  affine 3x4      ML   (chroma PSNR, dB)")
    for i, f in enumerate(held, 1):
        try:
            truth = ycbcr(read(a.truth % f, ["R", "G", "B"]))
            frgb = read(faded_rgb % f, ["R", "G", "B"])
            src = read(os.path.join(a.dir, "out", "faded.%04d.exr" % i), ["Y", "Cb", "Cr"])
            ml = read(os.path.join(a.dir, "out", "ml.%04d.exr" % i), ["Y", "Cb", "Cr"])
        except RuntimeError as e:
            check("held-out frame %d: outputs readable" % f, False, str(e))
            return done()
        if ml.shape != src.shape or src.shape[:2] != truth.shape[:2]:
            check("held-out frame %d: sizes agree" % f, False,
                  "ML %s, source %s, truth %s" % (ml.shape, src.shape, truth.shape))
            return done()
        ycc_err = max(ycc_err, float(np.abs(src - ycbcr(frgb)).max()))
        y_exact &= np.array_equal(ml[..., 0].view(np.uint32), src[..., 0].view(np.uint32))
        go = np.stack([np.polyval(gain_off[c], frgb[..., c].astype(np.float64)) for c in range(3)], -1)
        af = (np.c_[frgb.reshape(-1, 3), np.ones(frgb.size // 3)] @ affine).reshape(frgb.shape)
        frame = {
            "faded": chroma_se(src, truth),
            "gain/offset": chroma_se(ycbcr(np.clip(go, 0, 1)), truth),
            "affine 3x4": chroma_se(ycbcr(np.clip(af, 0, 1)), truth),
            "ML": chroma_se(ml, truth),
        }
        finite = bool(np.isfinite(ml).all())
        check("held-out frame %d: ML output finite" % f, finite)
        for k, v in frame.items():
            sums[k][0] += v[0]
            sums[k][1] += v[1]
        print("%14d  %6.2f  %11.2f  %10.2f  %6.2f" % (f, *(psnr(frame[k]) for k in sums)))
    p = {k: psnr(v) for k, v in sums.items()}
    print("%14s  %6.2f  %11.2f  %10.2f  %6.2f" % ("all", *(p[k] for k in sums)))
    print("ML gains %.2f dB over the faded source, %.2f dB over gain/offset"
          % (p["ML"] - p["faded"], p["ML"] - p["gain/offset"]))
    check("graph's Y'CbCr of the source = BT.709 full range of its R'G'B' (<= %g)" % MAX_YCC_ERR,
          ycc_err <= MAX_YCC_ERR, "max error %.3g" % ycc_err)
    check("ML output's Y' is the source's, bit for bit", y_exact)
    check("ML chroma PSNR >= faded + %g dB" % MARGIN_FADED, p["ML"] >= p["faded"] + MARGIN_FADED,
          "%.2f vs %.2f" % (p["ML"], p["faded"]))
    check("ML chroma PSNR >= gain/offset + %g dB" % MARGIN_GAINOFF,
          p["ML"] >= p["gain/offset"] + MARGIN_GAINOFF, "%.2f vs %.2f" % (p["ML"], p["gain/offset"]))
    return done()


if __name__ == "__main__":
    sys.exit(main())
