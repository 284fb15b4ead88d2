/* Ordered string metadata (meta.h). */
#include "meta.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

void reel_meta_clear(reel_meta_t *m) {
  for (int i = 0; i < m->n; i++) {
    free(m->k[i]);
    free(m->v[i]);
  }
  free(m->k);
  free(m->v);
  memset(m, 0, sizeof *m);
}

int reel_meta_set(reel_meta_t *m, const char *key, const char *val) {
  char *v = strdup(val ? val : "");
  if (!v) goto oom;
  for (int i = 0; i < m->n; i++)
    if (!strcmp(m->k[i], key)) {
      free(m->v[i]);
      m->v[i] = v;
      return 0;
    }
  if (m->n == m->cap) {
    int cap = m->cap ? m->cap * 2 : 8;
    char **k = realloc(m->k, sizeof *k * (size_t)cap);
    if (!k) goto oomv;
    m->k = k;
    char **vv = realloc(m->v, sizeof *vv * (size_t)cap);
    if (!vv) goto oomv;
    m->v = vv;
    m->cap = cap;
  }
  if (!(m->k[m->n] = strdup(key))) goto oomv;
  m->v[m->n++] = v;
  return 0;
oomv:
  free(v);
oom:
  reel_error(REEL_EIO, "out of memory setting metadata '%s'", key);
  return -1;
}

const char *reel_meta_get(const reel_meta_t *m, const char *key) {
  for (int i = 0; i < m->n; i++)
    if (!strcmp(m->k[i], key)) return m->v[i];
  return NULL;
}

int reel_meta_copy(reel_meta_t *dst, const reel_meta_t *src) {
  if (dst == src) return 0;
  reel_meta_clear(dst);
  for (int i = 0; i < src->n; i++)
    if (reel_meta_set(dst, src->k[i], src->v[i])) return -1;
  return 0;
}

int reel_meta_save(const reel_meta_t *m, reel_buf_t *out) {
  if (reel_buf_u32(out, (uint32_t)m->n)) return -1;
  for (int i = 0; i < m->n; i++)
    if (reel_buf_str(out, m->k[i]) || reel_buf_str(out, m->v[i])) return -1;
  return 0;
}

int reel_meta_load(reel_meta_t *m, reel_rd_t *in) {
  uint32_t n = reel_rd_u32(in);
  if (in->bad || n > 100000) return -1;
  for (uint32_t i = 0; i < n; i++) {
    char *k = reel_rd_strdup(in), *v = reel_rd_strdup(in);
    int bad = !k || !v || reel_meta_set(m, k, v);
    free(k);
    free(v);
    if (bad) return -1;
  }
  return 0;
}
