"""tools/make-reference, the video-transfer reference simulator
(docs/reference-sim.md), on vtest frames: the same seed gives the same bytes
(one job or two) and another seed another transform; reference frame k shows
truth frame k - offset (black before the clip, held with --outside hold), and
one frame less after a --drop; the truth JSON's matrix, applied to the truth
by an independent bilinear sampler, matches the reference far better than
no transform, and OpenCV's ECC aligner recovers it from the full reference;
the bars are black; subtitles appear on the listed frames only, in the lower
third; the grade is the documented formula and moves the colour as
documented; each stage's PSNR/SSIM against the aligned truth is printed and
the soft, compressed picture lands in the documented range. Run with
Debian's /usr/bin/python3; prints "N passed, N failed"."""
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import OpenImageIO as oiio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "make-reference")
VTEST = os.path.join(ROOT, "data", "vtest", "vtest.%04d.png")
VPAT = VTEST.replace("%04d", "####")
ALL = ("offset", "geometry", "dirt", "grade", "letterbox", "subtitles", "resolution", "noise",
       "jpeg")  # the tool's stages, for --skip

# Limits (docs/reference-sim.md has the measured values they guard).
MIN_NCC_GEOMETRY = 0.995  # geometry only: NCC of Y' with the re-warped truth (measured ~0.9995)
MAX_NCC_IDENTITY = 0.9  # ... with the truth as it is (measured ~0.6)
MAX_ECC_CORNER = 0.5  # px: ECC's transform against the JSON's, at the frame corners (~0.05)
BAR_MARGIN = 32  # px beside the picture the codec touches (a 16-px chroma block at the
# storage size is 29 px here, and the upscale reaches 2 more); the bar beyond is black
BAR_MAX = 1 / 255.0  # "black": every sample at most one code
PSNR_SOFT = (27.0, 33.0)  # geometry + resolution + JPEG: PSNR dB (measured ~29.9)
SSIM_SOFT = (0.80, 0.93)  # ... SSIM of Y' (measured ~0.87)
MIN_CR_SHIFT = 0.01  # grade: mean Cr rises (warmer; measured ~0.02)
MIN_CB_DROP = 0.01  # grade: mean Cb falls (measured ~0.02)
MIN_CONTRAST = 1.05  # grade: standard deviation of Y' grows by >= 5% (measured ~1.10)

passed = failed = 0
T = tempfile.mkdtemp(prefix="reel-mkref.")


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok  ", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def launch(jobs):
    """Starts make-reference once per argument list (one job each unless the
    list says), all at once; wait() collects them."""
    return [subprocess.Popen([sys.executable, TOOL, *args,
                              *([] if "--jobs" in args else ["--jobs", "1"])],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for args in jobs]


def wait(procs):
    return [p.communicate()[1] for p in procs]


def tool(*args):
    r = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr.strip())
    return r.returncode, r.stderr


def read(path):
    if path.endswith(".png"):  # OpenCV's reader is several times faster
        px = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if px is None:
            raise RuntimeError("cannot read %s" % path)
        return px[..., 2::-1].astype(np.float32) / np.float32(np.iinfo(px.dtype).max)
    inp = oiio.ImageInput.open(path)
    if inp is None:
        raise RuntimeError("cannot read %s: %s" % (path, oiio.geterror()))
    px = inp.read_image(0, 0, 0, 3, "float")
    inp.close()
    return np.asarray(px, dtype=np.float32)


def load_tool():
    """tools/make-reference as a module, to run its stages in this process."""
    from importlib.machinery import SourceFileLoader
    from importlib.util import module_from_spec, spec_from_loader

    loader = SourceFileLoader("make_reference", TOOL)
    mod = module_from_spec(spec_from_loader("make_reference", loader))
    loader.exec_module(mod)
    return mod


def luma(x):
    return x[..., 0] * 0.2126 + x[..., 1] * 0.7152 + x[..., 2] * 0.0722


def ycbcr(x):
    """BT.709 full-range Y'CbCr of R'G'B' (as reel's Compare)."""
    y = luma(x)
    return y, (x[..., 2] - y) / 1.8556, (x[..., 0] - y) / 1.5748


def ncc(a, b, m):
    a, b = a[m] - a[m].mean(), b[m] - b[m].mean()
    return float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))


def warp_bilinear(img, m):
    """The reference-sized picture of img under the source -> reference
    matrix m, sampled bilinearly (independent of OpenCV); also where every
    sample came from inside img."""
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    inv = np.linalg.inv(m)
    sx = inv[0, 0] * x + inv[0, 1] * y + inv[0, 2]
    sy = inv[1, 0] * x + inv[1, 1] * y + inv[1, 2]
    ok = (sx >= 0) & (sx <= w - 1) & (sy >= 0) & (sy <= h - 1)
    x0 = np.clip(np.floor(sx).astype(int), 0, w - 2)
    y0 = np.clip(np.floor(sy).astype(int), 0, h - 2)
    fx, fy = np.clip(sx - x0, 0, 1), np.clip(sy - y0, 0, 1)
    if img.ndim == 3:
        fx, fy = fx[..., None], fy[..., None]
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bot = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bot * fy, ok


def aligned(truth, m):
    """The truth as an aligner would line it up: OpenCV bicubic with the
    JSON's matrix; the mask leaves out 4 px inside the warped frame's edge."""
    h, w = truth.shape[:2]
    out = cv2.warpAffine(truth.astype(np.float32), m[:2], (w, h), flags=cv2.INTER_CUBIC)
    ok = cv2.warpAffine(np.ones((h, w), np.float32), m[:2], (w, h), flags=cv2.INTER_NEAREST)
    ok = cv2.erode(ok, np.ones((9, 9), np.uint8)) > 0.5
    return np.clip(out, 0, 1), ok


def mse_chroma(a, b, m):
    """The MSE of reel's Compare psnr_chroma: over the Cb and Cr planes jointly."""
    _, cb0, cr0 = ycbcr(a)
    _, cb1, cr1 = ycbcr(b)
    return np.mean(np.concatenate([(cb0 - cb1)[m], (cr0 - cr1)[m]]) ** 2)


def db(mse):
    return 10 * np.log10(1 / mse) if mse > 0 else np.inf


def ssim(a, b, m):
    """SSIM of Y' (Wang et al. 2004: Gaussian window sigma 1.5, K 0.01, 0.03,
    peak 1), averaged over the mask."""
    a, b = luma(a), luma(b)
    g = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5)
    ma, mb = g(a), g(b)
    va, vb, cab = g(a * a) - ma**2, g(b * b) - mb**2, g(a * b) - ma * mb
    c1, c2 = 0.01**2, 0.03**2
    s = (2 * ma * mb + c1) * (2 * cab + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    return float(s[m].mean())


def grade_ref(x):
    """docs/reference-sim.md's grade, written out again in float64."""
    lift, gain = np.array([0.010, 0.0, -0.010]), np.array([1.04, 1.00, 0.93])
    gamma = np.array([1.03, 1.00, 0.97])
    v = np.maximum(lift + x * (gain - lift), 0) ** (1 / gamma)
    v = 0.45 + (v - 0.45) * 1.12
    y = luma(v)[..., None]
    return np.clip(y + 1.10 * (v - y), 0, 1)


def skip_but(*keep):
    return ["--skip", ",".join(s for s in ALL if s not in keep)]


def small(z):
    return cv2.resize(z.astype(np.float32), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)


def best_match(refs, truths, mask):
    """For each reference frame, the truth frame its moving parts correlate
    best with: refs and truths map frame numbers to quarter-size Y' (the
    truth aligned); each clip's per-pixel median is taken out, so that the
    still background does not decide."""
    ms = small(mask) > 0.99
    tmed = np.median(np.stack(list(truths.values())), 0)
    rmed = np.median(np.stack(list(refs.values())), 0)
    return {k: max(truths, key=lambda f: ncc(refs[k] - rmed, truths[f] - tmed, ms)) for k in refs}


def main():
    start = time.time()
    if not os.path.exists(VTEST % 1):
        print("data/vtest is missing: run tools/fetch-footage.sh")
        print("0 passed, 1 failed")
        return 1
    # the command line, eight runs, started at once
    out = lambda name, ext="png": ["%s/%s/r.####.%s" % (T, name, ext), "--truth-json",
                                   "%s/%s/r.json" % (T, name),
                                   "--seed", "8" if name == "c" else "7"]
    text = "Where were you last night?"
    jobs = {
        "a": [VPAT, *out("a"), "--range", "1-4", "--subtitles", "2-3:Hello"],
        "b": [VPAT, *out("b"), "--range", "1-4", "--subtitles", "2-3:Hello", "--jobs", "2"],
        "c": [VPAT, *out("c"), "--range", "4", "--clip", "1-4", "--subtitles", "2-3:Hello"],
        "hold": [VPAT, *out("hold"), "--range", "1", "--outside", "hold"],
        "off": [VPAT, *out("off"), "--range", "100-107", "--clip", "1-795"],
        "drop": [VPAT, *out("drop"), "--range", "100-107", "--clip", "1-795", "--drop", "104"],
        "sub": [VPAT, *out("sub"), "--range", "102-104", "--clip", "1-795",
                "--subtitles", "102-103:" + text],
        "geometry": [VPAT, *out("geometry", "exr"), "--range", "100", "--offset", "0",
                     "--pixeltype", "float", *skip_but("geometry")],
    }
    names = list(jobs)
    procs = launch([jobs[n] for n in names])

    # while they run: the grade and the stages' figures, the tool's functions
    # run in this process; first the grade's formula and what it does
    mr = load_tool()
    stage_frames = (100, 400, 700)
    truths = [read(VTEST % f) for f in stage_frames]

    def make(truth, k, *keep, more=()):
        a = mr.parse_args([VPAT, "r.####.exr", "--range", "%d" % k, "--seed", "7",
                           *skip_but(*keep), *more])
        c = mr.settings(a, 768, 576)
        return mr.make(truth, k, c), c

    err, rows = 0, []
    for f, x in zip(stage_frames, truths):
        o = make(x, f, "grade")[0].astype(np.float64)  # means over 442k samples
        x = x.astype(np.float64)
        err = max(err, np.abs(o - grade_ref(x)).max())
        ya, cba, cra = ycbcr(x)
        yb, cbb, crb = ycbcr(o)
        spread = lambda cb, cr: np.sqrt(np.mean((cb - cb.mean()) ** 2 + (cr - cr.mean()) ** 2))
        rows.append((*(o.mean((0, 1)) - x.mean((0, 1))), yb.mean() - ya.mean(),
                     cbb.mean() - cba.mean(), crb.mean() - cra.mean(), yb.std() / ya.std(),
                     spread(cbb, crb) / spread(cba, cra)))
    r = np.array(rows)
    print("grade: frame   dR'     dG'     dB'     dY'     dCb     dCr   sd Y'  chroma spread")
    for f, row in zip((100, 400, 700), rows):
        print("       %5d %+.4f %+.4f %+.4f %+.4f %+.4f %+.4f  x%.3f  x%.3f" % (f, *row))
    check("grade: the documented formula (max error %.2g)" % err, err < 1e-5)
    check("grade: warmer (mean Cr up >= %g, Cb down >= %g on every frame)"
          % (MIN_CR_SHIFT, MIN_CB_DROP),
          r[:, 5].min() >= MIN_CR_SHIFT and -r[:, 4].max() >= MIN_CB_DROP)
    check("grade: more contrast (sd of Y' x >= %g)" % MIN_CONTRAST, r[:, 6].min() >= MIN_CONTRAST)

    # each stage against the aligned truth, inside the bars' picture
    c = make(truths[0], 100, "geometry", "letterbox")[1]
    mg, (_, y0, _, y1) = c["matrix"], c["picture"]
    al = [aligned(t, mg) for t in truths]  # seed 7 every time: the same matrix
    pic = np.zeros((576, 768), bool)
    pic[y0 + BAR_MARGIN:y1 - BAR_MARGIN] = True
    G = ("geometry",)
    full = G + ("dirt", "grade", "letterbox", "resolution", "noise", "jpeg")
    rows = [  # label, stages kept, more arguments
        ("geometry", G, []), ("+ dirt", full[:2], []), ("+ grade", full[:3], []),
        ("+ letterbox + resolution (0.55)", full[:5], []), ("+ noise", full[:6], []),
        ("+ JPEG q60 4:2:0: the reference (no subtitles)", full, []),
        ("geometry + resolution (0.55)", G + ("resolution",), []),
        ("geometry + resolution (720x480)", G + ("resolution",), ["--storage", "720x480"]),
        ("geometry + noise", G + ("noise",), []),
        ("geometry + JPEG q60 4:2:0", G + ("jpeg",), []),
        ("geometry + JPEG q60 4:4:4", G + ("jpeg",), ["--chroma", "444"]),
        ("geometry + resolution + JPEG", G + ("resolution", "jpeg"), []),
    ]
    print("stages vs the aligned truth (vtest 100, 400, 700; inside the bars, %d px in):"
          % BAR_MARGIN)
    print("  %-48s %8s %7s %12s" % ("stages", "PSNR dB", "SSIM Y'", "chroma PSNR"))
    fig = {}

    def figures(label, outs):
        p = np.array([(np.mean((o[m] - at[m]) ** 2), ssim(o, at, m), mse_chroma(o, at, m))
                      for o, (at, m) in zip(outs, al)]).mean(0)  # MSEs pooled over the frames
        fig[label] = (db(p[0]), p[1], db(p[2]))
        print("  %-48s %8.2f %7.4f %12.2f" % (label, *fig[label]))

    al = [(at, ok & pic) for at, ok in al]
    for label, keep, more in rows:
        outs = []
        for f, t in zip(stage_frames, truths):
            o, c = make(t, f, *keep, more=more)
            assert np.array_equal(c["matrix"], mg)
            outs.append(o)
        figures(label, outs)
        if keep == full:
            # what a grade match (gain and offset per channel, least squares
            # over the three frames) leaves
            fit = []
            for ch in range(3):
                x = np.concatenate([o[..., ch][m] for o, (at, m) in zip(outs, al)])
                y = np.concatenate([at[..., ch][m] for at, m in al])
                fit.append(np.polyfit(x, y, 1))
            figures("  ... after a gain/offset fit per channel (info)",
                    [np.stack([np.polyval(fit[ch], o[..., ch]) for ch in range(3)], -1)
                     for o in outs])
    soft = fig["geometry + resolution + JPEG"]
    check("resolution + JPEG: PSNR in [%g, %g] dB" % PSNR_SOFT,
          PSNR_SOFT[0] <= soft[0] <= PSNR_SOFT[1], "%.2f" % soft[0])
    check("resolution + JPEG: SSIM in [%g, %g]" % SSIM_SOFT,
          SSIM_SOFT[0] <= soft[1] <= SSIM_SOFT[1], "%.4f" % soft[1])
    check("geometry alone: the aligned truth itself (PSNR >= 50 dB)", fig["geometry"][0] >= 50)
    steps = [fig[r[0]][0] for r in rows[:6]]
    check("every stage added lowers PSNR", all(b < a for a, b in zip(steps, steps[1:])),
          " ".join("%.2f" % v for v in steps))
    c420, c444 = fig["geometry + JPEG q60 4:2:0"][2], fig["geometry + JPEG q60 4:4:4"][2]
    check("JPEG: 4:2:0 loses chroma 4:4:4 keeps (chroma PSNR %.1f < %.1f - 1 dB)" % (c420, c444),
          c420 < c444 - 1)

    # pillarbox
    o, c = make(truths[0], 100, "letterbox", more=["--pillarbox", "0.1"])
    x0p, y0p, x1p, y1p = c["picture"]
    check("--pillarbox 0.1: columns 0-%d and %d-767 black, the picture %s"
          % (x0p - 1, x1p, c["picture"]),
          c["picture"] == [77, 46, 691, 530] and o[:, :x0p].max() == 0 and o[:, x1p:].max() == 0
          and o[:y0p].max() == 0 and o[y1p:].max() == 0 and o[y0p:y1p, x0p:x1p].mean() > 0.2)

    errs = wait(procs)
    bad = [n for n in names if not os.path.exists("%s/%s/r.json" % (T, n))]
    for n, e in zip(names, errs):
        if e.strip():
            print(n, e.strip())
    check("make-reference runs (%d runs, done after %.1f s)" % (len(names), time.time() - start),
          not bad,
          " ".join(bad))
    if bad:
        print("%d passed, %d failed" % (passed, failed))
        return 1
    J = {n: json.load(open("%s/%s/r.json" % (T, n))) for n in names}

    check("the command line's matrix is the one the stages used",
          np.array_equal(np.array(J["geometry"]["matrix"]), mg))

    # determinism: one job and two, the same bytes; another seed, another transform
    files = ["r.%04d.png" % f for f in range(1, 5)] + ["r.json"]
    same = all(open("%s/a/%s" % (T, f), "rb").read() == open("%s/b/%s" % (T, f), "rb").read()
               for f in files)
    check("same seed: the same bytes, frames and JSON (1 job or 2)", same)
    mc = np.array(J["c"]["matrix"]) - np.array(J["a"]["matrix"])
    d = np.abs(read(T + "/a/r.0004.png") - read(T + "/c/r.0004.png"))
    check("another seed: another transform and other pixels",
          np.abs(mc).max() > 1e-3 and d.mean() > 0.005, "mean diff %.4g" % d.mean())

    # the frame mapping: before the clip black, or the first frame held
    m0 = np.array(J["off"]["matrix"])
    x0, y0, x1, y1 = J["off"]["picture"]
    inner = np.zeros((576, 768), bool)
    inner[y0 + BAR_MARGIN:y1 - BAR_MARGIN, 16:752] = True
    means = [read("%s/a/r.%04d.png" % (T, k)).mean() for k in (1, 4)]
    check("--offset 2: reference 1 is black before the clip (clip 1-4)", means[0] < 0.02
          and means[1] > 0.2 and [f["read"] for f in J["a"]["frames"]] == [None, None, 1, 2],
          "means %s" % means)
    nh = ncc(luma(read(T + "/hold/r.0001.png")), luma(aligned(read(VTEST % 1), m0)[0]), inner)
    check("--outside hold: reference 1 shows the first frame (NCC %.3f)" % nh,
          nh > 0.95 and J["hold"]["frames"][0]["read"] == 1)

    # the offset, found from the pictures: best NCC of the moving parts
    truth = {f: small(luma(aligned(read(VTEST % f), m0)[0])) for f in range(95, 110)}
    refs = lambda n: {k: small(luma(read("%s/%s/r.%04d.png" % (T, n, k)))) for k in range(100, 108)}
    got = best_match(refs("off"), truth, inner)
    print("offset 2: reference -> best truth frame:", got)
    check("reference frame k correlates best with truth frame k - 2",
          all(got[k] == k - 2 for k in got))
    got = best_match(refs("drop"), truth, inner)
    print("offset 2, drop 104: reference -> best truth frame:", got)
    want = {k: k - 2 if k - 2 < 104 else k - 1 for k in range(100, 108)}
    check("--drop 104: k - 2 up to reference 105, k - 1 from 106 (the JSON agrees)",
          got == want and {f["reference"]: f["source"] for f in J["drop"]["frames"]} == want)

    # geometry: the JSON's matrix, applied by an independent sampler
    t1, r1 = read(VTEST % 100), read(T + "/geometry/r.0100.exr")
    tw, ok = warp_bilinear(t1, np.array(J["geometry"]["matrix"]))
    ok = cv2.erode(ok.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    n_m, n_i = ncc(luma(tw), luma(r1), ok), ncc(luma(t1), luma(r1), ok)
    pts = np.array([[0, 0, 1], [767, 0, 1], [0, 575, 1], [767, 575, 1]], float).T
    half = np.array([[0.5], [0.5], [0]])
    check("matrix_reel is the matrix with pixel centres at +0.5",
          np.allclose(np.array(J["geometry"]["matrix_reel"]) @ (pts + half),
                      np.array(J["geometry"]["matrix"]) @ pts + half, atol=1e-9))
    print("geometry only: NCC of Y' with the truth warped by the JSON's matrix %.5f, unwarped %.4f"
          % (n_m, n_i))
    check("geometry only: the JSON's matrix explains the reference (NCC >= %g)" % MIN_NCC_GEOMETRY,
          n_m >= MIN_NCC_GEOMETRY)
    check("... and no transform does not (NCC <= %g)" % MAX_NCC_IDENTITY, n_i <= MAX_NCC_IDENTITY)
    # the full reference: the matrix explains it, and an aligner recovers it
    rf, tf = luma(read(T + "/off/r.0105.png")), luma(read(VTEST % 103))
    n_m, n_i = ncc(luma(aligned(read(VTEST % 103), m0)[0]), rf, inner), ncc(tf, rf, inner)
    print("full reference: NCC with the truth warped by the matrix %.4f, unwarped %.4f (misfit "
          "1 - NCC %.1fx smaller)" % (n_m, n_i, (1 - n_i) / (1 - n_m)))
    check("full reference: the matrix leaves >= 5x less misfit (1 - NCC) than no transform",
          (1 - n_i) >= 5 * (1 - n_m))
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)
    half = lambda z, i=cv2.INTER_AREA: cv2.resize(z, None, fx=0.5, fy=0.5, interpolation=i)
    mask8 = inner.astype(np.uint8)
    rf32, tf32 = rf.astype(np.float32), tf.astype(np.float32)
    _, w = cv2.findTransformECC(half(rf32), half(tf32), np.eye(2, 3, dtype=np.float32),
                                cv2.MOTION_AFFINE, crit, half(mask8, cv2.INTER_NEAREST), 3)
    w[:, 2] *= 2
    _, w = cv2.findTransformECC(rf32, tf32, w, cv2.MOTION_AFFINE, crit, mask8, 3)
    est = np.linalg.inv(np.vstack([w, [0, 0, 1]]))  # ECC maps reference to source
    err = np.abs(est @ pts - m0 @ pts)[:2].max()
    print("ECC on the full reference: corners within %.3f px of the JSON's" % err)
    check("OpenCV's ECC finds the JSON's matrix within %g px" % MAX_ECC_CORNER,
          err <= MAX_ECC_CORNER)

    # letterbox
    bars = pict = True
    for k in range(100, 108):
        r = read("%s/off/r.%04d.png" % (T, k))
        bars &= r[:y0 - BAR_MARGIN].max() <= BAR_MAX and r[y1 + BAR_MARGIN:].max() <= BAR_MAX
        pict &= min(r[y0:y0 + 8].mean(), r[y1 - 8:y1].mean()) > 0.05
    check("the bars are black (<= 1 code) beyond %d px from the picture (rows 0-%d, %d-575)"
          % (BAR_MARGIN, y0 - BAR_MARGIN - 1, y1 + BAR_MARGIN), bars)
    check("the picture's first and last rows are not", pict)

    # subtitles: the same seed with and without them
    ok_other = ok_text = True
    for k in range(102, 105):
        a, b = read("%s/off/r.%04d.png" % (T, k)), read("%s/sub/r.%04d.png" % (T, k))
        dif = np.abs(a - b).max(-1)
        bright = ((b.min(-1) > 0.8) & (dif > 0.2))[384:].sum()
        if k in (102, 103):
            print("subtitles: frame %d: %d new bright pixels in the lower third, "
                  "largest change above it %.4f" % (k, bright, dif[:384].max()))
            ok_text &= bright > 1000 and dif[:384].max() == 0
        else:
            ok_other &= dif.max() == 0
    check("subtitles: bright text in the lower third of frames 102-103, nothing above", ok_text)
    check("subtitles: frame 104 unchanged, bit for bit", ok_other)

    # errors
    rc, err = tool(VPAT, T + "/x/r.####.png", "--range", "790-800", "--offset", "0")
    check("a missing frame: non-zero exit, named", rc != 0 and "796" in err, err.strip())
    rc, err = tool(VPAT, T + "/x/r.####.png", "--range", "1", "--skip", "colour")
    check("an unknown stage: non-zero exit, named", rc != 0 and "colour" in err, err.strip())

    subprocess.run(["rm", "-rf", T])
    print("%.1f s" % (time.time() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
