/* A growable byte buffer and a bounds-checked reader, for serialising values
 * into disk-cache entries and model files. Fields are little-endian. */
#ifndef REEL_BUF_H
#define REEL_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  unsigned char *p;
  size_t n, cap;
} reel_buf_t;

void reel_buf_free(reel_buf_t *b);
/* Returns a pointer to n new bytes at the end (or NULL with reel_error). */
void *reel_buf_grow(reel_buf_t *b, size_t n);
int reel_buf_put(reel_buf_t *b, const void *p, size_t n);
int reel_buf_u32(reel_buf_t *b, uint32_t v);
int reel_buf_u64(reel_buf_t *b, uint64_t v);
int reel_buf_f64(reel_buf_t *b, double v);
int reel_buf_str(reel_buf_t *b, const char *s);

typedef struct {
  const unsigned char *p;
  size_t n, at;
  int bad; /* set once a read ran past the end */
} reel_rd_t;

const void *reel_rd_take(reel_rd_t *r, size_t n);
uint32_t reel_rd_u32(reel_rd_t *r);
uint64_t reel_rd_u64(reel_rd_t *r);
double reel_rd_f64(reel_rd_t *r);
/* Copies a string into out (size cap); returns 0, or -1 if truncated/bad. */
int reel_rd_str(reel_rd_t *r, char *out, size_t cap);
/* Returns a malloc'd copy, or NULL (and r->bad) on a bad read. */
char *reel_rd_strdup(reel_rd_t *r);

#endif
