/* Dissolve: A * (1 - factor) + B * factor, with a keyframable factor, over
 * the union of the data windows and the channels of both by name. Where the
 * factor is exactly 0 or 1 the node reads only the input it shows: its
 * frames callback requests that one input, so the other is neither
 * evaluated nor part of the key (the key is the type, the factor and the
 * shown input's key), and the result is that input itself (a new reference,
 * no copy) when it has the output's channels. Kernel: opencl/merge.cl. */
#include "merge.h"

#include <string.h>

typedef struct {
  double factor;
} dissolve_t;

static const reel_param_desc_t params[] = {
    {"factor", REEL_P_NUMBER, 1, offsetof(dissolve_t, factor), {0}, NULL, 0, 1, NULL,
     "0 shows A, 1 shows B, between them a mix (keyframe it for a dissolve)", REEL_PF_REQUIRED},
};

static const reel_port_desc_t inputs[] = {
    {"A", REEL_V_IMAGE, 0, "shown at factor 0; gives the format, and the metadata of mixes"},
    {"B", REEL_V_IMAGE, 0, "shown at factor 1"},
};

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  /* the engine leaves the frame check to nodes with a frames callback */
  if (!in[0].constant && !in[1].constant &&
      (in[0].first != in[1].first || in[0].last != in[1].last)) {
    reel_node_error(n, REEL_EUSER,
                    "inputs 'A' (frames %d-%d) and 'B' (frames %d-%d) cover different frames; "
                    "use FrameRange or TimeOffset to line them up",
                    in[0].first, in[0].last, in[1].first, in[1].last);
    return -1;
  }
  *out = in[0].constant && !in[1].constant ? in[1] : in[0];
  out->display = in[0].display;
  int nch = reel_merge_channels(n, in[0].nch, in[0].ch, in[1].nch, in[1].ch, out->ch);
  if (nch < 0) return -1;
  out->nch = nch;
  return 0;
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  const dissolve_t *p = pv;
  if (p->factor < 1 && reel_reqs_add(q, 0, frame)) return -1;
  if (p->factor > 0 && reel_reqs_add(q, 1, frame)) return -1;
  return 0;
}

static int same_channels(const reel_image_t *im, const reel_clip_t *c) {
  if (im->nch != c->nch) return 0;
  for (int i = 0; i < im->nch; i++)
    if (strcmp(im->ch[i], c->ch[i])) return 0;
  return 1;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const dissolve_t *p = pv;
  const reel_clip_t *c = reel_node_clip(j->node);
  reel_image_t *a = NULL, *b = NULL; /* borrowed: the inputs that were read */
  for (int i = 0; i < j->nin; i++) {
    reel_image_t *im = reel_job_image(j, i);
    if (!im) return -1;
    *(j->req[i].port == 0 ? &a : &b) = im;
  }
  if (a && b && reel_check_same_size(j->node, a, b)) return -1;
  reel_image_t *shown = !b ? a : !a ? b : NULL;
  if (shown && same_channels(shown, c)) {
    *out = &reel_image_ref(shown)->v;
    return 0;
  }
  const char *names[REEL_MAXCH];
  for (int i = 0; i < c->nch; i++) names[i] = c->ch[i];
  reel_image_t *first = a ? a : b;
  reel_box_t data = a && b ? reel_box_union(a->data, b->data) : first->data;
  reel_image_t *im = reel_image_new(first->cl, c->nch, names, data, first->display);
  /* merge_apply's mix blends its second input into its first: B + (A - B)
   * * mix, so A and B swap places */
  if (!im || reel_meta_copy(&im->meta, &first->meta) ||
      reel_merge_apply(im, b, a, MERGE_MIX, p->factor)) {
    reel_image_unref(im);
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_dissolve = {
    .name = "Dissolve",
    .version = 1,
    .summary = "Mix two clips by a keyframable factor: 0 shows A, 1 shows B",
    .doc = "The inputs must have the same format and frames. At factor 0 or 1 only the shown "
           "input is evaluated and enters the key, and the result is that input itself (no "
           "copy) unless the other input adds channels, which are then 0.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(dissolve_t),
    .kernels = "merge",
    .clip = clip,
    .frames = frames,
    .eval = eval,
};
