/* Merge: Nuke's compositing operations on premultiplied images, A onto B:
 * over (A + B(1-a)), plus, minus (A-B), difference, multiply, screen, min,
 * max and mix, each blended with B by `mix`. The output has B's format and
 * metadata and the union of the channels by name (a missing channel is 0).
 * Kernel: opencl/merge.cl. */
#include "merge.h"

#include <string.h>

typedef struct {
  int operation;
  double mix;
  int bbox;
} merge_t;

static const char *const op_names[] = {"over", "plus",   "minus", "difference", "multiply",
                                       "screen", "min", "max",   "mix",        NULL};
enum { BBOX_AUTO, BBOX_UNION, BBOX_INTERSECTION, BBOX_A, BBOX_B };
static const char *const bbox_names[] = {"auto", "union", "intersection", "A", "B", NULL};

static const reel_param_desc_t params[] = {
    REEL_PENUM(merge_t, operation, op_names, "over",
               "over: A + B(1-a), with A's alpha a (an A without alpha is opaque inside its "
               "data window); plus: A + B; minus: A - B; difference: |A - B|; multiply: AB (A "
               "where both are negative); screen: A + B - AB (max(A, B) where both exceed 1); "
               "min, max; mix: A, so that the result is A*mix + B*(1-mix)"),
    REEL_PNUM(merge_t, mix, 1, 0, 1,
              "blend of the result with B: B + (result - B) * mix (keyframable)"),
    REEL_PENUM(merge_t, bbox, bbox_names, "auto",
               "output data window. auto: the union of the inputs' windows, except the "
               "intersection for multiply and A's window for mix (both exact: outside it the "
               "result is 0); B's window is added when mix < 1"),
};

static const reel_port_desc_t inputs[] = {
    {"A", REEL_V_IMAGE, 0, "foreground"},
    {"B", REEL_V_IMAGE, 0, "background: gives the format and the metadata"},
};

int reel_merge_channels(const reel_node_t *n, int n1, const char (*first)[REEL_CHNAME], int n2,
                        const char (*second)[REEL_CHNAME], char (*out)[REEL_CHNAME]) {
  int k = 0;
  for (int i = 0; i < n1 + n2; i++) {
    const char *name = i < n1 ? first[i] : second[i - n1];
    int seen = 0;
    for (int j = 0; j < k && !seen; j++) seen = !strcmp(out[j], name);
    if (seen) continue;
    if (k == REEL_MAXCH) {
      reel_node_error(n, REEL_EUSER,
                      "the inputs have more than %d distinct channels together; drop some with "
                      "Shuffle",
                      REEL_MAXCH);
      return -1;
    }
    memcpy(out[k++], name, REEL_CHNAME);
  }
  return k;
}

/* Where a reads from: the origin of dst's window in a's planes. */
static void place(const reel_image_t *dst, const reel_image_t *a, int *w, int *h, int *dx,
                  int *dy, cl_mem *mem) {
  int has = a && a->mem;
  *w = has ? reel_image_w(a) : 0;
  *h = has ? reel_image_h(a) : 0;
  *dx = has ? dst->data.x0 - a->data.x0 : 0;
  *dy = has ? dst->data.y0 - a->data.y0 : 0;
  *mem = has ? a->mem : NULL;
}

int reel_merge_apply(reel_image_t *dst, const reel_image_t *a, const reel_image_t *b, int op,
                     double mix) {
  if (!dst->mem) return 0;
  cl_kernel k = reel_cl_kernel(dst->cl, "merge", "merge_apply");
  if (!k) return -1;
  cl_int16 am, bm;
  for (int c = 0; c < 16; c++) {
    am.s[c] = bm.s[c] = -1;
    if (c >= dst->nch) continue;
    if (a) am.s[c] = reel_image_find_channel(a, dst->ch[c]);
    if (b) bm.s[c] = reel_image_find_channel(b, dst->ch[c]);
  }
  int alpha = a ? reel_image_find_channel(a, "A") : -1;
  int ia = reel_image_find_channel(dst, "A");
  if (op == MERGE_OVER && a && alpha < 0 && ia >= 0) am.s[ia] = -2;
  int aw, ah, ax, ay, bw, bh, bx, by;
  cl_mem amem, bmem;
  place(dst, a, &aw, &ah, &ax, &ay, &amem);
  place(dst, b, &bw, &bh, &bx, &by, &bmem);
  int dw = reel_image_w(dst), dh = reel_image_h(dst), nch = dst->nch;
  float fmix = (float)mix;
  size_t g[2] = {(size_t)dw, (size_t)dh}, l[2] = {256, 1};
  if (reel_cl_args(k, 19, REEL_ARG(amem), REEL_ARG(aw), REEL_ARG(ah), REEL_ARG(ax),
                   REEL_ARG(ay), REEL_ARG(bmem), REEL_ARG(bw), REEL_ARG(bh), REEL_ARG(bx),
                   REEL_ARG(by), REEL_ARG(dst->mem), REEL_ARG(dw), REEL_ARG(dh), REEL_ARG(nch),
                   REEL_ARG(am), REEL_ARG(bm), REEL_ARG(alpha), REEL_ARG(op), REEL_ARG(fmix)))
    return -1;
  return reel_cl_run(dst->cl, k, 2, g, l);
}

static reel_box_t window_of(const merge_t *p, reel_box_t a, reel_box_t b) {
  switch (p->bbox) {
  case BBOX_UNION: return reel_box_union(a, b);
  case BBOX_INTERSECTION: return reel_box_intersect(a, b);
  case BBOX_A: return a;
  case BBOX_B: return b;
  default: break;
  }
  reel_box_t w = p->operation == MERGE_MULTIPLY ? reel_box_intersect(a, b)
                 : p->operation == MERGE_MIX    ? a
                                                : reel_box_union(a, b);
  return p->mix < 1 ? reel_box_union(w, b) : w;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  *out = in[1].constant && !in[0].constant ? in[0] : in[1];
  out->display = in[1].display;
  int nch = reel_merge_channels(n, in[1].nch, in[1].ch, in[0].nch, in[0].ch, out->ch);
  if (nch < 0) return -1;
  out->nch = nch;
  return 0;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const merge_t *p = pv;
  reel_image_t *a = reel_job_image(j, 0), *b = reel_job_image(j, 1);
  if (!a || !b || reel_check_same_size(j->node, a, b)) return -1;
  char ch[REEL_MAXCH][REEL_CHNAME];
  int nch = reel_merge_channels(j->node, b->nch, b->ch, a->nch, a->ch, ch);
  if (nch < 0) return -1;
  const char *names[REEL_MAXCH];
  for (int c = 0; c < nch; c++) names[c] = ch[c];
  reel_image_t *im = reel_image_new(b->cl, nch, names, window_of(p, a->data, b->data), b->display);
  if (!im || reel_meta_copy(&im->meta, &b->meta) ||
      reel_merge_apply(im, a, b, p->operation, p->mix)) {
    reel_image_unref(im);
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_merge = {
    .name = "Merge",
    .version = 1,
    .summary = "Composite A onto B: over, plus, minus, difference, multiply, screen, min, max, mix",
    .doc = "Premultiplied images, Nuke's formulas. The inputs must have the same format; the "
           "output takes B's format, frames and metadata, and the channels of both by name "
           "(B's first). Outside its data window an input is 0.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(merge_t),
    .kernels = "merge",
    .clip = clip,
    .eval = eval,
};
