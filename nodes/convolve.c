/* Convolve: filters with a user kernel of width x height weights, laid over
 * the image as written (first row on top, y down), centred on (width / 2,
 * height / 2): out(x, y) = sum k[j][i] in(x + i - width/2, y + j - height/2).
 * That is correlation, as OpenCV's filter2D and Nuke's Matrix; flip the
 * kernel for a convolution in the strict sense. Direct 2-D loop over a
 * zero-padded copy (opencl/conv.cl); the data window grows by the kernel's
 * reach on each side. */
#include "filter_util.h"

#include <math.h>
#include <stdlib.h>

#define MAXK 63

typedef struct {
  reel_list_t kernel;
  int width, height, normalize;
} convolve_t;

static const reel_param_desc_t params[] = {
    {"kernel", REEL_P_LIST, 1, offsetof(convolve_t, kernel), {0}, NULL, 1, 0, NULL,
     "weights row by row, first row on top; in Lua a table of rows is flattened",
     REEL_PF_STATIC | REEL_PF_REQUIRED},
    {"width", REEL_P_INT, 1, offsetof(convolve_t, width), {0}, NULL, 0, MAXK, NULL,
     "kernel width; 0: from height, or square", REEL_PF_STATIC},
    {"height", REEL_P_INT, 1, offsetof(convolve_t, height), {0}, NULL, 0, MAXK, NULL,
     "kernel height; 0: from width, or square", REEL_PF_STATIC},
    {"normalize", REEL_P_BOOL, 1, offsetof(convolve_t, normalize), {0}, NULL, 0, 1, NULL,
     "divide the weights by their sum, so that flat areas keep their level", REEL_PF_STATIC},
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to filter"}};

/* Kernel size from the parameters, or -1 with an error saying what to give. */
static int shape(reel_node_t *n, const convolve_t *p, int *kw, int *kh) {
  int c = p->kernel.n, w = p->width, h = p->height;
  if (!w && !h) {
    w = h = (int)lround(sqrt((double)c));
    if (w * h != c) {
      reel_node_error(n, REEL_EUSER,
                      "kernel has %d weights, which is not a square: give width (or height)", c);
      return -1;
    }
  } else if (!w) {
    w = c / h;
  } else if (!h) {
    h = c / w;
  }
  if (w < 1 || h < 1 || w * h != c || w > MAXK || h > MAXK) {
    reel_node_error(n, REEL_EUSER,
                    "kernel has %d weights, which does not make %d x %d: give width x height "
                    "weights (at most %d x %d)",
                    c, p->width ? p->width : w, p->height ? p->height : h, MAXK, MAXK);
    return -1;
  }
  *kw = w;
  *kh = h;
  return 0;
}

static int check(reel_node_t *n, const void *pv) {
  const convolve_t *p = pv;
  int kw, kh;
  if (shape(n, p, &kw, &kh)) return -1;
  double sum = 0;
  for (int i = 0; i < p->kernel.n; i++) {
    if (!isfinite(p->kernel.v[i])) {
      reel_node_error(n, REEL_EUSER, "kernel weight %d is not a finite number", i + 1);
      return -1;
    }
    sum += p->kernel.v[i];
  }
  if (p->normalize && fabs(sum) < 1e-12) {
    reel_node_error(n, REEL_EUSER,
                    "normalize: the weights sum to 0 (an edge or derivative kernel); set "
                    "normalize = false");
    return -1;
  }
  return 0;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const convolve_t *p = pv;
  int kw, kh;
  reel_image_t *src = reel_job_image(j, 0);
  if (!src || check(j->node, p) || shape(j->node, p, &kw, &kh)) return -1;
  float k[MAXK * MAXK];
  double sum = 0;
  for (int i = 0; i < kw * kh; i++) sum += p->kernel.v[i];
  for (int i = 0; i < kw * kh; i++)
    k[i] = (float)(p->normalize ? p->kernel.v[i] / sum : p->kernel.v[i]);
  reel_image_t *im = filter_conv2d(src, k, kw, kh);
  if (!im) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_convolve = {
    .name = "Convolve",
    .version = 1,
    .summary = "Filter with a user kernel (weights laid over the image as written)",
    .doc = "kernel = {{1, 2, 1}, {2, 4, 2}, {1, 2, 1}}, normalize = true is a 3x3 smoothing. "
           "The weights multiply the pixels they cover when the kernel's centre (width / 2, "
           "height / 2, counted from 0) sits on the output pixel, as OpenCV's filter2D.",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(convolve_t),
    .kernels = "conv",
    .check = check,
    .eval = eval,
};
