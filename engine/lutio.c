/* Reading LUT and CDL files (grade.h): .cube (Iridas/Adobe and Resolve),
 * .3dl (Discreet/Lustre), .csp (cineSpace) and ASC CDL XML (.cc, .ccc,
 * .cdl). Readers follow OpenColorIO 2.1's interpretation of each format
 * (noted where it matters), check every count, number and size, and report
 * errors as "file:line: what is wrong: what to do". Writers: lutwrite.c. */
#include "error.h"
#include "grade.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_FILE (512u << 20) /* a 129^3 .cube in text is ~60 MB */

/* ---- text helpers ---- */

typedef struct {
  const char *path;
  char *text; /* the whole file, NUL-terminated */
  size_t len;
  char *at;   /* next line */
  int line;   /* number of the line last returned */
  char *back; /* a line handed back by src_unget, returned again next */
} src_t;

static void ferr(const src_t *s, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ferr(const src_t *s, int line, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (line > 0) reel_error(REEL_EUSER, "%s:%d: %s", s->path, line, msg);
  else reel_error(REEL_EUSER, "%s: %s", s->path, msg);
}

static int src_open(src_t *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->path = path;
  FILE *f = fopen(path, "rb");
  if (!f) {
    reel_error(REEL_EUSER, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE) {
    reel_error(REEL_EUSER, "%s: not a regular file of at most %u MB", path, MAX_FILE >> 20);
    fclose(f);
    return -1;
  }
  s->len = (size_t)st.st_size;
  s->text = malloc(s->len + 1);
  if (!s->text || fread(s->text, 1, s->len, f) != s->len) {
    reel_error(REEL_EIO, "%s: cannot read: %s", path, s->text ? strerror(errno) : "out of memory");
    fclose(f);
    free(s->text);
    s->text = NULL;
    return -1;
  }
  fclose(f);
  s->text[s->len] = 0;
  if (memchr(s->text, 0, s->len)) {
    ferr(s, 0, "holds NUL bytes: not a text LUT file");
    free(s->text);
    s->text = NULL;
    return -1;
  }
  s->at = s->text;
  return 0;
}

/* Hands back the line just read: the next src_line returns it again. */
static void src_unget(src_t *s, char *l) { s->back = l; }

static void src_close(src_t *s) {
  free(s->text);
  s->text = NULL;
}

/* The next line with surrounding blanks trimmed (CR, LF or CRLF ends), or
 * NULL at the end. The line is terminated in place. */
static char *src_line(src_t *s) {
  if (s->back) {
    char *l = s->back;
    s->back = NULL;
    return l;
  }
  if (!s->at || !*s->at) return NULL;
  char *l = s->at, *e = l + strcspn(l, "\r\n");
  s->at = *e ? e + (e[0] == '\r' && e[1] == '\n' ? 2 : 1) : e;
  *e = 0;
  s->line++;
  while (isspace((unsigned char)*l)) l++;
  while (e > l && isspace((unsigned char)e[-1])) *--e = 0;
  return l;
}

/* Splits a line into at most max whitespace-separated tokens (in place).
 * Returns the count, or max + 1 when there are more. */
static int split(char *l, char **tok, int max) {
  int n = 0;
  while (*l) {
    while (isspace((unsigned char)*l)) *l++ = 0;
    if (!*l) break;
    if (n == max) return max + 1;
    tok[n++] = l;
    while (*l && !isspace((unsigned char)*l)) l++;
  }
  return n;
}

/* A finite number filling the whole token. */
static int number(const char *t, double *out) {
  char *e;
  errno = 0;
  double v = strtod(t, &e);
  if (e == t || *e || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

static int integer(const char *t, long *out) {
  char *e;
  errno = 0;
  long v = strtol(t, &e, 10);
  if (e == t || *e || errno) return -1;
  *out = v;
  return 0;
}

/* Parses exactly n numbers from tokens, reporting the first bad one. */
static int numbers(const src_t *s, char **tok, int n, double *out) {
  for (int i = 0; i < n; i++)
    if (number(tok[i], &out[i])) {
      ferr(s, s->line, "'%s' is not a finite number", tok[i]);
      return -1;
    }
  return 0;
}

static const char *ext_of(const char *path) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  return dot && (!slash || dot > slash) ? dot + 1 : "";
}

/* ---- .cube ---- */

/* Iridas/Adobe (TITLE, DOMAIN_MIN/MAX, LUT_1D_SIZE or LUT_3D_SIZE) and
 * Resolve (LUT_1D_INPUT_RANGE, LUT_3D_INPUT_RANGE, and both sizes for a 1D
 * shaper feeding a 3D LUT) in one reader. Entries are R G B per line, red
 * fastest for 3D; the 1D entries come first. */
static reel_grade_t *read_cube(src_t *s) {
  long n1 = 0, n3 = 0;
  double dmin[3] = {0, 0, 0}, dmax[3] = {1, 1, 1}, r1[2] = {0, 1}, r3[2] = {0, 1};
  int has_domain = 0, has_r1 = 0, has_r3 = 0, data_line = 0;
  size_t got = 0, want = 0;
  float *t1 = NULL, *t3 = NULL;
  reel_grade_t *g = NULL;
  char *l, *tok[8];
  while ((l = src_line(s))) {
    if (!*l || *l == '#') continue;
    if (isalpha((unsigned char)*l)) {
      int line = s->line;
      if (data_line) {
        ferr(s, line, "keyword '%.40s' after the table began (line %d): keywords belong in the "
                      "header, before the entries",
             l, data_line);
        goto fail;
      }
      if (!strncasecmp(l, "TITLE", 5) && (!l[5] || isspace((unsigned char)l[5]))) continue;
      int nt = split(l, tok, 7);
      if (!strcasecmp(tok[0], "LUT_1D_SIZE") || !strcasecmp(tok[0], "LUT_3D_SIZE")) {
        int three = tok[0][4] == '3';
        long v, max = three ? REEL_LUT3D_MAX : REEL_LUT1D_MAX;
        if (nt != 2 || integer(tok[1], &v) || v < 2 || v > max) {
          ferr(s, line, "%s needs one whole number from 2 to %ld", tok[0], max);
          goto fail;
        }
        *(three ? &n3 : &n1) = v;
      } else if (!strcasecmp(tok[0], "DOMAIN_MIN") || !strcasecmp(tok[0], "DOMAIN_MAX")) {
        if (nt != 4) {
          ferr(s, line, "%s needs three numbers (R G B)", tok[0]);
          goto fail;
        }
        if (numbers(s, tok + 1, 3, toupper((unsigned char)tok[0][8]) == 'I' ? dmin : dmax))
          goto fail;
        has_domain = 1;
      } else if (!strcasecmp(tok[0], "LUT_1D_INPUT_RANGE") ||
                 !strcasecmp(tok[0], "LUT_3D_INPUT_RANGE")) {
        int three = tok[0][4] == '3';
        if (nt != 3) {
          ferr(s, line, "%s needs two numbers (min max)", tok[0]);
          goto fail;
        }
        if (numbers(s, tok + 1, 2, three ? r3 : r1)) goto fail;
        *(three ? &has_r3 : &has_r1) = 1;
        if (!((three ? r3 : r1)[1] > (three ? r3 : r1)[0])) {
          ferr(s, line, "%s: max must be above min", tok[0]);
          goto fail;
        }
      } else {
        ferr(s, line, "unknown keyword '%.40s': a .cube file has TITLE, LUT_1D_SIZE, "
                      "LUT_3D_SIZE, DOMAIN_MIN, DOMAIN_MAX, LUT_1D_INPUT_RANGE, "
                      "LUT_3D_INPUT_RANGE, comments (#) and R G B entries",
             tok[0]);
        goto fail;
      }
      continue;
    }
    /* an entry */
    if (!data_line) {
      data_line = s->line;
      if (!n1 && !n3) {
        ferr(s, s->line,
             "entries before LUT_1D_SIZE or LUT_3D_SIZE: the header must give the size");
        goto fail;
      }
      want = (size_t)n1 + (size_t)n3 * n3 * n3;
      if ((n1 && !(t1 = malloc(sizeof(float) * 3 * n1))) ||
          (n3 && !(t3 = malloc(sizeof(float) * 3 * n3 * n3 * n3)))) {
        reel_error(REEL_EIO, "%s: out of memory", s->path);
        goto fail;
      }
    }
    int nt = split(l, tok, 3);
    if (nt != 3) {
      ferr(s, s->line, "expected three numbers (R G B), found %s", nt > 3 ? "more" : "fewer");
      goto fail;
    }
    if (got >= want) {
      ferr(s, s->line, "more entries than the header's sizes hold (%zu): check LUT_%dD_SIZE", want,
           n3 ? 3 : 1);
      goto fail;
    }
    double v[3];
    if (numbers(s, tok, 3, v)) goto fail;
    float *d = got < (size_t)n1 ? t1 + 3 * got : t3 + 3 * (got - (size_t)n1);
    for (int c = 0; c < 3; c++) d[c] = (float)v[c];
    got++;
  }
  if (!n1 && !n3) {
    ferr(s, 0, "no LUT_1D_SIZE or LUT_3D_SIZE: not a .cube LUT");
    goto fail;
  }
  want = (size_t)n1 + (size_t)n3 * n3 * n3;
  if (got < want) {
    ferr(s, s->line, "ends after %zu of the %zu entries the header announces: the file is "
                     "truncated, or its size line is wrong",
         got, want);
    goto fail;
  }
  for (int c = 0; c < 3; c++)
    if (!(dmax[c] > dmin[c])) {
      ferr(s, 0, "DOMAIN_MAX must be above DOMAIN_MIN in every channel");
      goto fail;
    }
  if (has_domain && ((n1 && has_r1) || (!n1 && has_r3))) {
    ferr(s, 0, "gives both DOMAIN_MIN/MAX and LUT_*_INPUT_RANGE for one table: keep one");
    goto fail;
  }
  if (!(g = reel_grade_new())) goto fail;
  if (n1) {
    reel_gop_t *op = reel_grade_add(g, REEL_GOP_LUT1D, (int)n1);
    if (!op) goto fail;
    memcpy(op->lut, t1, sizeof(float) * 3 * n1);
    for (int c = 0; c < 3; c++) {
      op->lo[c] = has_domain ? dmin[c] : r1[0];
      op->hi[c] = has_domain ? dmax[c] : r1[1];
    }
  }
  if (n3) {
    reel_gop_t *op = reel_grade_add(g, REEL_GOP_LUT3D, (int)n3);
    if (!op) goto fail;
    memcpy(op->lut, t3, sizeof(float) * 3 * n3 * n3 * n3);
    for (int c = 0; c < 3; c++) {
      op->lo[c] = has_domain && !n1 ? dmin[c] : r3[0];
      op->hi[c] = has_domain && !n1 ? dmax[c] : r3[1];
    }
  }
  free(t1);
  free(t3);
  return g;
fail:
  free(t1);
  free(t3);
  reel_grade_unref(g);
  return NULL;
}

/* ---- .3dl ---- */

/* OpenColorIO's reading: a line of more than 3 integers is the shaper (the
 * 3D LUT's input positions; kept as a 1D LUT when it is not the identity
 * within 2 codes), lines of 3 integers are entries, blue fastest; other
 * lines (3DMESH, Mesh, LUT8, gamma) are skipped. Bit depths come from the
 * largest value: 8, 10, 12 or 16 bits where it is at most twice the top
 * code (14 counts as 16). */
static int likely_bits(long max) {
  for (int b = 8; b <= 16; b += 2)
    if (max <= (1L << b) * 2 - 1) return b == 14 ? 16 : b;
  return 16;
}

static reel_grade_t *read_3dl(src_t *s) {
  long *shaper = NULL, *cube = NULL, max3 = 0;
  size_t nsh = 0, n3 = 0, cap3 = 0;
  reel_grade_t *g = NULL;
  char *l, *tok[4100];
  while ((l = src_line(s))) {
    if (!*l || *l == '#') continue;
    if (*l == '<') {
      ferr(s, s->line, "a line starting with '<': this looks like XML, not a .3dl LUT");
      goto fail;
    }
    int nt = split(l, tok, 4096);
    double dummy;
    if (number(tok[0], &dummy) && strcasecmp(tok[0], "nan") && strcasecmp(tok[0], "inf"))
      continue; /* a keyword line */
    if (nt > 4096) {
      ferr(s, s->line, "more than 4096 values on one line");
      goto fail;
    }
    long v[4096];
    for (int i = 0; i < nt; i++)
      if (integer(tok[i], &v[i]) || v[i] < 0 || v[i] > 1 << 20) {
        ferr(s, s->line, "'%s' is not a code value: a .3dl file holds whole numbers from 0 "
                         "(typically up to 1023, 4095 or 65535)",
             tok[i]);
        goto fail;
      }
    if (nt > 3) {
      if (shaper) {
        ferr(s, s->line, "a second shaper line (a .3dl has at most one)");
        goto fail;
      }
      if (!(shaper = malloc(sizeof(long) * (size_t)nt))) goto oom;
      memcpy(shaper, v, sizeof(long) * (size_t)nt);
      nsh = (size_t)nt;
    } else if (nt == 3) {
      if (n3 == (size_t)REEL_LUT3D_MAX * REEL_LUT3D_MAX * REEL_LUT3D_MAX) {
        ferr(s, s->line, "more entries than a %d^3 LUT holds", REEL_LUT3D_MAX);
        goto fail;
      }
      if (n3 == cap3) {
        cap3 = cap3 ? 2 * cap3 : 4096;
        long *c = realloc(cube, sizeof(long) * 3 * cap3);
        if (!c) goto oom;
        cube = c;
      }
      for (int c = 0; c < 3; c++) {
        cube[3 * n3 + c] = v[c];
        if (v[c] > max3) max3 = v[c];
      }
      n3++;
    } else {
      ferr(s, s->line, "%d value%s on a line: entries have three (R G B)", nt, nt == 1 ? "" : "s");
      goto fail;
    }
  }
  if (!n3 && !nsh) {
    ferr(s, 0, "no shaper line and no entries: not a .3dl LUT");
    goto fail;
  }
  if (!(g = reel_grade_new())) goto fail;
  if (nsh) {
    long smax = 0;
    for (size_t i = 0; i < nsh; i++)
      if (shaper[i] > smax) smax = shaper[i];
    if (smax < 128) {
      ferr(s, 0, "the largest shaper value is %ld, implausibly low for integer codes: not a "
                 ".3dl LUT",
           smax);
      goto fail;
    }
    double scale = (double)((1L << likely_bits(smax)) - 1), step = scale / (double)(nsh - 1);
    int ident = 1;
    for (size_t i = 0; i < nsh; i++)
      if (fabs((double)i * step - (double)shaper[i]) >= 2) ident = 0;
    if (!ident) {
      reel_gop_t *op = reel_grade_add(g, REEL_GOP_LUT1D, (int)nsh);
      if (!op) goto fail;
      for (size_t i = 0; i < nsh; i++)
        for (int c = 0; c < 3; c++) op->lut[3 * i + c] = (float)((double)shaper[i] / scale);
    }
  }
  if (n3) {
    if (max3 < 128) {
      ferr(s, 0, "the largest entry is %ld, implausibly low for integer codes: not a .3dl LUT",
           max3);
      goto fail;
    }
    int n = (int)lround(cbrt((double)n3));
    if ((size_t)n * n * n != n3 || n < 2) {
      ferr(s, 0, "%zu entries do not make a cube (n^3 for n from 2): the file is truncated or "
                 "has extra lines",
           n3);
      goto fail;
    }
    reel_gop_t *op = reel_grade_add(g, REEL_GOP_LUT3D, n);
    if (!op) goto fail;
    double scale = (double)((1L << likely_bits(max3)) - 1);
    for (size_t e = 0; e < n3; e++) { /* blue fastest in the file */
      size_t r = e / ((size_t)n * n), gg = e / (size_t)n % (size_t)n, b = e % (size_t)n;
      float *d = op->lut + 3 * ((b * (size_t)n + gg) * (size_t)n + r);
      for (int c = 0; c < 3; c++) d[c] = (float)((double)cube[3 * e + c] / scale);
    }
  }
  free(shaper);
  free(cube);
  return g;
oom:
  reel_error(REEL_EIO, "%s: out of memory", s->path);
fail:
  free(shaper);
  free(cube);
  reel_grade_unref(g);
  return NULL;
}

/* ---- .csp ---- */

/* cineSpace's prelut: a cubic through (in[i], out[i]) with the slopes of
 * OpenColorIO's rsr_Interpolator1D, evaluated in float as it is, then
 * resampled like OpenColorIO into 65536 entries over [in[0], in[n-1]]. */
#define PRELUT_SAMPLES 65536

static float prelut_eval(const float *in, const float *out, int n, float x) {
  if (x < in[0]) return out[0];
  if (x > in[n - 1]) return out[n - 1];
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (x < in[mid]) hi = mid;
    else lo = mid;
  }
  int i = lo;
  float f0 = out[i], f1 = out[i + 1], a, b, c, d;
  if (n == 2) {
    a = f0, b = f1 - f0, c = d = 0;
  } else if (i == 0) {
    float delta = in[1] - in[0], delta2 = (in[2] - in[1]) / delta;
    float d1 = (out[2] - f0) / (1 + delta2);
    a = f0, b = -2.0f * f0 + 2.0f * f1 - d1, c = f0 - f1 + d1, d = 0;
  } else if (i == n - 2) {
    float delta = in[i + 1] - in[i], delta1 = (in[i] - in[i - 1]) / delta;
    float d0 = (f1 - out[i - 1]) / (1 + delta1);
    a = f0, b = d0, c = -f0 + f1 - d0, d = 0;
  } else {
    float delta = in[i + 1] - in[i], delta1 = (in[i] - in[i - 1]) / delta;
    float delta2 = (in[i + 2] - in[i + 1]) / delta;
    float d0 = (f1 - out[i - 1]) / (1.0f + delta1), d1 = (out[i + 2] - f0) / (1.0f + delta2);
    a = f0, b = d0, c = -3.0f * f0 - 2.0f * d0 + 3.0f * f1 - d1,
    d = 2.0f * f0 + d0 - 2.0f * f1 + d1;
  }
  float z = (x - in[i]) * (1.0f / (in[i + 1] - in[i]));
  return a + z * (b + z * (c + d * z));
}

/* Reads the numbers of the next non-blank line into v (want of them). */
static int csp_row(src_t *s, int want, float *v, const char *what) {
  char *l;
  do {
    l = src_line(s);
  } while (l && !*l);
  if (!l) {
    ferr(s, s->line, "ends before the %s: the file is truncated", what);
    return -1;
  }
  char **tok = malloc(sizeof(char *) * (size_t)(want + 1));
  if (!tok) return -1;
  int nt = split(l, tok, want), rc = 0;
  if (nt != want) {
    ferr(s, s->line, "the %s needs %d number%s, found %s", what, want, want == 1 ? "" : "s",
         nt > want ? "more" : "fewer");
    rc = -1;
  }
  for (int i = 0; !rc && i < want; i++) {
    double x;
    if (number(tok[i], &x)) {
      ferr(s, s->line, "'%s' in the %s is not a finite number", tok[i], what);
      rc = -1;
    } else {
      v[i] = (float)x;
    }
  }
  free(tok);
  return rc;
}

static int csp_count(src_t *s, const char *what, long lo, long hi, long *out) {
  float v;
  if (csp_row(s, 1, &v, what)) return -1;
  if (v != floorf(v) || v < lo || v > hi) {
    ferr(s, s->line, "the %s must be a whole number from %ld to %ld", what, lo, hi);
    return -1;
  }
  *out = (long)v;
  return 0;
}

static reel_grade_t *read_csp(src_t *s) {
  float *pin[3] = {0}, *pout[3] = {0};
  long np[3] = {0};
  reel_grade_t *g = NULL;
  char *l;
  do {
    l = src_line(s);
  } while (l && !*l);
  if (!l || strncasecmp(l, "CSPLUTV100", 10)) {
    ferr(s, s->line, "does not start with CSPLUTV100: not a cineSpace LUT");
    return NULL;
  }
  do {
    l = src_line(s);
  } while (l && !*l);
  int is3d = l && !strncasecmp(l, "3D", 2);
  if (!l || (!is3d && strncasecmp(l, "1D", 2))) {
    ferr(s, s->line, "the second line must say 1D or 3D");
    return NULL;
  }
  /* optional metadata block */
  int mline = s->line;
  do {
    l = src_line(s);
  } while (l && !*l);
  if (l && !strncasecmp(l, "BEGIN METADATA", 14)) {
    while ((l = src_line(s)) && strncasecmp(l, "END METADATA", 12)) {
    }
    if (!l) {
      ferr(s, mline + 1, "BEGIN METADATA without END METADATA");
      return NULL;
    }
  } else if (l) {
    src_unget(s, l); /* not metadata: the first prelut line */
  }
  int use = 0;
  for (int c = 0; c < 3; c++) {
    char what[64];
    snprintf(what, sizeof what, "prelut size of channel %d", c + 1);
    if (csp_count(s, what, 0, 1 << 20, &np[c])) goto fail;
    if (np[c] < 2) { /* 0 or 1 point: the identity */
      np[c] = 2;
      if (!(pin[c] = malloc(2 * sizeof(float))) || !(pout[c] = malloc(2 * sizeof(float)))) goto oom;
      pin[c][0] = pout[c][0] = 0, pin[c][1] = pout[c][1] = 1;
      continue;
    }
    if (!(pin[c] = malloc(sizeof(float) * (size_t)np[c])) ||
        !(pout[c] = malloc(sizeof(float) * (size_t)np[c])))
      goto oom;
    snprintf(what, sizeof what, "prelut inputs of channel %d", c + 1);
    if (csp_row(s, (int)np[c], pin[c], what)) goto fail;
    for (long i = 1; i < np[c]; i++)
      if (!(pin[c][i] > pin[c][i - 1])) {
        ferr(s, s->line, "prelut inputs of channel %d must increase", c + 1);
        goto fail;
      }
    snprintf(what, sizeof what, "prelut outputs of channel %d", c + 1);
    if (csp_row(s, (int)np[c], pout[c], what)) goto fail;
    for (long i = 0; i < np[c]; i++) {
      float a = pin[c][i], b = pout[c][i], m = fmaxf(fabsf(a), fabsf(b));
      if (fabsf(a - b) > 1e-6f * (m > 0 ? m : 1)) use = 1;
    }
  }
  if (!(g = reel_grade_new())) goto fail;
  if (use) {
    reel_gop_t *op = reel_grade_add(g, REEL_GOP_LUT1D, PRELUT_SAMPLES);
    if (!op) goto fail;
    for (int c = 0; c < 3; c++) {
      int n = (int)np[c];
      float lo = pin[c][0], hi = pin[c][n - 1];
      op->lo[c] = lo, op->hi[c] = hi;
      for (int i = 0; i < PRELUT_SAMPLES; i++) {
        float t = (float)i / (float)(PRELUT_SAMPLES - 1);
        op->lut[3 * i + c] = prelut_eval(pin[c], pout[c], n, lo + t * (hi - lo));
      }
    }
  }
  if (is3d) {
    float sz[3];
    if (csp_row(s, 3, sz, "cube size line (N N N)")) goto fail;
    if (sz[0] != sz[1] || sz[0] != sz[2] || sz[0] != floorf(sz[0]) || sz[0] < 2 ||
        sz[0] > REEL_LUT3D_MAX) {
      ferr(s, s->line, "the cube size must be three equal whole numbers from 2 to %d",
           REEL_LUT3D_MAX);
      goto fail;
    }
    int n = (int)sz[0];
    reel_gop_t *op = reel_grade_add(g, REEL_GOP_LUT3D, n);
    if (!op) goto fail;
    for (size_t e = 0; e < (size_t)n * n * n; e++)
      if (csp_row(s, 3, op->lut + 3 * e, "3D LUT entry")) goto fail; /* red fastest */
  } else {
    long n;
    if (csp_count(s, "1D LUT size", 2, REEL_LUT1D_MAX, &n)) goto fail;
    reel_gop_t *op = reel_grade_add(g, REEL_GOP_LUT1D, (int)n);
    if (!op) goto fail;
    for (long e = 0; e < n; e++)
      if (csp_row(s, 3, op->lut + 3 * e, "1D LUT entry")) goto fail;
  }
  while ((l = src_line(s)))
    if (*l) {
      ferr(s, s->line, "text after the last entry: the size line and the entries disagree");
      goto fail;
    }
  for (int c = 0; c < 3; c++) free(pin[c]), free(pout[c]);
  return g;
oom:
  reel_error(REEL_EIO, "%s: out of memory", s->path);
fail:
  for (int c = 0; c < 3; c++) free(pin[c]), free(pout[c]);
  reel_grade_unref(g);
  return NULL;
}

/* ---- ASC CDL XML: .cc, .ccc, .cdl ---- */

static int line_of(const src_t *s, const char *p) {
  int n = 1;
  for (const char *q = s->text; q < p; q++) n += *q == '\n';
  return n;
}

/* The start of the next element named `name` in [p, end) ("<name>" or
 * "<name attr...>"), or NULL. */
static char *find_tag(char *p, const char *end, const char *name) {
  size_t n = strlen(name);
  for (; p && p < end; p++) {
    p = memchr(p, '<', (size_t)(end - p));
    if (!p) return NULL;
    if ((size_t)(end - p) > n + 1 && !strncmp(p + 1, name, n) &&
        (p[n + 1] == '>' || p[n + 1] == '/' || isspace((unsigned char)p[n + 1])))
      return p;
  }
  return NULL;
}

/* Numbers of element `name` inside [p, end): 0 if absent, 1 if read, -1 on
 * error. */
static int cdl_values(const src_t *s, char *p, char *end, const char *name, int want,
                      double *out) {
  char *t = find_tag(p, end, name);
  if (!t) return 0;
  char *body = memchr(t, '>', (size_t)(end - t));
  char *close = body ? memchr(body, '<', (size_t)(end - body)) : NULL;
  if (!close) {
    ferr(s, line_of(s, t), "<%s> is not closed", name);
    return -1;
  }
  if (body[-1] == '/') {
    ferr(s, line_of(s, t), "<%s/> is empty: it needs %d number%s", name, want, want > 1 ? "s" : "");
    return -1;
  }
  char save = *close, *tok[4];
  *close = 0;
  char buf[512];
  snprintf(buf, sizeof buf, "%s", body + 1);
  *close = save;
  int nt = split(buf, tok, want);
  if (nt != want) {
    ferr(s, line_of(s, t), "<%s> needs %d number%s, found %s", name, want, want > 1 ? "s" : "",
         nt > want ? "more" : nt ? "fewer" : "none");
    return -1;
  }
  for (int i = 0; i < want; i++)
    if (number(tok[i], &out[i])) {
      ferr(s, line_of(s, t), "<%s>: '%s' is not a finite number", name, tok[i]);
      return -1;
    }
  return 1;
}

/* The '>' that ends the tag starting at p, skipping quoted values. */
static char *tag_end(char *p, const char *end) {
  char quote = 0;
  for (; p < end; p++) {
    if (quote) quote = *p == quote ? 0 : quote;
    else if (*p == '"' || *p == '\'') quote = *p;
    else if (*p == '>') return p;
  }
  return NULL;
}

/* The text of [v, e) with XML's five entities decoded, into out. */
static void unescape(char *out, size_t cap, const char *v, const char *e) {
  static const struct {
    const char *ent;
    char c;
  } ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
  size_t n = 0;
  while (v < e && n + 1 < cap) {
    size_t k = 0;
    for (; k < sizeof ents / sizeof ents[0]; k++) {
      size_t l = strlen(ents[k].ent);
      if ((size_t)(e - v) >= l && !strncmp(v, ents[k].ent, l)) {
        out[n++] = ents[k].c;
        v += l;
        break;
      }
    }
    if (k == sizeof ents / sizeof ents[0]) out[n++] = *v++;
  }
  out[n] = 0;
}

/* The id attribute of the tag [tag, gt), decoded, into out ("" if none). */
static void attr_id(const char *tag, const char *gt, char *out, size_t cap) {
  out[0] = 0;
  for (const char *a = tag + 1; a < gt;) {
    const char *q = strstr(a, "id");
    if (!q || q >= gt) return;
    const char *e = q + 2;
    while (isspace((unsigned char)*e)) e++;
    if (isspace((unsigned char)q[-1]) && *e == '=') {
      e++;
      while (isspace((unsigned char)*e)) e++;
      char quote = *e;
      const char *v = e + 1, *ve = (quote == '"' || quote == '\'') ? strchr(v, quote) : NULL;
      if (ve && ve < gt) unescape(out, cap, v, ve);
      return;
    }
    a = q + 2;
  }
}

static reel_grade_t *read_cdl(src_t *s, const char *id) {
  char *end = s->text + s->len;
  /* blank out comments, keeping their newlines for line numbers */
  for (char *c = strstr(s->text, "<!--"); c; c = strstr(c, "<!--")) {
    char *e = strstr(c + 4, "-->");
    e = e ? e + 3 : end;
    for (; c < e; c++)
      if (*c != '\n') *c = ' ';
  }
  char ids[1024] = "";
  int count = 0, line = 0;
  char *pick = NULL, *pick_end = NULL;
  /* an id, or (as OpenColorIO's cccid) a position from 0 when no id matches */
  char *idx_end = NULL;
  long index = id && *id ? strtol(id, &idx_end, 10) : -1;
  if (!idx_end || *idx_end || index < 0) index = -1;
  for (int pass = 0; pass < 2 && !pick; pass++) {
    count = 0;
    ids[0] = 0;
    for (char *cc = find_tag(s->text, end, "ColorCorrection"); cc;
         cc = find_tag(cc + 1, end, "ColorCorrection")) {
      char *gt = tag_end(cc, end);
      char *close = gt ? strstr(gt, "</ColorCorrection>") : NULL;
      if (!close) {
        ferr(s, line_of(s, cc), "<ColorCorrection> is not closed: the file is truncated");
        return NULL;
      }
      char cid[256] = "";
      attr_id(cc, gt, cid, sizeof cid);
      size_t il = strlen(ids);
      if (il < sizeof ids - 40)
        snprintf(ids + il, sizeof ids - il, "%s%s", il ? ", " : "", *cid ? cid : "(no id)");
      int want = pass == 0 ? (id && *id ? !strcmp(cid, id) : 1) : count == index;
      if (!pick && want) {
        pick = gt + 1, pick_end = close;
        line = line_of(s, cc);
      }
      count++;
      cc = close;
    }
    if (!id || !*id || index < 0) break;
  }
  if (!count) {
    ferr(s, 0, "no <ColorCorrection> element: not an ASC CDL file (.cc, .ccc, .cdl)");
    return NULL;
  }
  if (id && *id && !pick) {
    ferr(s, 0, "no ColorCorrection with id \"%s\"; the file holds %s: set id to one of them "
               "(or to a position from 0)",
         id, ids);
    return NULL;
  }
  if ((!id || !*id) && count > 1) {
    ferr(s, 0, "holds %d ColorCorrections (ids %s): choose one with id = \"...\" (an id, or a "
               "position from 0)",
         count, ids);
    return NULL;
  }
  reel_grade_t *g = reel_grade_new();
  reel_gop_t *op = g ? reel_grade_add(g, REEL_GOP_CDL, 0) : NULL;
  if (!op) goto fail;
  /* SOPNode/SatNode, and the ASC_SOP/ASC_SAT some tools write (which
   * OpenColorIO 2.1 ignores, with a warning) */
  if (cdl_values(s, pick, pick_end, "Slope", 3, op->slope) < 0 ||
      cdl_values(s, pick, pick_end, "Offset", 3, op->offset) < 0 ||
      cdl_values(s, pick, pick_end, "Power", 3, op->power) < 0 ||
      cdl_values(s, pick, pick_end, "Saturation", 1, &op->sat) < 0)
    goto fail;
  for (int c = 0; c < 3; c++)
    if (op->slope[c] < 0 || op->power[c] <= 0) {
      ferr(s, line, "ColorCorrection: slopes must be >= 0 and powers > 0 (ASC CDL v1.2)");
      goto fail;
    }
  if (op->sat < 0) {
    ferr(s, line, "ColorCorrection: saturation must be >= 0 (ASC CDL v1.2)");
    goto fail;
  }
  return g;
fail:
  reel_grade_unref(g);
  return NULL;
}

reel_grade_t *reel_grade_load_file(const char *path, const char *id) {
  const char *ext = ext_of(path);
  enum { CUBE, L3DL, CSP, CDL } kind;
  if (!strcasecmp(ext, "cube")) kind = CUBE;
  else if (!strcasecmp(ext, "3dl")) kind = L3DL;
  else if (!strcasecmp(ext, "csp")) kind = CSP;
  else if (!strcasecmp(ext, "cc") || !strcasecmp(ext, "ccc") || !strcasecmp(ext, "cdl")) kind = CDL;
  else {
    reel_error(REEL_EUSER, "%s: unknown LUT format '.%s': Reel reads .cube, .3dl, .csp, .cc, "
                           ".ccc and .cdl",
               path, ext);
    return NULL;
  }
  if (id && *id && kind != CDL) {
    reel_error(REEL_EUSER, "%s: id \"%s\" selects a ColorCorrection in .cc/.ccc/.cdl files; a "
                           ".%s file has none: leave id out",
               path, id, ext);
    return NULL;
  }
  src_t s;
  if (src_open(&s, path)) return NULL;
  reel_grade_t *g = kind == CUBE   ? read_cube(&s)
                    : kind == L3DL ? read_3dl(&s)
                    : kind == CSP  ? read_csp(&s)
                                   : read_cdl(&s, id);
  src_close(&s);
  if (g && reel_grade_check(g, path)) {
    reel_grade_unref(g);
    g = NULL;
  }
  return g;
}
