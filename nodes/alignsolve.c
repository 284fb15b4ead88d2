/* AlignSolve: the transform that registers the moving picture (a reference:
 * a DVD, a telecine) onto the fixed one (the scan), as a Transform value,
 * per frame: solved at every frame or at key frames (interpolated between
 * them as a corner pin), each with its residual. Kept in the disk cache.
 * Warp applies it to any stream; Write exports it (.json, Nuke .nk). The
 * solver: nodes/align_solve.c; the per-frame logic: nodes/align_util.c. */
#include "align_util.h"

static const reel_param_desc_t params[] = {REEL_ALIGN_SOLVE_PARAMS, REEL_ALIGN_FRAME_PARAMS};

static const reel_port_desc_t inputs[] = {
    {"moving", REEL_V_IMAGE, 0, "the picture to move (the reference)"},
    {"fixed", REEL_V_IMAGE, 0, "the picture it is registered onto (the source)"},
};

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const reel_align_params_t *p = pv;
  reel_image_t *mv, *fx;
  reel_xf_entry_t e;
  if (reel_align_frame(j, p, &e, &mv, &fx)) return -1;
  reel_xform_t *x = reel_xform_new(p->model, mv->display, fx->display, 1);
  if (!x) return -1;
  x->e[0] = e;
  *out = &x->v;
  return 0;
}

const reel_node_desc_t reel_node_alignsolve = {
    .name = "AlignSolve",
    .version = 1,
    .summary = "Estimate the transform registering a reference onto a source (a Transform)",
    .doc = "Coarse search (phase correlation over rotation and scale hypotheses) on the "
           "top of a pyramid, then ECC (Evangelidis & Psarakis 2008: zero-mean normalised "
           "correlation, so a different grade, fade or contrast does not pull it) from coarse "
           "to fine on luma, with black borders and letterbox bars left out. The matrix maps "
           "moving pixel coordinates to fixed ones (pixel centres at +0.5). Results are kept "
           "in the disk cache; an estimate is also cached by the content of the two lumas, "
           "so Align on the same pictures shares it. See docs/align.md.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_TRANSFORM,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(reel_align_params_t),
    .flags = REEL_NF_DISK,
    .kernels = "align",
    .check = reel_align_check,
    .clip = reel_align_clip,
    .frames = reel_align_frames,
    .eval = eval,
};
