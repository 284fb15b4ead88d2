/* One decode with OpenImageIO into buffers the caller provides: the body that
 * runs in the decoder helper (tools/reel_decode.c) and in the forked fallback
 * (io_sandbox.c), never in the rendering process itself. Channel names and
 * metadata go into a string area as "s\0" pairs; pixels interleaved, in the
 * sample size OpenImageIO reports (uint8, uint16 or float). */
#include "io_impl.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
  reel_dec_answer_t *a;
  char *s;
} strs_t;

static void put(strs_t *o, const char *s) {
  size_t n = strlen(s) + 1;
  if (o->a->strbytes + n > REEL_DEC_STRCAP) return; /* metadata past 1 MiB is dropped */
  memcpy(o->s + o->a->strbytes, s, n);
  o->a->strbytes += (uint32_t)n;
  o->a->nstr++;
}

static void put_attr(void *ud, const char *k, const char *v) {
  strs_t *o = ud;
  if (o->a->strbytes + strlen(k) + strlen(v) + 2 > REEL_DEC_STRCAP) return;
  put(o, k);
  put(o, v);
}

void reel_dec_run(const char *path, const char *fmt, int part, int threads, size_t pxcap,
                  reel_dec_answer_t *ans, char *strs, void *px) {
  strs_t o = {ans, strs};
  memset(ans, 0, sizeof *ans);
  ans->status = -1;
  reel_oiio_in_t *in =
      reel_oiio_open(path, fmt, part, threads, &ans->spec, ans->err, sizeof ans->err);
  if (!in) return;
  const reel_oiio_spec_t *sp = &ans->spec;
  size_t bytes = (size_t)sp->w * sp->h * sp->nch * sp->elem;
  if (sp->w <= 0 || sp->h <= 0 || sp->nch <= 0 || (int64_t)sp->w * sp->h > REEL_IO_MAXPIX ||
      (pxcap && bytes > pxcap)) {
    snprintf(ans->err, sizeof ans->err,
             "the decoder reports %dx%d pixels of %d channels, more than its header promised; the "
             "file is damaged",
             sp->w, sp->h, sp->nch);
    goto out;
  }
  for (int c = 0; c < sp->nch; c++) put(&o, reel_oiio_chname(in, c));
  reel_oiio_attrs(in, put_attr, &o);
  if (pxcap) {
#ifdef MADV_POPULATE_WRITE
    /* fresh pages: one call instead of a fault per page (no-op when mapped) */
    uintptr_t at = (uintptr_t)px & ~(uintptr_t)4095;
    madvise((void *)at, bytes + ((uintptr_t)px - at), MADV_POPULATE_WRITE);
#endif
    if (reel_oiio_read(in, 0, sp->nch, sp->elem, px, ans->err, sizeof ans->err)) goto out;
  }
  ans->status = 0;
out:
  reel_oiio_close(in);
}

size_t reel_dec_vmsize(void) {
  FILE *f = fopen("/proc/self/statm", "re");
  unsigned long pages = 0;
  if (f) {
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
  }
  return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

void reel_dec_tail(int fd, char *out, size_t cap) {
  char b[512];
  out[0] = 0;
  off_t end = lseek(fd, 0, SEEK_END);
  if (end <= 0) return;
  off_t at = end > (off_t)sizeof b - 1 ? end - (off_t)sizeof b + 1 : 0;
  ssize_t n = pread(fd, b, (size_t)(end - at), at);
  if (n <= 0) return;
  b[n] = 0;
  while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) b[--n] = 0;
  char *line = strrchr(b, '\n');
  snprintf(out, cap, " (it said: %.300s)", line ? line + 1 : b);
}
