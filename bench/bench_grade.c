/* Benchmark driver for ApplyGrade and MatchGrade (run by bench/bench_grade.py).
 * Builds graphs through the public C API on float EXR frames: ApplyGrade of
 * a .cube file (tetrahedral and trilinear), and of a 65^3 LUT on a log2
 * shaper fitted by MatchGrade from 4 frames (the node prints its fit time to
 * stderr). Each node is evaluated once to warm up (kernel build, inputs in
 * the memory cache), then timed with reel_eval_image(fresh = 1, px = NULL):
 * the kernel over the frame and its output allocation, no file I/O and no
 * download. Also times a plain copy kernel over the same bytes: the
 * memory-bandwidth bound for one read and one write of R, G, B.
 * Prints "name best_ms median_ms" lines.
 * Usage: bench_grade FRAMES.####.exr LUT.cube [N] */
#include "cl.h"
#include "reel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static reel_graph_t *g;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what) {
  fprintf(stderr, "bench_grade: %s: %s\n", what, reel_error_get());
  exit(1);
}

static reel_node_t *add(const char *type) {
  reel_node_t *n = reel_node_new(g, type, "bench_grade.c", 0);
  if (!n) die(type);
  return n;
}

static void input(reel_node_t *n, const char *port, reel_node_t *src) {
  if (reel_node_set_input(n, port, src)) die(port);
}

static void str(reel_node_t *n, const char *p, const char *v) {
  if (reel_node_set_string(n, p, v)) die(p);
}

static reel_node_t *done(reel_node_t *n) {
  if (reel_node_finish(n)) die("finish");
  return n;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report(const char *name, double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp);
  printf("%s %.2f %.2f\n", name, t[0] * 1e3, t[n / 2] * 1e3);
  fflush(stdout);
}

static void time_node(const char *name, reel_node_t *n, int iters) {
  double t[64];
  if (reel_eval_image(g, n, 1, NULL, 1, NULL, NULL, NULL, NULL)) die(name); /* warm */
  for (int i = 0; i < iters; i++) {
    double t0 = now();
    if (reel_eval_image(g, n, 1, NULL, 1, NULL, NULL, NULL, NULL)) die(name);
    t[i] = now() - t0;
  }
  report(name, t, iters);
}

static void time_copy(size_t plane, int nch, int iters) {
  static const char *src =
      "__kernel void copy_planes(__global const float *src, __global float *dst, int plane,\n"
      "                          int nch) {\n"
      "  int i = get_global_id(0);\n"
      "  if (i >= plane) return;\n"
      "  for (int c = 0; c < nch; c++) dst[(size_t)c * plane + i] = src[(size_t)c * plane + i];\n"
      "}\n";
  reel_cl_t *cl = reel_cl_new(NULL, NULL);
  if (!cl) die("device");
  size_t bytes = plane * (size_t)nch * sizeof(float);
  cl_mem a = reel_cl_alloc(cl, bytes), b = reel_cl_alloc(cl, bytes);
  cl_kernel k = reel_cl_kernel_gen(cl, src, "copy_planes");
  int np = (int)plane;
  if (!a || !b || !k || reel_cl_fill0(cl, a, 0, bytes) || reel_cl_fill0(cl, b, 0, bytes) ||
      reel_cl_args(k, 4, REEL_ARG(a), REEL_ARG(b), REEL_ARG(np), REEL_ARG(nch)))
    die("copy kernel");
  double t[64];
  for (int i = -1; i < iters; i++) {
    double t0 = now();
    if (reel_cl_run(cl, k, 1, &plane, NULL) || reel_cl_finish(cl)) die("copy run");
    if (i >= 0) t[i] = now() - t0;
  }
  report("copy_kernel", t, iters);
  reel_cl_release(cl, a);
  reel_cl_release(cl, b);
  reel_cl_free(cl);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_grade FRAMES.####.exr LUT.cube [iterations]\n");
    return 2;
  }
  int iters = argc > 3 ? atoi(argv[3]) : 5;
  if (iters < 1 || iters > 64) iters = 5;
  g = reel_graph_new();
  reel_node_t *rd = add("Read");
  str(rd, "path", argv[1]);
  done(rd);
  int nch, data[4];
  if (reel_eval_image(g, rd, 1, NULL, 0, NULL, &nch, data, NULL)) die("read");
  size_t plane = (size_t)(data[2] - data[0]) * (size_t)(data[3] - data[1]);
  printf("frame %dx%d %d channels %.1f MB\n", data[2] - data[0], data[3] - data[1], nch,
         plane * nch * 4 / 1e6);

  reel_node_t *tet = add("ApplyGrade"), *tri = add("ApplyGrade");
  input(tet, "img", rd), input(tri, "img", rd);
  str(tet, "file", argv[2]), str(tri, "file", argv[2]);
  str(tri, "interp", "trilinear");
  time_node("applygrade_file_tetrahedral", done(tet), iters);
  time_node("applygrade_file_trilinear", done(tri), iters);

  /* a 65^3 LUT on a log2 shaper fitted to the file's look from 4 frames */
  reel_node_t *fit = add("MatchGrade");
  input(fit, "source", rd), input(fit, "target", tet);
  const double frames[4] = {1, 2, 3, 4};
  if (reel_node_set_list(fit, "frames", 4, frames) || reel_node_set_number(fit, "size", 0, 65))
    die("MatchGrade");
  reel_node_t *ap = add("ApplyGrade");
  input(ap, "img", rd), input(ap, "grade", done(fit));
  time_node("applygrade_fitted_shaper_65", done(ap), iters);

  time_copy(plane, 3, iters);
  reel_graph_free(g);
  reel_shutdown();
  return 0;
}
