/* CopyBBox: A's pixels inside B's data window: A cropped, or extended with
 * zeros, to that window (B's pixels are not used). Format, channels and
 * metadata are A's. Note the direction: Nuke's CopyBBox puts A's box onto B;
 * here B gives the box and A the pixels. */
#include "node.h"

static const reel_port_desc_t inputs[] = {
    {"A", REEL_V_IMAGE, 0, "pixels, format, channels and metadata"},
    {"B", REEL_V_IMAGE, 0, "gives the data window"},
};

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  reel_image_t *a = reel_job_image(j, 0), *b = reel_job_image(j, 1);
  if (!a || !b) return -1;
  if (a->data.x0 == b->data.x0 && a->data.y0 == b->data.y0 && a->data.x1 == b->data.x1 &&
      a->data.y1 == b->data.y1) {
    *out = &reel_image_ref(a)->v; /* already that window: A itself */
    return 0;
  }
  const char *names[REEL_MAXCH];
  for (int c = 0; c < a->nch; c++) names[c] = a->ch[c];
  reel_image_t *im = reel_image_new(a->cl, a->nch, names, b->data, a->display);
  if (!im || reel_meta_copy(&im->meta, &a->meta) || reel_image_copy_from(im, a, 0, 0)) {
    reel_image_unref(im);
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_copybbox = {
    .name = "CopyBBox",
    .version = 1,
    .summary = "Give A's pixels B's data window (cropped, or extended with zeros)",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .kernels = "image",
    .eval = eval,
};
