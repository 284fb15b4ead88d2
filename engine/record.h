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

/* Records a file a sink has just written: sets "path" and "stamp" (size,
 * mtime to the nanosecond, inode). 0, or -1 with reel_error (REEL_EIO when
 * the file is gone). */
int reel_record_file(reel_record_t *r, const char *path);
/* 1 if r records a file that is still on disk with the stamp it recorded
 * (the sink's output stands and need not be made again), else 0. */
int reel_record_file_valid(const reel_record_t *r);

#endif
