"""The network of engine/nn/nn.h written with torch.nn.functional, for the
conformance test and the benchmark that hold Reel's library against PyTorch:
the canonical parameter layout (reel_nn_conv_info), the U-Net forward pass
(3x3 convolutions with zero padding 1, LeakyReLU, 2x2 average pooling,
bilinear 2x upsampling with half-pixel centres, skip concatenation after the
upsampled tensor, 1x1 head, residual output) and the three losses."""
import torch
import torch.nn.functional as F

RGB, CHROMA = 0, 1
L1, L2, CHARBONNIER = 0, 1, 2


def layout(levels, width, in_ch=3, out_ch=3):
    """[(cin, cout, k, w_off, b_off)] in canonical order: encoder (a, b) per
    level, bottleneck (a, b), decoder (a, b) from the deepest level up, head."""
    convs = []
    for l in range(levels):
        convs += [(in_ch if l == 0 else width[l - 1], width[l], 3), (width[l], width[l], 3)]
    convs += [(width[levels - 1], width[levels], 3), (width[levels], width[levels], 3)]
    for l in range(levels - 1, -1, -1):
        convs += [(width[l + 1] + width[l], width[l], 3), (width[l], width[l], 3)]
    convs.append((width[0], out_ch, 1))
    out, off = [], 0
    for cin, cout, k in convs:
        out.append((cin, cout, k, off, off + cout * cin * k * k))
        off += cout * cin * k * k + cout
    return out


def nparams(lay):
    return lay[-1][4] + lay[-1][1]


def split(flat, lay):
    """[(weight, bias)] views of a flat parameter tensor."""
    return [(flat[w:b].view(cout, cin, k, k), flat[b:b + cout]) for cin, cout, k, w, b in lay]


def forward(x, levels, mode, slope, wb):
    """y for x [N, 3, H, W] (H and W multiples of 2**levels); wb from split()."""
    def conv(h, i):
        w, b = wb[i]
        return F.leaky_relu(F.conv2d(h, w, b, padding=w.shape[-1] // 2), slope)

    h, i, skips = x, 0, []
    for _ in range(levels):
        h = conv(conv(h, i), i + 1)
        i += 2
        skips.append(h)
        h = F.avg_pool2d(h, 2)
    h = conv(conv(h, i), i + 1)
    i += 2
    for l in range(levels - 1, -1, -1):
        h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        h = torch.cat([h, skips[l]], dim=1)
        h = conv(conv(h, i), i + 1)
        i += 2
    r = F.conv2d(h, *wb[i])
    if mode == RGB:
        return x + r
    return torch.cat([x[:, :1], x[:, 1:] + r], dim=1)


def loss(y, t, kind, eps, mode):
    """Mean over pixels and the trained channels (all in rgb mode, Cb and Cr
    in chroma mode). Charbonnier: sqrt(d^2 + eps^2)."""
    d = (y - t) if mode == RGB else (y[:, 1:] - t[:, 1:])
    if kind == L1:
        return d.abs().mean()
    if kind == L2:
        return (d * d).mean()
    return torch.sqrt(d * d + eps * eps).mean()
