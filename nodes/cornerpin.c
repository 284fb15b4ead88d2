/* CornerPin: moves four source corners onto four destination corners (a
 * homography solved by DLT, engine/geom.h), then applies an optional 3x3
 * matrix, so that an alignment node can drive it with a matrix it computed.
 * Corners and matrix are keyframable. Inverse mapping with pixel centres at
 * +0.5, filters and data window as Transform (nodes/warp_util.h). */
#include "warp_util.h"

#include <string.h>

typedef struct {
  double from[8], to[8], matrix[9];
  int filter;
  double cubic_a;
  int invert;
} cornerpin_t;

static const reel_param_desc_t params[] = {
    REEL_PVEC(cornerpin_t, from, 8, -1e6, 1e6,
              "source corners {x0, y0, x1, y1, x2, y2, x3, y3} in pixels (top-left, top-right, "
              "bottom-right, bottom-left); all 0: the input format's corners",
              0, 0, 0, 0, 0, 0, 0, 0),
    REEL_PVEC(cornerpin_t, to, 8, -1e6, 1e6,
              "destination corners, in the order of from; all 0: the same as from", 0, 0, 0, 0, 0,
              0, 0, 0),
    REEL_PVEC(cornerpin_t, matrix, 9, 1, 0,
              "3x3 matrix (row-major) applied after the corners: maps input to output pixel "
              "coordinates (x, y, 1), pixel centres at +0.5. From OpenCV's convention (centres "
              "on integers): T(0.5) * H * T(-0.5)",
              1, 0, 0, 0, 1, 0, 0, 0, 1),
    REEL_PENUM(cornerpin_t, filter, reel_warp_filter_names, "bicubic",
               "nearest, bilinear, bicubic (Keys, parameter cubic_a) or lanczos3; bicubic and "
               "lanczos3 widen with the minification (antialiased, up to 16x)"),
    REEL_PNUM(cornerpin_t, cubic_a, -0.5, -1, 0,
              "Keys' cubic parameter: -0.5 is Catmull-Rom (default), -0.75 matches OpenCV"),
    REEL_PBOOL(cornerpin_t, invert, 0, "apply the inverse transform"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to warp"}};

static int zero8(const double *v) {
  for (int i = 0; i < 8; i++)
    if (v[i] != 0) return 0;
  return 1;
}

/* The forward map (input to output) for an input of format `fmt`. */
static int matrix(reel_node_t *n, const cornerpin_t *p, reel_box_t fmt, reel_mat3_t *fwd) {
  double from[8] = {fmt.x0, fmt.y0, fmt.x1, fmt.y0, fmt.x1, fmt.y1, fmt.x0, fmt.y1}, to[8];
  if (!zero8(p->from)) memcpy(from, p->from, sizeof from);
  memcpy(to, zero8(p->to) ? from : p->to, sizeof to);
  reel_mat3_t h, m, inv;
  memcpy(m.m, p->matrix, sizeof m.m);
  if (reel_geom_homography(from, to, &h)) {
    reel_node_error(n, REEL_EUSER,
                    "no perspective maps from {%g, %g, %g, %g, %g, %g, %g, %g} to {%g, %g, %g, "
                    "%g, %g, %g, %g, %g}: three corners are on one line",
                    from[0], from[1], from[2], from[3], from[4], from[5], from[6], from[7], to[0],
                    to[1], to[2], to[3], to[4], to[5], to[6], to[7]);
    return -1;
  }
  m = reel_mat3_mul(m, h);
  if (reel_mat3_invert(m, &inv)) {
    reel_node_error(n, REEL_EUSER, "the matrix {%g, %g, %g, %g, %g, %g, %g, %g, %g} is singular",
                    p->matrix[0], p->matrix[1], p->matrix[2], p->matrix[3], p->matrix[4],
                    p->matrix[5], p->matrix[6], p->matrix[7], p->matrix[8]);
    return -1;
  }
  *fwd = p->invert ? inv : m;
  return 0;
}

static int check(reel_node_t *n, const void *pv) {
  const reel_clip_t *in = reel_node_input_clip(n, 0);
  reel_mat3_t m;
  return in ? matrix(n, pv, in->display, &m) : 0;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const cornerpin_t *p = pv;
  reel_image_t *src = reel_job_image(j, 0), *im;
  reel_mat3_t m;
  if (!src || matrix(j->node, p, src->display, &m)) return -1;
  if (reel_warp_image(j, src, &m, reel_warp_filters[p->filter], p->cubic_a, src->display, &im))
    return -1;
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_cornerpin = {
    .name = "CornerPin",
    .version = 1,
    .summary = "Perspective warp moving four corners (keyframable), or by a 3x3 matrix",
    .doc = "The forward map is matrix * H(from -> to). Inverse mapping with pixel centres at "
           "+0.5; samples outside the input's data window are 0; the output data window is the "
           "warped input data window's bounding box, clipped to the format grown by half its "
           "size on each side.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(cornerpin_t),
    .kernels = "warp image",
    .check = check,
    .eval = eval,
};
