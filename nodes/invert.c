/* Invert: 1 - x on the listed channels (default R, G, B; at most 4, which
 * keeps the fused kernel vectorizable), e.g. a negative scan to a positive
 * before grading. Pointwise: invert_pw in opencl/color.cl. */
#include "color.h"

typedef struct {
  const char *channels;
} invert_t;

static const reel_param_desc_t params[] = {
    REEL_PSTR(invert_t, channels, "R,G,B", "comma list of up to 4 channels to invert"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to invert"}};

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const invert_t *p = pv;
  int idx[4];
  *out = in[0];
  return reel_color_list(n, in[0].nch, in[0].ch, p->channels, "channels", 4, idx) < 0
             ? -1
             : 0;
}

static int pack(reel_node_t *n, const void *pv, const reel_image_t *in, reel_pw_t *o) {
  const invert_t *p = pv;
  int idx[4];
  int nc = reel_color_list(n, in->nch, in->ch, p->channels, "channels", 4, idx);
  if (nc < 0) return -1;
  /* layout: invert_pw in opencl/color.cl */
  o->p[0] = (float)nc;
  for (int k = 0; k < 4; k++) o->p[1 + k] = (float)(k < nc ? idx[k] : -1);
  o->np = 5;
  reel_pw_const(o, 0, 5); /* count and channel indices */
  return 0;
}

const reel_node_desc_t reel_node_invert = {
    .name = "Invert",
    .version = 1,
    .summary = "1 - x on chosen channels (pointwise)",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(invert_t),
    .flags = REEL_NF_POINTWISE,
    .kernels = "color",
    .clip = clip,
    .pw_func = "invert_pw",
    .pw_pack = pack,
};
