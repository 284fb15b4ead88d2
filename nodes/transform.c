/* Transform: translate, rotate, scale and skew about a centre, every value
 * keyframable (manual alignment of shots is keyed frame by frame). Inverse
 * mapping: output pixel centre p = (x + 0.5, y + 0.5) samples the input at
 * M^-1 p, with M = T(translate) T(center) R(rotate) K(skew) S(scale)
 * T(-center) (engine/geom.h); filters and data window: nodes/warp_util.h.
 * The format (display window) is kept. */
#include "warp_util.h"

typedef struct {
  double translate[2], rotate, scale[2], skew[2], center[2];
  int filter;
  double cubic_a;
  int invert;
} transform_t;

static const reel_param_desc_t params[] = {
    REEL_PVEC(transform_t, translate, 2, -1e6, 1e6, "move {x, y} in pixels (y down)", 0, 0),
    REEL_PNUM(transform_t, rotate, 0, -1e5, 1e5,
              "rotation in degrees about center, counter-clockwise on screen"),
    REEL_PVEC(transform_t, scale, 2, -1e4, 1e4, "scale {x, y} about center (negative flips)", 1, 1),
    REEL_PVEC(transform_t, skew, 2, -1e3, 1e3,
              "shear {x, y}: x += skew.x * y and y += skew.y * x, about center", 0, 0),
    REEL_PVEC(transform_t, center, 2, -1e6, 1e6,
              "pivot {x, y} of rotate, scale and skew, in pixels (the frame's middle is "
              "{width / 2, height / 2})",
              0, 0),
    REEL_PENUM(transform_t, filter, reel_warp_filter_names, "bicubic",
               "nearest, bilinear, bicubic (Keys, parameter cubic_a) or lanczos3; bicubic and "
               "lanczos3 widen with the minification (antialiased, up to 16x)"),
    REEL_PNUM(transform_t, cubic_a, -0.5, -1, 0,
              "Keys' cubic parameter: -0.5 is Catmull-Rom (default), -0.75 matches OpenCV"),
    REEL_PBOOL(transform_t, invert, 0, "apply the inverse transform"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to transform"}};

/* The forward map (input to output) at the resolved parameters. */
static int matrix(reel_node_t *n, const transform_t *p, reel_mat3_t *fwd) {
  reel_mat3_t m = reel_geom_affine(p->translate, p->rotate, p->scale, p->skew, p->center), inv;
  if (reel_mat3_invert(m, &inv) == 0) {
    *fwd = p->invert ? inv : m;
    return 0;
  }
  reel_node_error(n, REEL_EUSER,
                  "scale {%g, %g} with skew {%g, %g} collapses the picture: use a non-zero "
                  "scale and skew.x * skew.y != 1",
                  p->scale[0], p->scale[1], p->skew[0], p->skew[1]);
  return -1;
}

static int check(reel_node_t *n, const void *pv) {
  reel_mat3_t m;
  return matrix(n, pv, &m);
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const transform_t *p = pv;
  reel_image_t *src = reel_job_image(j, 0), *im;
  reel_mat3_t m;
  if (!src || matrix(j->node, p, &m)) return -1;
  if (reel_warp_image(j, src, &m, reel_warp_filters[p->filter], p->cubic_a, src->display, &im))
    return -1;
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_transform = {
    .name = "Transform",
    .version = 1,
    .summary = "Translate, rotate, scale and skew about a centre (keyframable)",
    .doc = "Inverse mapping with pixel centres at +0.5; samples outside the input's data "
           "window are 0. The output data window is the transformed input data window's "
           "bounding box, clipped to the format grown by half its size on each side. A "
           "translation by whole pixels is an exact copy.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(transform_t),
    .kernels = "warp image",
    .check = check,
    .eval = eval,
};
