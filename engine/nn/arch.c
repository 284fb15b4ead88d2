/* Network architecture arithmetic (nn.h): named sizes, the canonical order of
 * convolutions and parameters, tile alignment and halo, initialisation and
 * the counter-based RNG. No device code here. */
#include "nn/nn.h"

#include "error.h"

#include <math.h>
#include <string.h>

static const struct {
  const char *name;
  int levels;
  int width[REEL_NN_MAXLEV + 1];
} sizes[] = {
    {"small", 2, {8, 16, 32}},
    {"medium", 2, {16, 32, 64}},
    {"large", 3, {24, 48, 96, 192}},
};

int reel_nn_arch_named(reel_nn_arch_t *a, const char *size, int mode) {
  memset(a, 0, sizeof *a);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    if (strcmp(size, sizes[i].name)) continue;
    a->mode = mode;
    a->in_ch = 3;
    a->out_ch = mode == REEL_NN_CHROMA ? 2 : 3;
    a->levels = sizes[i].levels;
    memcpy(a->width, sizes[i].width, sizeof a->width);
    a->slope = 0.1f;
    return reel_nn_arch_check(a);
  }
  reel_error(REEL_EUSER, "unknown network size '%s' (small, medium or large)", size);
  return -1;
}

const char *reel_nn_arch_size_name(const reel_nn_arch_t *a) {
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    if (a->levels != sizes[i].levels) continue;
    int same = 1;
    for (int l = 0; l <= a->levels; l++) same &= a->width[l] == sizes[i].width[l];
    if (same) return sizes[i].name;
  }
  return "custom";
}

int reel_nn_arch_check(const reel_nn_arch_t *a) {
  if (a->mode != REEL_NN_RGB && a->mode != REEL_NN_CHROMA) {
    reel_error(REEL_EUSER, "network mode %d is neither rgb (0) nor chroma (1)", a->mode);
    return -1;
  }
  if (a->in_ch != 3 || a->out_ch != (a->mode == REEL_NN_CHROMA ? 2 : 3)) {
    reel_error(REEL_EUSER, "network channels %d in, %d out do not fit the %s mode", a->in_ch,
               a->out_ch, a->mode == REEL_NN_CHROMA ? "chroma" : "rgb");
    return -1;
  }
  if (a->levels < 1 || a->levels > REEL_NN_MAXLEV) {
    reel_error(REEL_EUSER, "network levels %d out of range 1..%d", a->levels, REEL_NN_MAXLEV);
    return -1;
  }
  for (int l = 0; l <= a->levels; l++)
    if (a->width[l] < 8 || a->width[l] > 512 || a->width[l] % 8) {
      reel_error(REEL_EUSER, "network width %d at level %d: widths are multiples of 8, 8..512",
                 a->width[l], l);
      return -1;
    }
  if (!(a->slope >= 0 && a->slope < 1)) {
    reel_error(REEL_EUSER, "LeakyReLU slope %g out of range [0, 1)", (double)a->slope);
    return -1;
  }
  return 0;
}

int reel_nn_nconv(const reel_nn_arch_t *a) { return 4 * a->levels + 3; }

void reel_nn_conv_info(const reel_nn_arch_t *a, int i, reel_nn_conv_t *c) {
  int L = a->levels;
  size_t off = 0;
  for (int j = 0; j <= i; j++) {
    int cin, cout, k = 3;
    if (j < 2 * L) { /* encoder */
      int l = j / 2;
      cout = a->width[l];
      cin = j % 2 ? cout : (l ? a->width[l - 1] : a->in_ch);
    } else if (j < 2 * L + 2) { /* bottleneck */
      cout = a->width[L];
      cin = j == 2 * L ? a->width[L - 1] : cout;
    } else if (j < 4 * L + 2) { /* decoder, deepest first */
      int l = L - 1 - (j - 2 * L - 2) / 2;
      cout = a->width[l];
      cin = (j - 2 * L - 2) % 2 ? cout : a->width[l + 1] + a->width[l];
    } else { /* head */
      cin = a->width[0];
      cout = a->out_ch;
      k = 1;
    }
    if (j == i) {
      c->cin = cin;
      c->cout = cout;
      c->k = k;
      c->w_off = off;
      c->b_off = off + (size_t)cout * cin * k * k;
    }
    off += (size_t)cout * cin * k * k + cout;
  }
}

size_t reel_nn_nparams(const reel_nn_arch_t *a) {
  reel_nn_conv_t c;
  reel_nn_conv_info(a, reel_nn_nconv(a) - 1, &c);
  return c.b_off + c.cout;
}

int reel_nn_align(const reel_nn_arch_t *a) { return 8 << a->levels; }

int reel_nn_halo(const reel_nn_arch_t *a) {
  /* At level l a 3x3 convolution reaches 2^l full-resolution pixels, a 2x2
   * average pool 2^l, a bilinear upsample from level l+1 2^(l+1). */
  int L = a->levels, r = 0;
  for (int l = 0; l < L; l++) r += 3 * (1 << l) + (1 << (l + 1)) + 2 * (1 << l);
  r += 2 * (1 << L);
  int al = reel_nn_align(a);
  return (r + al - 1) / al * al;
}

double reel_nn_macs_per_pixel(const reel_nn_arch_t *a) {
  double m = 0;
  int L = a->levels;
  for (int i = 0; i < reel_nn_nconv(a); i++) {
    reel_nn_conv_t c;
    reel_nn_conv_info(a, i, &c);
    int level;
    if (i < 2 * L) level = i / 2;
    else if (i < 2 * L + 2) level = L;
    else if (i < 4 * L + 2) level = L - 1 - (i - 2 * L - 2) / 2;
    else level = 0;
    m += (double)c.cin * c.cout * c.k * c.k / (double)(1 << (2 * level));
  }
  return m;
}

/* splitmix64's finaliser: a bijective 64-bit mixer. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t reel_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter) {
  return mix64(seed + 0x9e3779b97f4a7c15ull * (mix64(stream + 0x632be59bd9b4e019ull) ^
                                                mix64(counter ^ 0x2545f4914f6cdd1dull)));
}

double reel_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter) {
  return (double)(reel_rng_u64(seed, stream, counter) >> 11) * (1.0 / 9007199254740992.0);
}

double reel_rng_normal(uint64_t seed, uint64_t stream, uint64_t counter) {
  /* Box-Muller on two uniforms at counters 2c and 2c + 1 (u1 in (0, 1]). */
  double u1 = 1.0 - reel_rng_uniform(seed, stream, 2 * counter);
  double u2 = reel_rng_uniform(seed, stream, 2 * counter + 1);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void reel_nn_init_params(const reel_nn_arch_t *a, uint64_t seed, float *p) {
  int n = reel_nn_nconv(a);
  for (int i = 0; i < n; i++) {
    reel_nn_conv_t c;
    reel_nn_conv_info(a, i, &c);
    size_t nw = c.b_off - c.w_off;
    double sd = i == n - 1 ? 0.0
                           : sqrt(2.0 / ((1.0 + (double)a->slope * a->slope) * c.cin * c.k * c.k));
    for (size_t j = 0; j < nw; j++)
      p[c.w_off + j] = sd > 0 ? (float)(sd * reel_rng_normal(seed, (uint64_t)i, j)) : 0.0f;
    for (int j = 0; j < c.cout; j++) p[c.b_off + j] = 0.0f;
  }
}
