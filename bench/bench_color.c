/* Benchmark driver for the colour nodes (run by bench/bench_color.py).
 * Builds graphs through the public C API: Read of a float EXR, then a chain
 * of pointwise colour nodes, which the engine fuses into one kernel. Each
 * chain is evaluated once to warm up (kernel build; the Read result stays in
 * the memory cache), then timed with reel_eval_image(fresh = 1, px = NULL):
 * fresh drops only the last node's result, so each run is the fused kernel
 * over the frame plus its output allocation, no file I/O and no download.
 * chain_6_unfused runs the same six nodes one at a time (each from its
 * cached input), which is what fusion saves. Also times a plain copy kernel over the same bytes on the same device:
 * the memory-bandwidth bound for one read and one write of the frame.
 * Prints "name best_ms median_ms" lines. Usage: bench_color FRAME.exr [N] */
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
  fprintf(stderr, "bench_color: %s: %s\n", what, reel_error_get());
  exit(1);
}

static reel_node_t *add(const char *type, reel_node_t *src) {
  reel_node_t *n = reel_node_new(g, type, "bench_color.c", 0);
  if (!n || (src && reel_node_set_input(n, "#1", src))) die(type);
  return n;
}

static void set(reel_node_t *n, const char *p, int comp, double v) {
  if (reel_node_set_number(n, p, comp, v)) die(p);
}

static void str(reel_node_t *n, const char *p, const char *v) {
  if (reel_node_set_string(n, p, v)) die(p);
}

static reel_node_t *done(reel_node_t *n) {
  if (reel_node_finish(n)) die("finish");
  return n;
}

static reel_node_t *cs(reel_node_t *src, const char *a, const char *b) {
  reel_node_t *n = add("Colorspace", src);
  str(n, "in_space", a);
  str(n, "out_space", b);
  return done(n);
}

/* The same CDL numbers as bench_color.py gives oiiotool (noclamp: OCIO's
 * default style for .cc files). */
static reel_node_t *cdl(reel_node_t *src) {
  reel_node_t *n = add("CDL", src);
  const double s[3] = {1.1, 1.0, 0.95}, o[3] = {0.01, -0.005, 0.02}, p[3] = {1.05, 1.0, 0.9};
  for (int k = 0; k < 3; k++) set(n, "slope", k, s[k]), set(n, "offset", k, o[k]), set(n, "power", k, p[k]);
  set(n, "saturation", 0, 1.2);
  str(n, "style", "noclamp");
  return done(n);
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

/* dst = src over nch planes, laid out and launched as the fused kernel is */
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
  if (argc < 2) {
    fprintf(stderr, "usage: bench_color FRAME.exr [iterations]\n");
    return 2;
  }
  int iters = argc > 2 ? atoi(argv[2]) : 5;
  if (iters < 1 || iters > 64) iters = 5;
  g = reel_graph_new();
  reel_node_t *rd = add("Read", NULL);
  str(rd, "path", argv[1]);
  done(rd);
  int nch, data[4];
  if (reel_eval_image(g, rd, 1, NULL, 0, NULL, &nch, data, NULL)) die("read");
  size_t plane = (size_t)(data[2] - data[0]) * (size_t)(data[3] - data[1]);
  printf("frame %dx%d %d channels %.1f MB\n", data[2] - data[0], data[3] - data[1], nch,
         plane * nch * 4 / 1e6);

  /* single nodes: a log encode, a matrix-only conversion, a CDL */
  time_node("colorspace_acescct_1", cs(rd, "aces2065-1", "acescct"), iters);
  time_node("colorspace_matrix_1", cs(rd, "aces2065-1", "acescg"), iters);
  time_node("cdl_1", cdl(rd), iters);

  /* ACES2065-1 -> ACEScct, CDL, back: what oiiotool is timed doing */
  reel_node_t *c3 = cs(cdl(cs(rd, "aces2065-1", "acescct")), "acescct", "aces2065-1");
  time_node("cdl_chain_3", c3, iters);

  /* a 6-node chain: Colorspace, CDL, Grade, Saturation, Clamp, Colorspace */
  reel_node_t *six[6];
  six[0] = cs(rd, "aces2065-1", "acescct");
  six[1] = cdl(six[0]);
  six[2] = add("Grade", six[1]);
  set(six[2], "gain", 0, 1.05);
  set(six[2], "lift", 2, 0.01);
  set(six[2], "gamma", 1, 1.1);
  six[3] = add("Saturation", done(six[2]));
  set(six[3], "saturation", 0, 0.9);
  six[4] = add("Clamp", done(six[3]));
  set(six[4], "min", 0, -0.2);
  set(six[4], "max", 0, 1.2);
  six[5] = cs(done(six[4]), "acescct", "aces2065-1");
  time_node("chain_6", six[5], iters);

  /* the same six one at a time: each finds its input in the memory cache
   * and runs as a chain of one (so this must come after chain_6) */
  double t[64];
  for (int i = -1; i < iters; i++) {
    double t0 = now();
    for (int k = 0; k < 6; k++)
      if (reel_eval_image(g, six[k], 1, NULL, 1, NULL, NULL, NULL, NULL)) die("unfused");
    if (i >= 0) t[i] = now() - t0;
  }
  report("chain_6_unfused", t, iters);

  /* one light node: the cost of a pass by itself */
  reel_node_t *inv = add("Invert", rd);
  time_node("invert_1", done(inv), iters);

  time_copy(plane, nch, iters);
  reel_graph_free(g);
  reel_shutdown();
  return 0;
}
