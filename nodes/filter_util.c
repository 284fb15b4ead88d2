/* Filter helpers (see filter_util.h): padded copies, Gaussian weights and
 * the passes of opencl/conv.cl. Every pass computes 16 pixels per
 * work-item, so scratch rows are rounded up to 16 and reads past the last
 * pixel land in zero padding. */
#include "filter_util.h"

#include <math.h>

#define V 16 /* pixels per work-item: CONV_V */
#define T 8  /* rows per work-item of conv_v and conv_2d: CONV_T */

reel_image_t *filter_pad(const reel_image_t *src, reel_box_t box) {
  const char *names[REEL_MAXCH];
  for (int c = 0; c < src->nch; c++) names[c] = src->ch[c];
  reel_image_t *pad = reel_image_new(src->cl, src->nch, names, box, src->display);
  if (!pad || !pad->mem) return pad;
  int rc;
  if (!src->mem) {
    rc = reel_cl_fill0(pad->cl, pad->mem, 0, reel_image_bytes(pad));
  } else {
    cl_kernel k = reel_cl_kernel(pad->cl, "conv", "conv_pad");
    int sw = reel_image_w(src), sh = reel_image_h(src), dw = reel_image_w(pad),
        dh = reel_image_h(pad), dx = box.x0 - src->data.x0, dy = box.y0 - src->data.y0;
    size_t g[3] = {(size_t)(dw + V - 1) / V, (size_t)dh, (size_t)src->nch}, l[3] = {8, 1, 1};
    rc = !k || reel_cl_args(k, 8, REEL_ARG(src->mem), REEL_ARG(sw), REEL_ARG(sh),
                            REEL_ARG(pad->mem), REEL_ARG(dw), REEL_ARG(dh), REEL_ARG(dx),
                            REEL_ARG(dy)) ||
         reel_cl_run(pad->cl, k, 3, g, l);
  }
  if (rc) {
    reel_image_unref(pad);
    return NULL;
  }
  return pad;
}

int filter_gauss_radius(double size) {
  return size > 0 ? (int)ceil(1.25 * size) : 0; /* 3 sigma; 1.25 is exact in binary */
}

void filter_gauss_weights(double size, int radius, float *w) {
  double s = size / 2.4, sum = 0, t[2 * 1024 + 1];
  for (int i = -radius; i <= radius; i++) sum += t[i + radius] = exp(-0.5 * i * i / (s * s));
  for (int i = 0; i <= 2 * radius; i++) w[i] = (float)(t[i] / sum);
}

/* An image on src's device with src's channels and metadata over box. */
static reel_image_t *like(const reel_image_t *src, reel_box_t box) {
  const char *names[REEL_MAXCH];
  for (int c = 0; c < src->nch; c++) names[c] = src->ch[c];
  reel_image_t *im = reel_image_new(src->cl, src->nch, names, box, src->display);
  if (im && reel_meta_copy(&im->meta, &src->meta)) {
    reel_image_unref(im);
    return NULL;
  }
  return im;
}

static cl_mem upload(reel_cl_t *cl, const float *w, int n) {
  cl_mem m = reel_cl_alloc(cl, sizeof(float) * (size_t)n);
  if (m && reel_cl_upload(cl, m, 0, w, sizeof(float) * (size_t)n)) {
    reel_cl_release(cl, m);
    return NULL;
  }
  return m;
}

reel_image_t *filter_gauss(reel_image_t *src, double size, float a, float b) {
  int r = filter_gauss_radius(size);
  if (r > 1024) {
    reel_error(REEL_EUSER, "blur size %g is too large", size);
    return NULL;
  }
  if (!r || !src->mem) return reel_image_ref(src);
  reel_cl_t *cl = src->cl;
  reel_box_t d = src->data;
  int wi = reel_box_w(d), hi = reel_box_h(d), nch = src->nch, ntaps = 2 * r + 1;
  int wo = wi + 2 * r, ho = hi + 2 * r, hw = filter_round(wo, V), sw = hw + 2 * r;
  float w[2 * 1024 + 1];
  filter_gauss_weights(size, r, w);
  reel_image_t *pad = NULL, *out = NULL;
  cl_mem hbuf = NULL, kbuf = NULL;
  int ok = 0;
  /* horizontal pass over the input rows, from a copy with 2r zero columns
   * on the left (the output is r wider, and its taps reach r further) */
  if (!(pad = filter_pad(src, (reel_box_t){d.x0 - 2 * r, d.y0, d.x0 - 2 * r + sw, d.y1}))) goto out;
  if (!(out = like(src, (reel_box_t){d.x0 - r, d.y0 - r, d.x1 + r, d.y1 + r}))) goto out;
  if (!(hbuf = reel_cl_alloc(cl, sizeof(float) * (size_t)hw * hi * nch))) goto out;
  if (!(kbuf = upload(cl, w, ntaps))) goto out;
  cl_kernel kh = reel_cl_kernel(cl, "conv", "conv_h"), kv = reel_cl_kernel(cl, "conv", "conv_v");
  if (!kh || !kv) goto out;
  int nrows = hi * nch, ox = r;
  size_t gh[2] = {(size_t)hw / V, (size_t)nrows}, lh[2] = {8, 1};
  if (reel_cl_args(kh, 7, REEL_ARG(pad->mem), REEL_ARG(sw), REEL_ARG(hbuf), REEL_ARG(hw),
                   REEL_ARG(nrows), REEL_ARG(kbuf), REEL_ARG(ntaps)) ||
      reel_cl_run(cl, kh, 2, gh, lh))
    goto out;
  /* vertical pass (and Sharpen's mix with the input) */
  size_t gv[3] = {(size_t)(wo + V - 1) / V, (size_t)(ho + T - 1) / T, (size_t)nch};
  size_t lv[3] = {8, 1, 1};
  if (reel_cl_args(kv, 14, REEL_ARG(hbuf), REEL_ARG(hw), REEL_ARG(hi), REEL_ARG(out->mem),
                   REEL_ARG(wo), REEL_ARG(ho), REEL_ARG(nch), REEL_ARG(kbuf), REEL_ARG(ntaps),
                   REEL_ARG(pad->mem), REEL_ARG(sw), REEL_ARG(ox), REEL_ARG(a), REEL_ARG(b)) ||
      reel_cl_run(cl, kv, 3, gv, lv))
    goto out;
  ok = 1;
out:
  reel_cl_release(cl, hbuf);
  reel_cl_release(cl, kbuf);
  reel_image_unref(pad);
  if (!ok) {
    reel_image_unref(out);
    return NULL;
  }
  return out;
}

reel_image_t *filter_conv2d(reel_image_t *src, const float *k, int kw, int kh) {
  int cx = kw / 2, cy = kh / 2, gl = kw - 1 - cx, gt = kh - 1 - cy;
  reel_box_t d = src->data;
  reel_box_t od = {d.x0 - gl, d.y0 - gt, d.x1 + cx, d.y1 + cy};
  if (!src->mem) od = d;
  reel_image_t *pad = NULL, *out = like(src, od);
  cl_mem kbuf = NULL;
  int ok = 0;
  if (!out) return NULL;
  if (!src->mem) return out;
  reel_cl_t *cl = src->cl;
  int wo = reel_box_w(od), ho = reel_box_h(od), nch = src->nch;
  int sw = filter_round(wo, V) + kw - 1, sh = filter_round(ho, T) + kh - 1;
  int px0 = od.x0 - cx, py0 = od.y0 - cy;
  if (!(pad = filter_pad(src, (reel_box_t){px0, py0, px0 + sw, py0 + sh}))) goto out;
  if (!(kbuf = upload(cl, k, kw * kh))) goto out;
  cl_kernel k2 = reel_cl_kernel(cl, "conv", "conv_2d");
  if (!k2) goto out;
  size_t g[3] = {(size_t)(wo + V - 1) / V, (size_t)(ho + T - 1) / T, (size_t)nch};
  size_t l[3] = {8, 1, 1};
  if (reel_cl_args(k2, 10, REEL_ARG(pad->mem), REEL_ARG(sw), REEL_ARG(sh), REEL_ARG(out->mem),
                   REEL_ARG(wo), REEL_ARG(ho), REEL_ARG(nch), REEL_ARG(kbuf), REEL_ARG(kw),
                   REEL_ARG(kh)) ||
      reel_cl_run(cl, k2, 3, g, l))
    goto out;
  ok = 1;
out:
  reel_cl_release(cl, kbuf);
  reel_image_unref(pad);
  if (!ok) {
    reel_image_unref(out);
    return NULL;
  }
  return out;
}
