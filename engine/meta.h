/* Image metadata: an ordered list of string key/value pairs (colour space,
 * provenance, file attributes). Keys follow OpenImageIO's names where one
 * exists ("oiio:ColorSpace", "DateTime"); reel's own start with "reel:". */
#ifndef REEL_META_H
#define REEL_META_H

#include "buf.h"

typedef struct {
  int n, cap;
  char **k, **v;
} reel_meta_t;

void reel_meta_clear(reel_meta_t *m);
int reel_meta_set(reel_meta_t *m, const char *key, const char *val); /* replaces */
const char *reel_meta_get(const reel_meta_t *m, const char *key);    /* or NULL */
int reel_meta_copy(reel_meta_t *dst, const reel_meta_t *src);        /* dst cleared first */
int reel_meta_save(const reel_meta_t *m, reel_buf_t *out);
int reel_meta_load(reel_meta_t *m, reel_rd_t *in);

#endif
