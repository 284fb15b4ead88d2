/* Result caches. The memory cache maps keys to values (LRU, bounded in
 * bytes). The disk cache maps keys to checksummed byte blobs under one
 * directory, written atomically and shared safely by several processes; it
 * also keeps small auxiliary records (the file-content index, explain
 * records, kernel binaries) in namespaces beside the objects.
 *
 * Layout of a cache directory:
 *   objects/ab/<32 hex>   entries: header (magic, version, length, XXH3-64 of
 *                         the payload) + payload
 *   aux/<ns>/<name>       small records (same header), e.g. aux/index/...
 *   locks/<32 hex>        lock files for compute-once across processes
 *   tmp/                  temporary files, renamed into place when complete */
#ifndef REEL_CACHE_H
#define REEL_CACHE_H

#include "buf.h"
#include "hash.h"
#include "value.h"

#include <stddef.h>
#include <stdint.h>

/* ---- memory cache ---- */
typedef struct reel_memcache reel_memcache_t;

reel_memcache_t *reel_memcache_new(size_t max_bytes);
void reel_memcache_free(reel_memcache_t *mc); /* drops its references */
void reel_memcache_set_max(reel_memcache_t *mc, size_t max_bytes);
/* New reference or NULL; a hit becomes the most recently used. */
reel_value_t *reel_memcache_get(reel_memcache_t *mc, const reel_key_t *k);
/* Keeps its own reference (replacing an older value under k), then evicts
 * least recently used entries until the total is within the bound. A value
 * larger than the bound is not kept. */
void reel_memcache_put(reel_memcache_t *mc, const reel_key_t *k, reel_value_t *v);
void reel_memcache_remove(reel_memcache_t *mc, const reel_key_t *k);

typedef struct {
  size_t bytes, max_bytes, count;
  uint64_t hits, misses, evictions;
} reel_memcache_stats_t;
void reel_memcache_stats(const reel_memcache_t *mc, reel_memcache_stats_t *s);

/* ---- disk cache ---- */
typedef struct reel_diskcache reel_diskcache_t;

/* Opens (creating if needed) a cache directory. NULL with reel_error. */
reel_diskcache_t *reel_diskcache_open(const char *dir);
void reel_diskcache_close(reel_diskcache_t *dc);
const char *reel_diskcache_dir(const reel_diskcache_t *dc);
/* The default directory: $REEL_CACHE, else $XDG_CACHE_HOME/reel, else
 * $HOME/.cache/reel. Returns a static string. */
const char *reel_diskcache_default_dir(void);

/* 1 and the payload in out (out->n reset first) on a hit, 0 on a miss, -1 on
 * an I/O error. An entry whose checksum or length does not match is removed,
 * counted as corrupt, and reported as a miss. A hit refreshes the entry's
 * mtime, which gc uses as its LRU clock. */
int reel_diskcache_get(reel_diskcache_t *dc, const reel_key_t *k, reel_buf_t *out);
int reel_diskcache_has(reel_diskcache_t *dc, const reel_key_t *k);
/* Atomic: a reader sees the old entry, the whole new one, or none. 0 / -1. */
int reel_diskcache_put(reel_diskcache_t *dc, const reel_key_t *k, const void *p, size_t n);
int reel_diskcache_remove(reel_diskcache_t *dc, const reel_key_t *k);

/* Values: reel_value_save/load around get/put. get returns a new reference
 * (1), 0 on a miss (or an undecodable entry, which is removed), -1 on error. */
int reel_diskcache_get_value(reel_diskcache_t *dc, const reel_key_t *k, reel_value_t **out);
int reel_diskcache_put_value(reel_diskcache_t *dc, const reel_key_t *k, const reel_value_t *v);

/* Exclusive lock on a key across processes (flock on locks/<key>), so that
 * only one process computes an expensive result while others wait and then
 * find it in the cache. Returns a handle >= 0 or -1. */
int reel_diskcache_lock(reel_diskcache_t *dc, const reel_key_t *k);
void reel_diskcache_unlock(reel_diskcache_t *dc, int handle);

/* Small named records in a namespace (ns and name: [A-Za-z0-9._-]). Same
 * atomicity and checksum as objects. get: 1 hit, 0 miss, -1 error. */
int reel_diskcache_aux_get(reel_diskcache_t *dc, const char *ns, const char *name, reel_buf_t *out);
int reel_diskcache_aux_put(reel_diskcache_t *dc, const char *ns, const char *name, const void *p, size_t n);
/* Path of a namespace directory (created), for callers that keep their own
 * files there (kernel binaries). Static per dc; valid until close. */
const char *reel_diskcache_aux_dir(reel_diskcache_t *dc, const char *ns);

typedef struct {
  uint64_t entries, bytes;       /* objects */
  uint64_t aux_entries, aux_bytes;
  uint64_t hits, misses, corrupt, writes; /* this process */
  uint64_t removed, removed_bytes;        /* by gc */
} reel_diskcache_stats_t;
/* Scans the directory for entries/bytes; counters are this process's. */
int reel_diskcache_stats(reel_diskcache_t *dc, reel_diskcache_stats_t *s);
/* Removes least recently used objects until the objects total at most
 * max_bytes; also clears stale temporaries (older than an hour). 0 / -1. */
int reel_diskcache_gc(reel_diskcache_t *dc, uint64_t max_bytes, reel_diskcache_stats_t *s);

/* ---- file content index ---- */
/* Content key of a file, memoised by (path, size, mtime ns, inode, device)
 * in the process and in the cache's aux/index namespace, so an unchanged scan
 * is hashed once and a file rewritten in place is noticed. dc may be NULL
 * (process memo only). *hashed (may be NULL) is set to 1 when the file's
 * bytes were read. 0 / -1 with reel_error. */
int reel_fileindex_key(reel_diskcache_t *dc, const char *path, reel_key_t *out, int *hashed);

#endif
