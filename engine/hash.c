/* XXH3-128 keys with a canonical field encoding (hash.h). */
#include "hash.h"
#include "error.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct reel_hasher {
  XXH3_state_t st;
};

reel_hasher_t *reel_hasher_new(void) {
  reel_hasher_t *h = malloc(sizeof *h);
  if (!h) return NULL;
  XXH3_128bits_reset(&h->st);
  return h;
}

void reel_hasher_free(reel_hasher_t *h) { free(h); }
void reel_hasher_reset(reel_hasher_t *h) { XXH3_128bits_reset(&h->st); }

void reel_hash_bytes(reel_hasher_t *h, const void *p, size_t n) {
  XXH3_128bits_update(&h->st, p, n);
}

static void put_u64(reel_hasher_t *h, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
  reel_hash_bytes(h, b, 8);
}

void reel_hash_str(reel_hasher_t *h, const char *s) {
  reel_hash_bytes(h, "s", 1);
  if (!s) {
    put_u64(h, UINT64_MAX);
    return;
  }
  size_t n = strlen(s);
  put_u64(h, n);
  reel_hash_bytes(h, s, n);
}

void reel_hash_i64(reel_hasher_t *h, int64_t v) {
  reel_hash_bytes(h, "i", 1);
  put_u64(h, (uint64_t)v);
}

void reel_hash_f64(reel_hasher_t *h, double v) {
  uint64_t u;
  if (v == 0) v = 0; /* fold -0 */
  memcpy(&u, &v, 8);
  reel_hash_bytes(h, "f", 1);
  put_u64(h, u);
}

void reel_hash_key(reel_hasher_t *h, const reel_key_t *k) {
  reel_hash_bytes(h, "k", 1);
  put_u64(h, k->hi);
  put_u64(h, k->lo);
}

reel_key_t reel_hasher_digest(const reel_hasher_t *h) {
  XXH128_hash_t d = XXH3_128bits_digest(&h->st);
  return (reel_key_t){d.high64, d.low64};
}

reel_key_t reel_key_of(const void *p, size_t n) {
  XXH128_hash_t d = XXH3_128bits(p, n);
  return (reel_key_t){d.high64, d.low64};
}

uint64_t reel_hash64(const void *p, size_t n) { return XXH3_64bits(p, n); }

void reel_key_hex(const reel_key_t *k, char out[REEL_KEY_HEX]) {
  snprintf(out, REEL_KEY_HEX, "%016llx%016llx", (unsigned long long)k->hi,
           (unsigned long long)k->lo);
}

int reel_key_parse(const char *hex, reel_key_t *k) {
  uint64_t v[2] = {0, 0};
  for (int i = 0; i < 32; i++) {
    char c = hex[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v[i / 16] = v[i / 16] << 4 | (uint64_t)d;
  }
  if (hex[32]) return -1;
  k->hi = v[0];
  k->lo = v[1];
  return 0;
}

int reel_key_eq(const reel_key_t *a, const reel_key_t *b) {
  return a->hi == b->hi && a->lo == b->lo;
}

int reel_key_is_zero(const reel_key_t *k) { return !k->hi && !k->lo; }

int reel_hash_file(const char *path, reel_key_t *out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    reel_error(REEL_EUSER, "cannot open '%s': %s", path, strerror(errno));
    return -1;
  }
  enum { CHUNK = 1 << 20 };
  unsigned char *buf = malloc(CHUNK);
  if (!buf) {
    close(fd);
    reel_error(REEL_EIO, "out of memory hashing '%s'", path);
    return -1;
  }
  XXH3_state_t st;
  XXH3_128bits_reset(&st);
  for (;;) {
    ssize_t n = read(fd, buf, CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      reel_error(REEL_EIO, "cannot read '%s': %s", path, strerror(errno));
      close(fd);
      free(buf);
      return -1;
    }
    if (n == 0) break;
    XXH3_128bits_update(&st, buf, (size_t)n);
  }
  close(fd);
  free(buf);
  XXH128_hash_t d = XXH3_128bits_digest(&st);
  *out = (reel_key_t){d.high64, d.low64};
  return 0;
}
