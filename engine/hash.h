/* Content keys: XXH3-128 over a canonical byte encoding. A key names a result
 * (a node's output at a frame), a file's content, or a kernel source. The
 * encoding helpers write fixed-width little-endian fields with a tag and a
 * length, so that two different sequences of fields never encode alike. */
#ifndef REEL_HASH_H
#define REEL_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t hi, lo;
} reel_key_t;

#define REEL_KEY_HEX 33 /* 32 hex digits + NUL */

typedef struct reel_hasher reel_hasher_t;

reel_hasher_t *reel_hasher_new(void);
void reel_hasher_free(reel_hasher_t *h);
void reel_hasher_reset(reel_hasher_t *h);
void reel_hash_bytes(reel_hasher_t *h, const void *p, size_t n);
void reel_hash_str(reel_hasher_t *h, const char *s); /* length-prefixed; NULL ok */
void reel_hash_i64(reel_hasher_t *h, int64_t v);
void reel_hash_f64(reel_hasher_t *h, double v); /* -0 and 0 hash alike */
void reel_hash_key(reel_hasher_t *h, const reel_key_t *k);
reel_key_t reel_hasher_digest(const reel_hasher_t *h);

/* One-shot helpers. */
reel_key_t reel_key_of(const void *p, size_t n);
uint64_t reel_hash64(const void *p, size_t n);

void reel_key_hex(const reel_key_t *k, char out[REEL_KEY_HEX]);
int reel_key_parse(const char *hex, reel_key_t *k); /* 0 / -1 */
int reel_key_eq(const reel_key_t *a, const reel_key_t *b);
int reel_key_is_zero(const reel_key_t *k);

/* Hashes a file's content (streamed, no size limit). 0 / -1 with reel_error. */
int reel_hash_file(const char *path, reel_key_t *out);

#endif
