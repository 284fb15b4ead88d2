/* The Reel side of bench/bench_nn.py, in-process through the public API on
 * the default device (PoCL). One untimed run first (kernel builds, buffer
 * first-touch), then RUNS timed runs.
 *   bench_nn_torch train SIZE BATCH PATCH [-n RUNS]
 *     a training step of an rgb network (reel_nn_*): forward, L1 loss,
 *     backward, Adam, device finish; the batch is uploaded once, untimed.
 *   bench_nn_torch frame IN.exr MODEL.reelnet TILE [-n RUNS]
 *     the Infer node on one frame: Read(IN) -> Infer(model_file, tile),
 *     reel_eval_image with fresh = 1 (the read stays cached).
 * Prints "arch levels L width W0 .. WL slope S macs M align A halo H"
 * (train) and
 * "ms median MEDIAN min MIN runs N cpu_ms CPU" (CPU: the median of the
 * process's CPU time per run, all threads; less sensitive than wall time to
 * other work on a shared machine). */
#include "cl.h"
#include "nn/nn.h"
#include "reel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int fail(void) {
  fprintf(stderr, "bench_nn_torch: %s\n", reel_error_get());
  return 1;
}

typedef struct {
  reel_cl_t *cl;
  reel_nn_t *nn;
  reel_graph_t *g;
  reel_node_t *infer;
} bench_t;

static int train_step(bench_t *b, int64_t t) {
  static const reel_adam_t opt = {1e-4f, 0.9f, 0.999f, 1e-8f};
  double loss;
  return reel_nn_forward(b->nn) || reel_nn_loss(b->nn, REEL_LOSS_L1, 0, &loss) ||
         reel_nn_backward(b->nn) || reel_nn_adam(b->nn, &opt, t) || reel_cl_finish(b->cl);
}

static int train_setup(bench_t *b, const char *size, int batch, int patch) {
  reel_nn_arch_t a;
  if (reel_nn_arch_named(&a, size, REEL_NN_RGB)) return -1;
  printf("arch levels %d width", a.levels);
  for (int l = 0; l <= a.levels; l++) printf(" %d", a.width[l]);
  printf(" slope %g macs %.0f align %d halo %d\n", (double)a.slope, reel_nn_macs_per_pixel(&a),
         reel_nn_align(&a), reel_nn_halo(&a));
  size_t np = reel_nn_nparams(&a), nx = (size_t)batch * 3 * (size_t)patch * (size_t)patch;
  float *p = malloc(np * sizeof *p), *x = malloc(nx * sizeof *x), *t = malloc(nx * sizeof *t);
  int rc = -1;
  if (!p || !x || !t) {
    fprintf(stderr, "bench_nn_torch: out of memory\n");
    goto out;
  }
  reel_nn_init_params(&a, 1, p);
  for (size_t i = 0; i < nx; i++) x[i] = (float)reel_rng_uniform(1, 0, i);
  for (size_t i = 0; i < nx; i++) t[i] = (float)reel_rng_uniform(1, 1, i);
  if (!(b->cl = reel_cl_new(NULL, NULL)) ||
      !(b->nn = reel_nn_new(b->cl, &a, batch, patch, patch, 1)) || reel_nn_set_params(b->nn, p) ||
      reel_nn_set_input(b->nn, x) || reel_nn_set_target(b->nn, t))
    goto out;
  rc = 0;
out:
  free(p), free(x), free(t);
  return rc;
}

static int frame_setup(bench_t *b, const char *in, const char *model, int tile) {
  b->g = reel_graph_new();
  reel_node_t *rd = reel_node_new(b->g, "Read", "bench", 0);
  if (!rd || reel_node_set_string(rd, "path", in) || reel_node_finish(rd)) return -1;
  b->infer = reel_node_new(b->g, "Infer", "bench", 0);
  return !b->infer || reel_node_set_input(b->infer, "#1", rd) ||
                 reel_node_set_string(b->infer, "model_file", model) ||
                 reel_node_set_number(b->infer, "tile", 0, tile) || reel_node_finish(b->infer)
             ? -1
             : 0;
}

int main(int argc, char **argv) {
  int train = argc >= 5 && !strcmp(argv[1], "train"),
      frame = argc >= 5 && !strcmp(argv[1], "frame");
  if (!train && !frame) {
    fprintf(stderr, "usage: bench_nn_torch train SIZE BATCH PATCH [-n RUNS]\n"
                    "       bench_nn_torch frame IN.exr MODEL.reelnet TILE [-n RUNS]\n");
    return 2;
  }
  int runs = argc >= 7 && !strcmp(argv[5], "-n") ? atoi(argv[6]) : 5;
  if (runs < 1 || runs > 100) runs = 5;
  bench_t b = {0};
  if (train ? train_setup(&b, argv[2], atoi(argv[3]), atoi(argv[4]))
            : frame_setup(&b, argv[2], argv[3], atoi(argv[4])))
    return fail();
  double *t = calloc((size_t)runs, sizeof *t), *c = calloc((size_t)runs, sizeof *c);
  if (!t || !c) return fprintf(stderr, "bench_nn_torch: out of memory\n"), 1;
  for (int i = -1; i < runs; i++) {
    double t0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
    if (train ? train_step(&b, i + 2)
              : reel_eval_image(b.g, b.infer, 1, NULL, 1, NULL, NULL, NULL, NULL))
      return fail();
    if (i >= 0) {
      t[i] = (clk(CLOCK_MONOTONIC) - t0) * 1e3;
      c[i] = (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e3;
    }
  }
  qsort(t, (size_t)runs, sizeof *t, cmp);
  qsort(c, (size_t)runs, sizeof *c, cmp);
  printf("ms median %.2f min %.2f runs %d cpu_ms %.2f\n", t[runs / 2], t[0], runs, c[runs / 2]);
  free(t), free(c);
  if (b.nn) reel_nn_free(b.nn);
  if (b.cl) reel_cl_free(b.cl);
  if (b.g) reel_graph_free(b.g);
  reel_shutdown();
  return 0;
}
