/* FrameHold: shows one input frame on every frame (keyframe `frame` with step
 * interpolation to hold several in turn), or, with `frames`, plays the listed
 * input frames one after another: the way a dataset of training frames
 * (begin, end, evenly spaced middles) is picked from a shot. */
#include "timing.h"

typedef struct {
  int frame;
  reel_list_t frames;
  int first;
} hold_t;

static const reel_param_desc_t params[] = {
    REEL_PINT(hold_t, frame, 1, -1e9, 1e9, "input frame to show on every frame"),
    REEL_PLIST(hold_t, frames, "input frames to play in order; when given, `frame` is unused"),
    {"first", REEL_P_INT, 1, offsetof(hold_t, first), {1}, NULL, -1e9, 1e9, NULL,
     "first output frame when `frames` is given", REEL_PF_STATIC},
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "clip to hold frames of"}};

static int check_frame(reel_node_t *n, const reel_clip_t *in, double f) {
  if (f < in->first || f > in->last || f != (int)f) {
    reel_node_error(n, REEL_EUSER, "frame %g is not a frame of its input (%d-%d)", f, in->first,
                    in->last);
    return -1;
  }
  return 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const hold_t *p = pv;
  *out = in[0];
  if (p->frames.n) {
    for (int i = 0; i < p->frames.n; i++)
      if (check_frame(n, &in[0], p->frames.v[i])) return -1;
    out->first = p->first;
    out->last = p->first + p->frames.n - 1;
  } else if (check_frame(n, &in[0], p->frame))
    return -1;
  return 0;
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  const hold_t *p = pv;
  if (!p->frames.n) return reel_reqs_add(q, 0, p->frame);
  int i = frame - p->first;
  if (i < 0) i = 0;
  if (i >= p->frames.n) i = p->frames.n - 1;
  return reel_reqs_add(q, 0, (int)p->frames.v[i]);
}

const reel_node_desc_t reel_node_framehold = {
    .name = "FrameHold",
    .version = 1,
    .summary = "Hold one input frame, or play a list of input frames in order",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(hold_t),
    .flags = TIMING_FLAGS,
    .clip = clip,
    .frames = frames,
    .eval = timing_pass,
};
