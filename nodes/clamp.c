/* Clamp: limits the listed channels (default R, G, B; at most 4, which keeps
 * the fused kernel vectorizable) to [min, max]; others pass through.
 * Pointwise: clamp_pw in opencl/color.cl. */
#include "color.h"

typedef struct {
  const char *channels;
  double min, max;
} clamp_t;

static const reel_param_desc_t params[] = {
    REEL_PSTR(clamp_t, channels, "R,G,B", "comma list of up to 4 channels to clamp"),
    REEL_PNUM(clamp_t, min, 0, 1, 0, "values below become min"),
    REEL_PNUM(clamp_t, max, 1, 1, 0, "values above become max"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to clamp"}};

static int check(reel_node_t *n, const void *pv) {
  const clamp_t *p = pv;
  if (p->max >= p->min) return 0;
  reel_node_error(n, REEL_EUSER, "max (%g) is below min (%g)", p->max, p->min);
  return -1;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const clamp_t *p = pv;
  int idx[4];
  *out = in[0];
  return reel_color_list(n, in[0].nch, in[0].ch, p->channels, "channels", 4, idx) < 0
             ? -1
             : 0;
}

static int pack(reel_node_t *n, const void *pv, const reel_image_t *in, reel_pw_t *o) {
  const clamp_t *p = pv;
  int idx[4];
  int nc = reel_color_list(n, in->nch, in->ch, p->channels, "channels", 4, idx);
  if (nc < 0 || check(n, pv)) return -1;
  /* layout: clamp_pw in opencl/color.cl */
  o->p[0] = (float)nc;
  o->p[1] = (float)p->min;
  o->p[2] = (float)p->max;
  for (int k = 0; k < 4; k++) o->p[3 + k] = (float)(k < nc ? idx[k] : -1);
  reel_pw_const(o, 0, 1);
  reel_pw_const(o, 3, 4);
  o->np = 7;
  return 0;
}

const reel_node_desc_t reel_node_clamp = {
    .name = "Clamp",
    .version = 1,
    .summary = "Limit channels to [min, max] (pointwise)",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(clamp_t),
    .flags = REEL_NF_POINTWISE,
    .kernels = "color",
    .check = check,
    .clip = clip,
    .pw_func = "clamp_pw",
    .pw_pack = pack,
};
