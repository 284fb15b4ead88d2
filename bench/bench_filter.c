/* Times one filter node in-process through the public API: Read(IN) -> NODE
 * with the given parameters, evaluated with reel_eval_image(fresh = 1), which
 * drops only the node's own cached result, so the read stays cached and each
 * run times the filter (padding, passes, device finish). The first run
 * (kernel build) is not counted.
 *   build/bench/bench_filter IN.exr NODE [param=value ...] [-n RUNS]
 * (a value with commas sets a list, kernel=1,2,1,2,4,2,1,2,1, or the
 * components of a box or vector, box=0,0,100,50)
 * prints "ms median MEDIAN min MIN runs N". */
#include "reel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int fail(void) {
  fprintf(stderr, "bench_filter: %s\n", reel_error_get());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_filter IN.exr NODE [param=value ...] [-n RUNS]\n");
    return 2;
  }
  int runs = 7;
  reel_graph_t *g = reel_graph_new();
  reel_node_t *rd = reel_node_new(g, "Read", "bench", 0);
  if (!rd || reel_node_set_string(rd, "path", argv[1]) || reel_node_finish(rd)) return fail();
  reel_node_t *n = reel_node_new(g, argv[2], "bench", 0);
  if (!n || reel_node_set_input(n, "#1", rd)) return fail();
  for (int i = 3; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) {
      runs = atoi(argv[++i]);
      continue;
    }
    char *eq = strchr(argv[i], '=');
    if (!eq) return fprintf(stderr, "bench_filter: '%s' is not param=value\n", argv[i]), 2;
    *eq = 0;
    if (strchr(eq + 1, ',')) {
      double v[4096];
      int nv = 0;
      for (char *s = eq + 1; s && nv < 4096; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL)
        v[nv++] = atof(s);
      int d = reel_desc_find(argv[2]), p = -1;
      for (int q = 0; d >= 0 && q < reel_desc_nparams(d); q++)
        if (!strcmp(reel_desc_param_name(d, q), argv[i])) p = q;
      if (p >= 0 && strcmp(reel_desc_param_type(d, p), "list")) {
        for (int c = 0; c < nv; c++)
          if (reel_node_set_number(n, argv[i], c, v[c])) return fail();
      } else if (reel_node_set_list(n, argv[i], nv, v))
        return fail();
    } else if (reel_node_set_number(n, argv[i], 0, atof(eq + 1)))
      return fail();
  }
  if (reel_node_finish(n)) return fail();
  if (runs < 1 || runs > 1000) runs = 7;
  double *t = calloc((size_t)runs, sizeof *t);
  if (!t || reel_eval_image(g, n, 1, NULL, 1, NULL, NULL, NULL, NULL)) return fail();
  for (int i = 0; i < runs; i++) {
    double t0 = now();
    if (reel_eval_image(g, n, 1, NULL, 1, NULL, NULL, NULL, NULL)) return fail();
    t[i] = (now() - t0) * 1e3;
  }
  qsort(t, (size_t)runs, sizeof *t, cmp);
  printf("ms median %.2f min %.2f runs %d\n", t[runs / 2], t[0], runs);
  free(t);
  reel_graph_free(g);
  reel_shutdown();
  return 0;
}
