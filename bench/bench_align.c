/* Times the alignment solver in-process on two lumas (one-channel float
 * EXRs: the same arrays OpenCV gets in bench/bench_align.py), without the
 * estimate cache, on the default device (PoCL):
 *   bench_align MOVING.exr FIXED.exr REPS LEVELS ITERATIONS TOLERANCE NORMALIZE
 * One untimed warm-up solve (it builds the kernels), then REPS timed ones.
 * Prints "ms t1 t2 ...", "cpu c1 c2 ..." (process CPU, all threads),
 * "iterations N", "residual R" and "matrix m0 ... m8" (moving to fixed, Reel's
 * pixel centres) of the last solve. */
#include "../nodes/align_util.h"
#include "imageio.h"
#include "reel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 +
         (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static int fail(const char *what) {
  fprintf(stderr, "bench_align: %s: %s\n", what, reel_error_get());
  return 1;
}

static int load(const char *path, reel_align_luma_t *l) {
  reel_hostimg_t h;
  memset(&h, 0, sizeof h);
  reel_io_read_opts_t o = {0};
  if (reel_io_read(path, &o, &h)) return -1;
  l->display = h.display;
  l->w = reel_box_w(h.display);
  l->h = reel_box_h(h.display);
  l->px = malloc(sizeof(float) * (size_t)l->w * l->h);
  if (!l->px) return -1;
  memcpy(l->px, h.px, sizeof(float) * (size_t)l->w * l->h); /* data window = display */
  reel_hostimg_clear(&h);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: bench_align MOVING.exr FIXED.exr REPS LEVELS ITERATIONS TOLERANCE "
                    "NORMALIZE\n");
    return 2;
  }
  reel_align_luma_t mv, fx;
  if (load(argv[1], &mv) || load(argv[2], &fx)) return fail("read");
  int reps = atoi(argv[3]);
  reel_align_params_t p = {.model = REEL_XF_HOMOGRAPHY,
                           .levels = atoi(argv[4]),
                           .iterations = atoi(argv[5]),
                           .tolerance = atof(argv[6]),
                           .search_scale = 1,
                           .borders = 1,
                           .black = 0.04,
                           .normalize = atoi(argv[7])};
  reel_cl_t *cl = reel_cl_new(NULL, NULL);
  reel_align_result_t r;
  if (!cl) return fail("device");
  if (reel_align_solve(cl, &p, &mv, &fx, &r)) return fail("warm-up");
  double *ms = calloc((size_t)reps + 1, sizeof(double)), *cpu = calloc((size_t)reps + 1, 8);
  for (int i = 0; i < reps; i++) {
    double t0 = now_ms(), c0 = cpu_ms();
    if (reel_align_solve(cl, &p, &mv, &fx, &r)) return fail("solve");
    ms[i] = now_ms() - t0;
    cpu[i] = cpu_ms() - c0;
  }
  printf("ms");
  for (int i = 0; i < reps; i++) printf(" %.3f", ms[i]);
  printf("\ncpu");
  for (int i = 0; i < reps; i++) printf(" %.3f", cpu[i]);
  printf("\niterations %d\nresidual %.6f\nmatrix", r.iterations, r.residual);
  for (int i = 0; i < 9; i++) printf(" %.12g", r.m.m[i]);
  printf("\n");
  if (!r.ok) fprintf(stderr, "bench_align: no answer: %s\n", r.why);
  free(ms);
  free(cpu);
  free(mv.px);
  free(fx.px);
  reel_cl_free(cl);
  return r.ok ? 0 : 1;
}
