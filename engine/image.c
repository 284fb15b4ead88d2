/* Images on the device: allocation from the buffer pool, host copies, and
 * serialisation for the disk cache (header, metadata, then raw float32
 * planes). */
#include "image.h"
#include "error.h"
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

reel_box_t reel_box_intersect(reel_box_t a, reel_box_t b) {
  reel_box_t r = {a.x0 > b.x0 ? a.x0 : b.x0, a.y0 > b.y0 ? a.y0 : b.y0,
                  a.x1 < b.x1 ? a.x1 : b.x1, a.y1 < b.y1 ? a.y1 : b.y1};
  if (reel_box_empty(r)) r = (reel_box_t){0, 0, 0, 0};
  return r;
}

reel_box_t reel_box_union(reel_box_t a, reel_box_t b) {
  if (reel_box_empty(a)) return b;
  if (reel_box_empty(b)) return a;
  return (reel_box_t){a.x0 < b.x0 ? a.x0 : b.x0, a.y0 < b.y0 ? a.y0 : b.y0,
                      a.x1 > b.x1 ? a.x1 : b.x1, a.y1 > b.y1 ? a.y1 : b.y1};
}

static reel_cl_t *loader_cl;
void reel_image_set_loader_cl(reel_cl_t *cl) { loader_cl = cl; }

static void destroy(reel_value_t *v) {
  reel_image_t *im = (reel_image_t *)v;
  reel_cl_release(im->cl, im->mem);
  reel_meta_clear(&im->meta);
  free(im);
}

static size_t bytes(const reel_value_t *v) {
  return reel_image_bytes((const reel_image_t *)v) + sizeof(reel_image_t);
}

static void put_box(reel_buf_t *b, reel_box_t x) {
  reel_buf_u32(b, (uint32_t)x.x0);
  reel_buf_u32(b, (uint32_t)x.y0);
  reel_buf_u32(b, (uint32_t)x.x1);
  reel_buf_u32(b, (uint32_t)x.y1);
}

static reel_box_t get_box(reel_rd_t *r) {
  reel_box_t x;
  x.x0 = (int)reel_rd_u32(r);
  x.y0 = (int)reel_rd_u32(r);
  x.x1 = (int)reel_rd_u32(r);
  x.y1 = (int)reel_rd_u32(r);
  return x;
}

static int save(const reel_value_t *v, reel_buf_t *out) {
  const reel_image_t *im = (const reel_image_t *)v;
  reel_buf_u32(out, (uint32_t)im->nch);
  for (int c = 0; c < im->nch; c++) reel_buf_str(out, im->ch[c]);
  put_box(out, im->data);
  put_box(out, im->display);
  if (reel_meta_save(&im->meta, out)) return -1;
  size_t n = reel_image_bytes(im);
  if (reel_buf_u64(out, n)) return -1;
  if (!n) return 0;
  void *dst = reel_buf_grow(out, n);
  return dst ? reel_image_download(im, dst) : -1;
}

static reel_value_t *load(reel_rd_t *in) {
  if (!loader_cl) {
    reel_error(REEL_EINTERNAL, "no device to load a cached image onto");
    return NULL;
  }
  char names[REEL_MAXCH][REEL_CHNAME];
  const char *np[REEL_MAXCH];
  uint32_t nch = reel_rd_u32(in);
  if (in->bad || nch < 1 || nch > REEL_MAXCH) return NULL;
  for (uint32_t c = 0; c < nch; c++) {
    if (reel_rd_str(in, names[c], REEL_CHNAME)) return NULL;
    np[c] = names[c];
  }
  reel_box_t data = get_box(in), display = get_box(in);
  if (in->bad) return NULL;
  reel_image_t *im = reel_image_new(loader_cl, (int)nch, np, data, display);
  if (!im) return NULL;
  if (reel_meta_load(&im->meta, in)) goto bad;
  uint64_t n = reel_rd_u64(in);
  if (n != reel_image_bytes(im)) goto bad;
  const void *px = reel_rd_take(in, n);
  if (!px || (n && reel_image_upload(im, px))) goto bad;
  return &im->v;
bad:
  reel_image_unref(im);
  return NULL;
}

const reel_value_class_t reel_image_class = {REEL_V_IMAGE, "Image", destroy, bytes, save, load};

reel_image_t *reel_image_new(reel_cl_t *cl, int nch, const char *const *names, reel_box_t data,
                             reel_box_t display) {
  static const char *rgba[] = {"R", "G", "B", "A"};
  if (nch < 1 || nch > REEL_MAXCH) {
    reel_error(REEL_EINTERNAL, "image with %d channels (1-%d allowed)", nch, REEL_MAXCH);
    return NULL;
  }
  double px = (double)reel_box_w(data) * reel_box_h(data) * nch;
  if (px > 4.0e9) {
    reel_error(REEL_EUSER, "image of %dx%d with %d channels is too large", reel_box_w(data),
               reel_box_h(data), nch);
    return NULL;
  }
  reel_image_t *im = calloc(1, sizeof *im);
  if (!im) {
    reel_error(REEL_EIO, "out of memory");
    return NULL;
  }
  reel_value_init(&im->v, &reel_image_class);
  im->cl = cl;
  im->nch = nch;
  for (int c = 0; c < nch; c++) {
    const char *n = names ? names[c] : nch == 1 ? "Y" : c < 4 ? rgba[c] : NULL;
    if (n)
      snprintf(im->ch[c], REEL_CHNAME, "%s", n);
    else
      snprintf(im->ch[c], REEL_CHNAME, "c%d", c);
  }
  im->data = reel_box_empty(data) ? (reel_box_t){0, 0, 0, 0} : data;
  im->display = display;
  im->plane = (size_t)reel_box_w(im->data) * (size_t)reel_box_h(im->data);
  if (im->plane && !(im->mem = reel_cl_alloc(cl, reel_image_bytes(im)))) {
    free(im);
    return NULL;
  }
  return im;
}

reel_image_t *reel_image_new_like(const reel_image_t *src) {
  const char *np[REEL_MAXCH];
  for (int c = 0; c < src->nch; c++) np[c] = src->ch[c];
  reel_image_t *im = reel_image_new(src->cl, src->nch, np, src->data, src->display);
  if (im && reel_meta_copy(&im->meta, &src->meta)) {
    reel_image_unref(im);
    return NULL;
  }
  return im;
}

int reel_image_find_channel(const reel_image_t *im, const char *name) {
  for (int c = 0; c < im->nch; c++)
    if (!strcmp(im->ch[c], name)) return c;
  return -1;
}

int reel_image_upload(reel_image_t *im, const float *planar) {
  return im->mem ? reel_cl_upload(im->cl, im->mem, 0, planar, reel_image_bytes(im)) : 0;
}

int reel_image_download(const reel_image_t *im, float *planar) {
  return im->mem ? reel_cl_download(im->cl, im->mem, 0, planar, reel_image_bytes(im)) : 0;
}

reel_image_t *reel_image_cast(reel_value_t *v) {
  return v && v->cls == &reel_image_class ? (reel_image_t *)v : NULL;
}

int reel_image_copy_from(reel_image_t *dst, const reel_image_t *src, int ox, int oy) {
  if (!dst->mem) return 0;
  int dw = reel_image_w(dst), dh = reel_image_h(dst);
  if (!src->mem) return reel_cl_fill0(dst->cl, dst->mem, 0, reel_image_bytes(dst));
  cl_kernel k = reel_cl_kernel(dst->cl, "image", "image_copy_rect");
  if (!k) return -1;
  int sw = reel_image_w(src), sh = reel_image_h(src);
  int dx = dst->data.x0 + ox - src->data.x0, dy = dst->data.y0 + oy - src->data.y0;
  int nch = dst->nch < src->nch ? dst->nch : src->nch;
  size_t g[2] = {(size_t)dw, (size_t)dh};
  if (reel_cl_args(k, 9, REEL_ARG(src->mem), REEL_ARG(sw), REEL_ARG(sh), REEL_ARG(dst->mem),
                   REEL_ARG(dw), REEL_ARG(dh), REEL_ARG(dx), REEL_ARG(dy), REEL_ARG(nch)))
    return -1;
  return reel_cl_run(dst->cl, k, 2, g, NULL);
}
