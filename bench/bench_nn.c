/* Times the network (engine/nn) through the public API: a forward pass and
 * a training step (forward, Charbonnier loss, backward, Adam) of a named
 * size on a batch of synthetic tiles, after two untimed steps (kernel
 * builds). Wall and process CPU time per run; GFLOP/s from reel_nn_flops.
 * With REEL_NN_PROFILE=1 the per-kernel table is printed at the end.
 *   build/bench/bench_nn [SIZE [TILE [BATCH [RUNS]]]]   (medium 256 3 5) */
#include "cl.h"
#include "error.h"
#include "reel.h"
#include "nn/nn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clk(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *size = argc > 1 ? argv[1] : "medium";
  int T = argc > 2 ? atoi(argv[2]) : 256, B = argc > 3 ? atoi(argv[3]) : 3,
      R = argc > 4 ? atoi(argv[4]) : 5;
  if (R < 1 || R > 100) R = 5;
  reel_nn_arch_t a;
  reel_cl_t *cl = reel_cl_new(NULL, NULL);
  if (!cl || reel_nn_arch_named(&a, size, REEL_NN_RGB)) goto fail;
  reel_nn_t *nn = reel_nn_new(cl, &a, B, T, T, 1);
  if (!nn) goto fail;
  size_t np = reel_nn_nparams(&a), n = (size_t)B * 3 * T * T;
  float *p = malloc(np * sizeof *p), *x = malloc(n * sizeof *x);
  reel_nn_init_params(&a, 1, p);
  for (size_t i = 0; i < np; i++)
    if (!p[i]) p[i] = 0.01f; /* a nonzero head, so that every gradient flows */
  for (size_t i = 0; i < n; i++) x[i] = (float)(i % 97) / 97.0f;
  reel_adam_t o = {1e-3f, 0.9f, 0.999f, 1e-8f};
  if (reel_nn_set_params(nn, p) || reel_nn_set_input(nn, x) || reel_nn_set_target(nn, x))
    goto fail;
  double l, tf[100], ts[100], cf[100], cs[100];
  for (int i = 0; i < 2; i++)
    if (reel_nn_forward(nn) || reel_nn_loss(nn, REEL_LOSS_CHARBONNIER, 1e-3f, &l) ||
        reel_nn_backward(nn) || reel_nn_adam(nn, &o, i + 1))
      goto fail;
  for (int i = 0; i < R; i++) {
    double w0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
    if (reel_nn_forward(nn) || reel_cl_finish(cl)) goto fail;
    double w1 = clk(CLOCK_MONOTONIC), c1 = clk(CLOCK_PROCESS_CPUTIME_ID);
    if (reel_nn_forward(nn) || reel_nn_loss(nn, REEL_LOSS_CHARBONNIER, 1e-3f, &l) ||
        reel_nn_backward(nn) || reel_nn_adam(nn, &o, 3 + i) || reel_cl_finish(cl))
      goto fail;
    double w2 = clk(CLOCK_MONOTONIC), c2 = clk(CLOCK_PROCESS_CPUTIME_ID);
    tf[i] = w1 - w0, cf[i] = c1 - c0, ts[i] = w2 - w1, cs[i] = c2 - c1;
  }
  qsort(tf, R, sizeof *tf, cmp), qsort(ts, R, sizeof *ts, cmp);
  qsort(cf, R, sizeof *cf, cmp), qsort(cs, R, sizeof *cs, cmp);
  /* the parameters after the steps, hashed: kernels that change only speed
   * leave it as it is (FNV-1a over the bytes) */
  uint64_t hash = 14695981039346656037ull;
  if (reel_nn_get_params(nn, p)) goto fail;
  for (size_t i = 0; i < np * sizeof *p; i++)
    hash = (hash ^ ((const unsigned char *)p)[i]) * 1099511628211ull;
  double ff = reel_nn_flops(nn, 0), fs = reel_nn_flops(nn, 1);
  printf("%s %d batch %d: forward median %.3f s min %.3f s (%.1f GFLOP/s at min, cpu %.3f s); "
         "step median %.3f s min %.3f s (%.1f GFLOP/s at min, cpu %.3f s); loss %.6g; "
         "params %016llx\n",
         size, T, B, tf[R / 2], tf[0], ff / tf[0] / 1e9, cf[R / 2], ts[R / 2], ts[0],
         fs / ts[0] / 1e9, cs[R / 2], l, (unsigned long long)hash);
  reel_nn_free(nn);
  free(p);
  free(x);
  reel_cl_free(cl);
  return 0;
fail:
  fprintf(stderr, "bench_nn: %s\n", reel_error_get());
  return 1;
}
