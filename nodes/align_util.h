/* Shared by Align and AlignSolve: their parameters, the solver that
 * registers a moving picture (the reference) onto a fixed one (the source),
 * its cache, and the per-frame logic of key frames (align_util.c). The
 * solver is align_pyramid.c (masks, pyramids, normalisation),
 * align_coarse.c (phase correlation over rotation and scale hypotheses) and
 * align_solve.c (ECC). */
#ifndef REEL_ALIGN_UTIL_H
#define REEL_ALIGN_UTIL_H

#include "geom.h"
#include "node.h"
#include "xform.h"

typedef struct {
  /* what the estimate depends on (the solve's cache key) */
  int model;
  double box[4];
  int levels, iterations;
  double tolerance, search_rotate, search_scale;
  int borders;
  double black;
  int normalize;
  /* which frames are solved, and what to do with a poor answer */
  reel_list_t keys;
  double max_residual;
  int strict;
  /* Align only: the final warp */
  int filter;
  double cubic_a;
} reel_align_params_t;

/* The parameter table entries, in two parts: those the estimate depends on
 * (hashed into its cache key), then the rest. Align adds filter and
 * cubic_a. */
#define REEL_ALIGN_SOLVE_PARAMS                                                                    \
  REEL_PENUM(reel_align_params_t, model, reel_xf_model_names, "homography",                        \
             "translation, similarity (rotation and uniform scale), affine or homography "         \
             "(perspective)"),                                                                     \
      REEL_PBOX(reel_align_params_t, box,                                                          \
                "analysis region {x0, y0, x1, y1} in the fixed picture's pixels; all 0: the "      \
                "whole format (black borders are left out either way)",                            \
                0, 0, 0, 0),                                                                       \
      REEL_PINT(reel_align_params_t, levels, 0, 0, 12,                                             \
                "pyramid levels below full resolution; 0: until the region's short side is "       \
                "about 40 pixels"),                                                                \
      REEL_PINT(reel_align_params_t, iterations, 30, 1, 1000,                                      \
                "most ECC iterations per pyramid level"),                                          \
      REEL_PNUM(reel_align_params_t, tolerance, 0.002, 1e-6, 1,                                    \
                "a level is done when an iteration moves no corner of the region by more than "    \
                "this many of its pixels"),                                                        \
      REEL_PNUM(reel_align_params_t, search_rotate, 0, 0, 90,                                      \
                "coarse search: largest rotation to try, in degrees (0: none)"),                   \
      REEL_PNUM(reel_align_params_t, search_scale, 1, 1, 4,                                        \
                "coarse search: largest scale factor to try either way (1: none)"),                \
      REEL_PBOOL(reel_align_params_t, borders, 1,                                                  \
                 "leave out black borders and letterbox bars: dark pixels connected to the "       \
                 "picture's edge, grown by 2 pixels"),                                             \
      REEL_PNUM(reel_align_params_t, black, 0.04, 0, 1,                                            \
                "an edge-connected pixel counts as border up to this much above the picture's "    \
                "black level (its darkest 0.5%)"),                                                 \
      REEL_PINT(reel_align_params_t, normalize, 4, 0, 64,                                          \
                "radius in pixels of the local contrast normalisation on each pyramid level, so "  \
                "a grade that differs from region to region does not pull the estimate (0: plain " \
                "luma)")
#define REEL_ALIGN_SOLVE_NPARAMS 10
#define REEL_ALIGN_FRAME_PARAMS                                                                    \
  REEL_PLIST(reel_align_params_t, keys,                                                            \
             "key frames to solve, e.g. {1001, 1050, 1100}; frames between them get the "          \
             "transform interpolated as a corner pin (and their residual measured), frames "       \
             "outside hold the nearest key; empty: solve every frame"),                            \
      REEL_PNUM(reel_align_params_t, max_residual, 0.5, 0, 1,                                      \
                "largest acceptable residual (1 - normalised correlation of the lumas after "      \
                "alignment); above it the frame needs the manual path"),                           \
      REEL_PBOOL(reel_align_params_t, strict, 1,                                                   \
                 "a frame above max_residual or not converged stops the render with an error; "    \
                 "false: a warning on stderr, and the render goes on")

/* Frames callback of both nodes. Every-frame mode: moving and fixed at the
 * frame. Key frames: moving and fixed at the key at or before the frame,
 * then at the key after it (if any, and if the frame is no key), then at
 * the frame itself (if it is no key), in that order. */
int reel_align_frames(reel_node_t *n, const void *p, int frame, reel_reqs_t *out);
/* Clip callback of both nodes: the frames both inputs have (every-frame
 * mode) or the fixed input's frames (key frames), the fixed format. */
int reel_align_clip(reel_node_t *n, const void *p, const reel_clip_t *in, reel_clip_t *out);
/* Check callback of both nodes: the region and the key list. */
int reel_align_check(reel_node_t *n, const void *p);

/* The transform at j's frame from the inputs reel_align_frames asked for:
 * solved (cached by the content of the two lumas and the parameters, in
 * memory and in the disk cache's aux/align), or interpolated between key
 * frames and measured. Applies max_residual and strict. *moving and *fixed:
 * the pictures at the frame (borrowed from j). 0 / -1 with an error naming
 * the node. */
int reel_align_frame(reel_job_t *j, const reel_align_params_t *p, reel_xf_entry_t *e,
                     reel_image_t **moving, reel_image_t **fixed);

/* ---- the solver (align_util.c, align_coarse.c) ---- */

typedef struct {
  reel_mat3_t m;   /* moving -> fixed, absolute pixel coordinates */
  double residual; /* 1 - ZNCC at full resolution over the region */
  double coverage; /* share of the region's valid pixels that took part */
  int iterations;  /* over all levels */
  int ok;          /* 0: no usable answer, see why */
  char why[200];
} reel_align_result_t;

/* A luma raster over a display window: NaN marks pixels that do not count. */
typedef struct {
  int w, h;
  reel_box_t display;
  float *px;
} reel_align_luma_t;

/* Luma of an image over its display window (Rec. 709 weights on R, G, B;
 * else Y; else the first channel), NaN outside its data window, on the
 * host. 0 / -1. */
int reel_align_luma(reel_job_t *j, const reel_image_t *im, reel_align_luma_t *out);
void reel_align_luma_clear(reel_align_luma_t *l);

/* Estimates the transform from moving to fixed (coarse search, then ECC
 * from coarse to fine). Returns 0 with r->ok = 0 and r->why when there is
 * no usable answer, -1 only on device or memory errors. */
int reel_align_solve(reel_cl_t *cl, const reel_align_params_t *p, const reel_align_luma_t *moving,
                     const reel_align_luma_t *fixed, reel_align_result_t *r);
/* The residual (1 - ZNCC at full resolution, same masks and region as the
 * solve) of a given transform m. 0 / -1. */
int reel_align_measure(reel_cl_t *cl, const reel_align_params_t *p, const reel_align_luma_t *moving,
                       const reel_align_luma_t *fixed, const reel_mat3_t *m, double *residual);

/* ---- inside the solver ---- */

/* One pyramid level: the fixed luma (NaN invalid) and the moving one as
 * three planes: luma, d/dx, d/dy. */
typedef struct {
  int fw, fh, mw, mh;
  float *fix, *mov;
  reel_box_t box; /* analysis region in fixed pixels of this level */
} reel_align_level_t;

/* Both pictures' pyramids (align_pyramid.c): level 0 is full resolution;
 * raw is level 0 unnormalised (shares lv[0]'s buffers when normalize is 0),
 * for the residual. */
#define REEL_ALIGN_MAXLEV 13
typedef struct {
  int n;
  reel_align_level_t lv[REEL_ALIGN_MAXLEV];
  reel_align_level_t raw;
} reel_align_pyramid_t;

/* Masked, normalised pyramids of both lumas, at most maxlev levels below
 * full resolution (p->levels, or until the region's short side is about 40
 * pixels). 0; 1 when the region or a picture is under 8x8 (*why says so);
 * -1 out of memory (reported). */
int reel_align_pyramid(const reel_align_params_t *p, const reel_align_luma_t *mv,
                       const reel_align_luma_t *fx, int maxlev, reel_align_pyramid_t *py,
                       const char **why);
void reel_align_pyramid_free(reel_align_pyramid_t *py);

/* The coarse search on level lv (align_coarse.c): for each rotation and
 * scale hypothesis about the region's centre, the warp with the
 * translation phase correlation finds and the warp without it. w: the warp
 * to start from (fixed pixels of this level to moving pixels of this
 * level). *out: a malloc'd array of the candidate warps, best ZNCC first.
 * Returns how many, or -1 (out of memory, reported). */
int reel_align_coarse(const reel_align_level_t *lv, const reel_align_params_t *p,
                      const reel_mat3_t *w, reel_mat3_t **out);
/* The 66 ECC sums of opencl/align.cl's align_ecc, on the host in double,
 * for levels too small to be worth a device launch. m: the kernel's
 * float16 (normalised warp and normalisations), rob its Huber float4. */
void reel_align_ecc_host(const reel_align_level_t *lv, const float *m, const float *rob, double *S);
/* ZNCC of the fixed level against the moving one sampled through w (host,
 * bilinear); NaN when fewer than 16 pixels overlap. */
double reel_align_zncc(const reel_align_level_t *lv, const reel_mat3_t *w);

#endif
