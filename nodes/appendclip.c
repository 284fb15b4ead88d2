/* AppendClip: plays its inputs one after another, starting at the first
 * input's first frame. Up to 8 clips; chain AppendClips for more. */
#include "timing.h"

static const reel_port_desc_t inputs[] = {
    {"clip1", REEL_V_IMAGE, 0, "first clip"},    {"clip2", REEL_V_IMAGE, 0, "second clip"},
    {"clip3", REEL_V_IMAGE, 1, "optional clip"}, {"clip4", REEL_V_IMAGE, 1, "optional clip"},
    {"clip5", REEL_V_IMAGE, 1, "optional clip"}, {"clip6", REEL_V_IMAGE, 1, "optional clip"},
    {"clip7", REEL_V_IMAGE, 1, "optional clip"}, {"clip8", REEL_V_IMAGE, 1, "optional clip"},
};

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  *out = in[0];
  long total = 0;
  for (int i = 0; i < 8; i++)
    if (in[i].type != REEL_V_NONE) total += (long)in[i].last - in[i].first + 1;
  out->last = (int)(out->first + total - 1);
  return 0;
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  int at = reel_node_clip(n)->first;
  const reel_clip_t *c = NULL;
  int port = 0;
  for (int i = 0; i < 8; i++) {
    const reel_clip_t *ci = reel_node_input_clip(n, i);
    if (!ci) continue;
    c = ci;
    port = i;
    int len = ci->last - ci->first + 1;
    if (frame < at + len) break;
    at += len;
  }
  if (!c) return -1;
  int f = c->first + (frame - at);
  if (f < c->first) f = c->first;
  if (f > c->last) f = c->last;
  return reel_reqs_add(q, port, f);
}

const reel_node_desc_t reel_node_appendclip = {
    .name = "AppendClip",
    .version = 1,
    .summary = "Play clips one after another",
    .inputs = inputs,
    .ninputs = 8,
    .output = REEL_V_IMAGE,
    .psize = 1,
    .flags = TIMING_FLAGS,
    .clip = clip,
    .frames = frames,
    .eval = timing_pass,
};
