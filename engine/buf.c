/* Growable byte buffer and bounds-checked reader (buf.h). */
#include "buf.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

void reel_buf_free(reel_buf_t *b) {
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
}

void *reel_buf_grow(reel_buf_t *b, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
      reel_error(REEL_EIO, "out of memory (%zu bytes)", cap);
      return NULL;
    }
    b->p = p;
    b->cap = cap;
  }
  void *at = b->p + b->n;
  b->n += n;
  return at;
}

int reel_buf_put(reel_buf_t *b, const void *p, size_t n) {
  void *d = reel_buf_grow(b, n);
  if (!d) return -1;
  if (n) memcpy(d, p, n);
  return 0;
}

int reel_buf_u64(reel_buf_t *b, uint64_t v) {
  unsigned char x[8];
  for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
  return reel_buf_put(b, x, 8);
}

int reel_buf_u32(reel_buf_t *b, uint32_t v) {
  unsigned char x[4];
  for (int i = 0; i < 4; i++) x[i] = (unsigned char)(v >> (8 * i));
  return reel_buf_put(b, x, 4);
}

int reel_buf_f64(reel_buf_t *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  return reel_buf_u64(b, u);
}

int reel_buf_str(reel_buf_t *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (reel_buf_u32(b, (uint32_t)n)) return -1;
  return reel_buf_put(b, s, n);
}

const void *reel_rd_take(reel_rd_t *r, size_t n) {
  if (r->bad || n > r->n - r->at) {
    r->bad = 1;
    return NULL;
  }
  const void *p = r->p + r->at;
  r->at += n;
  return p;
}

uint64_t reel_rd_u64(reel_rd_t *r) {
  const unsigned char *x = reel_rd_take(r, 8);
  uint64_t v = 0;
  if (x)
    for (int i = 7; i >= 0; i--) v = v << 8 | x[i];
  return v;
}

uint32_t reel_rd_u32(reel_rd_t *r) {
  const unsigned char *x = reel_rd_take(r, 4);
  uint32_t v = 0;
  if (x)
    for (int i = 3; i >= 0; i--) v = v << 8 | x[i];
  return v;
}

double reel_rd_f64(reel_rd_t *r) {
  uint64_t u = reel_rd_u64(r);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

int reel_rd_str(reel_rd_t *r, char *out, size_t cap) {
  uint32_t n = reel_rd_u32(r);
  const char *s = reel_rd_take(r, n);
  if (!s || n >= cap) {
    r->bad = 1;
    if (cap) out[0] = 0;
    return -1;
  }
  memcpy(out, s, n);
  out[n] = 0;
  return 0;
}

char *reel_rd_strdup(reel_rd_t *r) {
  uint32_t n = reel_rd_u32(r);
  const char *s = reel_rd_take(r, n);
  if (!s) return NULL;
  char *d = malloc((size_t)n + 1);
  if (!d) {
    r->bad = 1;
    return NULL;
  }
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}
