/* The network on the device (nn.h): buffers for every activation and its
 * gradient, allocated once per (batch, tile size) and reused every step;
 * forward, loss, backward and Adam as sequences of opencl/nn.cl kernels on
 * the in-order queue. Concatenation costs nothing: the encoder's second
 * convolution and the decoder's upsampling write into two channel ranges of
 * one buffer (the "cat" tensor of each level). */
#include "nn/nn.h"

#include "error.h"
#include "image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  cl_mem m;
  int ctot, coff, c; /* a view: channels coff .. coff + c of a ctot-channel buffer */
  int h, w;
} view_t;

struct reel_nn {
  reel_cl_t *cl;
  reel_nn_arch_t a;
  int batch, h, w, train;
  size_t np;
  int nconv;
  cl_mem params, grads, am, av, scratch;
  size_t scratch_bytes;
  cl_mem bufs[64];
  int nbufs;
  /* forward */
  view_t x, y, t, gy;
  view_t ea[REEL_NN_MAXLEV], skip[REEL_NN_MAXLEV], pool[REEL_NN_MAXLEV], cat[REEL_NN_MAXLEV],
      up[REEL_NN_MAXLEV], da[REEL_NN_MAXLEV], db[REEL_NN_MAXLEV], ba, bb;
  /* backward (same shapes; the skip gradient is a view of gcat) */
  view_t gea[REEL_NN_MAXLEV], gskip[REEL_NN_MAXLEV], gpool[REEL_NN_MAXLEV],
      gcat[REEL_NN_MAXLEV], gda[REEL_NN_MAXLEV], gdb[REEL_NN_MAXLEV], gba, gbb;
  cl_mem part;       /* loss partial sums per row */
  float *part_host;
  float *stage;      /* host staging for set/get of whole tensors */
  double flops_fwd;
};

static size_t plane_floats(int h, int w) { return (size_t)(h + 2) * (size_t)(w + 16); }

static int new_tensor(reel_nn_t *nn, view_t *v, int c, int h, int w) {
  size_t bytes = (size_t)nn->batch * c * plane_floats(h, w) * sizeof(float);
  if (nn->nbufs >= (int)(sizeof nn->bufs / sizeof nn->bufs[0])) {
    reel_error(REEL_EINTERNAL, "network: too many tensors");
    return -1;
  }
  cl_mem m = reel_cl_alloc(nn->cl, bytes);
  if (!m) return -1;
  nn->bufs[nn->nbufs++] = m;
  /* the halo must be zero; the interior is always written before it is read */
  if (reel_cl_fill0(nn->cl, m, 0, bytes)) return -1;
  *v = (view_t){m, c, 0, c, h, w};
  return 0;
}

static view_t sub(view_t v, int coff, int c) {
  v.coff += coff;
  v.c = c;
  return v;
}

void reel_nn_free(reel_nn_t *nn) {
  if (!nn) return;
  for (int i = 0; i < nn->nbufs; i++) reel_cl_release(nn->cl, nn->bufs[i]);
  reel_cl_release(nn->cl, nn->params);
  reel_cl_release(nn->cl, nn->grads);
  reel_cl_release(nn->cl, nn->am);
  reel_cl_release(nn->cl, nn->av);
  reel_cl_release(nn->cl, nn->scratch);
  reel_cl_release(nn->cl, nn->part);
  free(nn->part_host);
  free(nn->stage);
  free(nn);
}

const reel_nn_arch_t *reel_nn_arch(const reel_nn_t *nn) { return &nn->a; }

/* Bands of rows for the weight-gradient reductions: enough work-items to
 * keep the device busy, a fixed function of the shapes (deterministic). */
static int nbands(int cin, int cout, int h) {
  int items = cin * cout, b = 1;
  while (items * b < 256 && b * 2 <= h && b < 64) b *= 2;
  return b;
}

reel_nn_t *reel_nn_new(reel_cl_t *cl, const reel_nn_arch_t *a, int batch, int h, int w,
                       int train) {
  if (reel_nn_arch_check(a)) return NULL;
  for (int l = 0; l <= a->levels; l++)
    if (a->width[l] % 8) {
      reel_error(REEL_EUSER, "network width %d at level %d is not a multiple of 8", a->width[l],
                 l);
      return NULL;
    }
  int al = reel_nn_align(a);
  if (batch < 1 || h < al || w < al || h % al || w % al) {
    reel_error(REEL_EUSER, "network tile %dx%d (batch %d): sides must be multiples of %d", w, h,
               batch, al);
    return NULL;
  }
  reel_nn_t *nn = calloc(1, sizeof *nn);
  if (!nn) {
    reel_error(REEL_EINTERNAL, "out of memory");
    return NULL;
  }
  nn->cl = cl;
  nn->a = *a;
  nn->batch = batch;
  nn->h = h;
  nn->w = w;
  nn->train = train;
  nn->np = reel_nn_nparams(a);
  nn->nconv = reel_nn_nconv(a);
  int L = a->levels;
  const int *c = a->width;
  size_t pb = nn->np * sizeof(float);
  nn->params = reel_cl_alloc(cl, pb);
  if (!nn->params || reel_cl_fill0(cl, nn->params, 0, pb)) goto fail;
  if (new_tensor(nn, &nn->x, 3, h, w) || new_tensor(nn, &nn->y, 3, h, w)) goto fail;
  for (int l = 0; l < L; l++) {
    int hl = h >> l, wl = w >> l;
    if (new_tensor(nn, &nn->ea[l], c[l], hl, wl) ||
        new_tensor(nn, &nn->cat[l], c[l + 1] + c[l], hl, wl) ||
        new_tensor(nn, &nn->pool[l], c[l], hl >> 1, wl >> 1) ||
        new_tensor(nn, &nn->da[l], c[l], hl, wl) || new_tensor(nn, &nn->db[l], c[l], hl, wl))
      goto fail;
    nn->up[l] = sub(nn->cat[l], 0, c[l + 1]);
    nn->skip[l] = sub(nn->cat[l], c[l + 1], c[l]);
  }
  if (new_tensor(nn, &nn->ba, c[L], h >> L, w >> L) ||
      new_tensor(nn, &nn->bb, c[L], h >> L, w >> L))
    goto fail;
  if (train) {
    if (new_tensor(nn, &nn->t, 3, h, w) || new_tensor(nn, &nn->gy, 3, h, w)) goto fail;
    for (int l = 0; l < L; l++) {
      int hl = h >> l, wl = w >> l;
      if (new_tensor(nn, &nn->gea[l], c[l], hl, wl) ||
          new_tensor(nn, &nn->gcat[l], c[l + 1] + c[l], hl, wl) ||
          new_tensor(nn, &nn->gpool[l], c[l], hl >> 1, wl >> 1) ||
          new_tensor(nn, &nn->gda[l], c[l], hl, wl) || new_tensor(nn, &nn->gdb[l], c[l], hl, wl))
        goto fail;
      nn->gskip[l] = sub(nn->gcat[l], c[l + 1], c[l]);
    }
    if (new_tensor(nn, &nn->gba, c[L], h >> L, w >> L) ||
        new_tensor(nn, &nn->gbb, c[L], h >> L, w >> L))
      goto fail;
    nn->grads = reel_cl_alloc(cl, pb);
    nn->am = reel_cl_alloc(cl, pb);
    nn->av = reel_cl_alloc(cl, pb);
    if (!nn->grads || !nn->am || !nn->av || reel_cl_fill0(cl, nn->grads, 0, pb) ||
        reel_cl_fill0(cl, nn->am, 0, pb) || reel_cl_fill0(cl, nn->av, 0, pb))
      goto fail;
    /* scratch: flipped weights or band partials, whichever is larger */
    size_t need = 0;
    for (int i = 0; i < nn->nconv; i++) {
      reel_nn_conv_t cv;
      reel_nn_conv_info(a, i, &cv);
      int lev = i < 2 * L ? i / 2 : i < 2 * L + 2 ? L : i < 4 * L + 2 ? L - 1 - (i - 2 * L - 2) / 2 : 0;
      size_t f = (size_t)cv.cin * cv.cout * cv.k * cv.k;
      size_t bands = (size_t)nbands(cv.cin + (cv.k == 1), cv.cout, h >> lev);
      size_t s = f > bands * (f + cv.cout) ? f : bands * (f + cv.cout);
      if (s > need) need = s;
    }
    nn->scratch_bytes = need * sizeof(float);
    nn->scratch = reel_cl_alloc(cl, nn->scratch_bytes);
    size_t parts = (size_t)batch * 3 * h;
    nn->part = reel_cl_alloc(cl, parts * sizeof(float));
    nn->part_host = malloc(parts * sizeof(float));
    if (!nn->scratch || !nn->part || !nn->part_host) goto fail;
  }
  nn->stage = malloc((size_t)batch * 3 * plane_floats(h, w) * sizeof(float));
  if (!nn->stage) {
    reel_error(REEL_EINTERNAL, "out of memory");
    goto fail;
  }
  nn->flops_fwd = 2.0 * reel_nn_macs_per_pixel(a) * (double)batch * h * w;
  return nn;
fail:
  reel_nn_free(nn);
  return NULL;
}

int reel_nn_set_params(reel_nn_t *nn, const float *p) {
  return reel_cl_upload(nn->cl, nn->params, 0, p, nn->np * sizeof(float));
}
int reel_nn_get_params(reel_nn_t *nn, float *p) {
  return reel_cl_download(nn->cl, nn->params, 0, p, nn->np * sizeof(float));
}
int reel_nn_get_grads(reel_nn_t *nn, float *g) {
  if (!nn->grads) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  return reel_cl_download(nn->cl, nn->grads, 0, g, nn->np * sizeof(float));
}
int reel_nn_get_adam(reel_nn_t *nn, float *m, float *v) {
  if (!nn->am) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  return reel_cl_download(nn->cl, nn->am, 0, m, nn->np * sizeof(float)) ||
                 reel_cl_download(nn->cl, nn->av, 0, v, nn->np * sizeof(float))
             ? -1
             : 0;
}
int reel_nn_set_adam(reel_nn_t *nn, const float *m, const float *v) {
  if (!nn->am) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  return reel_cl_upload(nn->cl, nn->am, 0, m, nn->np * sizeof(float)) ||
                 reel_cl_upload(nn->cl, nn->av, 0, v, nn->np * sizeof(float))
             ? -1
             : 0;
}

/* Host planar [batch][3][h][w] <-> a padded 3-channel tensor. */
static int put3(reel_nn_t *nn, view_t *v, const float *src) {
  int h = nn->h, w = nn->w, P = w + 16;
  size_t pl = plane_floats(h, w);
  memset(nn->stage, 0, (size_t)nn->batch * 3 * pl * sizeof(float));
  for (int p = 0; p < nn->batch * 3; p++)
    for (int y = 0; y < h; y++)
      memcpy(nn->stage + p * pl + (size_t)(y + 1) * P + 8, src + ((size_t)p * h + y) * w,
             (size_t)w * sizeof(float));
  return reel_cl_upload(nn->cl, v->m, 0, nn->stage, (size_t)nn->batch * 3 * pl * sizeof(float));
}

static int get3(reel_nn_t *nn, view_t *v, float *dst) {
  int h = nn->h, w = nn->w, P = w + 16;
  size_t pl = plane_floats(h, w);
  if (reel_cl_download(nn->cl, v->m, 0, nn->stage, (size_t)nn->batch * 3 * pl * sizeof(float)))
    return -1;
  for (int p = 0; p < nn->batch * 3; p++)
    for (int y = 0; y < h; y++)
      memcpy(dst + ((size_t)p * h + y) * w, nn->stage + p * pl + (size_t)(y + 1) * P + 8,
             (size_t)w * sizeof(float));
  return 0;
}

int reel_nn_set_input(reel_nn_t *nn, const float *x) { return put3(nn, &nn->x, x); }
int reel_nn_set_target(reel_nn_t *nn, const float *t) {
  if (!nn->train) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  return put3(nn, &nn->t, t);
}
int reel_nn_get_output(reel_nn_t *nn, float *y) { return get3(nn, &nn->y, y); }
int reel_nn_get_input(reel_nn_t *nn, float *x) { return get3(nn, &nn->x, x); }
int reel_nn_get_target(reel_nn_t *nn, float *t) {
  if (!nn->train) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  return get3(nn, &nn->t, t);
}

/* ---- kernel launches ---- */

#define K(name)                                                  \
  cl_kernel k = reel_cl_kernel(nn->cl, "nn", name);              \
  if (!k) return -1

/* Local size along x: the largest power of two <= 8 dividing n. */
static size_t lx(size_t n) {
  size_t l = 8;
  while (l > 1 && n % l) l /= 2;
  return l;
}

static int run3(reel_nn_t *nn, cl_kernel k, size_t g0, size_t g1, size_t g2) {
  size_t g[3] = {g0, g1, g2}, l[3] = {lx(g0), 1, 1};
  return reel_cl_run(nn->cl, k, 3, g, l);
}

static int run1(reel_nn_t *nn, cl_kernel k, size_t n) {
  size_t l = 64, g = (n + l - 1) / l * l;
  return reel_cl_run(nn->cl, k, 1, &g, &l);
}

static int conv3(reel_nn_t *nn, view_t in, cl_mem w, int woff, int boff, view_t out, int act) {
  K("nn_conv3");
  int H = out.h, W = out.w;
  if (reel_cl_args(k, 15, REEL_ARG(in.m), REEL_ARG(in.ctot), REEL_ARG(in.coff), REEL_ARG(in.c),
                   REEL_ARG(w), REEL_ARG(woff), REEL_ARG(boff), REEL_ARG(out.m),
                   REEL_ARG(out.ctot), REEL_ARG(out.coff), REEL_ARG(out.c), REEL_ARG(H),
                   REEL_ARG(W), REEL_ARG(act), REEL_ARG(nn->a.slope)))
    return -1;
  return run3(nn, k, (size_t)W / 8, (size_t)H, (size_t)nn->batch * out.c / 8);
}

static int pool(reel_nn_t *nn, view_t in, view_t out) {
  K("nn_pool");
  int C = out.c, H = out.h, W = out.w;
  if (reel_cl_args(k, 9, REEL_ARG(in.m), REEL_ARG(in.ctot), REEL_ARG(in.coff), REEL_ARG(out.m),
                   REEL_ARG(out.ctot), REEL_ARG(out.coff), REEL_ARG(C), REEL_ARG(H), REEL_ARG(W)))
    return -1;
  return run3(nn, k, (size_t)W, (size_t)H, (size_t)nn->batch * C);
}

static int up(reel_nn_t *nn, view_t in, view_t out) {
  K("nn_up");
  int C = in.c, H = in.h, W = in.w;
  if (reel_cl_args(k, 9, REEL_ARG(in.m), REEL_ARG(in.ctot), REEL_ARG(in.coff), REEL_ARG(out.m),
                   REEL_ARG(out.ctot), REEL_ARG(out.coff), REEL_ARG(C), REEL_ARG(H), REEL_ARG(W)))
    return -1;
  return run3(nn, k, (size_t)2 * W, (size_t)2 * H, (size_t)nn->batch * C);
}

int reel_nn_forward(reel_nn_t *nn) {
  int L = nn->a.levels;
  reel_nn_conv_t c;
  int ci = 0;
  for (int l = 0; l < L; l++) {
    reel_nn_conv_info(&nn->a, ci++, &c);
    if (conv3(nn, l ? nn->pool[l - 1] : nn->x, nn->params, (int)c.w_off, (int)c.b_off, nn->ea[l],
              1))
      return -1;
    reel_nn_conv_info(&nn->a, ci++, &c);
    if (conv3(nn, nn->ea[l], nn->params, (int)c.w_off, (int)c.b_off, nn->skip[l], 1)) return -1;
    if (pool(nn, nn->skip[l], nn->pool[l])) return -1;
  }
  reel_nn_conv_info(&nn->a, ci++, &c);
  if (conv3(nn, nn->pool[L - 1], nn->params, (int)c.w_off, (int)c.b_off, nn->ba, 1)) return -1;
  reel_nn_conv_info(&nn->a, ci++, &c);
  if (conv3(nn, nn->ba, nn->params, (int)c.w_off, (int)c.b_off, nn->bb, 1)) return -1;
  for (int l = L - 1; l >= 0; l--) {
    if (up(nn, l == L - 1 ? nn->bb : nn->db[l + 1], nn->up[l])) return -1;
    reel_nn_conv_info(&nn->a, ci++, &c);
    if (conv3(nn, nn->cat[l], nn->params, (int)c.w_off, (int)c.b_off, nn->da[l], 1)) return -1;
    reel_nn_conv_info(&nn->a, ci++, &c);
    if (conv3(nn, nn->da[l], nn->params, (int)c.w_off, (int)c.b_off, nn->db[l], 1)) return -1;
  }
  reel_nn_conv_info(&nn->a, ci, &c);
  K("nn_head");
  int Cin = c.cin, woff = (int)c.w_off, boff = (int)c.b_off, oc = c.cout, H = nn->h, W = nn->w;
  if (reel_cl_args(k, 10, REEL_ARG(nn->db[0].m), REEL_ARG(Cin), REEL_ARG(nn->params),
                   REEL_ARG(woff), REEL_ARG(boff), REEL_ARG(oc), REEL_ARG(nn->x.m),
                   REEL_ARG(nn->y.m), REEL_ARG(H), REEL_ARG(W)))
    return -1;
  return run3(nn, k, (size_t)W / 8, (size_t)H, (size_t)nn->batch);
}

int reel_nn_loss(reel_nn_t *nn, int type, float eps, double *value) {
  if (!nn->train) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  K("nn_loss");
  int c0 = nn->a.mode == REEL_NN_CHROMA ? 1 : 0, H = nn->h, W = nn->w;
  double count = (double)nn->batch * (3 - c0) * H * W;
  float inv = (float)(1.0 / count);
  if (reel_cl_args(k, 10, REEL_ARG(nn->y.m), REEL_ARG(nn->t.m), REEL_ARG(nn->gy.m), REEL_ARG(c0),
                   REEL_ARG(type), REEL_ARG(eps), REEL_ARG(inv), REEL_ARG(H), REEL_ARG(W),
                   REEL_ARG(nn->part)))
    return -1;
  size_t g[3] = {(size_t)H, 3, (size_t)nn->batch}, l[3] = {lx((size_t)H), 1, 1};
  if (reel_cl_run(nn->cl, k, 3, g, l)) return -1;
  if (value) {
    size_t n = (size_t)nn->batch * 3 * H;
    if (reel_cl_download(nn->cl, nn->part, 0, nn->part_host, n * sizeof(float))) return -1;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += nn->part_host[i];
    *value = s / count;
  }
  return 0;
}

static int act_bwd(reel_nn_t *nn, view_t g, view_t y) {
  K("nn_act_bwd");
  int C = g.c, H = g.h, W = g.w;
  if (reel_cl_args(k, 10, REEL_ARG(g.m), REEL_ARG(g.ctot), REEL_ARG(g.coff), REEL_ARG(y.m),
                   REEL_ARG(y.ctot), REEL_ARG(y.coff), REEL_ARG(C), REEL_ARG(H), REEL_ARG(W),
                   REEL_ARG(nn->a.slope)))
    return -1;
  return run3(nn, k, (size_t)W / 8, (size_t)H, (size_t)nn->batch * C);
}

/* Backward through one 3x3 convolution + LeakyReLU whose output is y with
 * gradient g (overwritten by g * act'), input in; writes the weight and bias
 * gradients and, when gin.m, the input gradient. */
static int conv3_bwd(reel_nn_t *nn, int idx, view_t in, view_t y, view_t g, view_t gin) {
  reel_nn_conv_t c;
  reel_nn_conv_info(&nn->a, idx, &c);
  if (act_bwd(nn, g, y)) return -1;
  int H = g.h, W = g.w, N = nn->batch, Cin = c.cin, Cout = c.cout;
  int nb = nbands(Cin, Cout, H), rows = (H + nb - 1) / nb;
  {
    K("nn_conv3_dw");
    if (reel_cl_args(k, 13, REEL_ARG(g.m), REEL_ARG(g.ctot), REEL_ARG(g.coff), REEL_ARG(Cout),
                     REEL_ARG(in.m), REEL_ARG(in.ctot), REEL_ARG(in.coff), REEL_ARG(Cin),
                     REEL_ARG(N), REEL_ARG(H), REEL_ARG(W), REEL_ARG(rows),
                     REEL_ARG(nn->scratch)))
      return -1;
    size_t gs[3] = {(size_t)Cin, (size_t)Cout, (size_t)nb}, ls[3] = {1, 1, 1};
    if (reel_cl_run(nn->cl, k, 3, gs, ls)) return -1;
  }
  {
    K("nn_sum_bands");
    int n = Cout * Cin * 9, goff = (int)c.w_off;
    if (reel_cl_args(k, 5, REEL_ARG(nn->scratch), REEL_ARG(n), REEL_ARG(nb), REEL_ARG(nn->grads),
                     REEL_ARG(goff)))
      return -1;
    if (run1(nn, k, (size_t)n)) return -1;
  }
  {
    K("nn_bias_grad");
    int goff = (int)c.b_off;
    if (reel_cl_args(k, 9, REEL_ARG(g.m), REEL_ARG(g.ctot), REEL_ARG(g.coff), REEL_ARG(Cout),
                     REEL_ARG(N), REEL_ARG(H), REEL_ARG(W), REEL_ARG(nn->grads), REEL_ARG(goff)))
      return -1;
    size_t gs = (size_t)Cout, ls = 1;
    if (reel_cl_run(nn->cl, k, 1, &gs, &ls)) return -1;
  }
  if (!gin.m) return 0;
  {
    K("nn_flip3");
    int woff = (int)c.w_off;
    if (reel_cl_args(k, 5, REEL_ARG(nn->params), REEL_ARG(woff), REEL_ARG(Cin), REEL_ARG(Cout),
                     REEL_ARG(nn->scratch)))
      return -1;
    if (run1(nn, k, (size_t)Cout * Cin * 9)) return -1;
  }
  /* the data gradient is a convolution of g with the flipped kernel */
  view_t g2 = g;
  g2.c = Cout;
  return conv3(nn, g2, nn->scratch, 0, -1, gin, 0);
}

static int pool_bwd(reel_nn_t *nn, view_t g, view_t gin) {
  K("nn_pool_bwd");
  int C = g.c, H = g.h, W = g.w;
  if (reel_cl_args(k, 9, REEL_ARG(g.m), REEL_ARG(g.ctot), REEL_ARG(g.coff), REEL_ARG(gin.m),
                   REEL_ARG(gin.ctot), REEL_ARG(gin.coff), REEL_ARG(C), REEL_ARG(H), REEL_ARG(W)))
    return -1;
  return run3(nn, k, (size_t)2 * W, (size_t)2 * H, (size_t)nn->batch * C);
}

static int up_bwd(reel_nn_t *nn, view_t g, view_t gin) {
  K("nn_up_bwd");
  int C = gin.c, H = gin.h, W = gin.w;
  if (reel_cl_args(k, 9, REEL_ARG(g.m), REEL_ARG(g.ctot), REEL_ARG(g.coff), REEL_ARG(gin.m),
                   REEL_ARG(gin.ctot), REEL_ARG(gin.coff), REEL_ARG(C), REEL_ARG(H), REEL_ARG(W)))
    return -1;
  return run3(nn, k, (size_t)W, (size_t)H, (size_t)nn->batch * C);
}

static int head_bwd(reel_nn_t *nn) {
  reel_nn_conv_t c;
  reel_nn_conv_info(&nn->a, nn->nconv - 1, &c);
  int Cin = c.cin, oc = c.cout, woff = (int)c.w_off, boff = (int)c.b_off, H = nn->h, W = nn->w,
      N = nn->batch;
  int nb = nbands(Cin + 1, oc, H), rows = (H + nb - 1) / nb;
  {
    K("nn_head_dw");
    if (reel_cl_args(k, 9, REEL_ARG(nn->gy.m), REEL_ARG(nn->db[0].m), REEL_ARG(Cin),
                     REEL_ARG(oc), REEL_ARG(N), REEL_ARG(H), REEL_ARG(W), REEL_ARG(rows),
                     REEL_ARG(nn->scratch)))
      return -1;
    size_t gs[3] = {(size_t)Cin + 1, (size_t)oc, (size_t)nb}, ls[3] = {1, 1, 1};
    if (reel_cl_run(nn->cl, k, 3, gs, ls)) return -1;
  }
  {
    K("nn_head_sum");
    if (reel_cl_args(k, 7, REEL_ARG(nn->scratch), REEL_ARG(Cin), REEL_ARG(oc), REEL_ARG(nb),
                     REEL_ARG(nn->grads), REEL_ARG(woff), REEL_ARG(boff)))
      return -1;
    if (run1(nn, k, (size_t)oc * (Cin + 1))) return -1;
  }
  K("nn_head_bwd");
  if (reel_cl_args(k, 8, REEL_ARG(nn->gy.m), REEL_ARG(nn->params), REEL_ARG(woff), REEL_ARG(Cin),
                   REEL_ARG(oc), REEL_ARG(nn->gdb[0].m), REEL_ARG(H), REEL_ARG(W)))
    return -1;
  return run3(nn, k, (size_t)W / 8, (size_t)H, (size_t)N);
}

int reel_nn_backward(reel_nn_t *nn) {
  if (!nn->train) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  int L = nn->a.levels;
  view_t none = {0};
  if (head_bwd(nn)) return -1;
  /* decoder, shallowest level first (the reverse of the forward order) */
  for (int l = 0; l < L; l++) {
    int ia = 2 * L + 2 + 2 * (L - 1 - l);
    if (conv3_bwd(nn, ia + 1, nn->da[l], nn->db[l], nn->gdb[l], nn->gda[l])) return -1;
    if (conv3_bwd(nn, ia, nn->cat[l], nn->da[l], nn->gda[l], nn->gcat[l])) return -1;
    view_t gup = sub(nn->gcat[l], 0, nn->a.width[l + 1]);
    if (up_bwd(nn, gup, l == L - 1 ? nn->gbb : nn->gdb[l + 1])) return -1;
  }
  if (conv3_bwd(nn, 2 * L + 1, nn->ba, nn->bb, nn->gbb, nn->gba)) return -1;
  if (conv3_bwd(nn, 2 * L, nn->pool[L - 1], nn->ba, nn->gba, nn->gpool[L - 1])) return -1;
  for (int l = L - 1; l >= 0; l--) {
    /* the skip's gradient (from the decoder, in gcat) plus the pool's */
    if (pool_bwd(nn, nn->gpool[l], nn->gskip[l])) return -1;
    if (conv3_bwd(nn, 2 * l + 1, nn->ea[l], nn->skip[l], nn->gskip[l], nn->gea[l])) return -1;
    if (conv3_bwd(nn, 2 * l, l ? nn->pool[l - 1] : nn->x, nn->ea[l], nn->gea[l],
                  l ? nn->gpool[l - 1] : none))
      return -1;
  }
  return 0;
}

int reel_nn_adam(reel_nn_t *nn, const reel_adam_t *o, int64_t t) {
  if (!nn->train) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  K("nn_adam");
  int n = (int)nn->np;
  float bc1 = (float)(1.0 - pow(o->beta1, (double)t));
  float sbc2 = (float)sqrt(1.0 - pow(o->beta2, (double)t));
  if (reel_cl_args(k, 11, REEL_ARG(nn->params), REEL_ARG(nn->grads), REEL_ARG(nn->am),
                   REEL_ARG(nn->av), REEL_ARG(n), REEL_ARG(o->lr), REEL_ARG(o->beta1),
                   REEL_ARG(o->beta2), REEL_ARG(o->eps), REEL_ARG(bc1), REEL_ARG(sbc2)))
    return -1;
  return run1(nn, k, (size_t)n);
}

static int pack(reel_nn_t *nn, view_t *dst, int n, const reel_image_t *src, const int ch[3],
                int x0, int y0, int scale, int orient, int ycc) {
  K("nn_pack");
  cl_mem m = src->mem;
  int iw = reel_image_w(src), ih = reel_image_h(src), dx = src->data.x0, dy = src->data.y0;
  if (!m) { /* empty data window: the kernel writes zeros */
    m = dst->m;
    iw = ih = 0;
  }
  int H = nn->h, W = nn->w;
  if (reel_cl_args(k, 17, REEL_ARG(m), REEL_ARG(iw), REEL_ARG(ih), REEL_ARG(dx), REEL_ARG(dy),
                   REEL_ARG(ch[0]), REEL_ARG(ch[1]), REEL_ARG(ch[2]), REEL_ARG(dst->m),
                   REEL_ARG(n), REEL_ARG(H), REEL_ARG(W), REEL_ARG(x0), REEL_ARG(y0),
                   REEL_ARG(scale), REEL_ARG(orient), REEL_ARG(ycc)))
    return -1;
  size_t g[2] = {(size_t)W, (size_t)H}, l[2] = {lx((size_t)W), 1};
  return reel_cl_run(nn->cl, k, 2, g, l);
}

int reel_nn_pack_image(reel_nn_t *nn, int n, const reel_image_t *src, const int ch[3], int x0,
                       int y0, int rgb_to_ycc) {
  return pack(nn, &nn->x, n, src, ch, x0, y0, 1, 0, rgb_to_ycc);
}

int reel_nn_pack_target(reel_nn_t *nn, int n, const reel_image_t *src, const int ch[3], int x0,
                        int y0, int rgb_to_ycc) {
  if (!nn->train) return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  return pack(nn, &nn->t, n, src, ch, x0, y0, 1, 0, rgb_to_ycc);
}

int reel_nn_pack_patch(reel_nn_t *nn, int target, int n, const reel_image_t *src,
                       const int ch[3], int x0, int y0, int scale, int orient, int rgb_to_ycc) {
  if (target && !nn->train)
    return reel_error(REEL_EINTERNAL, "network built without training buffers"), -1;
  return pack(nn, target ? &nn->t : &nn->x, n, src, ch, x0, y0, scale, orient, rgb_to_ycc);
}

int reel_nn_unpack_image(reel_nn_t *nn, int n, reel_image_t *dst, const int ch[3], int x0,
                         int y0, int tx, int ty, int w, int h, int ycc_to_rgb) {
  if (!dst->mem || w <= 0 || h <= 0) return 0;
  K("nn_unpack");
  int H = nn->h, W = nn->w, iw = reel_image_w(dst), ih = reel_image_h(dst), dx = dst->data.x0,
      dy = dst->data.y0;
  if (reel_cl_args(k, 19, REEL_ARG(nn->y.m), REEL_ARG(n), REEL_ARG(H), REEL_ARG(W), REEL_ARG(tx),
                   REEL_ARG(ty), REEL_ARG(w), REEL_ARG(h), REEL_ARG(dst->mem), REEL_ARG(iw),
                   REEL_ARG(ih), REEL_ARG(dx), REEL_ARG(dy), REEL_ARG(ch[0]), REEL_ARG(ch[1]),
                   REEL_ARG(ch[2]), REEL_ARG(x0), REEL_ARG(y0), REEL_ARG(ycc_to_rgb)))
    return -1;
  size_t g[2] = {(size_t)w, (size_t)h}, l[2] = {lx((size_t)w), 1};
  return reel_cl_run(nn->cl, k, 2, g, l);
}

/* Device copy of the parameters of another instance (same architecture). */
int reel_nn_copy_params(reel_nn_t *dst, reel_nn_t *src) {
  return reel_cl_copy(dst->cl, src->params, 0, dst->params, 0, dst->np * sizeof(float));
}

double reel_nn_flops(const reel_nn_t *nn, int train) {
  return train ? 3.0 * nn->flops_fwd : nn->flops_fwd;
}
