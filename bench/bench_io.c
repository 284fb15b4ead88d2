/* I/O timings for bench_io.sh: median ms of N reads through reel_io_read and
 * through OpenImageIO in process (--rss MB grows the process first; --probe
 * times reel_io_probe, the out-of-process fixed cost). --write COMP [--level
 * L] FILE OUT: N half EXR writes of FILE through reel_io_write and (unless
 * --reel-only) through OpenImageIO in process, the previous path, with the
 * sizes. */
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

static long fsize(const char *p) {
  FILE *f = fopen(p, "rb");
  long n = -1;
  if (f && !fseek(f, 0, SEEK_END)) n = ftell(f);
  if (f) fclose(f);
  return n;
}

/* OpenImageIO in process, as reel_io_write did before OpenEXRCore wrote
 * EXR: planes interleaved to float, written as half. */
static int oiio_write(const char *path, const reel_hostimg_t *h, const char *comp) {
  size_t w = (size_t)reel_box_w(h->data), ht = (size_t)reel_box_h(h->data), nch = (size_t)h->nch;
  float *buf = reel_pool_alloc(w * ht * nch * sizeof(float));
  if (!buf) return -1;
  for (size_t c = 0; c < nch; c++)
    for (size_t i = 0; i < w * ht; i++) buf[i * nch + c] = h->px[c * w * ht + i];
  reel_oiio_wspec_t ws;
  memset(&ws, 0, sizeof ws);
  ws.w = ws.fw = (int)w;
  ws.h = ws.fh = (int)ht;
  ws.nch = h->nch;
  for (int c = 0; c < h->nch; c++) ws.chnames[c] = h->ch[c];
  ws.elem = 4;
  ws.bits = 16;
  ws.half = 1;
  ws.compression = comp;
  char err[512];
  int rc = reel_oiio_write(path, "openexr", &ws, buf, err, sizeof err);
  if (rc) fprintf(stderr, "%s: %s\n", path, err);
  reel_pool_free(buf);
  return rc;
}

static int bench_write(const char *in, const char *comp, int level, const char *out, int n,
                       int reel_only) {
  reel_hostimg_t h = {0};
  reel_io_read_opts_t o = {0, NULL, NULL, 0};
  double t[1000], reel, oiio;
  if (reel_io_read(in, &o, &h)) {
    fprintf(stderr, "%s\n", reel_error_get());
    return 1;
  }
  reel_io_write_opts_t wo = {"exr", "half", comp, level};
  for (int i = 0; i < n; i++) {
    double t0 = now();
    if (reel_io_write(out, &wo, &h)) {
      fprintf(stderr, "%s\n", reel_error_get());
      return 1;
    }
    t[i] = now() - t0;
  }
  reel = median(t, n);
  long rsize = fsize(out);
  /* DWA goes through OpenImageIO either way */
  int dwa = !strcmp(comp, "dwaa") || !strcmp(comp, "dwab") || reel_only;
  for (int i = 0; i < n && !dwa; i++) {
    double t0 = now();
    if (oiio_write(out, &h, comp)) return 1;
    t[i] = now() - t0;
  }
  oiio = dwa ? reel : median(t, n);
  printf("%s level %d reel_ms %.1f oiio_inprocess_ms %.1f reel_bytes %ld oiio_bytes %ld\n", comp,
         level, reel, oiio, rsize, dwa ? rsize : fsize(out));
  reel_hostimg_clear(&h);
  return 0;
}

int main(int argc, char **argv) {
  int n = 5, probe = 0, a = 1, level = 0, reel_only = 0;
  size_t rss = 0;
  const char *wcomp = NULL;
  for (; a < argc && argv[a][0] == '-'; a++) {
    if (!strcmp(argv[a], "-n") && a + 1 < argc)
      n = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--write") && a + 1 < argc)
      wcomp = argv[++a];
    else if (!strcmp(argv[a], "--level") && a + 1 < argc)
      level = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--reel-only"))
      reel_only = 1;
    else if (!strcmp(argv[a], "--rss") && a + 1 < argc)
      rss = (size_t)atol(argv[++a]) << 20;
    else if (!strcmp(argv[a], "--probe"))
      probe = 1;
  }
  if (a >= argc || n < 1 || n > 1000 || (wcomp && a + 1 >= argc)) {
    fprintf(stderr, "usage: bench_io [-n N] [--rss MB] [--probe] FILE...\n"
                    "       bench_io [-n N] --write COMP [--level L] [--reel-only] FILE OUT.exr\n");
    return 2;
  }
  if (wcomp) return bench_write(argv[a], wcomp, level, argv[a + 1], n, reel_only);
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
        reel_io_read_opts_t o = {0, NULL, NULL, 0};
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
