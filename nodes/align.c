/* Align: the reference (moving) warped onto the source (fixed) so that the
 * two match pixel for pixel, on the source's format: AlignSolve's estimate
 * (shared with it through the estimate cache, nodes/align_util.c) applied
 * with Warp's resampling (nodes/warp_util.c). The output carries the
 * frame's residual and matrix as metadata (reel:align_residual,
 * reel:align_matrix, reel:align_status). */
#include "align_util.h"
#include "warp_util.h"

#include <stdio.h>

static const reel_param_desc_t params[] = {
    REEL_ALIGN_SOLVE_PARAMS,
    REEL_ALIGN_FRAME_PARAMS,
    REEL_PENUM(reel_align_params_t, filter, reel_warp_filter_names, "bicubic",
               "filter of the final warp: nearest, bilinear, bicubic (Keys, parameter cubic_a) or "
               "lanczos3"),
    REEL_PNUM(reel_align_params_t, cubic_a, -0.5, -1, 0,
              "Keys' cubic parameter: -0.5 is Catmull-Rom (default), -0.75 matches OpenCV"),
};

static const reel_port_desc_t inputs[] = {
    {"moving", REEL_V_IMAGE, 0, "the picture to move (the reference)"},
    {"fixed", REEL_V_IMAGE, 0, "the picture it is registered onto (the source)"},
};

static const char *const status_names[] = {"solved", "interpolated", "held"};

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const reel_align_params_t *p = pv;
  reel_image_t *mv, *fx, *im;
  reel_xf_entry_t e;
  if (reel_align_frame(j, p, &e, &mv, &fx) ||
      reel_warp_image(j, mv, &e.m, reel_warp_filters[p->filter], p->cubic_a, fx->display, &im))
    return -1;
  char v[400];
  int n = snprintf(v, sizeof v, "%.6g", e.residual);
  if (reel_meta_set(&im->meta, "reel:align_residual", v)) goto fail;
  n = 0;
  for (int k = 0; k < 9; k++)
    n += snprintf(v + n, sizeof v - (size_t)n, "%s%.12g", k ? "," : "", e.m.m[k]);
  if (reel_meta_set(&im->meta, "reel:align_matrix", v) ||
      reel_meta_set(&im->meta, "reel:align_status", status_names[e.status]))
    goto fail;
  *out = &im->v;
  return 0;
fail:
  reel_image_unref(im);
  return -1;
}

const reel_node_desc_t reel_node_align = {
    .name = "Align",
    .version = 1,
    .summary = "Register the reference onto the source: the reference warped to match it",
    .doc = "AlignSolve and Warp in one node: the estimate is AlignSolve's (and shared with an "
           "AlignSolve on the same pictures through the estimate cache), the warp Warp's. The "
           "output has the fixed input's format and the moving input's channels, and carries "
           "reel:align_residual (1 - normalised correlation of the lumas after alignment), "
           "reel:align_matrix (moving to fixed, row-major) and reel:align_status (solved, "
           "interpolated or held). To apply the same transform to other streams, or to export "
           "it, use AlignSolve, Warp and Write. See docs/align.md.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(reel_align_params_t),
    .kernels = "align warp image",
    .check = reel_align_check,
    .clip = reel_align_clip,
    .frames = reel_align_frames,
    .eval = eval,
};
