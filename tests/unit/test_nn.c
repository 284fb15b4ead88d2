/* Unit tests for the network library (engine/nn, opencl/nn.cl) on crops of
 * a real frame (data/vtest/vtest.0100.png):
 * - the forward pass against a direct CPU implementation in double written
 *   here from the architecture in nn.h (every layer: 3x3 convolutions,
 *   LeakyReLU, average pool, bilinear upsampling with half-pixel centres,
 *   concatenation, the 1x1 head and the residual), in rgb and chroma modes;
 * - every parameter group's gradient against central finite differences of
 *   the CPU loss, for L1, L2 and Charbonnier losses (this exercises the
 *   backward of every layer: a wrong pool, upsample or concat gradient
 *   shows in the encoder's weights);
 * - one Adam step against the formula;
 * - chroma mode copies Y bit for bit; determinism; packing and the RNG. */
#include "cl.h"
#include "error.h"
#include "image.h"
#include "imageio.h"
#include "reel.h"
#include "nn/nn.h"
#include "test.h"

static reel_cl_t *cl;
static reel_hostimg_t frame; /* 768x576 RGB, planar */

/* ---- CPU reference, double, unpadded NCHW ---- */

typedef struct {
  int c, h, w;
  double *p;
} T;

static T tnew(int c, int h, int w) {
  T t = {c, h, w, calloc((size_t)c * h * w, sizeof(double))};
  return t;
}
#define AT(t, c, y, x) (t).p[((size_t)(c) * (t).h + (y)) * (t).w + (x)]

static T conv(const T in, const double *w, const double *b, int cout, int k, int act,
              double slope) {
  T o = tnew(cout, in.h, in.w);
  int r = k / 2;
  for (int co = 0; co < cout; co++)
    for (int y = 0; y < in.h; y++)
      for (int x = 0; x < in.w; x++) {
        double s = b[co];
        for (int ci = 0; ci < in.c; ci++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int yy = y + ky - r, xx = x + kx - r;
              if (yy < 0 || xx < 0 || yy >= in.h || xx >= in.w) continue;
              s += w[((co * in.c + ci) * k + ky) * k + kx] * AT(in, ci, yy, xx);
            }
        AT(o, co, y, x) = act && s < 0 ? s * slope : s;
      }
  return o;
}

static T avgpool(const T in) {
  T o = tnew(in.c, in.h / 2, in.w / 2);
  for (int c = 0; c < in.c; c++)
    for (int y = 0; y < o.h; y++)
      for (int x = 0; x < o.w; x++)
        AT(o, c, y, x) = 0.25 * (AT(in, c, 2 * y, 2 * x) + AT(in, c, 2 * y, 2 * x + 1) +
                                 AT(in, c, 2 * y + 1, 2 * x) + AT(in, c, 2 * y + 1, 2 * x + 1));
  return o;
}

/* PyTorch's bilinear, align_corners = False, scale 2. */
static void src1(int X, int n, int *a, int *b, double *l) {
  double s = X * 0.5 - 0.25;
  if (s < 0) s = 0;
  *a = (int)s;
  *b = *a + 1 < n ? *a + 1 : n - 1;
  *l = s - *a;
}

static T upsample(const T in) {
  T o = tnew(in.c, in.h * 2, in.w * 2);
  for (int c = 0; c < in.c; c++)
    for (int Y = 0; Y < o.h; Y++)
      for (int X = 0; X < o.w; X++) {
        int x0, x1, y0, y1;
        double lx, ly;
        src1(X, in.w, &x0, &x1, &lx);
        src1(Y, in.h, &y0, &y1, &ly);
        double t = (1 - lx) * AT(in, c, y0, x0) + lx * AT(in, c, y0, x1);
        double bb = (1 - lx) * AT(in, c, y1, x0) + lx * AT(in, c, y1, x1);
        AT(o, c, Y, X) = (1 - ly) * t + ly * bb;
      }
  return o;
}

static T cat(const T a, const T b) {
  T o = tnew(a.c + b.c, a.h, a.w);
  memcpy(o.p, a.p, sizeof(double) * a.c * a.h * a.w);
  memcpy(o.p + (size_t)a.c * a.h * a.w, b.p, sizeof(double) * b.c * b.h * b.w);
  return o;
}

/* One sample through the network; p: parameters (double). */
static T cpu_forward(const reel_nn_arch_t *a, const double *p, const T x) {
  int L = a->levels, ci = 0;
  reel_nn_conv_t c;
  T h = x, skip[REEL_NN_MAXLEV];
  T owned[64];
  int no = 0;
#define CONV(in)                                                                           \
  (reel_nn_conv_info(a, ci++, &c), owned[no++] = conv(in, p + c.w_off, p + c.b_off, c.cout, \
                                                      c.k, c.k == 3, a->slope))
  for (int l = 0; l < L; l++) {
    h = CONV(h);
    h = CONV(h);
    skip[l] = h;
    h = owned[no++] = avgpool(h);
  }
  h = CONV(h);
  h = CONV(h);
  for (int l = L - 1; l >= 0; l--) {
    T u = owned[no++] = upsample(h);
    h = owned[no++] = cat(u, skip[l]);
    h = CONV(h);
    h = CONV(h);
  }
  T r = CONV(h);
#undef CONV
  T y = tnew(3, x.h, x.w);
  size_t pl = (size_t)x.h * x.w;
  for (size_t i = 0; i < pl; i++) {
    if (a->mode == REEL_NN_RGB) {
      for (int k = 0; k < 3; k++) y.p[k * pl + i] = x.p[k * pl + i] + r.p[k * pl + i];
    } else {
      y.p[i] = x.p[i];
      y.p[pl + i] = x.p[pl + i] + r.p[i];
      y.p[2 * pl + i] = x.p[2 * pl + i] + r.p[pl + i];
    }
  }
  for (int i = 0; i < no; i++) free(owned[i].p);
  return y;
}

static double cpu_loss(const reel_nn_arch_t *a, const double *p, const float *x, const float *t,
                       int batch, int h, int w, int type, double eps) {
  double s = 0;
  size_t pl = (size_t)h * w;
  int c0 = a->mode == REEL_NN_CHROMA;
  for (int n = 0; n < batch; n++) {
    T xi = tnew(3, h, w);
    for (size_t i = 0; i < 3 * pl; i++) xi.p[i] = x[n * 3 * pl + i];
    T y = cpu_forward(a, p, xi);
    for (int c = c0; c < 3; c++)
      for (size_t i = 0; i < pl; i++) {
        double e = y.p[c * pl + i] - t[n * 3 * pl + c * pl + i];
        s += type == REEL_LOSS_L1 ? fabs(e) : type == REEL_LOSS_L2 ? e * e : sqrt(e * e + eps * eps);
      }
    free(xi.p);
    free(y.p);
  }
  return s / ((double)batch * (3 - c0) * pl);
}

/* ---- inputs from the real frame ---- */

/* Input: an RGB crop at (x0, y0); in chroma mode converted to Y'CbCr. */
static void crop(float *dst, int x0, int y0, int h, int w, int ycc) {
  int fw = reel_box_w(frame.data), fh = reel_box_h(frame.data);
  size_t fpl = (size_t)fw * fh, pl = (size_t)h * w;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t o = (size_t)(y0 + y) * fw + x0 + x;
      float r = frame.px[o], g = frame.px[fpl + o], b = frame.px[2 * fpl + o];
      if (ycc) {
        float Y = 0.2126f * r + 0.7152f * g + 0.0722f * b;
        dst[y * w + x] = Y;
        dst[pl + y * w + x] = (b - Y) / 1.8556f;
        dst[2 * pl + y * w + x] = (r - Y) / 1.5748f;
      } else {
        dst[y * w + x] = r;
        dst[pl + y * w + x] = g;
        dst[2 * pl + y * w + x] = b;
      }
    }
}

static unsigned rs = 2024;
static double urand(void) {
  rs = rs * 1664525u + 1013904223u;
  return (rs >> 8) / 16777216.0;
}

/* Random parameters, head included (an untrained head is zero: that would
 * hide the gradients of everything below it). */
static void rand_params(const reel_nn_arch_t *a, float *p) {
  reel_nn_init_params(a, 7, p);
  size_t np = reel_nn_nparams(a);
  for (size_t i = 0; i < np; i++)
    if (p[i] == 0.0f) p[i] = (float)(0.1 * (urand() - 0.5));
}

static reel_nn_arch_t tiny(int mode) {
  reel_nn_arch_t a = {mode, 3, mode == REEL_NN_CHROMA ? 2 : 3, 2, {8, 16, 16}, 0.1f};
  return a;
}

static void test_forward_matches_cpu(void) {
  for (int mode = 0; mode < 2; mode++) {
    reel_nn_arch_t a = tiny(mode);
    int B = 2, H = 32, W = 64;
    size_t np = reel_nn_nparams(&a), pl = (size_t)H * W;
    float *p = malloc(np * sizeof(float)), *x = malloc(B * 3 * pl * sizeof(float)),
          *y = malloc(B * 3 * pl * sizeof(float));
    double *pd = malloc(np * sizeof(double));
    rand_params(&a, p);
    for (size_t i = 0; i < np; i++) pd[i] = p[i];
    crop(x, 200, 150, H, W, mode);
    crop(x + 3 * pl, 420, 300, H, W, mode);
    reel_nn_t *nn = reel_nn_new(cl, &a, B, H, W, 0);
    CHECK(nn != NULL);
    if (!nn) return;
    CHECK(reel_nn_set_params(nn, p) == 0);
    CHECK(reel_nn_set_input(nn, x) == 0);
    CHECK(reel_nn_forward(nn) == 0);
    CHECK(reel_nn_get_output(nn, y) == 0);
    double maxe = 0, maxr = 0;
    int ybits = 1;
    for (int n = 0; n < B; n++) {
      T xi = tnew(3, H, W);
      for (size_t i = 0; i < 3 * pl; i++) xi.p[i] = x[n * 3 * pl + i];
      T ref = cpu_forward(&a, pd, xi);
      for (size_t i = 0; i < 3 * pl; i++) {
        double e = fabs(y[n * 3 * pl + i] - ref.p[i]);
        if (e > maxe) maxe = e;
        double r = fabs(ref.p[i] - xi.p[i]);
        if (r > maxr) maxr = r;
      }
      if (mode == REEL_NN_CHROMA)
        ybits &= !memcmp(y + n * 3 * pl, x + n * 3 * pl, pl * sizeof(float));
      free(xi.p);
      free(ref.p);
    }
    fprintf(stderr, "  %s: max |device - cpu| %.3g (residual up to %.3g)\n",
            mode ? "chroma" : "rgb", maxe, maxr);
    CHECK(maxr > 0.01); /* the network does something */
    CHECK(maxe < 2e-5 * (1 + maxr));
    CHECK(ybits);
    reel_nn_free(nn);
    free(p);
    free(x);
    free(y);
    free(pd);
  }
}

/* Gradient of every parameter group against central differences of the CPU
 * loss, at the parameters with the largest gradients in each group and a
 * few random ones. */
static void grad_check(int mode, int type) {
  reel_nn_arch_t a = tiny(mode);
  int B = 2, H = 32, W = 32;
  size_t np = reel_nn_nparams(&a), pl = (size_t)H * W;
  float *p = malloc(np * sizeof(float)), *g = malloc(np * sizeof(float));
  float *x = malloc(B * 3 * pl * sizeof(float)), *t = malloc(B * 3 * pl * sizeof(float));
  double *pd = malloc(np * sizeof(double));
  rand_params(&a, p);
  crop(x, 300, 200, H, W, mode);
  crop(x + 3 * pl, 500, 260, H, W, mode);
  /* target: a shifted crop (a plausible, different picture) */
  crop(t, 302, 201, H, W, mode);
  crop(t + 3 * pl, 503, 262, H, W, mode);
  float eps = 0.01f;
  reel_nn_t *nn = reel_nn_new(cl, &a, B, H, W, 1);
  CHECK(nn != NULL);
  if (!nn) return;
  double dev_loss = 0;
  CHECK(reel_nn_set_params(nn, p) == 0);
  CHECK(reel_nn_set_input(nn, x) == 0);
  CHECK(reel_nn_set_target(nn, t) == 0);
  CHECK(reel_nn_forward(nn) == 0);
  CHECK(reel_nn_loss(nn, type, eps, &dev_loss) == 0);
  CHECK(reel_nn_backward(nn) == 0);
  CHECK(reel_nn_get_grads(nn, g) == 0);
  for (size_t i = 0; i < np; i++) pd[i] = p[i];
  double ref_loss = cpu_loss(&a, pd, x, t, B, H, W, type, eps);
  CHECK_NEAR(dev_loss, ref_loss, 1e-5 * fabs(ref_loss));
  int bad = 0, checked = 0;
  double worst = 0;
  for (int i = 0; i < reel_nn_nconv(&a); i++) {
    reel_nn_conv_t c;
    reel_nn_conv_info(&a, i, &c);
    size_t lo = c.w_off, hi = c.b_off + c.cout, pick[6];
    /* the two largest weight gradients, the largest bias gradient, three random */
    size_t m1 = lo, m2 = lo + 1, mb = c.b_off;
    for (size_t j = lo; j < c.b_off; j++)
      if (fabs(g[j]) > fabs(g[m1])) m2 = m1, m1 = j;
      else if (j != m1 && fabs(g[j]) > fabs(g[m2])) m2 = j;
    for (size_t j = c.b_off; j < hi; j++)
      if (fabs(g[j]) > fabs(g[mb])) mb = j;
    pick[0] = m1;
    pick[1] = m2;
    pick[2] = mb;
    for (int r = 3; r < 6; r++) pick[r] = lo + (size_t)(urand() * (hi - lo));
    for (int r = 0; r < 6; r++) {
      size_t j = pick[r];
      double h = 1e-4 * fmax(1.0, fabs(pd[j])), keep = pd[j];
      pd[j] = keep + h;
      double lp = cpu_loss(&a, pd, x, t, B, H, W, type, eps);
      pd[j] = keep - h;
      double lm = cpu_loss(&a, pd, x, t, B, H, W, type, eps);
      pd[j] = keep;
      double fd = (lp - lm) / (2 * h);
      /* relative to the group's largest gradient: L1's kinks make single
       * small entries noisy, large ones must agree */
      double scale = fmax(fabs(g[m1]), fabs(g[mb])), err = fabs(fd - g[j]) / scale;
      if (err > worst) worst = err;
      if (err > (type == REEL_LOSS_L1 ? 2e-2 : 5e-3)) {
        bad++;
        fprintf(stderr, "  conv %d param %zu: device %.6g finite difference %.6g\n", i, j,
                (double)g[j], fd);
      }
      checked++;
    }
  }
  fprintf(stderr, "  mode %d loss %d: %d gradients checked, worst error %.3g of the group max\n",
          mode, type, checked, worst);
  CHECK(bad == 0);
  reel_nn_free(nn);
  free(p);
  free(g);
  free(x);
  free(t);
  free(pd);
}

static void test_gradients_l2(void) { grad_check(REEL_NN_RGB, REEL_LOSS_L2); }
static void test_gradients_charbonnier_chroma(void) {
  grad_check(REEL_NN_CHROMA, REEL_LOSS_CHARBONNIER);
}
static void test_gradients_l1(void) { grad_check(REEL_NN_RGB, REEL_LOSS_L1); }

static void test_adam_step(void) {
  reel_nn_arch_t a = tiny(REEL_NN_RGB);
  int B = 1, H = 32, W = 32;
  size_t np = reel_nn_nparams(&a), pl = (size_t)H * W;
  float *p = malloc(np * sizeof(float)), *g = malloc(np * sizeof(float)),
        *p1 = malloc(np * sizeof(float)), *m = malloc(np * sizeof(float)),
        *v = malloc(np * sizeof(float));
  float *x = malloc(3 * pl * sizeof(float)), *t = malloc(3 * pl * sizeof(float));
  rand_params(&a, p);
  crop(x, 100, 100, H, W, 0);
  crop(t, 101, 99, H, W, 0);
  reel_nn_t *nn = reel_nn_new(cl, &a, B, H, W, 1);
  CHECK(nn != NULL);
  if (!nn) return;
  reel_adam_t o = {1e-3f, 0.9f, 0.999f, 1e-8f};
  /* two steps: the second exercises the moments and bias correction */
  double ref_m, ref_v, maxe = 0;
  float *m0 = calloc(np, sizeof(float)), *v0 = calloc(np, sizeof(float));
  float *pp = malloc(np * sizeof(float));
  memcpy(pp, p, np * sizeof(float));
  CHECK(reel_nn_set_params(nn, p) == 0);
  CHECK(reel_nn_set_input(nn, x) == 0);
  CHECK(reel_nn_set_target(nn, t) == 0);
  for (int step = 1; step <= 2; step++) {
    CHECK(reel_nn_forward(nn) == 0);
    CHECK(reel_nn_loss(nn, REEL_LOSS_L2, 0, NULL) == 0);
    CHECK(reel_nn_backward(nn) == 0);
    CHECK(reel_nn_get_grads(nn, g) == 0);
    CHECK(reel_nn_adam(nn, &o, step) == 0);
    CHECK(reel_nn_get_params(nn, p1) == 0);
    CHECK(reel_nn_get_adam(nn, m, v) == 0);
    double bc1 = 1 - pow(0.9, step), bc2 = 1 - pow(0.999, step);
    for (size_t i = 0; i < np; i++) {
      ref_m = 0.9 * m0[i] + 0.1 * g[i];
      ref_v = 0.999 * v0[i] + 0.001 * (double)g[i] * g[i];
      double ref_p = pp[i] - 1e-3 / bc1 * ref_m / (sqrt(ref_v) / sqrt(bc2) + 1e-8);
      double e = fabs(p1[i] - ref_p) / 1e-3; /* relative to the step size */
      if (e > maxe) maxe = e;
      m0[i] = m[i];
      v0[i] = v[i];
      pp[i] = p1[i];
    }
  }
  fprintf(stderr, "  Adam: max error %.3g of lr\n", maxe);
  CHECK(maxe < 1e-4);
  reel_nn_free(nn);
  free(p), free(g), free(p1), free(m), free(v), free(x), free(t), free(m0), free(v0), free(pp);
}

static void test_deterministic(void) {
  reel_nn_arch_t a;
  CHECK(reel_nn_arch_named(&a, "small", REEL_NN_RGB) == 0);
  int B = 3, H = 64, W = 64;
  size_t np = reel_nn_nparams(&a), pl = (size_t)H * W;
  float *p = malloc(np * sizeof(float)), *r1 = malloc(np * sizeof(float)),
        *r2 = malloc(np * sizeof(float));
  float *x = malloc(B * 3 * pl * sizeof(float)), *t = malloc(B * 3 * pl * sizeof(float));
  for (int n = 0; n < B; n++) {
    crop(x + n * 3 * pl, 50 + 200 * n, 100, H, W, 0);
    crop(t + n * 3 * pl, 52 + 200 * n, 101, H, W, 0);
  }
  reel_adam_t o = {1e-3f, 0.9f, 0.999f, 1e-8f};
  for (int run = 0; run < 2; run++) {
    reel_nn_init_params(&a, 99, p);
    reel_nn_t *nn = reel_nn_new(cl, &a, B, H, W, 1);
    CHECK(nn != NULL);
    if (!nn) return;
    reel_nn_set_params(nn, p);
    reel_nn_set_input(nn, x);
    reel_nn_set_target(nn, t);
    for (int s = 1; s <= 5; s++) {
      reel_nn_forward(nn);
      reel_nn_loss(nn, REEL_LOSS_CHARBONNIER, 1e-3f, NULL);
      reel_nn_backward(nn);
      reel_nn_adam(nn, &o, s);
    }
    reel_nn_get_params(nn, run ? r2 : r1);
    reel_nn_free(nn);
  }
  CHECK(!memcmp(r1, r2, np * sizeof(float)));
  int moved = 0;
  for (size_t i = 0; i < np; i++) moved += r1[i] != p[i];
  CHECK(moved > (int)np / 2);
  free(p), free(r1), free(r2), free(x), free(t);
}

static void test_arch(void) {
  reel_nn_arch_t a;
  const char *names[3] = {"small", "medium", "large"};
  size_t prev = 0;
  for (int i = 0; i < 3; i++) {
    CHECK(reel_nn_arch_named(&a, names[i], REEL_NN_RGB) == 0);
    size_t n = reel_nn_nparams(&a);
    fprintf(stderr, "  %s: %zu parameters, %.0f MACs/pixel, halo %d, align %d\n", names[i], n,
            reel_nn_macs_per_pixel(&a), reel_nn_halo(&a), reel_nn_align(&a));
    CHECK(n > prev);
    prev = n;
    CHECK(!strcmp(reel_nn_arch_size_name(&a), names[i]));
    /* the parameter count by hand: sum of cout * (cin * k * k + 1) */
    size_t sum = 0;
    for (int c = 0; c < reel_nn_nconv(&a); c++) {
      reel_nn_conv_t cv;
      reel_nn_conv_info(&a, c, &cv);
      sum += (size_t)cv.cout * (cv.cin * cv.k * cv.k + 1);
    }
    CHECK(sum == n);
  }
  CHECK(reel_nn_arch_named(&a, "huge", 0) == -1);
  reel_error_clear();
  /* He init: standard deviation sqrt(2 / ((1 + s^2) fan_in)) */
  CHECK(reel_nn_arch_named(&a, "medium", REEL_NN_RGB) == 0);
  float *p = malloc(reel_nn_nparams(&a) * sizeof(float));
  reel_nn_init_params(&a, 5, p);
  reel_nn_conv_t c;
  reel_nn_conv_info(&a, 3, &c);
  double s2 = 0;
  size_t nw = c.b_off - c.w_off;
  for (size_t j = 0; j < nw; j++) s2 += (double)p[c.w_off + j] * p[c.w_off + j];
  double sd = sqrt(s2 / nw), want = sqrt(2.0 / (1.01 * c.cin * 9));
  fprintf(stderr, "  He init sd %.5f, expected %.5f (%zu weights)\n", sd, want, nw);
  CHECK(fabs(sd / want - 1) < 0.03);
  free(p);
  /* the RNG: uniform mean and variance */
  double m = 0, v = 0;
  for (int i = 0; i < 100000; i++) {
    double u = reel_rng_uniform(1, 2, (uint64_t)i);
    m += u;
    v += u * u;
  }
  m /= 100000;
  v = v / 100000 - m * m;
  CHECK(fabs(m - 0.5) < 0.005);
  CHECK(fabs(v - 1.0 / 12) < 0.002);
  CHECK(reel_rng_u64(1, 2, 3) == reel_rng_u64(1, 2, 3));
  CHECK(reel_rng_u64(1, 2, 3) != reel_rng_u64(1, 2, 4));
  CHECK(reel_rng_u64(1, 2, 3) != reel_rng_u64(2, 2, 3));
}

int main(void) {
  cl = reel_cl_new(NULL, NULL);
  if (!cl) {
    fprintf(stderr, "no OpenCL device: %s\n", reel_error_get());
    return 1;
  }
  if (reel_io_read("data/vtest/vtest.0100.png", NULL, &frame)) {
    fprintf(stderr, "cannot read the test frame: %s (run tools/fetch-footage.sh)\n",
            reel_error_get());
    return 1;
  }
  RUN(test_arch);
  RUN(test_forward_matches_cpu);
  RUN(test_gradients_l2);
  RUN(test_gradients_charbonnier_chroma);
  RUN(test_gradients_l1);
  RUN(test_adam_step);
  RUN(test_deterministic);
  reel_hostimg_clear(&frame);
  reel_cl_free(cl);
  TEST_END();
}
