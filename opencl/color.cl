/* Colour kernels. Pointwise functions (Colorspace, Grade, CDL, Saturation,
 * Clamp, Invert) map one pixel px[0..16) in place; the engine pastes them
 * into one generated kernel per chain (engine/eval.c). Their float
 * parameters are packed by the nodes' pw_pack, whose comments give each
 * layout. Shuffle's kernels copy or fill one plane. Values are float32, any
 * range; helpers are prefixed color_ because fused chains share a program
 * with other families. */

/* ---- transfer functions (Colorspace): t[0] is the code, t[1..4] its
 * parameters, as nodes/colorspace.c packs them. decode: code value to
 * linear light; encode: linear light to code value. */
#define COLOR_TF_LINEAR 0
#define COLOR_TF_SRGB 1    /* IEC 61966-2-1 piecewise */
#define COLOR_TF_REC709 2  /* BT.709 OETF (encode), its inverse (decode) */
#define COLOR_TF_GAMMA 3   /* pure power, t[1] = gamma, t[2] = 1/gamma; BT.1886 = 2.4 */
#define COLOR_TF_ACESCCT 4 /* S-2016-001 */
#define COLOR_TF_ACESCC 5  /* S-2014-003 */
#define COLOR_TF_CINEON 6  /* Nuke's; t[1] offset, t[2] gain, t[3] white/1023, t[4] 1023*0.002/gamma */
#define COLOR_TF_LOG2 7    /* t[1] 1/range, t[2] -(log2(grey)+min)/range, t[3] range, t[4] min+log2(grey) */

/* Logs are written as one fma from log2 (or log10) so that a round trip
 * loses little more than the float rounding of the code value itself, which
 * the curve's slope (17.52 ln 2 = 12 for ACEScc/cct) amplifies. */

static inline float color_decode(float v, __constant const float *t) {
  switch ((int)t[0]) {
  case COLOR_TF_SRGB:
    return v <= 0.04045f ? v / 12.92f : pow((v + 0.055f) / 1.055f, 2.4f);
  case COLOR_TF_REC709:
    return v < 0.081f ? v / 4.5f : pow((v + 0.099f) / 1.099f, 1.0f / 0.45f);
  case COLOR_TF_GAMMA:
    return copysign(pow(fabs(v), t[1]), v); /* mirrored below 0 */
  case COLOR_TF_ACESCCT:
    if (v <= 0.155251141552511f) return (v - 0.0729055341958355f) / 10.5402377416545f;
    return v < 1.468036529680365f ? exp2(fma(v, 17.52f, -9.72f)) : 65504.0f;
  case COLOR_TF_ACESCC:
    if (v < -0.3013698630136986f) return (exp2(fma(v, 17.52f, -9.72f)) - 1.52587890625e-05f) * 2.0f;
    return v < 1.468036529680365f ? exp2(fma(v, 17.52f, -9.72f)) : 65504.0f;
  case COLOR_TF_CINEON:
    return t[2] * (exp10((v - t[3]) * t[4]) - t[1]);
  case COLOR_TF_LOG2:
    return exp2(fma(v, t[3], t[4]));
  default:
    return v;
  }
}

static inline float color_encode(float x, __constant const float *t) {
  switch ((int)t[0]) {
  case COLOR_TF_SRGB:
    return x <= 0.0031308f ? x * 12.92f : 1.055f * pow(x, 1.0f / 2.4f) - 0.055f;
  case COLOR_TF_REC709:
    return x < 0.018f ? x * 4.5f : 1.099f * pow(x, 0.45f) - 0.099f;
  case COLOR_TF_GAMMA:
    return copysign(pow(fabs(x), t[2]), x);
  case COLOR_TF_ACESCCT:
    if (x <= 0.0078125f) return 10.5402377416545f * x + 0.0729055341958355f;
    return fma(log2(x), 1.0f / 17.52f, 9.72f / 17.52f);
  case COLOR_TF_ACESCC:
    if (x <= 0.0f) return -0.3584474885844749f; /* (log2(2^-16) + 9.72) / 17.52 */
    if (x < 3.0517578125e-05f) return fma(log2(1.52587890625e-05f + x * 0.5f), 1.0f / 17.52f, 9.72f / 17.52f);
    return fma(log2(x), 1.0f / 17.52f, 9.72f / 17.52f);
  case COLOR_TF_CINEON: /* below the film's base the log is clamped */
    return fma(log10(fmax(x / t[2] + t[1], 1e-30f)), 1.0f / t[4], t[3]);
  case COLOR_TF_LOG2:
    return fma(log2(fmax(x, 1e-30f)), t[1], t[2]);
  default:
    return x;
  }
}

static inline void color_mat3(float *v, __constant const float *m) {
  float a = v[0], b = v[1], c = v[2];
  v[0] = m[0] * a + m[1] * b + m[2] * c;
  v[1] = m[3] * a + m[4] * b + m[5] * c;
  v[2] = m[6] * a + m[7] * b + m[8] * c;
}

/* Colorspace. p: 0-2 channel indices; 3 Y'CbCr in?, 4-7 its range
 * (Y offset, 1/Y scale, C offset, 1/C scale), 8-16 Y'CbCr -> R'G'B';
 * 17 decode?, 18-22 transfer in; 23 matrix?, 24-32 linear 3x3;
 * 33 encode?, 34-38 transfer out; 39 Y'CbCr out?, 40-48 R'G'B' -> Y'CbCr,
 * 49-52 its range (Y scale, Y offset, C scale, C offset). */
void colorspace_pw(float *px, __constant const float *p) {
  int i0 = (int)p[0], i1 = (int)p[1], i2 = (int)p[2];
  float v[3] = {px[i0], px[i1], px[i2]};
  if (p[3] != 0.0f) {
    v[0] = (v[0] - p[4]) * p[5];
    v[1] = (v[1] - p[6]) * p[7];
    v[2] = (v[2] - p[6]) * p[7];
    color_mat3(v, p + 8);
  }
  if (p[17] != 0.0f)
    for (int c = 0; c < 3; c++) v[c] = color_decode(v[c], p + 18);
  if (p[23] != 0.0f) color_mat3(v, p + 24);
  if (p[33] != 0.0f)
    for (int c = 0; c < 3; c++) v[c] = color_encode(v[c], p + 34);
  if (p[39] != 0.0f) {
    color_mat3(v, p + 40);
    v[0] = v[0] * p[49] + p[50];
    v[1] = v[1] * p[51] + p[52];
    v[2] = v[2] * p[51] + p[52];
  }
  px[i0] = v[0];
  px[i1] = v[1];
  px[i2] = v[2];
}

/* Grade (Nuke's formula, A and B precomputed). p: 0 n channels, 1-3 their
 * indices, 4-6 A, 7-9 B, 10-12 1/gamma, 13 black clamp, 14 white clamp. */
void grade_pw(float *px, __constant const float *p) {
  int n = (int)p[0];
  for (int k = 0; k < n; k++) {
    int c = (int)p[1 + k];
    float v = p[4 + k] * px[c] + p[7 + k];
    if (p[10 + k] != 1.0f && v > 0.0f) v = pow(v, p[10 + k]);
    if (p[13] != 0.0f) v = fmax(v, 0.0f);
    if (p[14] != 0.0f) v = fmin(v, 1.0f);
    px[c] = v;
  }
}

/* ASC CDL v1.2 with Rec.709 luma weights. p: 0-2 R, G, B indices, 3-5
 * slope, 6-8 offset, 9-11 power, 12 saturation, 13 style (1: ASC clamps to
 * [0, 1] before the power and after saturation; 0: no clamp, and the power
 * leaves negative values unchanged, as OpenColorIO's CDL_NO_CLAMP). */
void cdl_pw(float *px, __constant const float *p) {
  float v[3];
  int asc = p[13] != 0.0f;
  for (int k = 0; k < 3; k++) {
    float x = px[(int)p[k]] * p[3 + k] + p[6 + k];
    if (asc) x = clamp(x, 0.0f, 1.0f);
    if (p[9 + k] != 1.0f && x >= 0.0f) x = pow(x, p[9 + k]);
    v[k] = x;
  }
  float l = 0.2126f * v[0] + 0.7152f * v[1] + 0.0722f * v[2];
  for (int k = 0; k < 3; k++) {
    float x = l + p[12] * (v[k] - l);
    px[(int)p[k]] = asc ? clamp(x, 0.0f, 1.0f) : x;
  }
}

/* Saturation about luma. p: 0-2 R, G, B indices, 3 saturation, 4-6 luma
 * weights. */
void saturation_pw(float *px, __constant const float *p) {
  int r = (int)p[0], g = (int)p[1], b = (int)p[2];
  float l = p[4] * px[r] + p[5] * px[g] + p[6] * px[b];
  px[r] = l + p[3] * (px[r] - l);
  px[g] = l + p[3] * (px[g] - l);
  px[b] = l + p[3] * (px[b] - l);
}

/* Clamp. p: 0 n channels, 1 min, 2 max, 3.. their indices. */
void clamp_pw(float *px, __constant const float *p) {
  int n = (int)p[0];
  for (int k = 0; k < n; k++) {
    int c = (int)p[3 + k];
    px[c] = fmin(fmax(px[c], p[1]), p[2]);
  }
}

/* Invert: 1 - x. p: 0 n channels, 1.. their indices. */
void invert_pw(float *px, __constant const float *p) {
  int n = (int)p[0];
  for (int k = 0; k < n; k++) px[(int)p[1 + k]] = 1.0f - px[(int)p[1 + k]];
}

/* Shuffle: one output plane (w x h at dx0, dy0, starting at float doff of
 * dst) from the plane at soff of a source (sw x sh at sx0, sy0), 0 outside
 * the source's data window. */
__kernel void shuffle_copy(__global float *dst, int doff, int w, int h, int dx0, int dy0,
                           __global const float *src, int soff, int sw, int sh, int sx0,
                           int sy0) {
  int x = GID_X, y = GID_Y;
  if (x >= w || y >= h) return;
  int sx = x + dx0 - sx0, sy = y + dy0 - sy0;
  dst[doff + y * w + x] =
      sx >= 0 && sy >= 0 && sx < sw && sy < sh ? src[soff + sy * sw + sx] : 0.0f;
}

/* Shuffle: one output plane (n floats at off) set to a constant. */
__kernel void shuffle_fill(__global float *dst, int off, int n, float value) {
  int i = GID_X;
  if (i < n) dst[off + i] = value;
}
