/* Shared by the timing nodes (FrameHold, FrameRange, AppendClip, TimeOffset):
 * they move frames around without touching pixels, so their result is the
 * input value itself. */
#ifndef REEL_NODES_TIMING_H
#define REEL_NODES_TIMING_H

#include "node.h"

static inline int timing_pass(reel_job_t *j, const void *p, reel_value_t **out) {
  if (j->nin < 1 || !j->in[0]) {
    reel_node_error(j->node, REEL_EINTERNAL, "no input frame");
    return -1;
  }
  *out = reel_value_ref(j->in[0]);
  return 0;
}

#define TIMING_FLAGS REEL_NF_NO_MEMCACHE

#endif
