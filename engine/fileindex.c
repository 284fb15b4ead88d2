/* File content index (cache.h, reel_fileindex_key): a file's XXH3-128 content
 * key, memoised by its stat stamp (size, mtime ns, ctime ns, inode, device)
 * in a process table and in the disk cache's aux/index records, so an
 * unchanged scan is hashed once per cache, not once per render. A stamp taken
 * less than RACY_NS after the file last changed is not trusted, since a second
 * write within the same timestamp tick would leave it unchanged; such a file
 * is hashed again on its next lookup (git's "racily clean" rule). */
#include "cache.h"
#include "error.h"
#include "reel.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Local file systems stamp with a coarse clock (one tick, 1-10 ms); 100 ms is
 * ample. A file system whose times carry no nanoseconds at all (FAT, some NFS
 * or SMB servers) ticks in seconds, so such stamps wait 2 s. Not covered:
 * a file server whose clock runs behind this host's by more than the window. */
#define RACY_NS 100000000LL
#define RACY_COARSE_NS 2000000000LL
#define RECORD_VERSION 1u
#define MEMO_MAX (1u << 20) /* entries; the memo is dropped beyond this */

typedef struct {
  uint64_t size, ino, dev;
  int64_t mtime, ctime; /* ns */
  int64_t hashed_at;    /* CLOCK_REALTIME ns when reading began */
  reel_key_t key;
} rec_t;

typedef struct memo {
  char *path;
  uint64_t h;
  rec_t r;
  struct memo *next;
} memo_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static memo_t **tab;
static size_t nbuckets, count;

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return ns_of(t);
}

static rec_t stamp(const struct stat *st) {
  return (rec_t){.size = (uint64_t)st->st_size,
                 .ino = (uint64_t)st->st_ino,
                 .dev = (uint64_t)st->st_dev,
                 .mtime = ns_of(st->st_mtim),
                 .ctime = ns_of(st->st_ctim)};
}

static int same_file(const rec_t *a, const rec_t *b) {
  return a->size == b->size && a->ino == b->ino && a->dev == b->dev && a->mtime == b->mtime &&
         a->ctime == b->ctime;
}

/* Was the stamp taken long enough after the file's last change? ctime is set
 * by the kernel on every write and cannot be set back; mtime is used too
 * (when not in the future) for file systems whose ctime is unreliable. */
static int trusted(const rec_t *r) {
  int64_t changed = r->ctime;
  if (r->mtime > changed && r->mtime <= r->hashed_at) changed = r->mtime;
  int coarse = r->ctime % 1000000000 == 0 && r->mtime % 1000000000 == 0;
  return r->hashed_at - changed >= (coarse ? RACY_COARSE_NS : RACY_NS);
}

/* ---- process memo ---- */

static memo_t *memo_find(const char *path, uint64_t h) {
  if (!tab) return NULL;
  for (memo_t *m = tab[h & (nbuckets - 1)]; m; m = m->next)
    if (m->h == h && !strcmp(m->path, path)) return m;
  return NULL;
}

static void memo_drop_all(void) {
  for (size_t i = 0; i < nbuckets; i++)
    for (memo_t *m = tab[i], *next; m; m = next) {
      next = m->next;
      free(m->path);
      free(m);
    }
  free(tab);
  tab = NULL;
  nbuckets = count = 0;
}

/* Grows the table to keep chains short; false when out of memory. */
static int memo_room(void) {
  if (count >= MEMO_MAX) memo_drop_all();
  if (tab && count < nbuckets) return 1;
  size_t n = nbuckets ? nbuckets * 2 : 1024;
  memo_t **t = calloc(n, sizeof *t);
  if (!t) return 0;
  for (size_t i = 0; i < nbuckets; i++)
    for (memo_t *m = tab[i], *next; m; m = next) {
      next = m->next;
      m->next = t[m->h & (n - 1)];
      t[m->h & (n - 1)] = m;
    }
  free(tab);
  tab = t;
  nbuckets = n;
  return 1;
}

/* 1 and the key when the memo holds a trusted record for this stamp. */
static int memo_get(const char *path, uint64_t h, const rec_t *cur, reel_key_t *out) {
  pthread_mutex_lock(&mu);
  memo_t *m = memo_find(path, h);
  int hit = m && same_file(&m->r, cur) && trusted(&m->r);
  if (hit) *out = m->r.key;
  pthread_mutex_unlock(&mu);
  return hit;
}

/* Best effort: a memo that cannot grow just forgets. */
static void memo_set(const char *path, uint64_t h, const rec_t *r) {
  pthread_mutex_lock(&mu);
  memo_t *m = memo_find(path, h);
  if (m) {
    m->r = *r;
  } else if (memo_room() && (m = malloc(sizeof *m))) {
    if ((m->path = strdup(path))) {
      m->h = h;
      m->r = *r;
      m->next = tab[h & (nbuckets - 1)];
      tab[h & (nbuckets - 1)] = m;
      count++;
    } else {
      free(m);
    }
  }
  pthread_mutex_unlock(&mu);
}

/* ---- disk record: aux/index/<16 hex of XXH3-64(path)> ----
 * u32 version, str path, u64 size, mtime, ctime, inode, device, hashed_at,
 * key hi, key lo. The path is stored to tell colliding names apart. */

static void record_name(uint64_t h, char name[17]) {
  snprintf(name, 17, "%016llx", (unsigned long long)h);
}

/* Drops the message of a failure we recover from, unless an earlier,
 * unrelated message was already pending. */
static void forget_error(int had_error) {
  if (!had_error) reel_error_clear();
}

static int disk_get(reel_diskcache_t *dc, const char *path, uint64_t h, rec_t *r) {
  char name[17];
  reel_buf_t b = {0};
  int had_error = reel_error_get()[0] != 0, ok = 0;
  record_name(h, name);
  int got = reel_diskcache_aux_get(dc, "index", name, &b);
  if (got == 1) {
    reel_rd_t rd = {b.p, b.n, 0, 0};
    char *p = NULL;
    if (reel_rd_u32(&rd) == RECORD_VERSION && (p = reel_rd_strdup(&rd)) && !strcmp(p, path)) {
      r->size = reel_rd_u64(&rd);
      r->mtime = (int64_t)reel_rd_u64(&rd);
      r->ctime = (int64_t)reel_rd_u64(&rd);
      r->ino = reel_rd_u64(&rd);
      r->dev = reel_rd_u64(&rd);
      r->hashed_at = (int64_t)reel_rd_u64(&rd);
      r->key.hi = reel_rd_u64(&rd);
      r->key.lo = reel_rd_u64(&rd);
      ok = !rd.bad;
    }
    free(p);
  } else if (got < 0) {
    forget_error(had_error); /* an unreadable index only costs a re-hash */
  }
  reel_buf_free(&b);
  return ok;
}

static void disk_set(reel_diskcache_t *dc, const char *path, uint64_t h, const rec_t *r) {
  char name[17];
  reel_buf_t b = {0};
  int had_error = reel_error_get()[0] != 0;
  record_name(h, name);
  if (reel_buf_u32(&b, RECORD_VERSION) || reel_buf_str(&b, path) || reel_buf_u64(&b, r->size) ||
      reel_buf_u64(&b, (uint64_t)r->mtime) || reel_buf_u64(&b, (uint64_t)r->ctime) ||
      reel_buf_u64(&b, r->ino) || reel_buf_u64(&b, r->dev) ||
      reel_buf_u64(&b, (uint64_t)r->hashed_at) || reel_buf_u64(&b, r->key.hi) ||
      reel_buf_u64(&b, r->key.lo) || reel_diskcache_aux_put(dc, "index", name, b.p, b.n))
    forget_error(had_error); /* the key is still right; only the memo is lost */
  reel_buf_free(&b);
}

/* ---- lookup ---- */

int reel_fileindex_key(reel_diskcache_t *dc, const char *path, reel_key_t *out, int *hashed) {
  struct stat st;
  rec_t cur, r;
  int rc = -1;
  if (hashed) *hashed = 0;
  char *abs = realpath(path, NULL);
  if (!abs) {
    reel_error(REEL_EUSER, "cannot find '%s': %s", path, strerror(errno));
    return -1;
  }
  if (stat(abs, &st)) {
    reel_error(REEL_EUSER, "cannot stat '%s': %s", abs, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    reel_error(REEL_EUSER, "'%s' is not a regular file", abs);
    goto out;
  }
  uint64_t h = reel_hash64(abs, strlen(abs));
  cur = stamp(&st);
  if (memo_get(abs, h, &cur, out)) {
    rc = 0;
    goto out;
  }
  if (dc && disk_get(dc, abs, h, &r) && same_file(&r, &cur) && trusted(&r)) {
    memo_set(abs, h, &r);
    *out = r.key;
    rc = 0;
    goto out;
  }
  /* Hash, then stat again: a file that changed while we read it gets no memo
   * (its key matches no single version); we retry a couple of times. */
  for (int tries = 0;; tries++) {
    int64_t t0 = now_ns();
    if (reel_hash_file(abs, out)) goto out;
    if (stat(abs, &st)) {
      reel_error(REEL_EUSER, "cannot stat '%s': %s", abs, strerror(errno));
      goto out;
    }
    r = stamp(&st);
    if (same_file(&r, &cur)) {
      r.hashed_at = t0;
      r.key = *out;
      memo_set(abs, h, &r);
      if (dc) disk_set(dc, abs, h, &r);
      break;
    }
    if (tries == 2) break;
    cur = r;
  }
  if (hashed) *hashed = 1;
  rc = 0;
out:
  free(abs);
  return rc;
}
