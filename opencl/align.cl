/* Alignment (nodes/align_util.c) and temporal sync (nodes/sync.c). Lumas are
 * rasters over an image's display window in which NaN marks pixels that
 * must not count (outside the data window, black borders); NaN spreads
 * through blurs, gradients and bilinear taps, so every derived value that
 * touched an invalid pixel is invalid too. ECC sums follow Evangelidis &
 * Psarakis 2008 (forward additive, on normalised coordinates). */

/* Luma of planar channels c0..c2 with weights wt (a single channel: c0 with
 * weight 1) over the display raster dw x dh; (ox, oy) is the raster's origin
 * in the source buffer's coordinates. NaN outside the source. */
__kernel void align_luma(__global const float *src, int sw, int sh, int c0, int c1, int c2,
                         float4 wt, __global float *dst, int dw, int dh, int ox, int oy) {
  int x = GID_X, y = GID_Y;
  if (x >= dw || y >= dh) return;
  int sx = x + ox, sy = y + oy;
  float v = NAN;
  if (sx >= 0 && sy >= 0 && sx < sw && sy < sh) {
    size_t sp = (size_t)sw * sh, i = (size_t)sy * sw + sx;
    v = wt.x * src[c0 * sp + i] + wt.y * src[c1 * sp + i] + wt.z * src[c2 * sp + i];
  }
  dst[(size_t)y * dw + x] = v;
}

/* Per work item: eight neighbouring columns of the fixed region (as
 * vectors: PoCL does not vectorise across work items that loop) over a band
 * of `band` rows. Fixed pixel p (continuous: index + 0.5) has normalised
 * coordinates u = (p - m.s9a) * m.sb; the warp m.s0-8 (row-major,
 * projective) takes u to normalised moving coordinates v, which are moving
 * pixels v * m.se + m.scd (index coordinates: minus 0.5). The moving luma
 * and its x and y derivatives are planes mi, mi + plane, mi + 2 plane. The
 * item's 66 sums go to out[k * items + item], each pixel weighted by w:
 *   0 sum w, 1 sum w i, 2 sum w i^2, 3 sum w t, 4 sum w t^2, 5 sum w i t,
 *   6-13 sum w J, 14-21 sum w J i, 22-29 sum w J t, 30-65 sum w J J^T
 *   (upper triangle, row by row),
 * with J the gradient of the warped moving luma with respect to the eight
 * free entries of the matrix (m.s8 fixed at 1), and w a Huber weight
 * (Holland & Welsch 1977) of the pixel's error against the last fit,
 * rob.x (t - rob.z) - (i - rob.y), with threshold rob.w (0: w = 1), so
 * dirt, subtitles and logos pull less. */
#define ALIGN_NSUM 66
#define G8(p, a)                                                                                   \
  (float8)(p[a.s0], p[a.s1], p[a.s2], p[a.s3], p[a.s4], p[a.s5], p[a.s6], p[a.s7])
__kernel void align_ecc(__global const float *T, int tw, int4 box, __global const float *mi,
                        int iw, int ih, float16 m, float4 rob, int band,
                        __global float *out) {
  int x0 = box.x + GID_X * 8, b = GID_Y;
  int items = get_global_size(0) * get_global_size(1), item = GID_Y * get_global_size(0) + GID_X;
  float8 acc[ALIGN_NSUM];
  for (int k = 0; k < ALIGN_NSUM; k++) acc[k] = 0.0f;
  int y0 = box.y + b * band, y1 = min(y0 + band, box.w);
  if (x0 >= box.z) y1 = y0;
  int plane = iw * ih;
  __global const float *gxp = mi + plane, *gyp = mi + 2 * plane;
  float8 xs = (float8)(0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f) + (float)x0;
  int8 lane = convert_int8(xs) < box.z;
  int8 tx0 = clamp(convert_int8(xs), 0, tw - 1);
  float8 ux = (xs + 0.5f - m.s9) * m.sb;
  for (int y = y0; y < y1; y++) {
    int8 trow = tx0 + y * tw;
    float8 t = G8(T, trow);
    float uy = ((float)y + 0.5f - m.sa) * m.sb;
    float8 den = m.s6 * ux + (m.s7 * uy + m.s8);
    float8 a = 1.0f / den;
    float8 vx = (m.s0 * ux + (m.s1 * uy + m.s2)) * a, vy = (m.s3 * ux + (m.s4 * uy + m.s5)) * a;
    float8 qx = clamp(vx * m.se + (m.sc - 0.5f), -1e6f, 1e6f);
    float8 qy = clamp(vy * m.se + (m.sd - 0.5f), -1e6f, 1e6f);
    float8 fx = floor(qx), fy = floor(qy), tx = qx - fx, ty = qy - fy;
    int8 j = convert_int8(fx), i = convert_int8(fy);
    int8 in = lane & (den > 0.0f) & (j >= 0) & (i >= 0) & (j + 1 < iw) & (i + 1 < ih);
    int8 o = select((int8)0, i * iw + j, in), o1 = o + 1, o2 = o + iw, o3 = o + iw + 1;
    float8 w0 = (1.0f - tx) * (1.0f - ty), w1 = tx * (1.0f - ty), w2 = (1.0f - tx) * ty,
           w3 = tx * ty;
    float8 iv = w0 * G8(mi, o) + w1 * G8(mi, o1) + w2 * G8(mi, o2) + w3 * G8(mi, o3);
    float8 gx = w0 * G8(gxp, o) + w1 * G8(gxp, o1) + w2 * G8(gxp, o2) + w3 * G8(gxp, o3);
    float8 gy = w0 * G8(gyp, o) + w1 * G8(gyp, o1) + w2 * G8(gyp, o2) + w3 * G8(gyp, o3);
    int8 ok = in & !isnan(t) & !isnan(iv) & !isnan(gx) & !isnan(gy);
    iv = select((float8)0.0f, iv, ok);
    t = select((float8)0.0f, t, ok);
    gx = select((float8)0.0f, gx * (m.se * a), ok);
    gy = select((float8)0.0f, gy * (m.se * a), ok);
    /* Huber weights from the last iteration's fit: 1 within rob.w of it */
    float8 err = fabs(rob.x * (t - rob.z) - (iv - rob.y));
    float8 wv = rob.w > 0.0f ? select((float8)1.0f, rob.w / err, err > rob.w) : (float8)1.0f;
    wv = select((float8)0.0f, wv, ok);
    float8 gp = -(gx * vx + gy * vy);
    float8 J[8] = {gx * ux, gx * uy, gx, gy * ux, gy * uy, gy, gp * ux, gp * uy};
    float8 wi = wv * iv, wt = wv * t;
    acc[0] += wv;
    acc[1] += wi;
    acc[2] += wi * iv;
    acc[3] += wt;
    acc[4] += wt * t;
    acc[5] += wi * t;
    int h = 30;
    for (int k = 0; k < 8; k++) {
      float8 jw = J[k] * wv;
      acc[6 + k] += jw;
      acc[14 + k] += jw * iv;
      acc[22 + k] += jw * t;
      for (int l = k; l < 8; l++) acc[h++] += jw * J[l];
    }
  }
  for (int k = 0; k < ALIGN_NSUM; k++) {
    float8 v = acc[k];
    float4 s4 = v.lo + v.hi;
    out[k * items + item] = (s4.x + s4.y) + (s4.z + s4.w);
  }
}
#undef G8

/* Sync thumbnails: cell (x, y) of a tw x th grid is the mean luma of the
 * source pixels in its share of the display raster (dw x dh, origin
 * (ox, oy) in the buffer), at least one; pixels outside the buffer count
 * as 0. */
__kernel void align_thumb(__global const float *src, int sw, int sh, int c0, int c1, int c2,
                          float4 wt, int dw, int dh, int ox, int oy, __global float *dst, int tw,
                          int th) {
  int x = GID_X, y = GID_Y;
  if (x >= tw || y >= th) return;
  int xa = x * dw / tw, xb = max((x + 1) * dw / tw, xa + 1);
  int ya = y * dh / th, yb = max((y + 1) * dh / th, ya + 1);
  size_t sp = (size_t)sw * sh;
  float acc = 0.0f;
  for (int py = ya; py < yb; py++) {
    int sy = py + oy;
    if (sy < 0 || sy >= sh) continue;
    for (int px = xa; px < xb; px++) {
      int sx = px + ox;
      if (sx < 0 || sx >= sw) continue;
      size_t i = (size_t)sy * sw + sx;
      acc += wt.x * src[c0 * sp + i] + wt.y * src[c1 * sp + i] + wt.z * src[c2 * sp + i];
    }
  }
  int cnt = (xb - xa) * (yb - ya);
  dst[y * tw + x] = cnt > 0 ? acc / (float)cnt : 0.0f;
}
