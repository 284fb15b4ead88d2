/* Host memory pool for large pixel buffers. Fresh pages are expensive to
 * fault in (about 0.3 GB/s on small VMs), so big buffers are recycled by size
 * class and backed by transparent huge pages (madvise MADV_HUGEPAGE). Small
 * requests fall through to malloc. Thread-safe. */
#ifndef REEL_POOL_H
#define REEL_POOL_H

#include <stddef.h>

/* Returns at least n bytes, 64-byte aligned, contents undefined; NULL with
 * reel_error on failure. Free with reel_pool_free (never free()). */
void *reel_pool_alloc(size_t n);
void reel_pool_free(void *p);
/* Bound on idle bytes kept for reuse (default 2 GiB). */
void reel_pool_set_limit(size_t bytes);
/* Releases every idle buffer. */
void reel_pool_trim(void);

typedef struct {
  size_t live_bytes, idle_bytes, peak_bytes;
  size_t allocs, reuses;
} reel_pool_stats_t;
void reel_pool_stats(reel_pool_stats_t *s);

#endif
