/* Crop: keeps the pixels inside a box and blacks out the rest, shrinking the
 * data window (OpenEXR semantics). With reformat, the box becomes the new
 * format, moved to the origin. The box is keyframable, for subtitles that come
 * and go; box edges are rounded to whole pixels. */
#include "node.h"

#include <math.h>

typedef struct {
  double box[4];
  int reformat;
} crop_t;

static const reel_param_desc_t params[] = {
    {"box", REEL_P_BOX, 4, offsetof(crop_t, box), {0}, NULL, 1, 0, NULL,
     "box to keep: {x0, y0, x1, y1} in pixels (x1, y1 exclusive), y down", REEL_PF_REQUIRED},
    REEL_PBOOL(crop_t, reformat, 0, "make the box the output format, with its corner at 0,0"),
};

static const reel_port_desc_t inputs[] = {{"img", REEL_V_IMAGE, 0, "image to crop"}};

static reel_box_t box_of(const crop_t *p) {
  return (reel_box_t){(int)lround(p->box[0]), (int)lround(p->box[1]), (int)lround(p->box[2]),
                      (int)lround(p->box[3])};
}

static int check(reel_node_t *n, const void *pv) {
  const crop_t *p = pv;
  reel_box_t b = box_of(p);
  if (reel_box_empty(b)) {
    reel_node_error(n, REEL_EUSER,
                    "box {%g, %g, %g, %g} is empty: give {x0, y0, x1, y1} with x1 > x0 and "
                    "y1 > y0",
                    p->box[0], p->box[1], p->box[2], p->box[3]);
    return -1;
  }
  return 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const crop_t *p = pv;
  *out = in[0];
  if (p->reformat) {
    reel_box_t b = box_of(p);
    out->display = (reel_box_t){0, 0, reel_box_w(b), reel_box_h(b)};
  }
  return 0;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const crop_t *p = pv;
  reel_image_t *src = reel_job_image(j, 0);
  if (!src) return -1;
  reel_box_t b = box_of(p);
  if (reel_box_empty(b)) return check(j->node, p);
  reel_box_t data = reel_box_intersect(src->data, b), display = src->display;
  int ox = 0, oy = 0;
  if (p->reformat) {
    ox = b.x0;
    oy = b.y0;
    display = (reel_box_t){0, 0, reel_box_w(b), reel_box_h(b)};
    if (!reel_box_empty(data))
      data = (reel_box_t){data.x0 - ox, data.y0 - oy, data.x1 - ox, data.y1 - oy};
  }
  const char *names[REEL_MAXCH];
  for (int c = 0; c < src->nch; c++) names[c] = src->ch[c];
  reel_image_t *im = reel_image_new(src->cl, src->nch, names, data, display);
  if (!im || reel_meta_copy(&im->meta, &src->meta) || reel_image_copy_from(im, src, ox, oy)) {
    reel_image_unref(im);
    return -1;
  }
  *out = &im->v;
  return 0;
}

const reel_node_desc_t reel_node_crop = {
    .name = "Crop",
    .version = 1,
    .summary = "Keep a box of the picture (keyframable); optionally make it the new format",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(crop_t),
    .kernels = "image",
    .check = check,
    .clip = clip,
    .eval = eval,
};
