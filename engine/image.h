/* Image: one frame on the device. float32, 1-16 named channels stored as
 * planes (channel c starts at float offset c * plane), covering the data
 * window; the display window is the frame's format. Windows are half-open
 * boxes in pixel coordinates, y down, as in OpenEXR (whose inclusive maxima
 * become x1 = max.x + 1). Outside the data window the image is 0. */
#ifndef REEL_IMAGE_H
#define REEL_IMAGE_H

#include "cl.h"
#include "meta.h"
#include "value.h"

#define REEL_MAXCH 16
#define REEL_CHNAME 32

typedef struct {
  int x0, y0, x1, y1;
} reel_box_t;

static inline int reel_box_w(reel_box_t b) { return b.x1 > b.x0 ? b.x1 - b.x0 : 0; }
static inline int reel_box_h(reel_box_t b) { return b.y1 > b.y0 ? b.y1 - b.y0 : 0; }
static inline int reel_box_empty(reel_box_t b) { return b.x1 <= b.x0 || b.y1 <= b.y0; }
reel_box_t reel_box_intersect(reel_box_t a, reel_box_t b);
reel_box_t reel_box_union(reel_box_t a, reel_box_t b);

typedef struct reel_image {
  reel_value_t v;
  reel_cl_t *cl; /* borrowed; the buffer goes back to its pool */
  int nch;
  char ch[REEL_MAXCH][REEL_CHNAME];
  reel_box_t data, display;
  size_t plane; /* floats per channel plane = w * h of data */
  cl_mem mem;   /* NULL when the data window is empty */
  reel_meta_t meta;
} reel_image_t;

/* New image with uninitialised pixels; names may be NULL for R,G,B,A (or Y
 * for one channel). Returns a new reference or NULL with reel_error. */
reel_image_t *reel_image_new(reel_cl_t *cl, int nch, const char *const *names,
                             reel_box_t data, reel_box_t display);
/* Same channels, windows and metadata as src, with uninitialised pixels. */
reel_image_t *reel_image_new_like(const reel_image_t *src);
static inline reel_image_t *reel_image_ref(reel_image_t *im) {
  return (reel_image_t *)reel_value_ref(&im->v);
}
static inline void reel_image_unref(reel_image_t *im) {
  if (im) reel_value_unref(&im->v);
}
static inline int reel_image_w(const reel_image_t *im) { return reel_box_w(im->data); }
static inline int reel_image_h(const reel_image_t *im) { return reel_box_h(im->data); }
static inline size_t reel_image_bytes(const reel_image_t *im) {
  return im->plane * (size_t)im->nch * sizeof(float);
}
int reel_image_find_channel(const reel_image_t *im, const char *name); /* index or -1 */

/* Host <-> device copies of all planes (nch * plane floats). 0 / -1. */
int reel_image_upload(reel_image_t *im, const float *planar);
int reel_image_download(const reel_image_t *im, float *planar);

/* Value cast: NULL unless v is an image. */
reel_image_t *reel_image_cast(reel_value_t *v);

/* The device the loader of cached images puts them on (set by the engine). */
void reel_image_set_loader_cl(reel_cl_t *cl);



/* dst's pixels at each (x, y) of its data window = src at (x + ox, y + oy)
 * in src's coordinates, 0 outside src's data window; channels matched by
 * index (dst->nch <= src->nch). Kernel family "image". 0 / -1. */
int reel_image_copy_from(reel_image_t *dst, const reel_image_t *src, int ox, int oy);
#endif
