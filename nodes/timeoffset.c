/* TimeOffset: shifts a clip in time; output frame f shows input frame
 * f - offset. Used to line up a reference that starts earlier. */
#include "timing.h"

typedef struct {
  int offset;
} offset_t;

static const reel_param_desc_t params[] = {
    {"offset", REEL_P_INT, 1, offsetof(offset_t, offset), {0}, NULL, -1e9, 1e9, NULL,
     "frames to move the clip by (positive: later)", REEL_PF_STATIC},
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "clip to shift"}};

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const offset_t *p = pv;
  *out = in[0];
  out->first += p->offset;
  out->last += p->offset;
  return 0;
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  return reel_reqs_add(q, 0, frame - ((const offset_t *)pv)->offset);
}

const reel_node_desc_t reel_node_timeoffset = {
    .name = "TimeOffset",
    .version = 1,
    .summary = "Shift a clip in time",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(offset_t),
    .flags = TIMING_FLAGS,
    .clip = clip,
    .frames = frames,
    .eval = timing_pass,
};
