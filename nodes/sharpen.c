/* Sharpen: unsharp mask, out = in + amount * (in - blur(in, size)), with the
 * Gaussian of Blur (Nuke's size, standard deviation size / 2.4). The mix is
 * done in the vertical pass of the blur. The data window grows by the blur's
 * radius: next to an edge of the data window the mask pushes the black
 * outside below 0, as in Nuke. Both parameters are keyframable. */
#include "filter_util.h"

typedef struct {
  double amount, size;
} sharpen_t;

static const reel_param_desc_t params[] = {
    REEL_PNUM(sharpen_t, amount, 1, 0, 100,
              "strength: how much of the difference from the blurred image is added"),
    REEL_PNUM(sharpen_t, size, 3, 0, 100,
              "width of the blur the detail is measured against, as Blur's size"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to sharpen"}};

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const sharpen_t *p = pv;
  reel_image_t *src = reel_job_image(j, 0);
  if (!src) return -1;
  float a = (float)(1.0 + p->amount), b = (float)-p->amount;
  reel_image_t *im = p->amount == 0 ? reel_image_ref(src) : filter_gauss(src, p->size, a, b);
  if (!im) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_sharpen = {
    .name = "Sharpen",
    .version = 1,
    .summary = "Unsharp mask: in + amount * (in - Gaussian blur of size)",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(sharpen_t),
    .kernels = "conv",
    .eval = eval,
};
