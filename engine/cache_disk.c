/* Disk cache (cache.h): content-addressed files under one directory, shared by
 * several processes. A file is a 24-byte header (magic "REEL", format
 * version, payload length, XXH3-64 of the payload; little-endian) and the
 * payload. It is written to tmp/ under a unique name and rename()d into
 * place, so a reader sees a whole entry or none, and it is checked on every
 * read. An object's mtime is gc's LRU clock; a hit refreshes it. */
#include "cache.h"
#include "error.h"
#include "reel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "REEL"
#define FORMAT 1u
#define HDR 24
#define STALE_TMP_S 3600 /* a temporary this old belongs to a crashed writer */
#define NAME_MAX_LEN 200

typedef struct {
  char *ns, *path;
} nsdir_t;

struct reel_diskcache {
  char *dir;
  pthread_mutex_t mu; /* guards nsdirs */
  nsdir_t *nsdirs;
  size_t nns;
  /* This process's counters, updated with atomics (several threads may share
   * a dc). hits/misses/writes count objects; corrupt counts objects and aux. */
  uint64_t hits, misses, corrupt, writes, removed, removed_bytes;
  uint64_t seq; /* temporary-name counter */
};

#define BUMP(dc, field, n) __atomic_add_fetch(&(dc)->field, (n), __ATOMIC_RELAXED)
#define READ(dc, field) __atomic_load_n(&(dc)->field, __ATOMIC_RELAXED)

/* ---- helpers ---- */

static void put_le(unsigned char *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static int64_t mtime_ns(const struct stat *st) {
  return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* snprintf into a PATH_MAX buffer; -1 with reel_error when it does not fit. */
__attribute__((format(printf, 2, 3))) static int pathf(char *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, PATH_MAX, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= PATH_MAX) {
    reel_error(REEL_EUSER, "cache path too long (under '%.200s...'); pass a shorter --cache DIR",
               out);
    return -1;
  }
  return 0;
}

static int ensure_dir(const char *path) {
  if (mkdir(path, 0777) == 0 || errno == EEXIST) return 0;
  reel_error(REEL_EIO,
             "cannot create cache directory '%s': %s (check permissions or pass --cache DIR)", path,
             strerror(errno));
  return -1;
}

/* mkdir -p: concurrent creators are fine, EEXIST is success. */
static int ensure_dirs(const char *path) {
  char p[PATH_MAX];
  if (pathf(p, "%s", path)) return -1;
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = 0;
      if (mkdir(p, 0777) && errno != EEXIST) {
        reel_error(REEL_EIO,
                   "cannot create directory '%s': %s (check permissions or pass --cache DIR)", p,
                   strerror(errno));
        return -1;
      }
      *s = '/';
    }
  return ensure_dir(p);
}

static int write_all(int fd, const void *p, size_t n) {
  const unsigned char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads up to n bytes at off; returns the count (short only at end of file)
 * or -1. */
static ssize_t read_full(int fd, void *p, size_t n, off_t off) {
  unsigned char *c = p;
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, c + got, n - got, off + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

static int valid_name(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (!n || n > NAME_MAX_LEN || strstr(s, "..") || !strcmp(s, ".")) return 0;
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '.' || *c == '_' || *c == '-'))
      return 0;
  return 1;
}

static int check_names(const char *ns, const char *name) {
  if (valid_name(ns) && (!name || valid_name(name))) return 0;
  reel_error(REEL_EINTERNAL, "invalid cache record name '%s/%s' (allowed: A-Z a-z 0-9 . _ -)",
             ns ? ns : "(null)", name ? name : "");
  return -1;
}

static int obj_path(const reel_diskcache_t *dc, const reel_key_t *k, char *out) {
  char hex[REEL_KEY_HEX];
  reel_key_hex(k, hex);
  return pathf(out, "%s/objects/%.2s/%s", dc->dir, hex, hex);
}

/* A name no other writer (thread, process or host sharing the directory)
 * picks: pid, a counter and 64 random bits; O_EXCL catches the rest. */
static int tmp_path(reel_diskcache_t *dc, char *out) {
  uint64_t r;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) * 0x9e3779b97f4a7c15u ^
        (uint64_t)(uintptr_t)out;
  }
  uint64_t seq = BUMP(dc, seq, 1);
  return pathf(out, "%s/tmp/%ld.%llu.%016llx", dc->dir, (long)getpid(), (unsigned long long)seq,
               (unsigned long long)r);
}

/* Writes header + payload to a temporary, then renames it onto `final`
 * (creating final's directory on demand). No fsync: a crash of the process
 * leaves only the temporary; a power loss can leave a damaged entry, which
 * the checksum catches on read. */
static int write_entry(reel_diskcache_t *dc, const char *final, const void *p, size_t n) {
  unsigned char h[HDR];
  memcpy(h, MAGIC, 4);
  put_le(h + 4, FORMAT, 4);
  put_le(h + 8, n, 8);
  put_le(h + 16, reel_hash64(p, n), 8);

  char tmp[PATH_MAX], dir[PATH_MAX];
  int fd = -1, rc = -1, r;
  for (int tries = 0;; tries++) {
    if (tmp_path(dc, tmp)) return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) break;
    int e = errno;
    if (e == EEXIST && tries < 8) continue;
    /* tmp/ removed under us (someone cleared the cache by hand): recreate */
    if (e == ENOENT && tries < 2 && !pathf(dir, "%s/tmp", dc->dir) && !ensure_dir(dir)) continue;
    reel_error(REEL_EIO,
               "cannot create '%s': %s (check permissions and free space, or pass --cache DIR)",
               tmp, strerror(e));
    return -1;
  }
  if (write_all(fd, h, HDR) || write_all(fd, p, n)) {
    reel_error(REEL_EIO, "cannot write '%s': %s (check free space or pass --cache DIR)", tmp,
               strerror(errno));
    goto out;
  }
  r = close(fd); /* NFS reports delayed write errors here */
  fd = -1;
  if (r) {
    reel_error(REEL_EIO, "cannot write '%s': %s (check free space or pass --cache DIR)", tmp,
               strerror(errno));
    goto out;
  }
  r = rename(tmp, final);
  if (r && errno == ENOENT) {
    if (pathf(dir, "%s", final)) goto out;
    *strrchr(dir, '/') = 0;
    if (ensure_dir(dir)) goto out;
    r = rename(tmp, final);
  }
  if (r) {
    reel_error(REEL_EIO, "cannot rename '%s' to '%s': %s (check permissions or pass --cache DIR)",
               tmp, final, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0) close(fd);
  if (rc) unlink(tmp);
  return rc;
}

/* Removes a damaged file, unless a writer has meanwhile renamed a fresh entry
 * onto the same name (then the inode differs and the new one is kept). */
static void drop_corrupt(reel_diskcache_t *dc, const char *path, const struct stat *seen) {
  struct stat now;
  if (!lstat(path, &now) && now.st_ino == seen->st_ino && now.st_dev == seen->st_dev) unlink(path);
  BUMP(dc, corrupt, 1);
}

/* 1 with the payload in out, 0 on a miss (absent, damaged or written by
 * another format version), -1 on an I/O error. touch: refresh the mtime. */
static int read_entry(reel_diskcache_t *dc, const char *path, reel_buf_t *out, int touch) {
  out->n = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return 0;
    reel_error(REEL_EIO, "cannot open cache entry '%s': %s (check permissions or pass --cache DIR)",
               path, strerror(errno));
    return -1;
  }
  int rc = -1;
  struct stat st;
  unsigned char h[HDR];
  ssize_t got;
  uint64_t len;
  void *dst;
  if (fstat(fd, &st) || (got = read_full(fd, h, HDR, 0)) < 0) goto ioerr;
  if (got < HDR || memcmp(h, MAGIC, 4)) goto corrupt;
  if (get_le(h + 4, 4) != FORMAT) { /* another reel's format: its writer may still use it */
    rc = 0;
    goto out;
  }
  len = get_le(h + 8, 8);
  if (len != (uint64_t)st.st_size - HDR || len > SIZE_MAX / 2) goto corrupt;
  if (!(dst = reel_buf_grow(out, (size_t)len))) goto out;
  if ((got = read_full(fd, dst, (size_t)len, HDR)) < 0) goto ioerr;
  if ((uint64_t)got != len || reel_hash64(dst, (size_t)len) != get_le(h + 16, 8)) goto corrupt;
  /* Best effort: a cache shared read-only still serves hits. */
  if (touch) futimens(fd, NULL);
  rc = 1;
  goto out;
corrupt:
  drop_corrupt(dc, path, &st);
  rc = 0;
  goto out;
ioerr:
  reel_error(REEL_EIO, "cannot read cache entry '%s': %s (check the disk or pass --cache DIR)",
             path, strerror(errno));
out:
  if (rc != 1) out->n = 0;
  close(fd);
  return rc;
}

/* ---- open / close ---- */

const char *reel_diskcache_default_dir(void) {
  static __thread char buf[PATH_MAX];
  const char *e;
  int n;
  if ((e = getenv("REEL_CACHE")) && *e)
    n = snprintf(buf, sizeof buf, "%s", e);
  else if ((e = getenv("XDG_CACHE_HOME")) && *e)
    n = snprintf(buf, sizeof buf, "%s/reel", e);
  else if ((e = getenv("HOME")) && *e)
    n = snprintf(buf, sizeof buf, "%s/.cache/reel", e);
  else
    n = snprintf(buf, sizeof buf, "/tmp/reel-cache-%ld", (long)getuid());
  if (n < 0 || n >= (int)sizeof buf)
    snprintf(buf, sizeof buf, "/tmp/reel-cache-%ld", (long)getuid());
  return buf;
}

reel_diskcache_t *reel_diskcache_open(const char *dir) {
  static const char *const subdirs[] = {"objects", "aux", "locks", "tmp"};
  char p[PATH_MAX];
  if (!dir || !*dir) dir = reel_diskcache_default_dir();
  reel_diskcache_t *dc = calloc(1, sizeof *dc);
  if (!dc || !(dc->dir = strdup(dir))) {
    free(dc);
    reel_error(REEL_EIO, "out of memory opening the disk cache");
    return NULL;
  }
  for (size_t n = strlen(dc->dir); n > 1 && dc->dir[n - 1] == '/'; n--) dc->dir[n - 1] = 0;
  pthread_mutex_init(&dc->mu, NULL);
  if (ensure_dirs(dc->dir)) goto fail;
  /* Absolute, so a later chdir (Lua scripts may) does not move the cache. */
  char *abs = realpath(dc->dir, NULL);
  if (abs) {
    free(dc->dir);
    dc->dir = abs;
  }
  for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++)
    if (pathf(p, "%s/%s", dc->dir, subdirs[i]) || ensure_dir(p)) goto fail;
  return dc;
fail:
  reel_error_prefix("cannot open the disk cache '%s'", dc->dir);
  reel_diskcache_close(dc);
  return NULL;
}

void reel_diskcache_close(reel_diskcache_t *dc) {
  if (!dc) return;
  for (size_t i = 0; i < dc->nns; i++) {
    free(dc->nsdirs[i].ns);
    free(dc->nsdirs[i].path);
  }
  free(dc->nsdirs);
  pthread_mutex_destroy(&dc->mu);
  free(dc->dir);
  free(dc);
}

const char *reel_diskcache_dir(const reel_diskcache_t *dc) { return dc->dir; }

/* ---- objects ---- */

int reel_diskcache_get(reel_diskcache_t *dc, const reel_key_t *k, reel_buf_t *out) {
  char path[PATH_MAX];
  out->n = 0;
  if (obj_path(dc, k, path)) return -1;
  int r = read_entry(dc, path, out, 1);
  if (r == 1)
    BUMP(dc, hits, 1);
  else if (r == 0)
    BUMP(dc, misses, 1);
  return r;
}

int reel_diskcache_has(reel_diskcache_t *dc, const reel_key_t *k) {
  char path[PATH_MAX];
  struct stat st;
  if (obj_path(dc, k, path)) return -1;
  if (!stat(path, &st)) return 1;
  if (errno == ENOENT || errno == ENOTDIR) return 0;
  reel_error(REEL_EIO, "cannot stat cache entry '%s': %s (check permissions or pass --cache DIR)",
             path, strerror(errno));
  return -1;
}

int reel_diskcache_put(reel_diskcache_t *dc, const reel_key_t *k, const void *p, size_t n) {
  char path[PATH_MAX];
  if (obj_path(dc, k, path) || write_entry(dc, path, p, n)) return -1;
  BUMP(dc, writes, 1);
  return 0;
}

int reel_diskcache_remove(reel_diskcache_t *dc, const reel_key_t *k) {
  char path[PATH_MAX];
  if (obj_path(dc, k, path)) return -1;
  if (!unlink(path) || errno == ENOENT || errno == ENOTDIR) return 0;
  reel_error(REEL_EIO, "cannot remove cache entry '%s': %s (check permissions)", path,
             strerror(errno));
  return -1;
}

int reel_diskcache_get_value(reel_diskcache_t *dc, const reel_key_t *k, reel_value_t **out) {
  reel_buf_t b = {0};
  *out = NULL;
  int r = reel_diskcache_get(dc, k, &b);
  if (r == 1) {
    int had_error = reel_error_get()[0] != 0;
    reel_rd_t rd = {b.p, b.n, 0, 0};
    if (!(*out = reel_value_load(&rd))) {
      /* An internal error (no device to load an image onto) says nothing
       * about the entry: keep it and report. Anything else means the bytes,
       * though intact, are not a value this build can read (an older value
       * format): drop the entry so it is recomputed, and report a miss. */
      if (reel_error_class() == REEL_EINTERNAL) {
        r = -1;
      } else {
        if (!had_error) reel_error_clear();
        reel_diskcache_remove(dc, k);
        BUMP(dc, corrupt, 1);
        __atomic_sub_fetch(&dc->hits, 1, __ATOMIC_RELAXED);
        BUMP(dc, misses, 1);
        r = 0;
      }
    }
  }
  reel_buf_free(&b);
  return r;
}

int reel_diskcache_put_value(reel_diskcache_t *dc, const reel_key_t *k, const reel_value_t *v) {
  reel_buf_t b = {0};
  int r = reel_value_save(v, &b) ? -1 : reel_diskcache_put(dc, k, b.p, b.n);
  reel_buf_free(&b);
  return r;
}

/* ---- locks ---- */

/* flock on locks/<hex>. gc may unlink a lock file that nobody holds, so after
 * acquiring we check that the path still names the locked inode; if not, a
 * newer file took its place and we lock that one instead. */
int reel_diskcache_lock(reel_diskcache_t *dc, const reel_key_t *k) {
  char path[PATH_MAX], hex[REEL_KEY_HEX];
  reel_key_hex(k, hex);
  if (pathf(path, "%s/locks/%s", dc->dir, hex)) return -1;
  for (;;) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      reel_error(REEL_EIO, "cannot open lock file '%s': %s (check permissions or pass --cache DIR)",
                 path, strerror(errno));
      return -1;
    }
    int r;
    while ((r = flock(fd, LOCK_EX)) && errno == EINTR) {
    }
    if (r) {
      reel_error(REEL_EIO, "cannot lock '%s': %s (does the file system support flock?)", path,
                 strerror(errno));
      close(fd);
      return -1;
    }
    struct stat a, b;
    if (!fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
      return fd;
    close(fd);
  }
}

void reel_diskcache_unlock(reel_diskcache_t *dc, int handle) {
  if (handle >= 0) close(handle); /* releases the flock; the file stays for gc */
}

/* ---- aux records ---- */

int reel_diskcache_aux_get(reel_diskcache_t *dc, const char *ns, const char *name,
                           reel_buf_t *out) {
  char path[PATH_MAX];
  out->n = 0;
  if (check_names(ns, name) || pathf(path, "%s/aux/%s/%s", dc->dir, ns, name)) return -1;
  return read_entry(dc, path, out, 0);
}

int reel_diskcache_aux_put(reel_diskcache_t *dc, const char *ns, const char *name, const void *p,
                           size_t n) {
  char path[PATH_MAX];
  if (check_names(ns, name) || pathf(path, "%s/aux/%s/%s", dc->dir, ns, name)) return -1;
  return write_entry(dc, path, p, n);
}

const char *reel_diskcache_aux_dir(reel_diskcache_t *dc, const char *ns) {
  char path[PATH_MAX];
  const char *res = NULL;
  if (check_names(ns, NULL) || pathf(path, "%s/aux/%s", dc->dir, ns)) return NULL;
  pthread_mutex_lock(&dc->mu);
  for (size_t i = 0; i < dc->nns && !res; i++)
    if (!strcmp(dc->nsdirs[i].ns, ns)) res = dc->nsdirs[i].path;
  /* Created every time: the directory may have been removed by hand. */
  if (ensure_dir(path)) {
    res = NULL;
  } else if (!res) {
    nsdir_t *a = realloc(dc->nsdirs, (dc->nns + 1) * sizeof *a);
    if (a) dc->nsdirs = a;
    char *s = strdup(ns), *d = strdup(path);
    if (a && s && d) {
      a[dc->nns++] = (nsdir_t){s, d};
      res = d;
    } else {
      free(s);
      free(d);
      reel_error(REEL_EIO, "out of memory");
    }
  }
  pthread_mutex_unlock(&dc->mu);
  return res;
}

/* ---- stats and gc ---- */

typedef struct {
  int64_t mtime;
  uint64_t size;
  char *path;
} item_t;

typedef struct {
  uint64_t files, bytes;
  int keep; /* collect items */
  item_t *items;
  size_t n, cap;
} scan_t;

/* Counts regular files under dir, descending `depth` levels of directories
 * (objects/ab/<hex>: depth 1). A missing directory counts as empty. */
static int scan(const char *dir, int depth, scan_t *s) {
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return 0;
    reel_error(REEL_EIO, "cannot list '%s': %s (check permissions)", dir, strerror(errno));
    return -1;
  }
  int rc = 0;
  struct dirent *de;
  char path[PATH_MAX];
  while (!rc && (de = readdir(d))) {
    struct stat st;
    if (de->d_name[0] == '.') continue;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) continue; /* removed meanwhile */
    if (S_ISDIR(st.st_mode) && depth > 0) {
      rc = pathf(path, "%s/%s", dir, de->d_name) || scan(path, depth - 1, s);
    } else if (S_ISREG(st.st_mode)) {
      s->files++;
      s->bytes += (uint64_t)st.st_size;
      if (!s->keep) continue;
      if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        item_t *it = realloc(s->items, cap * sizeof *it);
        if (!it) {
          reel_error(REEL_EIO, "out of memory listing the cache");
          rc = -1;
          break;
        }
        s->items = it;
        s->cap = cap;
      }
      if ((rc = pathf(path, "%s/%s", dir, de->d_name))) break;
      item_t *it = &s->items[s->n];
      if (!(it->path = strdup(path))) {
        reel_error(REEL_EIO, "out of memory listing the cache");
        rc = -1;
        break;
      }
      it->mtime = mtime_ns(&st);
      it->size = (uint64_t)st.st_size;
      s->n++;
    }
  }
  closedir(d);
  return rc;
}

static void scan_free(scan_t *s) {
  for (size_t i = 0; i < s->n; i++) free(s->items[i].path);
  free(s->items);
}

static void counters(reel_diskcache_t *dc, reel_diskcache_stats_t *s) {
  s->hits = READ(dc, hits);
  s->misses = READ(dc, misses);
  s->corrupt = READ(dc, corrupt);
  s->writes = READ(dc, writes);
  s->removed = READ(dc, removed);
  s->removed_bytes = READ(dc, removed_bytes);
}

/* removed/removed_bytes: this process's gc totals. */
int reel_diskcache_stats(reel_diskcache_t *dc, reel_diskcache_stats_t *s) {
  char path[PATH_MAX];
  scan_t obj = {0}, aux = {0};
  memset(s, 0, sizeof *s);
  if (pathf(path, "%s/objects", dc->dir) || scan(path, 1, &obj)) return -1;
  if (pathf(path, "%s/aux", dc->dir) || scan(path, 1, &aux)) return -1;
  counters(dc, s);
  s->entries = obj.files;
  s->bytes = obj.bytes;
  s->aux_entries = aux.files;
  s->aux_bytes = aux.bytes;
  return 0;
}

static int by_age(const void *a, const void *b) {
  const item_t *x = a, *y = b;
  if (x->mtime != y->mtime) return x->mtime < y->mtime ? -1 : 1;
  return strcmp(x->path, y->path);
}

static void clean_tmp(reel_diskcache_t *dc) {
  char path[PATH_MAX];
  scan_t s = {.keep = 1};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t cut = ((int64_t)now.tv_sec - STALE_TMP_S) * 1000000000;
  if (!pathf(path, "%s/tmp", dc->dir) && !scan(path, 0, &s))
    for (size_t i = 0; i < s.n; i++)
      if (s.items[i].mtime < cut) unlink(s.items[i].path);
  scan_free(&s);
}

/* Removes lock files nobody holds, holding the lock while unlinking (see
 * reel_diskcache_lock for why that is safe against a concurrent locker). */
static void clean_locks(reel_diskcache_t *dc) {
  char path[PATH_MAX];
  scan_t s = {.keep = 1};
  if (!pathf(path, "%s/locks", dc->dir) && !scan(path, 0, &s))
    for (size_t i = 0; i < s.n; i++) {
      int fd = open(s.items[i].path, O_RDWR | O_CLOEXEC);
      if (fd < 0) continue;
      struct stat a, b;
      if (!flock(fd, LOCK_EX | LOCK_NB) && !fstat(fd, &a) && !lstat(s.items[i].path, &b) &&
          a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        unlink(s.items[i].path);
      close(fd);
    }
  scan_free(&s);
}

/* s (may be NULL) gets the state after gc, with removed/removed_bytes of this
 * call. Stale temporaries and unheld lock files are cleared but not counted. */
int reel_diskcache_gc(reel_diskcache_t *dc, uint64_t max_bytes, reel_diskcache_stats_t *s) {
  char path[PATH_MAX];
  scan_t obj = {.keep = 1}, aux = {0};
  uint64_t removed = 0, removed_bytes = 0, gone = 0;
  int rc = -1;
  if (pathf(path, "%s/objects", dc->dir) || scan(path, 1, &obj)) goto out;
  qsort(obj.items, obj.n, sizeof *obj.items, by_age);
  uint64_t total = obj.bytes;
  for (size_t i = 0; i < obj.n && total > max_bytes; i++) {
    item_t *it = &obj.items[i];
    struct stat st;
    if (lstat(it->path, &st)) { /* another gc got there first */
      total -= it->size;
      gone++;
      continue;
    }
    /* Read (touched) or rewritten since the scan: now recently used; keep. */
    if (mtime_ns(&st) != it->mtime || (uint64_t)st.st_size != it->size) continue;
    if (unlink(it->path)) {
      if (errno == ENOENT) {
        total -= it->size;
        gone++;
      }
      continue;
    }
    total -= it->size;
    removed++;
    removed_bytes += it->size;
  }
  BUMP(dc, removed, removed);
  BUMP(dc, removed_bytes, removed_bytes);
  clean_tmp(dc);
  clean_locks(dc);
  if (s) {
    memset(s, 0, sizeof *s);
    if (pathf(path, "%s/aux", dc->dir) || scan(path, 1, &aux)) goto out;
    counters(dc, s);
    s->entries = obj.files - removed - gone;
    s->bytes = total;
    s->aux_entries = aux.files;
    s->aux_bytes = aux.bytes;
    s->removed = removed;
    s->removed_bytes = removed_bytes;
  }
  rc = 0;
out:
  scan_free(&obj);
  return rc;
}
