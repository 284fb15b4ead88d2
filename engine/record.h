/* Record: a small value describing what a sink did, e.g. the files a Write
 * produced with their size/mtime/inode stamps, so that a later render can
 * check that the output is still there and unchanged instead of redoing it. */
#ifndef REEL_RECORD_H
#define REEL_RECORD_H

#include "meta.h"
#include "value.h"

typedef struct {
  reel_value_t v;
  reel_meta_t kv;
} reel_record_t;

reel_record_t *reel_record_new(void);
reel_record_t *reel_record_cast(reel_value_t *v);

#endif
