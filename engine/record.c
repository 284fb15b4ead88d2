/* Record values (record.h). */
#include "record.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void destroy(reel_value_t *v) {
  reel_record_t *r = (reel_record_t *)v;
  reel_meta_clear(&r->kv);
  free(r);
}

static size_t bytes(const reel_value_t *v) { return 256; }

static int save(const reel_value_t *v, reel_buf_t *out) {
  return reel_meta_save(&((const reel_record_t *)v)->kv, out);
}

static reel_value_t *load(reel_rd_t *in) {
  reel_record_t *r = reel_record_new();
  if (!r) return NULL;
  if (reel_meta_load(&r->kv, in)) {
    reel_value_unref(&r->v);
    return NULL;
  }
  return &r->v;
}

const reel_value_class_t reel_record_class = {REEL_V_RECORD, "Record", destroy, bytes, save, load};

reel_record_t *reel_record_new(void) {
  reel_record_t *r = calloc(1, sizeof *r);
  if (!r) {
    reel_error(REEL_EIO, "out of memory");
    return NULL;
  }
  reel_value_init(&r->v, &reel_record_class);
  return r;
}

reel_record_t *reel_record_cast(reel_value_t *v) {
  return v && v->cls == &reel_record_class ? (reel_record_t *)v : NULL;
}

static void stamp(const struct stat *st, char *out, size_t cap) {
  snprintf(out, cap, "%lld:%lld.%09ld:%llu", (long long)st->st_size, (long long)st->st_mtim.tv_sec,
           st->st_mtim.tv_nsec, (unsigned long long)st->st_ino);
}

int reel_record_file(reel_record_t *r, const char *path) {
  struct stat st;
  char s[128];
  if (stat(path, &st)) {
    reel_error(REEL_EIO, "'%s' vanished after writing", path);
    return -1;
  }
  stamp(&st, s, sizeof s);
  return reel_meta_set(&r->kv, "path", path) || reel_meta_set(&r->kv, "stamp", s) ? -1 : 0;
}

int reel_record_file_valid(const reel_record_t *r) {
  const char *path = r ? reel_meta_get(&r->kv, "path") : NULL;
  const char *want = r ? reel_meta_get(&r->kv, "stamp") : NULL;
  struct stat st;
  if (!path || !want || stat(path, &st)) return 0;
  char have[128];
  stamp(&st, have, sizeof have);
  return !strcmp(have, want);
}
