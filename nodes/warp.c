/* Warp: applies a Transform value (from AlignSolve) to an image stream, so
 * that every stream of a reference (its matte, another grade, another
 * reel's version) lands where the aligned reference does. The frame's
 * matrix maps input pixel coordinates to output ones; resampling, filters
 * and data windows as Transform and CornerPin (nodes/warp_util.h). */
#include "warp_util.h"
#include "xform.h"

#include <stdio.h>

typedef struct {
  int filter;
  double cubic_a;
  int invert, format;
} warp_t;

static const char *const formats[] = {"transform", "input", NULL};

static const reel_param_desc_t params[] = {
    REEL_PENUM(warp_t, filter, reel_warp_filter_names, "bicubic",
               "nearest, bilinear, bicubic (Keys, parameter cubic_a) or lanczos3; bicubic and "
               "lanczos3 widen with the minification (antialiased, up to 16x)"),
    REEL_PNUM(warp_t, cubic_a, -0.5, -1, 0,
              "Keys' cubic parameter: -0.5 is Catmull-Rom (default), -0.75 matches OpenCV"),
    REEL_PBOOL(warp_t, invert, 0,
               "apply the inverse: from the fixed picture's geometry back to the moving one's"),
    REEL_PENUM(warp_t, format, formats, "transform",
               "output format: the one the transform maps onto (the fixed picture's), or the "
               "input's; with invert, always the input's"),
};

static const reel_port_desc_t inputs[] = {
    {"img", REEL_V_IMAGE, 0, "image to warp (in the moving picture's geometry)"},
    {"transform", REEL_V_TRANSFORM, 0, "the transform, from AlignSolve"},
};

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *out) {
  return reel_reqs_add(out, 0, frame) || reel_reqs_add(out, 1, frame) ? -1 : 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const warp_t *p = pv;
  *out = in[0];
  if (p->format == 0 && !p->invert) out->display = in[1].display;
  if (in[1].constant) return 0;
  if (in[0].constant) {
    out->constant = 0;
    out->first = in[1].first;
    out->last = in[1].last;
    return 0;
  }
  out->first = in[0].first > in[1].first ? in[0].first : in[1].first;
  out->last = in[0].last < in[1].last ? in[0].last : in[1].last;
  if (out->first <= out->last) return 0;
  reel_node_error(n, REEL_EUSER,
                  "input 'img' (frames %d-%d) and the transform (frames %d-%d) share no frame",
                  in[0].first, in[0].last, in[1].first, in[1].last);
  return -1;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const warp_t *p = pv;
  reel_image_t *src = reel_job_image(j, 0), *im;
  reel_xform_t *x = j->nin > 1 ? reel_xform_cast(j->in[1]) : NULL;
  reel_xf_entry_t e;
  if (!src) return -1;
  if (!x) {
    reel_node_error(j->node, REEL_EINTERNAL, "input 'transform' did not give a Transform");
    return -1;
  }
  if (reel_xform_at(x, j->frame == REEL_FRAME_CONST ? x->e[0].frame : j->frame, &e)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    return -1;
  }
  reel_mat3_t m = e.m;
  if (p->invert && reel_mat3_invert(e.m, &m)) {
    reel_node_error(j->node, REEL_EUSER, "the transform at frame %d is singular", e.frame);
    return -1;
  }
  reel_box_t display = p->format == 0 && !p->invert ? x->fixed : src->display;
  if (reel_warp_image(j, src, &m, reel_warp_filters[p->filter], p->cubic_a, display, &im))
    return -1;
  char v[64];
  snprintf(v, sizeof v, "%.6g", e.residual);
  if (reel_meta_set(&im->meta, "reel:align_residual", v)) {
    reel_image_unref(im);
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_warp = {
    .name = "Warp",
    .version = 1,
    .summary = "Apply a Transform (from AlignSolve) to an image stream",
    .doc = "At each frame the Transform's matrix for that frame (interpolated or held when it "
           "has none) maps input pixel coordinates to output ones; inverse mapping with pixel "
           "centres at +0.5, samples outside the input's data window are 0. The output carries "
           "the frame's reel:align_residual.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(warp_t),
    .kernels = "warp image",
    .clip = clip,
    .frames = frames,
    .eval = eval,
};
