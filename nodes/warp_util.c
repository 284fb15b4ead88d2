/* Host side of the warp kernels (warp_util.h): folds the pixel-centre
 * convention and data-window origins into the matrix a kernel sees, picks
 * the kernel for a filter (bicubic and Lanczos-3 on a zero-padded input when
 * nothing is minified, the widening kernel otherwise), and runs separable
 * resampling as two passes through a scratch buffer, in the cheaper order. */
#include "warp_util.h"

#include <math.h>

const char *const reel_warp_filter_names[] = {"nearest", "bilinear", "bicubic", "lanczos3", NULL};
const reel_filter_t reel_warp_filters[] = {REEL_FILTER_NEAREST, REEL_FILTER_BILINEAR,
                                           REEL_FILTER_BICUBIC, REEL_FILTER_LANCZOS3};

static const size_t local2[2] = {256, 1}; /* fastest for 2-D work on PoCL */
#define WARP_PAD 8                              /* as in opencl/warp.cl */

static reel_image_t *new_image(const reel_image_t *src, reel_box_t data, reel_box_t display) {
  const char *names[REEL_MAXCH];
  for (int c = 0; c < src->nch; c++) names[c] = src->ch[c];
  reel_image_t *im = reel_image_new(src->cl, src->nch, names, data, display);
  if (im && reel_meta_copy(&im->meta, &src->meta)) {
    reel_image_unref(im);
    return NULL;
  }
  return im;
}

/* The widening of the filter, largest over the input's warped corners: a
 * heuristic bound (a perspective squeezes most at an edge of the picture),
 * used for the data window and to pick the kernel; the widening kernel
 * itself measures every pixel's own footprint. */
static double widening(const reel_mat3_t *fwd, const reel_mat3_t *inv, reel_box_t in) {
  double xs[2] = {in.x0, in.x1}, ys[2] = {in.y0, in.y1}, s = 1;
  for (int i = 0; i < 4; i++) {
    double X, Y, sx, sy;
    if (!(reel_mat3_apply(fwd, xs[i & 1], ys[i >> 1], &X, &Y) > 0)) return REEL_WARP_MAXW;
    reel_geom_footprint(inv, X, Y, &sx, &sy);
    s = fmax(s, fmax(sx, sy));
  }
  return fmin(s, REEL_WARP_MAXW);
}

int reel_warp_image(reel_job_t *j, const reel_image_t *src, const reel_mat3_t *fwd, reel_filter_t f,
                    double a, reel_box_t display, reel_image_t **out) {
  reel_mat3_t inv;
  reel_image_t *pd = NULL; /* zero-padded input */
  const reel_image_t *in = src;
  *out = NULL;
  if (reel_mat3_invert(*fwd, &inv)) {
    reel_node_error(j->node, REEL_EUSER,
                    "the transform is singular (it collapses the picture "
                    "onto a line or a point): check scale and corners");
    return -1;
  }
  reel_box_t bound = reel_geom_bound(display);
  int tx, ty;
  if (reel_mat3_int_translation(fwd, &tx, &ty)) { /* exact and cheap: a shifted copy */
    reel_box_t d = {src->data.x0 + tx, src->data.y0 + ty, src->data.x1 + tx, src->data.y1 + ty};
    reel_image_t *im = new_image(src, reel_box_intersect(d, bound), display);
    if (!im || reel_image_copy_from(im, src, -tx, -ty)) {
      reel_image_unref(im);
      return -1;
    }
    *out = im;
    return 0;
  }
  int widens = f == REEL_FILTER_BICUBIC || f == REEL_FILTER_LANCZOS3;
  double s = widens ? widening(fwd, &inv, src->data) : 1;
  double pad = reel_filter_reach(f, s);
  reel_box_t data = reel_geom_bbox(fwd, src->data, pad, bound);
  reel_image_t *im = new_image(src, data, display);
  if (!im) return -1;
  if (!im->mem) goto done;
  if (!src->mem) {
    if (reel_cl_fill0(im->cl, im->mem, 0, reel_image_bytes(im))) goto fail;
    goto done;
  }
  /* Bicubic and Lanczos-3 without minification read a zero-padded copy of
   * the input (no bound tests); with minification, the widening kernel. */
  int fixed = widens && s <= 1.001;
  if (fixed) {
    reel_box_t d = src->data;
    d = (reel_box_t){d.x0 - WARP_PAD, d.y0 - WARP_PAD, d.x1 + WARP_PAD, d.y1 + WARP_PAD};
    if (!(pd = new_image(src, d, src->display)) || reel_image_copy_from(pd, src, 0, 0)) goto fail;
    in = pd;
  }
  /* Output buffer index -> input buffer coordinates with pixel centres on
   * integers: the +0.5 centres and both origins folded into one matrix. */
  reel_mat3_t m =
      reel_mat3_mul(reel_mat3_translate(-in->data.x0 - 0.5, -in->data.y0 - 0.5),
                    reel_mat3_mul(inv, reel_mat3_translate(data.x0 + 0.5, data.y0 + 0.5)));
  cl_float16 mf = {{0}};
  for (int i = 0; i < 9; i++) mf.s[i] = (float)m.m[i];
  static const char *const kname[] = {[REEL_FILTER_NEAREST] = "warp_nearest",
                                      [REEL_FILTER_BOX] = "warp_nearest",
                                      [REEL_FILTER_BILINEAR] = "warp_bilinear",
                                      [REEL_FILTER_BICUBIC] = "warp_filter",
                                      [REEL_FILTER_LANCZOS3] = "warp_filter"};
  cl_kernel k = reel_cl_kernel(src->cl, "warp", fixed ? "warp_fixed" : kname[f]);
  if (!k) goto fail;
  int sw = reel_image_w(in), sh = reel_image_h(in), dw = reel_image_w(im), dh = reel_image_h(im),
      nch = im->nch;
  cl_int filter = f == REEL_FILTER_BICUBIC ? 0 : 1;
  float af = (float)a, maxw = (float)REEL_WARP_MAXW, r = (float)reel_filter_radius(f);
  /* warp_fixed: points clamped to just outside the picture (all weights on
   * it 0 there) keep every tap inside the padding */
  cl_float4 lohi = {{WARP_PAD - r, sw - 1 - WARP_PAD + r, WARP_PAD - r, sh - 1 - WARP_PAD + r}};
  if (reel_cl_args(k, widens ? 11 : 8, REEL_ARG(in->mem), REEL_ARG(sw), REEL_ARG(sh),
                   REEL_ARG(im->mem), REEL_ARG(dw), REEL_ARG(dh), REEL_ARG(nch), REEL_ARG(mf),
                   REEL_ARG(filter), REEL_ARG(af), fixed ? sizeof lohi : sizeof maxw,
                   fixed ? (const void *)&lohi : (const void *)&maxw))
    goto fail;
  /* warp_bilinear does eight pixels per work item */
  size_t g[2] = {(size_t)(f == REEL_FILTER_BILINEAR ? (dw + 7) / 8 : dw), (size_t)dh};
  size_t l8[2] = {32, 1};
  if (reel_cl_run(im->cl, k, 2, g, f == REEL_FILTER_BILINEAR ? l8 : local2)) goto fail;
  reel_image_unref(pd); /* the in-order queue runs the kernel before any reuse */
done:
  *out = im;
  return 0;
fail:
  reel_image_unref(pd);
  reel_image_unref(im);
  return -1;
}

static cl_mem upload(reel_cl_t *cl, const void *p, size_t n) {
  cl_mem m = reel_cl_alloc(cl, n);
  if (m && reel_cl_upload(cl, m, 0, p, n)) {
    reel_cl_release(cl, m);
    return NULL;
  }
  return m;
}

/* dst (dw x dh) = horizontal taps over rows row0.. of src (sw x sh). */
static int pass_h(reel_cl_t *cl, cl_mem src, int sw, int sh, int row0, cl_mem dst, int dw, int dh,
                  int nch, cl_mem start, cl_mem w, int nt) {
  cl_kernel k = reel_cl_kernel(cl, "warp", "resample_h");
  size_t g[2] = {(size_t)dw, (size_t)dh};
  return !k || reel_cl_args(k, 11, REEL_ARG(src), REEL_ARG(sw), REEL_ARG(sh), REEL_ARG(row0),
                            REEL_ARG(dst), REEL_ARG(dw), REEL_ARG(dh), REEL_ARG(nch),
                            REEL_ARG(start), REEL_ARG(w), REEL_ARG(nt)) ||
                 reel_cl_run(cl, k, 2, g, local2)
             ? -1
             : 0;
}

/* dst (dw x dh) = vertical taps over src (dw x sh), eight columns per item. */
static int pass_v(reel_cl_t *cl, cl_mem src, int sh, cl_mem dst, int dw, int dh, int nch,
                  cl_mem start, cl_mem w, int nt) {
  cl_kernel k = reel_cl_kernel(cl, "warp", "resample_v");
  size_t g[2] = {(size_t)(dw + 7) / 8, (size_t)dh}, l[2] = {32, 1};
  return !k || reel_cl_args(k, 9, REEL_ARG(src), REEL_ARG(sh), REEL_ARG(dst), REEL_ARG(dw),
                            REEL_ARG(dh), REEL_ARG(nch), REEL_ARG(start), REEL_ARG(w),
                            REEL_ARG(nt)) ||
                 reel_cl_run(cl, k, 2, g, l)
             ? -1
             : 0;
}

int reel_warp_resample(reel_job_t *j, const reel_image_t *src, double sx, double sy, double tx,
                       double ty, reel_filter_t f, double a, reel_box_t data, reel_box_t display,
                       reel_image_t **out) {
  reel_cl_t *cl = src->cl;
  reel_taps_t th = {0}, tv = {0};
  cl_mem hs = NULL, hw = NULL, vs = NULL, vw = NULL, tmp = NULL;
  reel_image_t *im = new_image(src, data, display);
  *out = NULL;
  if (!im) return -1;
  if (!im->mem) goto done;
  int sw = reel_image_w(src), sh = reel_image_h(src), dw = reel_image_w(im), dh = reel_image_h(im),
      nch = im->nch;
  if (!src->mem) {
    if (reel_cl_fill0(cl, im->mem, 0, reel_image_bytes(im))) goto fail;
    goto done;
  }
  /* horizontal taps in fours (the kernel's dot products), if the row allows */
  if (reel_geom_taps(f, a, sx, tx, src->data.x0, sw, data.x0, dw, 4, &th) ||
      reel_geom_taps(f, a, sy, ty, src->data.y0, sh, data.y0, dh, 1, &tv))
    goto fail;
  /* The input rows the vertical taps read. */
  int r0 = sh, r1 = 0;
  for (int y = 0; y < dh; y++) {
    r0 = tv.start[y] < r0 ? tv.start[y] : r0;
    r1 = tv.start[y] + tv.ntaps > r1 ? tv.start[y] + tv.ntaps : r1;
  }
  int rows = r1 - r0;
  if (rows <= 0 || th.ntaps == 0) {
    if (reel_cl_fill0(cl, im->mem, 0, reel_image_bytes(im))) goto fail;
    goto done;
  }
  /* Either order gives the same sums; take the cheaper. Cost per output
   * pixel, fitted on PoCL (CPU): a horizontal pass 4 + 0.5 per tap (dot
   * products: mostly fixed cost), a vertical one 1 + 1.2 per tap (whole
   * vectors, one row per tap). */
  double ch = 4 + 0.5 * th.ntaps, cv = 1 + 1.2 * tv.ntaps;
  double hfirst = ch * dw * rows + cv * dw * dh, vfirst = cv * sw * dh + ch * dw * dh;
  int h_first = hfirst <= vfirst;
  if (h_first) /* only the rows read go through the first pass */
    for (int y = 0; y < dh; y++) tv.start[y] -= r0;
  if (!(hs = upload(cl, th.start, sizeof(int) * (size_t)dw)) ||
      !(hw = upload(cl, th.w, sizeof(float) * (size_t)dw * th.ntaps)) ||
      !(vs = upload(cl, tv.start, sizeof(int) * (size_t)dh)) ||
      !(vw = upload(cl, tv.w, sizeof(float) * (size_t)dh * tv.ntaps)) ||
      !(tmp = reel_cl_alloc(cl, sizeof(float) * nch * (h_first ? (size_t)dw * rows
                                                                : (size_t)sw * dh))))
    goto fail;
  if (h_first ? pass_h(cl, src->mem, sw, sh, r0, tmp, dw, rows, nch, hs, hw, th.ntaps) ||
                    pass_v(cl, tmp, rows, im->mem, dw, dh, nch, vs, vw, tv.ntaps)
              : pass_v(cl, src->mem, sh, tmp, sw, dh, nch, vs, vw, tv.ntaps) ||
                    pass_h(cl, tmp, sw, dh, 0, im->mem, dw, dh, nch, hs, hw, th.ntaps))
    goto fail;
done:
  *out = im;
  im = NULL;
fail:
  /* The queue is in order: buffers back in the pool are reused only by
   * commands enqueued after these kernels. */
  reel_cl_release(cl, hs);
  reel_cl_release(cl, hw);
  reel_cl_release(cl, vs);
  reel_cl_release(cl, vw);
  reel_cl_release(cl, tmp);
  reel_taps_clear(&th);
  reel_taps_clear(&tv);
  reel_image_unref(im);
  return *out ? 0 : -1;
}
