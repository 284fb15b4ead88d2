/* FrameRange: restricts a clip to a range of its frames (pixels unchanged). */
#include "timing.h"

typedef struct {
  double range[2];
} range_t;

static const reel_param_desc_t params[] = {
    {"range", REEL_P_VECTOR, 2, offsetof(range_t, range), {0}, NULL, -1e9, 1e9, NULL,
     "{first, last}: the frames to keep (inclusive)", REEL_PF_STATIC | REEL_PF_REQUIRED},
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "clip to restrict"}};

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const range_t *p = pv;
  int a = (int)p->range[0], b = (int)p->range[1];
  if (a != p->range[0] || b != p->range[1] || a > b || a < in[0].first || b > in[0].last) {
    reel_node_error(n, REEL_EUSER,
                    "range {%g, %g} must be whole frames, first <= last, inside the input's "
                    "frames %d-%d",
                    p->range[0], p->range[1], in[0].first, in[0].last);
    return -1;
  }
  *out = in[0];
  out->first = a;
  out->last = b;
  return 0;
}

const reel_node_desc_t reel_node_framerange = {
    .name = "FrameRange",
    .version = 1,
    .summary = "Keep a range of a clip's frames",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(range_t),
    .flags = TIMING_FLAGS,
    .clip = clip,
    .eval = timing_pass,
};
