"""Network speed: Reel's network library (engine/nn on PoCL) against PyTorch
on the CPU with 2 threads, the same U-Net (tools/nn_torch.py mirrors nn.h),
in the same run. Reel is timed in-process by build/bench/bench_nn_torch.

- training step: size medium, rgb, batch 3 of 256x256 patches: forward, L1
  loss, backward, Adam. Reel: reel_nn_* with a device finish, the batch
  uploaded once outside the timing; PyTorch: the same step with
  torch.optim.Adam, gradients set to None between steps.
- inference of one 2048x1556 RGB frame (a photo, resized) through the Infer
  node (Read -> Infer, reel_eval_image with fresh = 1; an untrained medium
  model from `reel model init`, whose zero head costs the same as a trained
  one): with its default tile of 1024 (six 1024x1024 tiles overlapping by
  the halo) and with tile 2048 (the frame in one tile, padded to 2048x1568).
  PyTorch, under no_grad, runs the same tiles of the frame edge-padded to
  2048x1568 (what Reel's tiles see) and prints how far its tiled result is
  from its one-tile result (the halo's exactness).
Each side runs once untimed (kernel builds, allocation), then RUNS times;
medians of wall time are reported, and of the process's CPU time (all
threads), which other work on a shared machine disturbs less. GFLOP/s are nominal, from reel_nn_macs_per_pixel:
forward 2 * MACs * pixels (the frame's 2048x1556 pixels for inference,
whatever the tiles recompute), a training step 3x a forward. Ratios are Reel
/ PyTorch time (below 1: Reel is faster). The machine is shared, so its load
average is printed. Runs under build/venv-torch (created with `pip install
torch` if missing; skips, printed, when PyPI is unreachable)."""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import torch_venv  # noqa: E402

DRIVER = os.path.join(ROOT, "build", "bench", "bench_nn_torch")
REEL = os.path.join(ROOT, "bin", "reel")
PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
SIZE, BATCH, PATCH = "medium", 3, 256
FRAME_W, FRAME_H = 2048, 1556
TILES = [2048, 1024]  # the first: the whole frame in one tile
TRAIN_RUNS, INFER_RUNS = 5, 3
THREADS = 2


def reel(*args):
    r = subprocess.run([DRIVER, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench_nn_torch: " + r.stderr.strip())
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if f[0] == "arch":
            out["levels"] = int(f[f.index("levels") + 1])
            out["width"] = [int(v) for v in f[f.index("width") + 1:f.index("slope")]]
            out["slope"] = float(f[f.index("slope") + 1])
            out["macs"] = float(f[f.index("macs") + 1])
            out["align"] = int(f[f.index("align") + 1])
            out["halo"] = int(f[f.index("halo") + 1])
        elif f[0] == "ms":
            out["ms"] = float(f[f.index("median") + 1])
            out["cpu"] = float(f[f.index("cpu_ms") + 1])
    return out


def timed(f, runs):
    """(median wall ms, median process CPU ms of runs after one untimed run,
    the last result)."""
    f()
    t, c = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        r = f()
        t.append(time.perf_counter() - t0)
        c.append(time.process_time() - c0)
    return sorted(t)[runs // 2] * 1e3, sorted(c)[runs // 2] * 1e3, r


def tiles(length, T, hl):
    """Tile origins and kept bounds along one side, as nodes/infer.c cuts them."""
    o, x = [], 0
    while x + T < length:
        o.append(x)
        x += T - 2 * hl
    o.append(length - T)
    return o, [0] + [v + hl for v in o[1:]] + [length]


def write_frame(path):
    """The photo resized to the frame, float RGB EXR; returns [1, 3, H, W]."""
    import cv2
    import numpy as np
    import OpenImageIO as oiio
    rgb = cv2.cvtColor(cv2.imread(PHOTO), cv2.COLOR_BGR2RGB)
    f32 = cv2.resize(rgb, (FRAME_W, FRAME_H), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    out = oiio.ImageOutput.create(path)
    spec = oiio.ImageSpec(FRAME_W, FRAME_H, 3, oiio.FLOAT)
    spec.attribute("compression", "none")
    out.open(path, spec)
    out.write_image(f32)
    out.close()
    return np.ascontiguousarray(f32.transpose(2, 0, 1)[None])


def main():
    try:
        why = torch_venv.reexec()
    except RuntimeError as e:
        sys.exit("bench_nn: " + str(e))
    if why:
        print("skip: " + why)
        return 0
    import torch
    import torch.nn.functional as F
    import nn_torch as nt
    if subprocess.run(["make", "-s", "-C", ROOT, "bin/reel", "build/bench/bench_nn_torch"]).returncode:
        sys.exit("cannot build bin/reel and build/bench/bench_nn_torch")
    torch.set_num_threads(THREADS)
    print("load average %.2f %.2f %.2f, torch %s with %d threads" %
          (*os.getloadavg(), torch.__version__, torch.get_num_threads()))

    a = reel("train", SIZE, BATCH, PATCH, "-n", TRAIN_RUNS)
    levels, width, slope, macs = a["levels"], a["width"], a["slope"], a["macs"]
    print("size %s: levels %d, widths %s, %.0f MACs per pixel" % (SIZE, levels, width, macs))
    rows = []
    f_train = 3 * 2 * macs * BATCH * PATCH * PATCH
    f_frame = 2 * macs * FRAME_W * FRAME_H
    rows.append(["training step, batch %d of %dx%d" % (BATCH, PATCH, PATCH), a["ms"], a["cpu"],
                 f_train])
    with tempfile.TemporaryDirectory() as tmp:
        exr, model = os.path.join(tmp, "frame.exr"), os.path.join(tmp, "medium.reelnet")
        frame = torch.from_numpy(write_frame(exr))
        r = subprocess.run([REEL, "model", "init", "--size", SIZE, "--mode", "rgb", model],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit("reel model init: " + r.stderr.strip())
        for tile in TILES:
            r = reel("frame", exr, model, tile, "-n", INFER_RUNS)
            rows.append(["%dx%d frame, Infer tile %d" % (FRAME_W, FRAME_H, tile), r["ms"],
                         r["cpu"], f_frame])

    lay = nt.layout(levels, width)
    gen = torch.Generator().manual_seed(1)
    p = torch.cat([torch.randn(b - w, generator=gen) * (2 / (cin * k * k)) ** 0.5
                   if i == 0 else torch.zeros(cout)
                   for cin, cout, k, w, b in lay for i in (0, 1)]).requires_grad_(True)
    opt = torch.optim.Adam([p], lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    x = torch.rand(BATCH, 3, PATCH, PATCH, generator=gen)
    t = torch.rand(BATCH, 3, PATCH, PATCH, generator=gen)

    def step():
        opt.zero_grad(set_to_none=True)
        nt.loss(nt.forward(x, levels, nt.RGB, slope, nt.split(p, lay)), t, nt.L1, 0.0,
                nt.RGB).backward()
        opt.step()

    rows[0] += timed(step, TRAIN_RUNS)[:2]
    del x, t
    al = 8 << levels
    pad = (-FRAME_H) % al, (-FRAME_W) % al
    xi = F.pad(frame, (0, pad[1], 0, pad[0]), mode="replicate")

    def infer_tiled(tile):
        T = max(-(-tile // al) * al, 2 * a["halo"] + al)
        th, tw = min(T, xi.shape[2]), min(T, xi.shape[3])
        (oy, by), (ox, bx) = tiles(xi.shape[2], th, a["halo"]), tiles(xi.shape[3], tw, a["halo"])
        out = torch.empty_like(xi)
        wb = nt.split(p.detach(), lay)
        with torch.no_grad():
            for i, y0 in enumerate(oy):
                for j, x0 in enumerate(ox):
                    y = nt.forward(xi[:, :, y0:y0 + th, x0:x0 + tw], levels, nt.RGB, slope, wb)
                    out[:, :, by[i]:by[i + 1], bx[j]:bx[j + 1]] = \
                        y[:, :, by[i] - y0:by[i + 1] - y0, bx[j] - x0:bx[j + 1] - x0]
        return out

    # PyTorch cuts the frame into the same tiles as Reel's Infer
    seams = []
    for row, tile in zip(rows[1:], TILES):
        ms, cpu, y = timed(lambda: infer_tiled(tile), INFER_RUNS)
        row += [ms, cpu]
        if tile == TILES[0]:
            whole = y
        else:
            seams.append("tile %d: %.1e" % (tile, float((y - whole).abs().max())))

    print("\n%-33s %8s %8s %6s %12s %12s | %8s %8s %6s" %
          ("", "Reel ms", "torch ms", "ratio", "Reel GFLOP/s", "torch GFLOP/s", "Reel CPU",
           "torch CPU", "ratio"))
    for name, r_ms, r_cpu, f, t_ms, t_cpu in rows:
        print("%-33s %8.0f %8.0f %6.2f %12.1f %12.1f | %8.0f %8.0f %6.2f" %
              (name, r_ms, t_ms, r_ms / t_ms, f / r_ms / 1e6, f / t_ms / 1e6, r_cpu, t_cpu,
               r_cpu / t_cpu))
    print("(CPU: process CPU ms, all threads; frame padded to %dx%d by edge repetition; "
          "medians of %d and %d runs; PyTorch's "
          "tiled frame against its one-tile frame, max abs difference: %s)" %
          (FRAME_W + pad[1], FRAME_H + pad[0], TRAIN_RUNS, INFER_RUNS, ", ".join(seams)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
