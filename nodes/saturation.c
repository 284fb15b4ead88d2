/* Saturation: R, G, B pushed away from (or toward) their luma, l = w . rgb,
 * out = l + saturation (in - l). Weights default to Rec.709's (0.2126,
 * 0.7152, 0.0722), right for linear or encoded Rec.709/sRGB; alpha is left
 * alone. Pointwise: saturation_pw in opencl/color.cl. */
#include "color.h"

typedef struct {
  double saturation;
  double weights[3];
} saturation_t;

static const reel_param_desc_t params[] = {
    REEL_PNUM(saturation_t, saturation, 1, 1, 0, "0: grey, 1: unchanged, above 1: more colour"),
    REEL_PVEC(saturation_t, weights, 3, 1, 0, "luma weights {R, G, B} (Rec.709)", 0.2126, 0.7152,
              0.0722),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to (de)saturate"}};

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  int idx[3];
  *out = in[0];
  return reel_color_rgb(n, in[0].nch, in[0].ch, idx);
}

static int pack(reel_node_t *n, const void *pv, const reel_image_t *in, reel_pw_t *o) {
  const saturation_t *p = pv;
  int idx[3];
  if (reel_color_rgb(n, in->nch, in->ch, idx)) return -1;
  float *q = o->p;
  for (int k = 0; k < 3; k++) {
    q[k] = (float)idx[k];
    q[4 + k] = (float)p->weights[k];
  }
  q[3] = (float)p->saturation;
  o->np = 7;
  reel_pw_const(o, 0, 3); /* channel indices */
  return 0;
}

const reel_node_desc_t reel_node_saturation = {
    .name = "Saturation",
    .version = 1,
    .summary = "Scale colourfulness about luma (pointwise)",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(saturation_t),
    .flags = REEL_NF_POINTWISE,
    .kernels = "color",
    .clip = clip,
    .pw_func = "saturation_pw",
    .pw_pack = pack,
};
