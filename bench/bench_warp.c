/* Times one warp node in-process through the public API: Read an EXR, then
 * a CornerPin (by matrix) or a Reformat, evaluated with reel_eval_image(...,
 * fresh = 1, px = NULL, ...), which drops only the node's own cached result
 * (the decoded input stays in memory) and waits for the device.
 *   bench_warp IN.exr pin FILTER REPS h0 h1 ... h8   (matrix, Reel convention)
 *   bench_warp IN.exr resize FILTER REPS WIDTH HEIGHT
 * Prints two lines, "ms t1 t2 ..." (wall) and "cpu c1 c2 ..." (process CPU
 * time, all threads), after one untimed warm-up run that also builds the
 * kernels. */
#include "reel.h"

#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* CPU time of the whole process (PoCL's worker threads included): less
 * sensitive than wall time to other jobs on a shared machine. */
static double cpu_ms(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 +
         (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static int fail(const char *what) {
  fprintf(stderr, "bench_warp: %s: %s\n", what, reel_error_get());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: bench_warp IN.exr pin|resize FILTER REPS ARGS...\n");
    return 2;
  }
  int pin = !strcmp(argv[2], "pin"), reps = atoi(argv[4]);
  if ((pin && argc != 14) || (!pin && argc != 7)) {
    fprintf(stderr, "bench_warp: pin takes 9 matrix entries, resize WIDTH HEIGHT\n");
    return 2;
  }
  reel_graph_t *g = reel_graph_new();
  reel_node_t *r = reel_node_new(g, "Read", __FILE__, __LINE__);
  if (!r || reel_node_set_string(r, "path", argv[1]) || reel_node_finish(r)) return fail("Read");
  reel_node_t *n = reel_node_new(g, pin ? "CornerPin" : "Reformat", __FILE__, __LINE__);
  if (!n || reel_node_set_input(n, "img", r) || reel_node_set_string(n, "filter", argv[3]))
    return fail("node");
  if (pin) {
    for (int i = 0; i < 9; i++)
      if (reel_node_set_number(n, "matrix", i, atof(argv[5 + i]))) return fail("matrix");
  } else if (reel_node_set_number(n, "width", 0, atof(argv[5])) ||
             reel_node_set_number(n, "height", 0, atof(argv[6])) ||
             reel_node_set_string(n, "resize", "distort")) {
    return fail("size");
  }
  if (reel_node_finish(n)) return fail("node");
  if (reel_eval_image(g, n, 0, NULL, 1, NULL, NULL, NULL, NULL)) return fail("warm-up");
  double *ms = calloc((size_t)reps + 1, sizeof(double)), *cpu = calloc((size_t)reps + 1, sizeof(double));
  for (int i = 0; i < reps; i++) {
    double t0 = now_ms(), c0 = cpu_ms();
    if (reel_eval_image(g, n, 0, NULL, 1, NULL, NULL, NULL, NULL)) return fail("eval");
    ms[i] = now_ms() - t0;
    cpu[i] = cpu_ms() - c0;
  }
  printf("ms");
  for (int i = 0; i < reps; i++) printf(" %.3f", ms[i]);
  printf("\ncpu");
  for (int i = 0; i < reps; i++) printf(" %.3f", cpu[i]);
  printf("\n");
  free(ms);
  free(cpu);
  reel_graph_free(g);
  reel_shutdown();
  return 0;
}
