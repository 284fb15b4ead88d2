/* Image-quality measures for Compare (nodes/compare.c) and a sum reduction.
 * Inputs are dense planar R'G'B' crops of the region (compare_extract).
 * Per pixel: squared RGB error, squared BT.709 Cb/Cr error, CIEDE2000
 * (Sharma, Wu & Dalal 2005) on CIELAB from sRGB as skimage.color.rgb2lab
 * computes it (IEC 61966-2-1 decoding, D65); SSIM as Wang et al. 2004 with
 * an 11x11 Gaussian (sigma 1.5), computed in two separable passes.
 * Colour maths runs in double where the device has it. */
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
#else
typedef float real;
#endif

/* dst: 3 planes of w x h; dst(x, y, k) = src(x + dx, y + dy, channel ck) of
 * the sw x sh planes, 0 outside. */
__kernel void compare_extract(__global const float *src, int sw, int sh, int dx, int dy,
                              int c0, int c1, int c2, __global float *dst, int w, int h) {
  int x = GID_X, y = GID_Y;
  if (x >= w || y >= h) return;
  int sx = x + dx, sy = y + dy;
  int in = src && sx >= 0 && sy >= 0 && sx < sw && sy < sh;
  size_t sp = (size_t)sw * sh, si = in ? (size_t)sy * sw + sx : 0;
  size_t dp = (size_t)w * h, di = (size_t)y * w + x;
  dst[di] = in ? src[c0 * sp + si] : 0.0f;
  dst[dp + di] = in ? src[c1 * sp + si] : 0.0f;
  dst[2 * dp + di] = in ? src[c2 * sp + si] : 0.0f;
}

/* se = squared R'G'B' error summed over the channels; sc = squared error of
 * BT.709 Cb and Cr (Y' = .2126R' + .7152G' + .0722B', Cb = (B' - Y')/1.8556,
 * Cr = (R' - Y')/1.5748), which are linear in R'G'B', so the differences
 * go through them directly. */
__kernel void compare_err(__global const float *xa, __global const float *xb, int n,
                          __global float *se, __global float *sc) {
  int i = GID_X;
  if (i >= n) return;
  float dr = xa[i] - xb[i], dg = xa[n + i] - xb[n + i], db = xa[2 * n + i] - xb[2 * n + i];
  float dy = 0.2126f * dr + 0.7152f * dg + 0.0722f * db;
  float dcb = (db - dy) / 1.8556f, dcr = (dr - dy) / 1.5748f;
  se[i] = dr * dr + dg * dg + db * db;
  sc[i] = dcb * dcb + dcr * dcr;
}

/* |A - B| per channel: the difference image of Compare. */
__kernel void compare_absdiff(__global const float *xa, __global const float *xb, int n,
                              __global float *out) {
  int i = GID_X;
  if (i < n) out[i] = fabs(xa[i] - xb[i]);
}

/* x^2.4 as exp2(2.4 log2 x): PoCL's pow is four times slower. */
static inline real srgb_decode(real c) {
  return c > 0.04045 ? exp2(2.4 * log2((c + 0.055) / 1.055)) : c / 12.92;
}

static inline real lab_f(real t) { return t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0; }

/* R'G'B' planes (sRGB-encoded) to L*a*b* planes: skimage's constants (its
 * xyz_from_rgb matrix, white 0.95047, 1, 1.08883, and f's 0.008856/7.787). */
__kernel void compare_lab(__global const float *rgb, int n, __global float *lab) {
  int i = GID_X;
  if (i >= n) return;
  real r = srgb_decode(rgb[i]), g = srgb_decode(rgb[n + i]), b = srgb_decode(rgb[2 * n + i]);
  real X = 0.412453 * r + 0.357580 * g + 0.180423 * b;
  real Y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
  real Z = 0.019334 * r + 0.119193 * g + 0.950227 * b;
  real fx = lab_f(X / 0.95047), fy = lab_f(Y), fz = lab_f(Z / 1.08883);
  lab[i] = (float)(116.0 * fy - 16.0);
  lab[n + i] = (float)(500.0 * (fx - fy));
  lab[2 * n + i] = (float)(200.0 * (fy - fz));
}

static inline real deg(real r) { return r * (180.0 / M_PI); }
static inline real rad(real d) { return d * (M_PI / 180.0); }

/* CIEDE2000 with kL = kC = kH = 1, following the implementation notes of
 * Sharma, Wu & Dalal (2005), eqs. 1-22, with hue angles in degrees. */
static inline real de2000(real L1, real a1, real b1, real L2, real a2, real b2) {
  real C1 = sqrt(a1 * a1 + b1 * b1), C2 = sqrt(a2 * a2 + b2 * b2);
  real Cm = 0.5 * (C1 + C2), Cm7 = pown(Cm, 7);
  real G = 0.5 * (1.0 - sqrt(Cm7 / (Cm7 + 6103515625.0))); /* 25^7 */
  real ap1 = (1.0 + G) * a1, ap2 = (1.0 + G) * a2;
  real Cp1 = sqrt(ap1 * ap1 + b1 * b1), Cp2 = sqrt(ap2 * ap2 + b2 * b2);
  real hp1 = ap1 == 0.0 && b1 == 0.0 ? 0.0 : deg(atan2(b1, ap1));
  real hp2 = ap2 == 0.0 && b2 == 0.0 ? 0.0 : deg(atan2(b2, ap2));
  if (hp1 < 0.0) hp1 += 360.0;
  if (hp2 < 0.0) hp2 += 360.0;
  real CC = Cp1 * Cp2, dh = hp2 - hp1;
  if (CC == 0.0)
    dh = 0.0;
  else if (dh > 180.0)
    dh -= 360.0;
  else if (dh < -180.0)
    dh += 360.0;
  real dL = L2 - L1, dC = Cp2 - Cp1, dH = 2.0 * sqrt(CC) * sin(rad(dh) * 0.5);
  real Lm = 0.5 * (L1 + L2), Cpm = 0.5 * (Cp1 + Cp2), hm = hp1 + hp2;
  if (CC != 0.0) {
    if (fabs(hp1 - hp2) <= 180.0)
      hm *= 0.5;
    else
      hm = hm < 360.0 ? 0.5 * (hm + 360.0) : 0.5 * (hm - 360.0);
  }
  real T = 1.0 - 0.17 * cos(rad(hm - 30.0)) + 0.24 * cos(rad(2.0 * hm)) +
           0.32 * cos(rad(3.0 * hm + 6.0)) - 0.20 * cos(rad(4.0 * hm - 63.0));
  real dtheta = 30.0 * exp(-((hm - 275.0) / 25.0) * ((hm - 275.0) / 25.0));
  real Cpm7 = pown(Cpm, 7), RC = 2.0 * sqrt(Cpm7 / (Cpm7 + 6103515625.0));
  real L50 = (Lm - 50.0) * (Lm - 50.0);
  real SL = 1.0 + 0.015 * L50 / sqrt(20.0 + L50), SC = 1.0 + 0.045 * Cpm;
  real SH = 1.0 + 0.015 * Cpm * T, RT = -sin(rad(2.0 * dtheta)) * RC;
  real tl = dL / SL, tc = dC / SC, th = dH / SH;
  return sqrt(tl * tl + tc * tc + th * th + RT * tc * th);
}

/* de[i] = CIEDE2000 between L*a*b* planes la and lb (n pixels each). */
__kernel void compare_de2000(__global const float *la, __global const float *lb, int n,
                             __global float *de) {
  int i = GID_X;
  if (i >= n) return;
  de[i] = (float)de2000(la[i], la[n + i], la[2 * n + i], lb[i], lb[n + i], lb[2 * n + i]);
}

/* exp(-x^2 / (2 * 1.5^2)) for x = -5..5, normalised: the 11 taps of
 * scipy.ndimage.gaussian_filter(sigma=1.5, truncate=3.5) that skimage's SSIM
 * uses. */
__constant float ssim_w[11] = {1.028380084e-03f, 7.598758135e-03f, 3.600077213e-02f,
                               1.093606895e-01f, 2.130055377e-01f, 2.660117249e-01f,
                               2.130055377e-01f, 1.093606895e-01f, 3.600077213e-02f,
                               7.598758135e-03f, 1.028380084e-03f};

/* Horizontal pass: the planes of xa and xb (w wide, `rows` rows in all,
 * planes stacked) give, for x in [0, w - 10), Gaussian sums over x..x+10 of
 * X, Y, X^2, Y^2 and XY, with X and Y shifted by -0.5: moments do not
 * depend on the shift, and it keeps the float cancellation in the variances
 * small. tmp: 5 planes of (w - 10) x rows. */
__kernel void compare_ssim_h(__global const float *xa, __global const float *xb, int w,
                             int rows, __global float *tmp) {
  int x = GID_X, y = GID_Y, w2 = w - 10;
  if (x >= w2 || y >= rows) return;
  size_t s = (size_t)y * w + x;
  real ma = 0, mb = 0, maa = 0, mbb = 0, mab = 0;
  for (int k = 0; k < 11; k++) {
    real a = xa[s + k] - 0.5f, b = xb[s + k] - 0.5f, g = ssim_w[k];
    ma += g * a;
    mb += g * b;
    maa += g * a * a;
    mbb += g * b * b;
    mab += g * a * b;
  }
  size_t P = (size_t)w2 * rows, i = (size_t)y * w2 + x;
  tmp[i] = ma;
  tmp[P + i] = mb;
  tmp[2 * P + i] = maa;
  tmp[3 * P + i] = mbb;
  tmp[4 * P + i] = mab;
}

/* Vertical pass and the SSIM map (Wang et al. 2004, eq. 13; population
 * covariances, K1 = 0.01, K2 = 0.03, data range 1) at the pixels whose
 * 11x11 window lies inside the region: out has nplanes stacked planes of
 * (w - 10) x (h - 10). */
__kernel void compare_ssim_v(__global const float *tmp, int w2, int h, int nplanes,
                             __global float *out) {
  int x = GID_X, r = GID_Y, h2 = h - 10;
  if (x >= w2 || r >= nplanes * h2) return;
  int c = r / h2, y = r - c * h2;
  size_t P = (size_t)w2 * h * nplanes, s = ((size_t)c * h + y) * w2 + x;
  real ma = 0, mb = 0, maa = 0, mbb = 0, mab = 0;
  for (int k = 0; k < 11; k++) {
    size_t i = s + (size_t)k * w2;
    real g = ssim_w[k];
    ma += g * tmp[i];
    mb += g * tmp[P + i];
    maa += g * tmp[2 * P + i];
    mbb += g * tmp[3 * P + i];
    mab += g * tmp[4 * P + i];
  }
  const real C1 = 1e-4, C2 = 9e-4; /* (K1 L)^2, (K2 L)^2 */
  real va = maa - ma * ma, vb = mbb - mb * mb, vab = mab - ma * mb;
  real ua = ma + 0.5, ub = mb + 0.5;
  real ssim = (2.0 * ua * ub + C1) * (2.0 * vab + C2) / ((ua * ua + ub * ub + C1) * (va + vb + C2));
  out[(size_t)r * w2 + x] = (float)ssim;
}

/* One partial sum per work-group of src[0..n): each item adds a strided
 * share, then the group adds its items. The host adds the partials. */
__kernel void reduce_sum(__global const float *src, int n, __global float *part,
                         __local float *tmp) {
  int l = get_local_id(0);
  real s = 0;
  for (int i = get_global_id(0); i < n; i += get_global_size(0)) s += src[i];
  tmp[l] = (float)s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int k = get_local_size(0) / 2; k > 0; k >>= 1) {
    if (l < k) tmp[l] += tmp[l + k];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (l == 0) part[get_group_id(0)] = tmp[0];
}
