/* Invert: 1 - x on the listed channels (default R, G, B), e.g. a negative
 * scan to a positive before grading. Pointwise: invert_pw in
 * opencl/color.cl. */
#include "color.h"

typedef struct {
  const char *channels;
} invert_t;

static const reel_param_desc_t params[] = {
    REEL_PSTR(invert_t, channels, "R,G,B", "comma list of channels to invert"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to invert"}};

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const invert_t *p = pv;
  int idx[REEL_MAXCH];
  *out = in[0];
  return reel_color_list(n, in[0].nch, in[0].ch, p->channels, "channels", REEL_MAXCH, idx) < 0
             ? -1
             : 0;
}

static int pack(reel_node_t *n, const void *pv, const reel_image_t *in, reel_pw_t *o) {
  const invert_t *p = pv;
  int idx[REEL_MAXCH];
  int nc = reel_color_list(n, in->nch, in->ch, p->channels, "channels", REEL_MAXCH, idx);
  if (nc < 0) return -1;
  o->p[0] = (float)nc;
  for (int k = 0; k < nc; k++) o->p[1 + k] = (float)idx[k];
  o->np = 1 + nc;
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
