/* Grade: Nuke's Grade on up to three channels (default R, G, B; alpha is
 * left alone). A = multiply (gain - lift) / (whitepoint - blackpoint),
 * B = offset + lift - A blackpoint, out = (A x + B)^(1/gamma) for positive
 * values (negative ones stay linear), then the optional clamps. Each
 * parameter is a 3-vector, one component per listed channel. Pointwise:
 * grade_pw in opencl/color.cl. */
#include "color.h"

#include <math.h>

typedef struct {
  const char *channels;
  double blackpoint[3], whitepoint[3], lift[3], gain[3], multiply[3], offset[3], gamma[3];
  int black_clamp, white_clamp;
} grade_t;

static const reel_param_desc_t params[] = {
    REEL_PSTR(grade_t, channels, "R,G,B",
              "one to three channels; component i of each vector applies to the i-th"),
    REEL_PVEC(grade_t, blackpoint, 3, 1, 0, "input value that becomes lift", 0, 0, 0),
    REEL_PVEC(grade_t, whitepoint, 3, 1, 0, "input value that becomes gain", 1, 1, 1),
    REEL_PVEC(grade_t, lift, 3, 1, 0, "output for blackpoint", 0, 0, 0),
    REEL_PVEC(grade_t, gain, 3, 1, 0, "output for whitepoint", 1, 1, 1),
    REEL_PVEC(grade_t, multiply, 3, 1, 0, "scale after lift and gain", 1, 1, 1),
    REEL_PVEC(grade_t, offset, 3, 1, 0, "added after multiply", 0, 0, 0),
    REEL_PVEC(grade_t, gamma, 3, 0.001, 1000, "out = v^(1/gamma) for v > 0", 1, 1, 1),
    REEL_PBOOL(grade_t, black_clamp, 1, "clamp results below 0 to 0 (Nuke's default: on)"),
    REEL_PBOOL(grade_t, white_clamp, 0, "clamp results above 1 to 1"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to grade"}};

static int check(reel_node_t *n, const void *pv) {
  const grade_t *p = pv;
  for (int k = 0; k < 3; k++)
    if (p->whitepoint[k] == p->blackpoint[k]) {
      reel_node_error(n, REEL_EUSER,
                      "whitepoint and blackpoint are equal (%g) in component %d: move one",
                      p->whitepoint[k], k + 1);
      return -1;
    }
  return 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const grade_t *p = pv;
  int idx[3];
  *out = in[0];
  return reel_color_list(n, in[0].nch, in[0].ch, p->channels, "channels", 3, idx) < 0 ? -1 : 0;
}

static int pack(reel_node_t *n, const void *pv, const reel_image_t *in, reel_pw_t *o) {
  const grade_t *p = pv;
  int idx[3];
  int nc = reel_color_list(n, in->nch, in->ch, p->channels, "channels", 3, idx);
  if (nc < 0 || check(n, pv)) return -1;
  float *q = o->p;
  q[0] = (float)nc;
  for (int k = 0; k < 3; k++) {
    double a = p->multiply[k] * (p->gain[k] - p->lift[k]) / (p->whitepoint[k] - p->blackpoint[k]);
    q[1 + k] = (float)(k < nc ? idx[k] : 0);
    q[4 + k] = (float)a;
    q[7 + k] = (float)(p->offset[k] + p->lift[k] - a * p->blackpoint[k]);
    q[10 + k] = (float)(1 / p->gamma[k]);
  }
  q[13] = (float)p->black_clamp;
  q[14] = (float)p->white_clamp;
  o->np = 15;
  reel_pw_const(o, 0, 4);  /* count and channel indices */
  reel_pw_const(o, 13, 2); /* clamps */
  return 0;
}

const reel_node_desc_t reel_node_grade = {
    .name = "Grade",
    .version = 1,
    .summary = "Nuke's Grade: blackpoint, whitepoint, lift, gain, multiply, offset, gamma (pointwise)",
    .doc = "A = multiply (gain - lift) / (whitepoint - blackpoint), B = offset + lift - A "
           "blackpoint, out = (A x + B)^(1/gamma) where A x + B > 0 (negative values are not "
           "gamma-corrected), then black_clamp and white_clamp. Vectors are {R, G, B} (or the "
           "channels listed in `channels`); alpha is left alone.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(grade_t),
    .flags = REEL_NF_POINTWISE,
    .kernels = "color",
    .check = check,
    .clip = clip,
    .pw_func = "grade_pw",
    .pw_pack = pack,
};
