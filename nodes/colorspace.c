/* Colorspace: converts between colour encodings. An encoding is a transfer
 * function on a set of RGB primaries and white, optionally followed by a
 * Y'CbCr matrix on the non-linear R'G'B' (BT.601/709/2020 luma weights).
 * RGB-to-RGB matrices are derived in double at pack time from the
 * primaries' chromaticities (SMPTE RP 177 normalised primary matrix), with
 * Bradford adaptation where the whites differ. Pointwise: colorspace_pw in
 * opencl/color.cl does decode, matrix, encode per pixel. */
#include "color.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *in_space, *out_space;
  double gamma;
  double cineon_black, cineon_white, cineon_gamma;
  double log2_min, log2_max, log2_grey;
  int bits;
  int adapt;
} colorspace_t;

static const reel_param_desc_t params[] = {
    REEL_PSTR(colorspace_t, in_space, "linear_rec709",
              "encoding of the input: <transfer>_<primaries>[_ycbcr<601|709|2020>[_full|_limited|"
              "_fullcode]] or a short name (see above)"),
    {"out_space", REEL_P_STRING, 1, offsetof(colorspace_t, out_space), {0}, NULL, 1, 0, NULL,
     "encoding of the output, named as in_space", REEL_PF_STATIC | REEL_PF_REQUIRED},
    REEL_PNUM(colorspace_t, gamma, 2.2, 0.01, 100,
              "exponent of the 'gamma' transfer: linear = code^gamma"),
    REEL_PNUM(colorspace_t, cineon_black, 95, 0, 1023,
              "'cineon' transfer: 10-bit code value of black (Nuke's default 95)"),
    REEL_PNUM(colorspace_t, cineon_white, 685, 0, 1023,
              "'cineon' transfer: 10-bit code value of reference white (685)"),
    REEL_PNUM(colorspace_t, cineon_gamma, 0.6, 0.01, 10,
              "'cineon' transfer: negative film gamma (0.6); 0.002 density per code value"),
    REEL_PNUM(colorspace_t, log2_min, -6.5, -64, 64,
              "'log2' transfer: stops below log2_grey that code 0 stands for (as negative)"),
    REEL_PNUM(colorspace_t, log2_max, 6.5, -64, 64,
              "'log2' transfer: stops above log2_grey that code 1 stands for"),
    REEL_PNUM(colorspace_t, log2_grey, 0.18, 1e-6, 1e6, "'log2' transfer: linear mid grey"),
    /* a bit depth is a property of the file, not something to animate */
    {"bits", REEL_P_INT, 1, offsetof(colorspace_t, bits), {10}, NULL, 8, 16, NULL,
     "bit depth whose normalised code values _limited and _fullcode Y'CbCr stand for",
     REEL_PF_STATIC},
    REEL_PBOOL(colorspace_t, adapt, 1,
               "Bradford chromatic adaptation between different whites (off: keep XYZ)"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to convert"}};

/* ---- encodings ---- */

enum { TF_LINEAR, TF_SRGB, TF_REC709, TF_BT1886, TF_GAMMA, TF_ACESCCT, TF_ACESCC, TF_CINEON, TF_LOG2 };
static const struct {
  const char *name; /* in enum order */
} tfs[] = {{"linear"}, {"srgb"},   {"rec709"}, {"bt1886"}, {"gamma"},
           {"acescct"}, {"acescc"}, {"cineon"}, {"log2"}};

#define D65 {0.3127, 0.3290}
#define ACES_WHITE {0.32168, 0.33767}
static const struct {
  const char *name;
  double xy[4][2]; /* R, G, B, white */
} prims[] = {
    {"rec709", {{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}, D65}},
    {"rec2020", {{0.708, 0.292}, {0.170, 0.797}, {0.131, 0.046}, D65}},
    {"p3d65", {{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}, D65}},
    {"p3dci", {{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}, {0.314, 0.351}}},
    {"ebu", {{0.64, 0.33}, {0.29, 0.60}, {0.15, 0.06}, D65}},
    {"smptec", {{0.630, 0.340}, {0.310, 0.595}, {0.155, 0.070}, D65}},
    {"ap0", {{0.7347, 0.2653}, {0.0, 1.0}, {0.0001, -0.0770}, ACES_WHITE}},
    {"ap1", {{0.713, 0.293}, {0.165, 0.830}, {0.128, 0.044}, ACES_WHITE}},
    {"xyz", {{0}, {0}, {0}, D65}}, /* CIE XYZ itself, taken as D65-referred */
};
#define NPRIM (int)(sizeof prims / sizeof prims[0])
#define PRIM_XYZ (NPRIM - 1)

static const struct {
  const char *name;
  double kr, kb;
} yccs[] = {{"ycbcr601", 0.299, 0.114}, {"ycbcr709", 0.2126, 0.0722}, {"ycbcr2020", 0.2627, 0.0593}};
static const char *const ranges[] = {"full", "limited", "fullcode"};

static const struct {
  const char *name, *canon;
} aliases[] = {
    {"linear", "linear_rec709"},    {"srgb", "srgb_rec709"},        {"rec709", "rec709_rec709"},
    {"rec2020", "rec709_rec2020"},  {"bt1886", "bt1886_rec709"},    {"acescct", "acescct_ap1"},
    {"acescc", "acescc_ap1"},       {"acescg", "linear_ap1"},       {"aces2065-1", "linear_ap0"},
    {"cineon", "cineon_rec709"},    {"xyz", "linear_xyz"},
    {"ycbcr_601", "rec709_rec709_ycbcr601"}, {"ycbcr_709", "rec709_rec709_ycbcr709"},
    {"ycbcr_2020", "rec709_rec2020_ycbcr2020"},
};

typedef struct {
  int tf, prim, ycc, range; /* indices into the tables; ycc -1: none */
} space_t;

/* Index of the entry of `table` (an array of structs with .name) named tok, or -1. */
#define INDEX_OF(table, tok, out)                                                          \
  do {                                                                                     \
    (out) = -1;                                                                            \
    for (int i_ = 0; i_ < (int)(sizeof table / sizeof table[0]); i_++)                     \
      if (!strcmp(table[i_].name, tok)) {                                                  \
        (out) = i_;                                                                        \
        break;                                                                             \
      }                                                                                    \
  } while (0)

static int parse_canon(const char *s, space_t *o) {
  char buf[96], *tok[5];
  int nt = 0;
  if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf) return -1;
  for (char *q = buf; nt < 5;) {
    tok[nt++] = q;
    if (!(q = strchr(q, '_'))) break;
    *q++ = 0;
  }
  if (nt < 2 || nt > 4) return -1;
  INDEX_OF(tfs, tok[0], o->tf);
  INDEX_OF(prims, tok[1], o->prim);
  o->ycc = -1;
  if (nt > 2) INDEX_OF(yccs, tok[2], o->ycc);
  o->range = 0;
  if (nt > 3)
    for (o->range = 2; o->range >= 0 && strcmp(tok[3], ranges[o->range]); o->range--) {
    }
  return o->tf < 0 || o->prim < 0 || (nt > 2 && o->ycc < 0) || o->range < 0 ? -1 : 0;
}

/* Canonical names first, then a short name followed by the rest
 * ("ycbcr_709_limited", "srgb_ycbcr601"). */
static int parse_space(const char *s, space_t *o) {
  if (!s) return -1;
  if (!parse_canon(s, o)) return 0;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
    size_t l = strlen(aliases[i].name);
    if (strncmp(s, aliases[i].name, l) || (s[l] && s[l] != '_')) continue;
    char buf[128];
    snprintf(buf, sizeof buf, "%s%s", aliases[i].canon, s + l);
    if (!parse_canon(buf, o)) return 0;
  }
  return -1;
}

static int parse_or_report(const reel_node_t *n, const char *what, const char *s, space_t *o) {
  if (!parse_space(s, o)) return 0;
  reel_node_error(n, REEL_EUSER,
                  "%s '%s' is not an encoding: write <transfer>_<primaries>"
                  "[_ycbcr601|_ycbcr709|_ycbcr2020[_full|_limited|_fullcode]] with transfers "
                  "linear srgb rec709 bt1886 gamma acescct acescc cineon log2 and primaries "
                  "rec709 rec2020 p3d65 p3dci ebu smptec ap0 ap1 xyz, or a short name: linear "
                  "srgb rec709 rec2020 bt1886 acescct acescc acescg aces2065-1 cineon xyz "
                  "ycbcr_601 ycbcr_709 ycbcr_2020 (these three may end in _full, _limited, "
                  "_fullcode)",
                  what, s ? s : "");
  return -1;
}

/* ---- 3x3 matrices in double, row-major ---- */

static void mul3(const double *a, const double *b, double *out) {
  double t[9];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      t[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  memcpy(out, t, sizeof t);
}

static int inv3(const double *m, double *out) {
  double t[9] = {m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
                 m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
                 m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3]};
  double det = m[0] * t[0] + m[1] * t[3] + m[2] * t[6];
  if (fabs(det) < 1e-12) return -1;
  for (int i = 0; i < 9; i++) out[i] = t[i] / det;
  return 0;
}

static void xyz_of(const double *xy, double *v) {
  v[0] = xy[0] / xy[1];
  v[1] = 1;
  v[2] = (1 - xy[0] - xy[1]) / xy[1];
}

/* RGB -> XYZ: columns are the primaries' XYZ scaled so RGB 1,1,1 is white. */
static void npm(int pi, double *m) {
  static const double id[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  if (pi == PRIM_XYZ) {
    memcpy(m, id, sizeof id);
    return;
  }
  double p[9], pinv[9], w[3], s[3];
  for (int c = 0; c < 3; c++) {
    double v[3];
    xyz_of(prims[pi].xy[c], v);
    for (int r = 0; r < 3; r++) p[r * 3 + c] = v[r];
  }
  xyz_of(prims[pi].xy[3], w);
  inv3(p, pinv); /* the tabled primaries are never collinear */
  for (int r = 0; r < 3; r++) s[r] = pinv[r * 3] * w[0] + pinv[r * 3 + 1] * w[1] + pinv[r * 3 + 2] * w[2];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) m[r * 3 + c] = p[r * 3 + c] * s[c];
}

/* XYZ under white ws -> XYZ under white wd (Bradford cone response). */
static void bradford(const double *ws, const double *wd, double *m) {
  static const double b[9] = {0.8951, 0.2664, -0.1614, -0.7502, 1.7135,
                              0.0367, 0.0389, -0.0685, 1.0296};
  double binv[9], s[3], d[3], sx[3], dx[3], diag[9] = {0};
  inv3(b, binv);
  xyz_of(ws, sx);
  xyz_of(wd, dx);
  for (int r = 0; r < 3; r++) {
    s[r] = b[r * 3] * sx[0] + b[r * 3 + 1] * sx[1] + b[r * 3 + 2] * sx[2];
    d[r] = b[r * 3] * dx[0] + b[r * 3 + 1] * dx[1] + b[r * 3 + 2] * dx[2];
    diag[r * 4] = d[r] / s[r];
  }
  mul3(diag, b, m);
  mul3(binv, m, m);
}

/* Linear RGB in -> linear RGB out; 0 when the primaries are the same. */
static int rgb_matrix(const space_t *a, const space_t *b, int adapt, double *m) {
  if (a->prim == b->prim) return 0;
  double na[9], nb[9], nbinv[9], cat[9];
  npm(a->prim, na);
  npm(b->prim, nb);
  inv3(nb, nbinv);
  const double *wa = prims[a->prim].xy[3], *wb = prims[b->prim].xy[3];
  if (adapt && (wa[0] != wb[0] || wa[1] != wb[1])) {
    bradford(wa, wb, cat);
    mul3(cat, na, na);
  }
  mul3(nbinv, na, m);
  return 1;
}

/* R'G'B' -> Y'CbCr with chroma in [-0.5, 0.5] (BT.601/709/2020 E' values). */
static void ycc_matrix(int y, double *m) {
  double kr = yccs[y].kr, kb = yccs[y].kb, kg = 1 - kr - kb;
  double cb = 2 * (1 - kb), cr = 2 * (1 - kr);
  double t[9] = {kr, kg, kb, -kr / cb, -kg / cb, (1 - kb) / cb, (1 - kr) / cr, -kg / cr, -kb / cr};
  memcpy(m, t, sizeof t);
}

/* Code = E' * scale + offset for Y and for Cb/Cr: sc = {ys, yo, cs, co}. */
static void ycc_range(int range, int bits, double *sc) {
  double nmax = ldexp(1, bits) - 1, s = ldexp(1, bits - 8);
  if (range == 1) { /* narrow: Y' 16-235, C 16-240 at 8 bits, scaled to n bits */
    sc[0] = 219 * s / nmax, sc[1] = 16 * s / nmax, sc[2] = 224 * s / nmax, sc[3] = 128 * s / nmax;
  } else {
    sc[0] = 1, sc[1] = 0, sc[2] = 1;
    sc[3] = range == 2 ? ldexp(1, bits - 1) / nmax : 0;
  }
}

/* A curve in the encode direction, as the two families of opencl/color.cl
 * (color_encode): a linear toe below brk, else y = a s1 + o1 (a s2 + o2
 * below b2) and v = ls log2(y) + lo, or v = ps y^g - po. */
typedef struct {
  double mirror, brk, ts, to, b2, s2, o2, s1, o1, islog, ls, lo, g, ps, po, maxv;
} curve_t;

static int curve_of(const reel_node_t *n, const colorspace_t *p, int tf, curve_t *c) {
  const double big = FLT_MAX;
  *c = (curve_t){0, -big, 0, 0, -big, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, big};
  switch (tf) {
  case TF_SRGB: /* IEC 61966-2-1 */
    c->brk = 0.0031308, c->ts = 12.92, c->g = 1 / 2.4, c->ps = 1.055, c->po = 0.055;
    break;
  case TF_REC709: /* BT.709 OETF */
    c->brk = 0.018, c->ts = 4.5, c->g = 0.45, c->ps = 1.099, c->po = 0.099;
    break;
  case TF_BT1886: /* inverse of the BT.1886 EOTF with Lw = 1, Lb = 0 */
  case TF_GAMMA:  /* mirrored; 0 stays 0 through a flat toe */
    c->mirror = 1, c->brk = FLT_MIN, c->g = 1 / (tf == TF_GAMMA ? p->gamma : 2.4);
    break;
  case TF_ACESCCT: /* S-2016-001 */
    c->brk = 0.0078125, c->ts = 10.5402377416545, c->to = 0.0729055341958355;
    c->islog = 1, c->ls = 1 / 17.52, c->lo = 9.72 / 17.52, c->maxv = 65504;
    break;
  case TF_ACESCC: /* S-2014-003: log2(2^-16 + x/2) below 2^-15, log2(2^-16) at and below 0 */
    c->b2 = ldexp(1, -15), c->s2 = 0.5, c->o2 = ldexp(1, -16);
    c->islog = 1, c->ls = 1 / 17.52, c->lo = 9.72 / 17.52, c->maxv = 65504;
    break;
  case TF_CINEON: { /* Nuke: v = (white + log10(x (1 - off) + off) gamma / 0.002) / 1023 */
    if (p->cineon_white <= p->cineon_black) {
      reel_node_error(n, REEL_EUSER, "cineon_white (%g) must be above cineon_black (%g)",
                      p->cineon_white, p->cineon_black);
      return -1;
    }
    double off = pow(10, (p->cineon_black - p->cineon_white) * 0.002 / p->cineon_gamma);
    c->s1 = 1 - off, c->o1 = off, c->islog = 1;
    c->ls = log10(2) * p->cineon_gamma / (0.002 * 1023), c->lo = p->cineon_white / 1023;
    break;
  }
  case TF_LOG2: { /* v = (log2(x / grey) - min) / (max - min) */
    if (p->log2_max <= p->log2_min) {
      reel_node_error(n, REEL_EUSER, "log2_max (%g) must be above log2_min (%g)", p->log2_max,
                      p->log2_min);
      return -1;
    }
    double range = p->log2_max - p->log2_min;
    c->islog = 1, c->ls = 1 / range, c->lo = -(log2(p->log2_grey) + p->log2_min) / range;
    break;
  }
  }
  return 0;
}

static double inv0(double x) { return x ? 1 / x : 0; }

/* The kernel's encode floats (16) or decode floats (17) for transfer tf;
 * a linear (or cancelled) transfer is switched off (its last float 0). */
static int tf_pack(const reel_node_t *n, const colorspace_t *p, int tf, int decode, int on,
                   float *t) {
  curve_t c;
  if (curve_of(n, p, tf, &c)) return -1;
  on = on && tf != TF_LINEAR;
  if (!decode) {
    double e[16] = {c.mirror, c.brk, c.ts, c.to, c.b2, c.s2, c.o2, c.s1,
                    c.o1,     c.islog, c.ls, c.lo, c.g, c.ps, c.po, on};
    for (int i = 0; i < 16; i++) t[i] = (float)e[i];
    return 0;
  }
  /* the inverse: the toe below the code of brk, K = log2(y) from the code,
   * y = 2^K, then back through the piece of y that applies */
  double d[17] = {c.mirror,
                  c.brk <= -FLT_MAX ? -FLT_MAX : c.ts * c.brk + c.to,
                  inv0(c.ts),
                  c.to,
                  c.islog,
                  1 / c.ls,
                  -c.lo / c.ls,
                  1 / c.g,
                  1 / c.ps,
                  c.po,
                  c.b2 <= -FLT_MAX ? -FLT_MAX : c.b2 * c.s1 + c.o1,
                  c.o2,
                  inv0(c.s2),
                  c.o1,
                  1 / c.s1,
                  c.maxv,
                  on};
  for (int i = 0; i < 17; i++) t[i] = (float)d[i];
  return 0;
}

/* Channels the node reads (Y, Cb, Cr or R, G, B) and the names it writes. */
static int channels(const reel_node_t *n, const space_t *a, const space_t *b, int nch,
                    const char (*ch)[REEL_CHNAME], int idx[3], char (*out)[REEL_CHNAME]) {
  static const char *const rgb[3] = {"R", "G", "B"}, *const ycc[3] = {"Y", "Cb", "Cr"};
  const char *const *in = a->ycc >= 0 ? ycc : rgb, *const *to = b->ycc >= 0 ? ycc : rgb;
  const char *hint = a->ycc >= 0 ? "a Y'CbCr in_space reads channels Y, Cb, Cr"
                                 : "an RGB in_space reads channels R, G, B; rename with Shuffle";
  for (int k = 0; k < 3; k++)
    if ((idx[k] = reel_color_find(n, nch, ch, in[k], hint)) < 0) return -1;
  for (int c = 0; c < nch; c++) snprintf(out[c], REEL_CHNAME, "%s", ch[c]);
  for (int k = 0; k < 3; k++) snprintf(out[idx[k]], REEL_CHNAME, "%s", to[k]);
  for (int c = 0; c < nch; c++)
    for (int d = c + 1; d < nch; d++)
      if (!strcmp(out[c], out[d])) {
        reel_node_error(n, REEL_EUSER, "the output would have two channels '%s': remove one "
                        "with Shuffle first", out[c]);
        return -1;
      }
  return 0;
}

static int check(reel_node_t *n, const void *pv) {
  const colorspace_t *p = pv;
  space_t a, b;
  curve_t c;
  if (parse_or_report(n, "in_space", p->in_space, &a) ||
      parse_or_report(n, "out_space", p->out_space, &b))
    return -1;
  return curve_of(n, p, a.tf, &c) || curve_of(n, p, b.tf, &c) ? -1 : 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const colorspace_t *p = pv;
  space_t a, b;
  int idx[3];
  *out = in[0];
  if (parse_space(p->in_space, &a) || parse_space(p->out_space, &b)) return check(n, pv);
  return channels(n, &a, &b, in[0].nch, in[0].ch, idx, out->ch);
}

static int pack(reel_node_t *n, const void *pv, const reel_image_t *in, reel_pw_t *o) {
  const colorspace_t *p = pv;
  space_t a, b;
  int idx[3];
  if (check(n, pv)) return -1;
  parse_space(p->in_space, &a);
  parse_space(p->out_space, &b);
  if (channels(n, &a, &b, in->nch, in->ch, idx, o->names_out)) return -1;
  /* layout: colorspace_pw in opencl/color.cl; unused steps get identity */
  static const double id[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  float *q = o->p;
  double m[9], mi[9], sc[4] = {1, 0, 1, 0};
  for (int k = 0; k < 3; k++) q[k] = (float)idx[k];
  memcpy(mi, id, sizeof mi);
  if (a.ycc >= 0) {
    ycc_matrix(a.ycc, m);
    inv3(m, mi);
    ycc_range(a.range, p->bits, sc);
  }
  q[3] = (float)sc[1], q[4] = (float)(1 / sc[0]), q[5] = (float)sc[3], q[6] = (float)(1 / sc[2]);
  for (int i = 0; i < 9; i++) q[7 + i] = (float)mi[i];
  int mat = rgb_matrix(&a, &b, p->adapt, m);
  /* same transfer, no matrix between: decoding and encoding cancel */
  int same = !mat && a.tf == b.tf;
  if (tf_pack(n, p, a.tf, 1, !same, q + 16) || tf_pack(n, p, b.tf, 0, !same, q + 42)) return -1;
  if (!mat) memcpy(m, id, sizeof m);
  for (int i = 0; i < 9; i++) q[33 + i] = (float)m[i];
  sc[0] = 1, sc[1] = 0, sc[2] = 1, sc[3] = 0;
  memcpy(m, id, sizeof m);
  if (b.ycc >= 0) {
    ycc_matrix(b.ycc, m);
    ycc_range(b.range, p->bits, sc);
  }
  for (int i = 0; i < 9; i++) q[58 + i] = (float)m[i];
  for (int i = 0; i < 4; i++) q[67 + i] = (float)sc[i];
  o->np = 71;
  /* structural: channel indices, Y'CbCr and RGB matrices (fixed by the
   * named spaces), the curves' family and on/off flags */
  reel_pw_const(o, 0, 16);
  reel_pw_const(o, 33, 9);
  reel_pw_const(o, 58, 13);
  static const int flags[] = {16 + 0, 16 + 4, 16 + 16, 42 + 0, 42 + 9, 42 + 15};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) reel_pw_const(o, flags[i], 1);
  return 0;
}

const reel_node_desc_t reel_node_colorspace = {
    .name = "Colorspace",
    .version = 1,
    .summary = "Convert between transfer functions, primaries and Y'CbCr (pointwise)",
    .doc =
        "An encoding is `<transfer>_<primaries>`, optionally followed by "
        "`_ycbcr601`, `_ycbcr709` or `_ycbcr2020` and a range `_full` (default), `_limited` or "
        "`_fullcode`. The node decodes in_space to linear light, converts primaries (3x3 "
        "matrix from the chromaticities, Bradford adaptation when the whites differ and "
        "`adapt` is on), and encodes to out_space. Y'CbCr is applied to the non-linear "
        "R'G'B', so `linear_rec709` to `ycbcr_709` encodes with the BT.709 OETF first. "
        "Channels R, G, B (Y, Cb, Cr for a Y'CbCr in_space) are converted and renamed to "
        "Y, Cb, Cr (or R, G, B); alpha and other channels pass through.\n\n"
        "Transfers (decode: code value to linear; encode: the reverse):\n\n"
        "- `linear`: none.\n"
        "- `srgb`: IEC 61966-2-1 piecewise curve (linear segment below 0.04045, also for "
        "negative values).\n"
        "- `rec709`: encode is the BT.709 camera OETF (4.5 L below 0.018, 1.099 L^0.45 - "
        "0.099 above), decode its inverse. Also the BT.2020 curve.\n"
        "- `bt1886`: decode is the BT.1886 display EOTF with Lw = 1, Lb = 0 (L = V^2.4); "
        "encode is V = L^(1/2.4). So `rec709` to `bt1886` is scene to display light.\n"
        "- `gamma`: decode L = V^gamma (parameter `gamma`), mirrored for negative values "
        "(OpenColorIO's display gammas clamp them to 0 instead); `bt1886` mirrors too.\n"
        "- `acescct`, `acescc`: ACES S-2016-001 and S-2014-003 (decode clamps at 65504).\n"
        "- `cineon`: Nuke's Cineon (Log2Lin) with `cineon_black` 95, `cineon_white` 685, "
        "`cineon_gamma` 0.6: lin = gain (10^((1023 v - white) 0.002 / gamma) - offset), "
        "offset = 10^((black - white) 0.002 / gamma), gain = 1 / (1 - offset).\n"
        "- `log2`: v = (log2(lin / log2_grey) - log2_min) / (log2_max - log2_min) (OCIO's "
        "Log2 shaper, default +-6.5 stops around 0.18).\n\n"
        "Accuracy: float32 throughout; log2 and exp2 are evaluated to ~1 ulp, so a curve "
        "round trip holds to ~1e-6 relative. The ACES-to-ACEScc transform of OpenColorIO "
        "(and of the ACES CSC) clamps negative ACES2065-1 values to 0 first; this node "
        "does not. OpenColorIO's sRGB uses the slope-continuous 12.9232 below 0.0030413.\n\n"
        "Primaries: `rec709` (sRGB, D65), `rec2020` (D65), `p3d65`, `p3dci` (DCI white), "
        "`ebu` (BT.601 625-line), `smptec` (BT.601 525-line), `ap0` (ACES 2065-1, ACES white "
        "~D60), `ap1` (ACEScg/cc/cct), `xyz` (CIE XYZ, D65-referred for adaptation).\n\n"
        "Y'CbCr ranges: `_full`: Y' in [0, 1], Cb and Cr in [-0.5, 0.5] (the standards' E' "
        "values, no offset); `_limited`: narrow-range codes normalised as files read (code / "
        "(2^bits - 1)): Y' 16-235 and Cb, Cr 16-240 at 8 bits, times 2^(bits-8); "
        "`_fullcode`: full-range codes, chroma offset by 2^(bits-1) / (2^bits - 1).\n\n"
        "Short names: `linear` = `linear_rec709`, `srgb` = `srgb_rec709`, `rec709` = "
        "`rec709_rec709`, `rec2020` = `rec709_rec2020`, `bt1886` = `bt1886_rec709`, "
        "`acescct` = `acescct_ap1`, `acescc` = `acescc_ap1`, `acescg` = `linear_ap1`, "
        "`aces2065-1` = `linear_ap0`, `cineon` = `cineon_rec709`, `xyz` = `linear_xyz`, "
        "`ycbcr_601` = `rec709_rec709_ycbcr601`, `ycbcr_709` = `rec709_rec709_ycbcr709`, "
        "`ycbcr_2020` = `rec709_rec2020_ycbcr2020`; a short name may be followed by the rest "
        "(`ycbcr_709_limited`, `srgb_ycbcr601`). Only one `gamma`, `cineon_*` and `log2_*` "
        "set per node: chain two nodes to convert between two gammas.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(colorspace_t),
    .flags = REEL_NF_POINTWISE,
    .kernels = "color",
    .check = check,
    .clip = clip,
    .pw_func = "colorspace_pw",
    .pw_pack = pack,
};
