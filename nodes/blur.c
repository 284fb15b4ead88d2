/* Blur: a Gaussian blur, separable (a horizontal then a vertical pass of
 * opencl/conv.cl). Size follows Nuke's Blur: the filter's width in pixels,
 * standard deviation size / 2.4; the taps reach ceil(3 sigma) = ceil(1.25
 * size) pixels, weights sampled at whole pixels and normalised to sum 1. The
 * data window grows by that radius: outside it the image is 0, and the blur
 * spreads into it (OpenEXR/Nuke semantics). Size is keyframable. */
#include "filter_util.h"

typedef struct {
  double size;
} blur_t;

static const reel_param_desc_t params[] = {
    {"size", REEL_P_NUMBER, 1, offsetof(blur_t, size), {0}, NULL, 0, 100, NULL,
     "width of the blur in pixels, as Nuke's Blur size (Gaussian standard deviation size / "
     "2.4); 0 leaves the image as it is; keyframable", REEL_PF_REQUIRED},
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to blur"}};

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const blur_t *p = pv;
  reel_image_t *src = reel_job_image(j, 0);
  if (!src) return -1;
  reel_image_t *im = filter_gauss(src, p->size, 0.0f, 1.0f);
  if (!im) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_blur = {
    .name = "Blur",
    .version = 1,
    .summary = "Gaussian blur of a given width (Nuke's size); the data window grows by its reach",
    .doc = "Taps reach ceil(1.25 * size) pixels each side; the data window grows by as much, "
           "since the blur spreads the picture into the black around it.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(blur_t),
    .kernels = "conv",
    .eval = eval,
};
