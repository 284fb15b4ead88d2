"""The network library (engine/nn, opencl/nn.cl on PoCL) against PyTorch.

build/tests/nn_probe runs one training step through nn.h (forward, loss,
backward, Adam with t = 1) from a request file; tools/nn_torch.py runs the
same U-Net with torch.nn.functional in float64 (the reference) and float32
(to show PyTorch's own float32 error beside Reel's). Cases: the small and
medium architectures (reel_nn_arch_named; 2 levels) in rgb and chroma
modes, L1, L2 and Charbonnier losses, on batch 2 of 64x96 crops; large (3
levels) with Charbonnier only, on 64x192 crops (time). Crops of a real
picture (frame 100 of data/vtest if extracted, else skimage's astronaut),
noise added to the
input (the target is the clean crop; chroma mode converts both to Y'CbCr,
Rec.709 full range); random parameters, biases and head included (the
library's own initialisation zeroes the head, which would hide the network).

"err" is relative per tensor: max |reel - ref| / max |ref| over the tensor.
  - layout: nn_probe's reel_nn_conv_info table equals nn.h's canonical order.
  - forward: y, and the residual y - x, err <= 1e-4; in chroma mode channel
    0 of y is bit-identical to the input's.
  - loss: |reel - ref| / |ref| <= 1e-4.
  - gradients: err <= 1e-3 for each weight and each bias tensor (float32
    sums over 12-25k pixels in another order than PyTorch's; PyTorch's own
    float32 error is printed beside). Targets closer than 1e-4 to the
    reference output are moved 1e-4 away, so that float32 noise cannot flip
    an L1 sign (where the gradient jumps).
  - Adam: the step is checked on the library's own gradients, since at t = 1
    the update is -lr g / (|g| + eps), nearly -lr sign(g), and the sign of a
    gradient smaller than its float32 noise is arbitrary: PyTorch's
    torch.optim.Adam (float64) is given Reel's gradients and the same
    starting parameters, and max |p_reel - p_ref| <= 1e-4 lr + half a float32
    ulp of p (the rounding of the stored parameter) for every parameter; the
    moments m and v: err <= 1e-6. The step from the float64 gradients is
    printed for information (elements whose update differs: gradient signs
    within the gradient tolerance).
Run with Debian's /usr/bin/python3 (it re-runs itself under build/venv-torch,
creating it with `pip install torch` if missing; skips, printed, when PyPI is
unreachable or REEL_NO_FETCH=1); prints "N passed, N failed"."""
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import torch_venv  # noqa: E402

PROBE = os.path.join(ROOT, "build", "tests", "nn_probe")
VTEST = os.path.join(ROOT, "data", "vtest", "vtest.0100.png")
PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
BATCH = 2
# size: (crop height, width, losses, Infer check); large (3 levels, align 64)
# runs one loss only, to bound the test's time
SIZES = {"small": (64, 96, ["L1", "L2", "Charbonnier"], True),
         "medium": (64, 96, ["L1", "L2", "Charbonnier"], True),
         "large": (64, 192, ["Charbonnier"], False)}
FRAME_W, FRAME_H, FRAME_X, FRAME_Y = 500, 360, 13, 7
TILES = [96, 256, 1024]
REEL = os.path.join(ROOT, "bin", "reel")
NOISE = 0.05
LOSSES = {"L1": 0, "L2": 1, "Charbonnier": 2}
CHARB_EPS = 1e-3
ADAM = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
TOL, GRAD_TOL, MOMENT_TOL, KINK = 1e-4, 1e-3, 1e-6, 1e-4

passed = failed = 0
worst = {}


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print("ok  " if ok else "FAIL", name, detail, flush=True)


def note(key, v):
    worst[key] = max(worst.get(key, 0.0), v)


def rel(a, b):
    import numpy as np
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    m = np.abs(b).max()
    return float(np.abs(a - b).max() / m) if m > 0 else float(np.abs(a).max())


def arch(size, mode):
    r = subprocess.run([PROBE, "arch", size, mode], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("nn_probe arch: " + r.stderr.strip())
    info, convs = {}, []
    for line in r.stdout.splitlines():
        k, *v = line.split()
        if k == "conv":
            convs.append(tuple(int(x) for x in v[1:]))
        else:
            info[k] = [float(x) for x in v] if k == "width" else float(v[0])
    info["convs"] = convs
    return info


def picture():
    """(name, the picture H x W x 3 in [0, 1], float64)."""
    import cv2
    import numpy as np
    path = VTEST if os.path.exists(VTEST) else PHOTO
    rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB).astype(np.float64) / 255
    return os.path.basename(path), rgb


def crops(rgb, h, w):
    """[BATCH, 3, h, w] crops of the picture."""
    import numpy as np
    return np.stack([rgb[100 + 37 * n:100 + 37 * n + h, 150 + 91 * n:150 + 91 * n + w]
                     for n in range(BATCH)]).transpose(0, 3, 1, 2)


def to_ycc(rgb):
    import numpy as np
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return np.stack([y, (b - y) / 1.8556, (r - y) / 1.5748], 1)


def random_params(lay, seed):
    """He-normal weights (head included), biases N(0, 0.05)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    p = np.zeros(lay[-1][4] + lay[-1][1], np.float32)
    for cin, cout, k, w, b in lay:
        p[w:b] = rng.normal(0, np.sqrt(2 / (cin * k * k)), b - w)
        p[b:b + cout] = rng.normal(0, 0.05, cout)
    return p


def probe(tmp, a, mode, loss, params, x, t):
    import numpy as np
    width = [int(v) for v in a["width"]] + [0] * (5 - len(a["width"]))
    req, ans = os.path.join(tmp, "req"), os.path.join(tmp, "ans")
    with open(req, "wb") as f:
        f.write(b"RNQ1")
        f.write(struct.pack("=11i6fi", mode, int(a["levels"]), *width, *x.shape[:1], *x.shape[2:],
                            loss,
                            a["slope"], CHARB_EPS, ADAM["lr"], ADAM["beta1"], ADAM["beta2"],
                            ADAM["eps"], params.size))
        for arr in (params, x, t):
            f.write(np.ascontiguousarray(arr, np.float32).tobytes())
    r = subprocess.run([PROBE, "run", req, ans], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("nn_probe run: " + r.stderr.strip())
    raw = open(ans, "rb").read()
    if raw[:4] != b"RNA1":
        raise RuntimeError("nn_probe wrote no answer")
    np_, n, h, w = struct.unpack_from("=4i", raw, 4)
    (lv,) = struct.unpack_from("=d", raw, 20)
    fl = np.frombuffer(raw, np.float32, offset=28)
    nx = n * 3 * h * w
    if fl.size != nx + 4 * np_:
        raise RuntimeError("nn_probe answer has %d floats, expected %d" % (fl.size, nx + 4 * np_))
    y = fl[:nx].reshape(n, 3, h, w)
    g, p1, m, v = (fl[nx + i * np_:nx + (i + 1) * np_] for i in range(4))
    return y, lv, g, p1, m, v


def reference(nt, a, mode, kind, params, x, t, dtype):
    """(y, loss, grads) of nn_torch's network in dtype."""
    import torch
    p = torch.tensor(params, dtype=dtype, requires_grad=True)
    y = nt.forward(torch.tensor(x, dtype=dtype), int(a["levels"]), mode, float(a["slope"]),
                   nt.split(p, a["lay"]))
    lv = nt.loss(y, torch.tensor(t, dtype=dtype), kind, CHARB_EPS, mode)
    lv.backward()
    return y.detach().numpy(), float(lv.detach()), p.grad.numpy()


def adam_ref(params, grads):
    """torch.optim.Adam (float64), one step from zero moments: (p, m, v)."""
    import numpy as np
    import torch
    f32 = lambda v: float(np.float32(v))  # the values the library receives
    p = torch.tensor(params, dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor(grads, dtype=torch.float64)
    opt = torch.optim.Adam([p], lr=f32(ADAM["lr"]), betas=(f32(ADAM["beta1"]), f32(ADAM["beta2"])),
                           eps=f32(ADAM["eps"]))
    opt.step()
    st = opt.state[p]
    return p.detach().numpy(), st["exp_avg"].numpy(), st["exp_avg_sq"].numpy()


def run_case(tmp, nt, size, mname, mode, lname, kind, a, clean, noisy):
    import numpy as np
    import torch
    name = "%s %s %s" % (size, mname, lname)
    lay = a["lay"]
    params = random_params(lay, 1000 * mode + 10 * kind + len(size))
    x = noisy.astype(np.float32)
    t = clean.astype(np.float32)
    y64, _, _ = reference(nt, a, mode, kind, params, x.astype(np.float64), t.astype(np.float64),
                          torch.float64)
    # keep targets off the L1 kink (see the docstring)
    d = y64 - t
    close = np.abs(d) < KINK
    t = np.where(close, y64 - np.where(d < 0, -KINK, KINK) * 1.5, t).astype(np.float32)
    y64, l64, g64 = reference(nt, a, mode, kind, params, x.astype(np.float64),
                              t.astype(np.float64), torch.float64)
    y32, l32, g32 = reference(nt, a, mode, kind, params, x, t, torch.float32)
    yr, lr_, gr, p1, m, v = probe(tmp, a, mode, kind, params, x, t)

    # forward
    ey, er = rel(yr, y64), rel(yr.astype(np.float64) - x, y64 - x)
    note("forward y", ey)
    note("forward residual", er)
    check(name + " forward", ey <= TOL and er <= TOL,
          "y err %.2e, residual err %.2e (torch float32: %.2e, %.2e)" %
          (ey, er, rel(y32, y64), rel(y32.astype(np.float64) - x, y64 - x)))
    if mode == 1:
        same = np.array_equal(yr[:, 0].view(np.uint32), x[:, 0].view(np.uint32))
        check(name + " channel 0 is the input's", same,
              "%d values differ" % np.count_nonzero(yr[:, 0] != x[:, 0]))

    # loss
    el = abs(lr_ - l64) / abs(l64)
    note("loss", el)
    check(name + " loss", el <= TOL, "%.9g vs %.9g: err %.2e (torch float32 %.2e), %d targets moved"
          % (lr_, l64, el, abs(l32 - l64) / abs(l64), np.count_nonzero(close)))

    # gradients, per weight and bias tensor
    eg, eg32, at = 0.0, 0.0, ""
    for i, (cin, cout, k, wo, bo) in enumerate(lay):
        for part, s in (("w", slice(wo, bo)), ("b", slice(bo, bo + cout))):
            e = rel(gr[s], g64[s])
            eg32 = max(eg32, rel(g32[s], g64[s]))
            if e >= eg:
                eg, at = e, "conv %d %s" % (i, part)
    note("gradient", eg)
    check(name + " gradients", eg <= GRAD_TOL, "max err %.2e at %s (torch float32: %.2e)" %
          (eg, at, eg32))

    # Adam on Reel's gradients
    p_ref, m_ref, v_ref = adam_ref(params, gr)
    ulp = np.spacing(np.abs(p_ref).astype(np.float32)).astype(np.float64)
    dev = np.abs(p1.astype(np.float64) - p_ref)
    ok = bool(np.all(dev <= TOL * ADAM["lr"] + 0.5 * ulp))
    ea = float(dev.max() / ADAM["lr"])
    em, ev = rel(m, m_ref), rel(v, v_ref)
    note("adam step / lr", ea)
    note("adam moments", max(em, ev))
    # the same step from the float64 gradients: where does it differ?
    p_chain, _, _ = adam_ref(params, g64)
    dchain = np.abs(p1.astype(np.float64) - p_chain) / ADAM["lr"]
    check(name + " adam step", ok and em <= MOMENT_TOL and ev <= MOMENT_TOL,
          "max |dp| %.2e lr (half-ulp rounding of p: up to %.2e lr), m err %.2e, v err %.2e; "
          "from float64 gradients: %d of %d updates differ by > 1e-4 lr" %
          (ea, 0.5 * ulp.max() / ADAM["lr"], em, ev, np.count_nonzero(dchain > TOL), dchain.size))


def exr_write(path, px, x, y):
    import OpenImageIO as oiio
    spec = oiio.ImageSpec(px.shape[1], px.shape[0], px.shape[2], oiio.FLOAT)
    spec.x, spec.y = x, y
    spec.attribute("compression", "none")
    out = oiio.ImageOutput.create(path)
    out.open(path, spec)
    out.write_image(px)
    out.close()


def exr_read(path):
    """(pixels H x W x C float32, channel names, data window x, y, w, h)."""
    import OpenImageIO as oiio
    inp = oiio.ImageInput.open(path)
    if not inp:
        raise RuntimeError(oiio.geterror())
    s = inp.spec()
    px = inp.read_image(oiio.FLOAT)
    inp.close()
    return px, list(s.channelnames), (s.x, s.y, s.width, s.height)


def ycc(x, inverse=False):
    """Y'CbCr Rec.709 full range <-> R,G,B on [N, 3, H, W] tensors (nn.cl's)."""
    import torch
    a, b, c = x[:, 0], x[:, 1], x[:, 2]
    if not inverse:
        y = 0.2126 * a + 0.7152 * b + 0.0722 * c
        return torch.stack([y, (c - y) / 1.8556, (a - y) / 1.5748], 1)
    r, bl = a + 1.5748 * c, a + 1.8556 * b
    return torch.stack([r, (a - 0.2126 * r - 0.0722 * bl) / 0.7152, bl], 1)


def run_infer(tmp, nt, size, mname, mode, a, frame):
    import numpy as np
    import torch
    import torch.nn.functional as F
    name = "%s %s Infer" % (size, mname)
    lay, levels = a["lay"], int(a["levels"])
    params = random_params(lay, 77 + mode)
    pfile, model, src = (os.path.join(tmp, n) for n in ("params.bin", "m.reelnet", "frame.exr"))
    params.tofile(pfile)
    r = subprocess.run([PROBE, "model", size, mname, pfile, model], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("nn_probe model: " + r.stderr.strip())
    x32 = frame.astype(np.float32)
    exr_write(src, x32, FRAME_X, FRAME_Y)
    lines = ["local reel = require 'reel'", "local src = reel.Read { '%s' }" % src, "return {"]
    for t in TILES:
        lines.append("  reel.Write { reel.Infer { src, model = '%s', tile = %d }, path = '%s/infer%d.exr',"
                     " pixeltype = 'float' }," % (model, t, tmp, t))
    graph = os.path.join(tmp, "infer.lua")
    with open(graph, "w") as f:
        f.write("\n".join(lines + ["}"]) + "\n")
    r = subprocess.run([REEL, "render", graph, "--no-cache", "--quiet"], capture_output=True,
                       text=True)
    if r.returncode:
        raise RuntimeError("reel render: " + (r.stderr or r.stdout).strip())

    al = int(a["align"])
    x = torch.tensor(x32.transpose(2, 0, 1)[None], dtype=torch.float64)
    x = F.pad(x, (0, (-FRAME_W) % al, 0, (-FRAME_H) % al), mode="replicate")
    y = nt.forward(ycc(x) if mode else x, levels, mode, float(a["slope"]),
                   nt.split(torch.tensor(params, dtype=torch.float64), lay))
    ref = (ycc(y, True) if mode else y)[0, :, :FRAME_H, :FRAME_W].numpy().transpose(1, 2, 0)
    outs = [exr_read(os.path.join(tmp, "infer%d.exr" % t)) for t in TILES]
    px, names, box = outs[0]
    err = rel(px, ref) if px.shape == ref.shape else np.inf
    note("Infer frame", err)
    check(name + " frame", names == ["R", "G", "B"] and box == (FRAME_X, FRAME_Y, FRAME_W, FRAME_H)
          and err <= TOL, "channels %s, data window %s, err %.2e (residual up to %.2f)" %
          (names, box, err, np.abs(ref - x32).max()))
    same = all(o[0].shape == px.shape and np.array_equal(o[0].view(np.uint32), px.view(np.uint32))
               for o in outs[1:])
    check(name + " tiles %s bit-identical" % TILES, same)


def main():
    try:
        why = torch_venv.reexec()
    except RuntimeError as e:
        print("FAIL PyTorch: %s\n0 passed, 1 failed" % e)
        return 1
    if why:
        print("skip: %s\n0 passed, 0 failed" % why)
        return 0
    import numpy as np
    import torch
    import nn_torch as nt
    torch.set_num_threads(2)
    if subprocess.run(["make", "-s", "-C", ROOT, "build/tests/nn_probe"]).returncode:
        print("cannot build build/tests/nn_probe\n0 passed, 1 failed")
        return 1
    if not os.path.exists(REEL):
        print("%s not built: run make\n0 passed, 1 failed" % REEL)
        return 1
    pic, rgb = picture()
    frame = rgb[:FRAME_H, :FRAME_W]
    print("torch %s, %s" % (torch.__version__, pic))
    with tempfile.TemporaryDirectory() as tmp:
        for size, (h, w, losses, infer) in SIZES.items():
            clean = crops(rgb, h, w)
            noisy = clean + np.random.default_rng(7).normal(0, NOISE, clean.shape)
            for mname, mode in (("rgb", 0), ("chroma", 1)):
                try:
                    a = arch(size, mname)
                except RuntimeError as e:
                    check("%s %s architecture" % (size, mname), False, str(e))
                    continue
                lay = a["lay"] = nt.layout(int(a["levels"]), [int(c) for c in a["width"]], 3,
                                           2 if mode else 3)
                check("%s %s layout" % (size, mname),
                      lay == a["convs"] and nt.nparams(lay) == a["nparams"],
                      "levels %d, widths %s, %d parameters; batch %d of %dx%d crops" %
                      (a["levels"], [int(c) for c in a["width"]], a["nparams"], BATCH, w, h))
                c, n = (to_ycc(clean), to_ycc(noisy)) if mode else (clean, noisy)
                for lname in losses:
                    kind = LOSSES[lname]
                    try:
                        run_case(tmp, nt, size, mname, mode, lname, kind, a, c, n)
                    except RuntimeError as e:
                        check("%s %s %s" % (size, mname, lname), False, str(e))
                try:
                    if infer:
                        run_infer(tmp, nt, size, mname, mode, a, frame)
                except RuntimeError as e:
                    check("%s %s Infer" % (size, mname), False, str(e))
    print("max errors: " + ", ".join("%s %.2e" % kv for kv in worst.items()))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
