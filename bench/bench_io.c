/* Read timings for bench_io.sh: each file read N times through Reel's
 * reel_io_read (OpenEXRCore for EXR, the forked OpenImageIO decoder for
 * the rest) and through OpenImageIO in process (ImageInput to float, as
 * oiiotool reads); prints the median ms of each. --rss MB first grows the
 * process by MB of touched memory (fork cost grows with the page tables);
 * --probe times reel_io_probe instead (the sandbox's fixed cost). */
#include "imageio.h"
#include "io_impl.h"
#include "pool.h"
#include "reel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* OpenImageIO in process: open, read every channel as float, close. */
static int oiio_read(const char *path, float **buf, size_t *cap) {
  unsigned char m[8] = {0};
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(m, 1, 8, f) : 0;
  if (f) fclose(f);
  reel_oiio_spec_t sp;
  char err[512];
  reel_oiio_in_t *in =
      reel_oiio_open(path, reel_io_fmt_name(reel_io_sniff(m, n)), 0, 0, &sp, err, sizeof err);
  if (!in) {
    fprintf(stderr, "%s: %s\n", path, err);
    return -1;
  }
  size_t need = (size_t)sp.w * sp.h * sp.nch * sizeof(float);
  if (need > *cap) {
    reel_pool_free(*buf);
    *buf = reel_pool_alloc(need);
    *cap = need;
  }
  int rc = reel_oiio_read(in, 0, sp.nch, 4, *buf, err, sizeof err);
  reel_oiio_close(in);
  return rc;
}

int main(int argc, char **argv) {
  int n = 5, probe = 0, a = 1;
  size_t rss = 0;
  for (; a < argc && argv[a][0] == '-'; a++) {
    if (!strcmp(argv[a], "-n") && a + 1 < argc)
      n = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--rss") && a + 1 < argc)
      rss = (size_t)atol(argv[++a]) << 20;
    else if (!strcmp(argv[a], "--probe"))
      probe = 1;
  }
  if (a >= argc || n < 1 || n > 1000) {
    fprintf(stderr, "usage: bench_io [-n N] [--rss MB] [--probe] FILE...\n");
    return 2;
  }
  /* REEL_BENCH_MALLOC=1: plain malloc'd (4 KiB pages) ballast, the worst case
   * for fork; else through the pool (huge pages), like Reel's frames */
  int plain = getenv("REEL_BENCH_MALLOC") != NULL;
  char *ballast = !rss ? NULL : plain ? malloc(rss) : reel_pool_alloc(rss);
  if (ballast) memset(ballast, 1, rss);
  double t[1000];
  float *buf = NULL;
  size_t cap = 0;
  for (; a < argc; a++) {
    const char *p = argv[a];
    for (int i = 0; i < n; i++) {
      double t0 = now();
      int rc;
      if (probe) {
        reel_io_info_t info = {0};
        rc = reel_io_probe(p, 0, &info);
        reel_io_info_clear(&info);
      } else {
        reel_hostimg_t h = {0};
        reel_io_read_opts_t o = {0, NULL, NULL};
        rc = reel_io_read(p, &o, &h);
        reel_hostimg_clear(&h);
      }
      if (rc) {
        fprintf(stderr, "%s\n", reel_error_get());
        return 1;
      }
      t[i] = now() - t0;
    }
    double reel = median(t, n), reel_min = t[0], oiio = 0, oiio_min = 0;
    if (!probe) {
      for (int i = 0; i < n; i++) {
        double t0 = now();
        if (oiio_read(p, &buf, &cap)) return 1;
        t[i] = now() - t0;
      }
      oiio = median(t, n);
      oiio_min = t[0];
    }
    /* medians, then minima (the machine's other load only adds time) */
    printf("%s reel_ms %.1f oiio_inprocess_ms %.1f min %.1f %.1f\n", p, reel, oiio, reel_min,
           oiio_min);
  }
  reel_pool_free(buf);
  if (plain)
    free(ballast);
  else
    reel_pool_free(ballast);
  return 0;
}
