/* Unit tests for the memory cache (LRU order, byte bound, references) and the
 * disk cache (round trip, atomic layout, corruption, aux records, locks across
 * processes, two processes hammering the same keys, gc order, stats, values).
 * Every test works in its own temporary directory. */
#define _GNU_SOURCE /* nftw */
#include "cache.h"
#include "error.h"
#include "record.h"
#include "reel.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- a test value class that counts destructions ---- */

typedef struct {
  reel_value_t v;
  size_t bytes;
  int id;
} tv_t;

static int tv_created, tv_destroyed;

static void tv_destroy(reel_value_t *v) {
  __atomic_add_fetch(&tv_destroyed, 1, __ATOMIC_RELAXED);
  free(v);
}

static size_t tv_bytes(const reel_value_t *v) { return ((const tv_t *)v)->bytes; }

static const reel_value_class_t tv_class = {REEL_V_NONE, "Test", tv_destroy, tv_bytes, NULL, NULL};

static reel_value_t *tv_new(int id, size_t bytes) {
  tv_t *t = calloc(1, sizeof *t);
  reel_value_init(&t->v, &tv_class);
  t->id = id;
  t->bytes = bytes;
  __atomic_add_fetch(&tv_created, 1, __ATOMIC_RELAXED);
  return &t->v;
}

static int tv_id(const reel_value_t *v) { return v ? ((const tv_t *)v)->id : -1; }

static reel_key_t key_n(int i) { return reel_key_of(&i, sizeof i); }

/* Puts a new value under key_n(id) and drops the caller's reference. */
static void put_new(reel_memcache_t *mc, int id, size_t bytes) {
  reel_key_t k = key_n(id);
  reel_value_t *v = tv_new(id, bytes);
  reel_memcache_put(mc, &k, v);
  reel_value_unref(v);
}

static int mc_has(reel_memcache_t *mc, int id) {
  reel_key_t k = key_n(id);
  reel_value_t *v = reel_memcache_get(mc, &k);
  int ok = tv_id(v) == id;
  reel_value_unref(v);
  return ok;
}

/* ---- memory cache ---- */

static void test_mem_lru_order(void) {
  reel_memcache_t *mc = reel_memcache_new(300);
  int d0 = tv_destroyed;
  put_new(mc, 1, 100);
  put_new(mc, 2, 100);
  put_new(mc, 3, 100);
  CHECK(mc_has(mc, 1)); /* 1 becomes the most recent; 2 is now the oldest */
  put_new(mc, 4, 100);
  reel_memcache_stats_t s;
  reel_memcache_stats(mc, &s);
  CHECK(s.count == 3 && s.bytes == 300 && s.evictions == 1);
  CHECK(tv_destroyed - d0 == 1); /* 2 had no other holder */
  reel_key_t k2 = key_n(2);
  CHECK(reel_memcache_get(mc, &k2) == NULL);
  CHECK(mc_has(mc, 1) && mc_has(mc, 3) && mc_has(mc, 4));
  /* the gets above read 1, 3, 4 in that order, so 1 is now the oldest */
  put_new(mc, 5, 100);
  CHECK(!mc_has(mc, 1) && mc_has(mc, 3) && mc_has(mc, 4) && mc_has(mc, 5));
  reel_memcache_stats(mc, &s);
  CHECK(s.hits == 7 && s.misses == 2);
  reel_memcache_free(mc);
  CHECK(tv_destroyed - d0 == 5);
}

static void test_mem_byte_bound(void) {
  reel_memcache_t *mc = reel_memcache_new(1000);
  reel_memcache_stats_t s;
  srand(7);
  int bad = 0;
  for (int i = 0; i < 200; i++) {
    put_new(mc, 100 + i, (size_t)(10 + rand() % 300));
    reel_memcache_stats(mc, &s);
    if (s.bytes > 1000) bad++;
  }
  CHECK(bad == 0);
  /* the newest entry always survives its own put */
  CHECK(mc_has(mc, 299));
  reel_memcache_set_max(mc, 200);
  reel_memcache_stats(mc, &s);
  CHECK(s.bytes <= 200 && s.max_bytes == 200);
  reel_memcache_set_max(mc, 0);
  reel_memcache_stats(mc, &s);
  CHECK(s.bytes == 0 && s.count == 0);
  reel_memcache_free(mc);
}

static void test_mem_too_large(void) {
  reel_memcache_t *mc = reel_memcache_new(500);
  put_new(mc, 1, 100);
  reel_key_t k = key_n(2);
  reel_value_t *big = tv_new(2, 600);
  reel_memcache_put(mc, &k, big);
  CHECK(big->refs == 1); /* not kept: no reference taken */
  CHECK(reel_memcache_get(mc, &k) == NULL);
  CHECK(mc_has(mc, 1)); /* and nothing was evicted for it */
  reel_memcache_stats_t s;
  reel_memcache_stats(mc, &s);
  CHECK(s.count == 1 && s.bytes == 100 && s.evictions == 0);
  /* exactly the bound fits */
  reel_value_t *fit = tv_new(3, 500);
  reel_key_t k3 = key_n(3);
  reel_memcache_put(mc, &k3, fit);
  reel_memcache_stats(mc, &s);
  CHECK(s.count == 1 && s.bytes == 500 && fit->refs == 2);
  reel_value_unref(fit);
  reel_value_unref(big);
  reel_memcache_free(mc);
}

static void test_mem_replace(void) {
  reel_memcache_t *mc = reel_memcache_new(1000);
  reel_key_t k = key_n(1);
  reel_value_t *a = tv_new(10, 100), *b = tv_new(11, 300);
  reel_memcache_put(mc, &k, a);
  CHECK(a->refs == 2);
  reel_memcache_put(mc, &k, b);
  CHECK(a->refs == 1 && b->refs == 2); /* the old reference was dropped */
  reel_value_t *g = reel_memcache_get(mc, &k);
  CHECK(g == b);
  reel_value_unref(g);
  reel_memcache_stats_t s;
  reel_memcache_stats(mc, &s);
  CHECK(s.count == 1 && s.bytes == 300);
  reel_memcache_put(mc, &k, b); /* same value again: refcount stays right */
  CHECK(b->refs == 2);
  /* a too-large replacement still removes the old value */
  reel_value_t *c = tv_new(12, 5000);
  reel_memcache_put(mc, &k, c);
  CHECK(b->refs == 1 && c->refs == 1 && reel_memcache_get(mc, &k) == NULL);
  reel_memcache_put(mc, &k, a);
  reel_memcache_remove(mc, &k);
  CHECK(a->refs == 1 && reel_memcache_get(mc, &k) == NULL);
  reel_value_unref(a);
  reel_value_unref(b);
  reel_value_unref(c);
  reel_memcache_free(mc);
}

static void test_mem_refcounts(void) {
  int c0 = tv_created, d0 = tv_destroyed;
  reel_memcache_t *mc = reel_memcache_new(200);
  put_new(mc, 1, 100);
  reel_key_t k = key_n(1);
  reel_value_t *held = reel_memcache_get(mc, &k);
  put_new(mc, 2, 100);
  put_new(mc, 3, 100); /* evicts 1, which we still hold */
  CHECK(reel_memcache_get(mc, &k) == NULL);
  CHECK(tv_destroyed == d0);
  CHECK(held->refs == 1 && tv_id(held) == 1); /* alive and intact */
  reel_value_unref(held);
  CHECK(tv_destroyed == d0 + 1);
  reel_memcache_free(mc);
  CHECK(tv_created - c0 == 3 && tv_destroyed - d0 == 3);
}

static void *mem_worker(void *arg) {
  reel_memcache_t *mc = arg;
  unsigned seed = (unsigned)(uintptr_t)&seed;
  for (int i = 0; i < 20000; i++) {
    int id = rand_r(&seed) % 64;
    reel_key_t k = key_n(id);
    reel_value_t *v = reel_memcache_get(mc, &k);
    if (v) {
      if (tv_id(v) != id) abort();
      reel_value_unref(v);
    } else {
      put_new(mc, id, (size_t)(1 + rand_r(&seed) % 100));
    }
  }
  return NULL;
}

static void test_mem_threads(void) {
  int c0 = tv_created, d0 = tv_destroyed;
  reel_memcache_t *mc = reel_memcache_new(1500);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, mem_worker, mc);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  reel_memcache_stats_t s;
  reel_memcache_stats(mc, &s);
  CHECK(s.bytes <= 1500 && s.hits + s.misses == 80000);
  reel_memcache_free(mc);
  CHECK(tv_created - c0 == tv_destroyed - d0);
}

/* ---- disk cache helpers ---- */

static char tmpdir[256];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
  return remove(p);
}

static reel_diskcache_t *fresh_cache(void) {
  if (tmpdir[0]) nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  snprintf(tmpdir, sizeof tmpdir, "%s/reel-test-cache-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmpdir)) abort();
  strcat(tmpdir, "/c"); /* open creates the directory itself */
  reel_diskcache_t *dc = reel_diskcache_open(tmpdir);
  if (!dc) {
    fprintf(stderr, "%s\n", reel_error_get());
    abort();
  }
  tmpdir[strlen(tmpdir) - 2] = 0;
  return dc;
}

static void entry_path(reel_diskcache_t *dc, const reel_key_t *k, char *out, size_t cap) {
  char hex[REEL_KEY_HEX];
  reel_key_hex(k, hex);
  snprintf(out, cap, "%s/objects/%.2s/%s", reel_diskcache_dir(dc), hex, hex);
}

static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return -1;
  for (struct dirent *de; (de = readdir(d));)
    if (de->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static int tmp_count(reel_diskcache_t *dc) {
  char p[512];
  snprintf(p, sizeof p, "%s/tmp", reel_diskcache_dir(dc));
  return count_files(p);
}

/* Payload for key index i: 8 bytes of length, then bytes derived from (i, j),
 * so any reader can check a payload is whole and belongs to its key. */
static void fill_payload(unsigned char *p, size_t n, int i) {
  uint64_t len = n;
  memcpy(p, &len, 8);
  for (size_t j = 8; j < n; j++) p[j] = (unsigned char)(i * 131 + j * 7 + (j >> 9));
}

static int payload_ok(const unsigned char *p, size_t n, int i) {
  uint64_t len;
  if (n < 8) return 0;
  memcpy(&len, p, 8);
  if (len != n) return 0;
  for (size_t j = 8; j < n; j++)
    if (p[j] != (unsigned char)(i * 131 + j * 7 + (j >> 9))) return 0;
  return 1;
}

static void set_mtime(const char *path, time_t sec) {
  struct timespec t[2] = {{sec, 0}, {sec, 0}};
  if (utimensat(AT_FDCWD, path, t, 0)) abort();
}

/* ---- disk cache ---- */

static void test_disk_round_trip(void) {
  reel_diskcache_t *dc = fresh_cache();
  unsigned char p[5000];
  fill_payload(p, sizeof p, 1);
  reel_key_t k = key_n(1), other = key_n(2);
  reel_buf_t b = {0};
  CHECK(reel_diskcache_has(dc, &k) == 0);
  CHECK(reel_diskcache_get(dc, &k, &b) == 0 && b.n == 0);
  CHECK(reel_diskcache_put(dc, &k, p, sizeof p) == 0);
  CHECK(reel_diskcache_has(dc, &k) == 1);
  CHECK(reel_diskcache_has(dc, &other) == 0);
  CHECK(reel_diskcache_get(dc, &k, &b) == 1);
  CHECK(b.n == sizeof p && !memcmp(b.p, p, sizeof p));
  CHECK(reel_diskcache_get(dc, &other, &b) == 0 && b.n == 0);
  /* empty payload */
  CHECK(reel_diskcache_put(dc, &other, "", 0) == 0);
  CHECK(reel_diskcache_get(dc, &other, &b) == 1 && b.n == 0);
  /* overwrite */
  CHECK(reel_diskcache_put(dc, &k, "xyz", 3) == 0);
  CHECK(reel_diskcache_get(dc, &k, &b) == 1 && b.n == 3 && !memcmp(b.p, "xyz", 3));
  CHECK(reel_diskcache_remove(dc, &k) == 0 && reel_diskcache_has(dc, &k) == 0);
  CHECK(reel_diskcache_remove(dc, &k) == 0); /* absent is fine */
  reel_diskcache_stats_t s;
  CHECK(reel_diskcache_stats(dc, &s) == 0);
  CHECK(s.hits == 3 && s.misses == 2 && s.writes == 3 && s.corrupt == 0);
  CHECK(s.entries == 1 && s.bytes == 24); /* header only */
  reel_buf_free(&b);
  reel_diskcache_close(dc);
}

static void test_disk_layout(void) {
  reel_diskcache_t *dc = fresh_cache();
  reel_key_t k = key_n(3);
  char path[512], hex[REEL_KEY_HEX];
  entry_path(dc, &k, path, sizeof path);
  reel_key_hex(&k, hex);
  CHECK(strlen(hex) == 32 && strstr(path, "/objects/") && path[strlen(path) - 33] == '/');
  size_t n = 24u << 20;
  unsigned char *p = malloc(n);
  fill_payload(p, n, 3);
  /* A child writes a large entry three times while we poll: whenever the
   * entry exists, it has its full size; the temporary is seen meanwhile. */
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 3; i++)
      if (reel_diskcache_put(dc, &k, p, n)) _exit(1);
    _exit(0);
  }
  int polls = 0, partial = 0, saw_tmp = 0, status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    struct stat st;
    if (!stat(path, &st) && (size_t)st.st_size != n + 24) partial++;
    if (tmp_count(dc) > 0) saw_tmp = 1;
    polls++;
  }
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(partial == 0 && polls > 0);
  fprintf(stderr, "  info: %d polls during 3 puts of 24 MiB, temporary seen: %d\n", polls, saw_tmp);
  CHECK(tmp_count(dc) == 0);
  reel_buf_t b = {0};
  CHECK(reel_diskcache_get(dc, &k, &b) == 1 && b.n == n && payload_ok(b.p, b.n, 3));

  /* A writer killed mid-write leaves at most a temporary, never an entry. */
  reel_key_t k2 = key_n(4);
  char path2[512];
  entry_path(dc, &k2, path2, sizeof path2);
  pid = fork();
  if (pid == 0) {
    reel_diskcache_put(dc, &k2, p, n);
    _exit(0);
  }
  for (int i = 0; i < 100000 && tmp_count(dc) == 0; i++) {
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  int r = reel_diskcache_get(dc, &k2, &b);
  CHECK(r == 0 || (r == 1 && b.n == n)); /* the kill may come after the rename */
  CHECK(tmp_count(dc) <= 1);
  fprintf(stderr, "  info: killed writer left %d temporary file(s), entry %s\n", tmp_count(dc),
          r ? "complete" : "absent");
  reel_buf_free(&b);
  free(p);
  reel_diskcache_close(dc);
}

static void test_disk_corrupt(void) {
  reel_diskcache_t *dc = fresh_cache();
  unsigned char p[4096];
  reel_key_t a = key_n(10), c = key_n(11);
  char pa[512], pc[512];
  entry_path(dc, &a, pa, sizeof pa);
  entry_path(dc, &c, pc, sizeof pc);
  fill_payload(p, sizeof p, 10);
  CHECK(reel_diskcache_put(dc, &a, p, sizeof p) == 0);
  fill_payload(p, sizeof p, 11);
  CHECK(reel_diskcache_put(dc, &c, p, sizeof p) == 0);

  /* flip one payload byte of a */
  int fd = open(pa, O_RDWR);
  unsigned char x;
  CHECK(pread(fd, &x, 1, 24 + 1000) == 1);
  x ^= 0x10;
  CHECK(pwrite(fd, &x, 1, 24 + 1000) == 1);
  close(fd);
  reel_buf_t b = {0};
  reel_diskcache_stats_t s;
  CHECK(reel_diskcache_get(dc, &a, &b) == 0 && b.n == 0);
  reel_diskcache_stats(dc, &s);
  CHECK(s.corrupt == 1);
  CHECK(access(pa, F_OK) != 0); /* removed */

  /* truncate c */
  CHECK(truncate(pc, 24 + 2000) == 0);
  CHECK(reel_diskcache_has(dc, &c) == 1); /* has does not read */
  CHECK(reel_diskcache_get(dc, &c, &b) == 0);
  reel_diskcache_stats(dc, &s);
  CHECK(s.corrupt == 2 && access(pc, F_OK) != 0);

  /* a garbage header */
  CHECK(reel_diskcache_put(dc, &c, p, sizeof p) == 0);
  fd = open(pc, O_WRONLY);
  CHECK(pwrite(fd, "XXXX", 4, 0) == 4);
  close(fd);
  CHECK(reel_diskcache_get(dc, &c, &b) == 0);
  reel_diskcache_stats(dc, &s);
  CHECK(s.corrupt == 3 && s.hits == 0 && s.misses == 3);

  /* a later put works */
  fill_payload(p, sizeof p, 10);
  CHECK(reel_diskcache_put(dc, &a, p, sizeof p) == 0);
  CHECK(reel_diskcache_get(dc, &a, &b) == 1 && b.n == sizeof p && payload_ok(b.p, b.n, 10));
  reel_buf_free(&b);
  reel_diskcache_close(dc);
}

static void test_disk_aux(void) {
  reel_diskcache_t *dc = fresh_cache();
  reel_buf_t b = {0};
  CHECK(reel_diskcache_aux_get(dc, "index", "abc", &b) == 0);
  CHECK(reel_diskcache_aux_put(dc, "index", "abc", "hello", 5) == 0);
  CHECK(reel_diskcache_aux_get(dc, "index", "abc", &b) == 1 && b.n == 5 &&
        !memcmp(b.p, "hello", 5));
  CHECK(reel_diskcache_aux_put(dc, "explain", "r1-1001.txt", "x", 1) == 0);
  char p[512];
  snprintf(p, sizeof p, "%s/aux/explain/r1-1001.txt", reel_diskcache_dir(dc));
  struct stat st;
  CHECK(!stat(p, &st) && st.st_size == 25);
  /* bad names are refused, never written outside aux/ */
  const char *bad[] = {"../x", "a/b", "..", ".", "", "a..b", "a b", "x\n"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CHECK(reel_diskcache_aux_put(dc, "index", bad[i], "x", 1) == -1);
    CHECK(reel_diskcache_aux_put(dc, bad[i], "ok", "x", 1) == -1);
    CHECK(reel_diskcache_aux_get(dc, "index", bad[i], &b) == -1);
    CHECK(reel_diskcache_aux_dir(dc, bad[i]) == NULL);
  }
  CHECK(strstr(reel_error_get(), "invalid cache record name") != NULL);
  reel_error_clear();
  const char *d1 = reel_diskcache_aux_dir(dc, "kernels");
  const char *d2 = reel_diskcache_aux_dir(dc, "kernels");
  CHECK(d1 && d1 == d2 && !stat(d1, &st) && S_ISDIR(st.st_mode));
  CHECK(d1 && strstr(d1, "/aux/kernels") != NULL);
  /* corrupt aux record: a miss, removed */
  snprintf(p, sizeof p, "%s/aux/index/abc", reel_diskcache_dir(dc));
  CHECK(truncate(p, 26) == 0);
  CHECK(reel_diskcache_aux_get(dc, "index", "abc", &b) == 0 && access(p, F_OK) != 0);
  reel_diskcache_stats_t s;
  reel_diskcache_stats(dc, &s);
  CHECK(s.aux_entries == 1 && s.aux_bytes == 25 && s.entries == 0 && s.corrupt == 1);
  reel_buf_free(&b);
  reel_diskcache_close(dc);
}

static int wait_byte(int fd, int ms, char *c) {
  struct pollfd pf = {fd, POLLIN, 0};
  if (poll(&pf, 1, ms) != 1) return 0;
  return read(fd, c, 1) == 1;
}

static void test_disk_lock(void) {
  reel_diskcache_t *dc = fresh_cache();
  reel_key_t k = key_n(20);
  char hex[REEL_KEY_HEX], lp[512];
  reel_key_hex(&k, hex);
  snprintf(lp, sizeof lp, "%s/locks/%s", reel_diskcache_dir(dc), hex);
  int h = reel_diskcache_lock(dc, &k);
  CHECK(h >= 0);
  int pfd[2];
  CHECK(pipe(pfd) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    /* The flock belongs to the open file, which fork shares: drop our copy
     * or the parent's unlock would not release it. */
    close(h);
    close(pfd[0]);
    reel_diskcache_t *cdc = reel_diskcache_open(reel_diskcache_dir(dc));
    int fd = open(lp, O_RDWR);
    char c = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK ? '1' : '0';
    if (fd >= 0) close(fd);
    if (write(pfd[1], &c, 1) != 1) _exit(1);
    int ch = reel_diskcache_lock(cdc, &k); /* blocks until the parent unlocks */
    c = ch >= 0 ? 'L' : 'E';
    if (write(pfd[1], &c, 1) != 1) _exit(1);
    reel_diskcache_unlock(cdc, ch);
    reel_diskcache_close(cdc);
    _exit(0);
  }
  close(pfd[1]);
  char c = 0;
  CHECK(wait_byte(pfd[0], 5000, &c) && c == '1'); /* LOCK_NB failed in the child */
  CHECK(!wait_byte(pfd[0], 300, &c));             /* child still blocked */
  /* gc must not remove a held lock file */
  CHECK(reel_diskcache_gc(dc, UINT64_MAX, NULL) == 0);
  CHECK(access(lp, F_OK) == 0);
  reel_diskcache_unlock(dc, h);
  c = 0;
  CHECK(wait_byte(pfd[0], 5000, &c) && c == 'L'); /* then it got the lock */
  if (c != 'L') kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(pfd[0]);
  /* nobody holds it now: gc clears the file, and locking still works after */
  CHECK(reel_diskcache_gc(dc, UINT64_MAX, NULL) == 0);
  CHECK(access(lp, F_OK) != 0);
  h = reel_diskcache_lock(dc, &k);
  CHECK(h >= 0 && access(lp, F_OK) == 0);
  reel_diskcache_unlock(dc, h);
  reel_diskcache_close(dc);
}

/* Child of the hammer test: exit 0, or 1 bad payload read, 2 corrupt entry
 * seen, 3 error, 4 never read anything. */
static int hammer_child(const char *dir, unsigned seed) {
  reel_diskcache_t *dc = reel_diskcache_open(dir);
  if (!dc) return 3;
  unsigned char *p = malloc(256 << 10);
  reel_buf_t b = {0};
  int hits = 0, rc = 0;
  for (int it = 0; it < 200 && !rc; it++) {
    int i = rand_r(&seed) % 6;
    size_t n = 8 + (size_t)(rand_r(&seed) % ((256 << 10) - 8));
    fill_payload(p, n, i);
    reel_key_t k = key_n(1000 + i);
    if (reel_diskcache_put(dc, &k, p, n)) rc = 3;
    int j = rand_r(&seed) % 6;
    k = key_n(1000 + j);
    int r = reel_diskcache_get(dc, &k, &b);
    if (r < 0) rc = 3;
    if (r == 1 && !payload_ok(b.p, b.n, j)) rc = 1;
    hits += r == 1;
  }
  reel_diskcache_stats_t s;
  reel_diskcache_stats(dc, &s);
  if (!rc && s.corrupt) rc = 2;
  if (!rc && !hits) rc = 4;
  reel_buf_free(&b);
  free(p);
  reel_diskcache_close(dc);
  return rc;
}

static void test_disk_two_processes(void) {
  reel_diskcache_t *dc = fresh_cache();
  pid_t pid[2];
  for (int c = 0; c < 2; c++)
    if ((pid[c] = fork()) == 0) _exit(hammer_child(reel_diskcache_dir(dc), 17u + (unsigned)c));
  for (int c = 0; c < 2; c++) {
    int status = -1;
    waitpid(pid[c], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFEXITED(status) && WEXITSTATUS(status))
      fprintf(stderr, "  child %d exit %d\n", c, WEXITSTATUS(status));
  }
  /* whatever is left is whole */
  reel_buf_t b = {0};
  int found = 0;
  for (int i = 0; i < 6; i++) {
    reel_key_t k = key_n(1000 + i);
    int r = reel_diskcache_get(dc, &k, &b);
    CHECK(r == 1 && payload_ok(b.p, b.n, i));
    found += r == 1;
  }
  CHECK(found == 6 && tmp_count(dc) == 0);
  reel_buf_free(&b);
  reel_diskcache_close(dc);
}

static void test_disk_gc(void) {
  reel_diskcache_t *dc = fresh_cache();
  unsigned char p[1000];
  char path[512];
  time_t base = time(NULL) - 100000;
  for (int i = 0; i < 5; i++) {
    reel_key_t k = key_n(50 + i);
    fill_payload(p, sizeof p, i);
    CHECK(reel_diskcache_put(dc, &k, p, sizeof p) == 0);
    entry_path(dc, &k, path, sizeof path);
    set_mtime(path, base + i * 10); /* 50 oldest ... 54 newest */
  }
  /* a hit on the oldest makes it the most recent */
  reel_key_t k0 = key_n(50);
  reel_buf_t b = {0};
  CHECK(reel_diskcache_get(dc, &k0, &b) == 1);
  /* temporaries: a stale one (2 h old) goes, a fresh one (a live writer) stays */
  char stale[512], live[512];
  snprintf(stale, sizeof stale, "%s/tmp/1.1.dead", reel_diskcache_dir(dc));
  snprintf(live, sizeof live, "%s/tmp/1.2.live", reel_diskcache_dir(dc));
  close(open(stale, O_CREAT | O_WRONLY, 0644));
  close(open(live, O_CREAT | O_WRONLY, 0644));
  set_mtime(stale, time(NULL) - 7200);

  reel_diskcache_stats_t s;
  CHECK(reel_diskcache_stats(dc, &s) == 0 && s.entries == 5 && s.bytes == 5 * 1024);
  CHECK(reel_diskcache_gc(dc, 3 * 1024, &s) == 0);
  CHECK(s.removed == 2 && s.removed_bytes == 2 * 1024);
  CHECK(s.entries == 3 && s.bytes == 3 * 1024);
  int keep[5] = {1, 0, 0, 1, 1}; /* 51 and 52 were the least recently used */
  for (int i = 0; i < 5; i++) {
    reel_key_t k = key_n(50 + i);
    CHECK(reel_diskcache_has(dc, &k) == keep[i]);
  }
  CHECK(access(stale, F_OK) != 0 && access(live, F_OK) == 0);
  /* a bound between sizes rounds down: 2500 bytes keeps two entries */
  CHECK(reel_diskcache_gc(dc, 2500, &s) == 0 && s.removed == 1 && s.entries == 2);
  reel_key_t k3 = key_n(53);
  CHECK(reel_diskcache_has(dc, &k3) == 0);
  CHECK(reel_diskcache_stats(dc, &s) == 0 && s.entries == 2 && s.removed == 3);
  CHECK(reel_diskcache_gc(dc, 0, &s) == 0 && s.entries == 0 && s.bytes == 0);
  CHECK(reel_diskcache_stats(dc, &s) == 0 && s.entries == 0);
  reel_buf_free(&b);
  reel_diskcache_close(dc);
}

static void test_disk_stats(void) {
  reel_diskcache_t *dc = fresh_cache();
  unsigned char p[300];
  memset(p, 7, sizeof p);
  for (int i = 0; i < 7; i++) {
    reel_key_t k = key_n(70 + i);
    CHECK(reel_diskcache_put(dc, &k, p, 100 + (size_t)i) == 0);
  }
  CHECK(reel_diskcache_aux_put(dc, "index", "a", p, 10) == 0);
  CHECK(reel_diskcache_aux_put(dc, "explain", "b", p, 20) == 0);
  reel_diskcache_stats_t s;
  CHECK(reel_diskcache_stats(dc, &s) == 0);
  CHECK(s.entries == 7 && s.bytes == 7 * (100 + 24) + 21);
  CHECK(s.aux_entries == 2 && s.aux_bytes == 10 + 20 + 2 * 24);
  CHECK(s.writes == 7 && s.hits == 0 && s.misses == 0 && s.corrupt == 0);
  reel_diskcache_close(dc);
}

static void test_disk_values(void) {
  reel_error_clear();
  reel_diskcache_t *dc = fresh_cache();
  reel_record_t *r = reel_record_new();
  reel_meta_set(&r->kv, "file", "/renders/r1.1001.exr");
  reel_meta_set(&r->kv, "size", "12345678");
  reel_meta_set(&r->kv, "mtime", "1700000000.123456789");
  reel_key_t k = key_n(90), miss = key_n(91);
  CHECK(reel_diskcache_put_value(dc, &k, &r->v) == 0);
  reel_value_t *v = NULL;
  CHECK(reel_diskcache_get_value(dc, &miss, &v) == 0 && v == NULL);
  CHECK(reel_diskcache_get_value(dc, &k, &v) == 1);
  reel_record_t *back = reel_record_cast(v);
  CHECK(back != NULL && back != r && v->refs == 1);
  if (back) {
    CHECK(back->kv.n == 3);
    for (int i = 0; i < r->kv.n; i++) {
      const char *val = reel_meta_get(&back->kv, r->kv.k[i]);
      CHECK(val && !strcmp(val, r->kv.v[i]));
    }
  }
  reel_value_unref(v);
  /* intact bytes that are not a value: a miss, and the entry is dropped */
  CHECK(reel_diskcache_put(dc, &k, "not a value", 11) == 0);
  CHECK(reel_diskcache_get_value(dc, &k, &v) == 0 && v == NULL);
  CHECK(reel_diskcache_has(dc, &k) == 0);
  CHECK(reel_error_get()[0] == 0); /* a miss leaves no error behind */
  reel_value_unref(&r->v);
  reel_diskcache_close(dc);
}

static void test_default_dir(void) {
  setenv("REEL_CACHE", "/x/reel", 1);
  CHECK(!strcmp(reel_diskcache_default_dir(), "/x/reel"));
  unsetenv("REEL_CACHE");
  setenv("XDG_CACHE_HOME", "/y", 1);
  CHECK(!strcmp(reel_diskcache_default_dir(), "/y/reel"));
  unsetenv("XDG_CACHE_HOME");
  char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  setenv("HOME", "/home/z", 1);
  CHECK(!strcmp(reel_diskcache_default_dir(), "/home/z/.cache/reel"));
  unsetenv("HOME");
  char want[64];
  snprintf(want, sizeof want, "/tmp/reel-cache-%ld", (long)getuid());
  CHECK(!strcmp(reel_diskcache_default_dir(), want));
  if (home) setenv("HOME", home, 1);
  free(home);
  /* an unwritable place fails with a message naming the path */
  CHECK(reel_diskcache_open("/proc/reel-no-such/c") == NULL);
  CHECK(strstr(reel_error_get(), "/proc/reel-no-such") && reel_error_class() == REEL_EIO);
  reel_error_clear();
}

int main(void) {
  RUN(test_mem_lru_order);
  RUN(test_mem_byte_bound);
  RUN(test_mem_too_large);
  RUN(test_mem_replace);
  RUN(test_mem_refcounts);
  RUN(test_mem_threads);
  RUN(test_disk_round_trip);
  RUN(test_disk_layout);
  RUN(test_disk_corrupt);
  RUN(test_disk_aux);
  RUN(test_disk_lock);
  RUN(test_disk_two_processes);
  RUN(test_disk_gc);
  RUN(test_disk_stats);
  RUN(test_disk_values);
  RUN(test_default_dir);
  if (tmpdir[0]) nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  TEST_END();
}
