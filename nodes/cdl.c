/* CDL: ASC Color Decision List v1.2 on R, G, B: out = (in slope + offset)
 * ^ power per channel, then saturation about Rec.709 luma (0.2126, 0.7152,
 * 0.0722, fixed by the spec). style "asc" clamps to [0, 1] before the power
 * and after saturation (the v1.2 spec, OpenColorIO's CDL_ASC); "noclamp"
 * does not clamp and leaves negative values out of the power (OpenColorIO's
 * CDL_NO_CLAMP, the default of OCIO's CDLTransform). Pointwise: cdl_pw. */
#include "color.h"

typedef struct {
  double slope[3], offset[3], power[3], saturation;
  int style;
} cdl_t;

static const char *const styles[] = {"asc", "noclamp", NULL};

static const reel_param_desc_t params[] = {
    REEL_PVEC(cdl_t, slope, 3, 0, 1e6, "{R, G, B} multiplier", 1, 1, 1),
    REEL_PVEC(cdl_t, offset, 3, 1, 0, "{R, G, B} added after slope", 0, 0, 0),
    REEL_PVEC(cdl_t, power, 3, 0.001, 1e6, "{R, G, B} exponent", 1, 1, 1),
    REEL_PNUM(cdl_t, saturation, 1, 0, 1e6, "saturation about Rec.709 luma"),
    REEL_PENUM(cdl_t, style, styles, "asc",
               "asc: clamp to [0, 1] as ASC CDL v1.2 (OCIO CDL_ASC); noclamp: no clamps, "
               "negative values skip the power (OCIO CDL_NO_CLAMP, OCIO's default)"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to grade"}};

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  int idx[3];
  *out = in[0];
  return reel_color_rgb(n, in[0].nch, in[0].ch, idx);
}

static int pack(reel_node_t *n, const void *pv, const reel_image_t *in, reel_pw_t *o) {
  const cdl_t *p = pv;
  int idx[3];
  if (reel_color_rgb(n, in->nch, in->ch, idx)) return -1;
  float *q = o->p;
  for (int k = 0; k < 3; k++) {
    q[k] = (float)idx[k];
    q[3 + k] = (float)p->slope[k];
    q[6 + k] = (float)p->offset[k];
    q[9 + k] = (float)p->power[k];
  }
  q[12] = (float)p->saturation;
  q[13] = p->style == 0 ? 1.0f : 0.0f;
  o->np = 14;
  reel_pw_const(o, 0, 3);  /* channel indices */
  reel_pw_const(o, 13, 1); /* style */
  return 0;
}

const reel_node_desc_t reel_node_cdl = {
    .name = "CDL",
    .version = 1,
    .summary = "ASC CDL: slope, offset, power and saturation (pointwise)",
    .doc = "out = clamp(in slope + offset)^power, then luma + saturation (out - luma) with "
           "Rec.709 weights, clamped again (style `asc`, ASC CDL v1.2). Style `noclamp` "
           "matches OpenColorIO's CDLTransform default (CDL_NO_CLAMP): no clamps, and negative "
           "values pass the power unchanged. Alpha is left alone.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(cdl_t),
    .flags = REEL_NF_POINTWISE,
    .kernels = "color",
    .clip = clip,
    .pw_func = "cdl_pw",
    .pw_pack = pack,
};
