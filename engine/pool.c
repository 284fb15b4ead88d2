/* Host memory pool (pool.h). Requests of 2 MiB and more are mmap'd at a 2 MiB
 * boundary, advised MADV_HUGEPAGE, rounded up to a size class and recycled
 * when freed, newest first; idle blocks beyond the limit are unmapped oldest
 * first. Smaller requests go to posix_memalign with a 64-byte header holding
 * their size. Big blocks are found at free time in a table hashed by address.
 * One mutex guards everything; mapping and unmapping happen outside it. */
#include "pool.h"
#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MIB ((size_t)1 << 20)
#define HPAGE (2 * MIB) /* huge page size; requests from here on are pooled */
#define HDR 64          /* header in front of small blocks; keeps 64-byte alignment */
#define NBUCKET 256

typedef struct block {
  void *p;
  size_t size; /* size class: the bytes mapped */
  struct block *next;
} block_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static block_t *live[NBUCKET]; /* big blocks handed out */
static block_t *idle;          /* big blocks kept for reuse, newest first */
static size_t limit;
static int limit_set;
static reel_pool_stats_t st; /* allocs: every successful alloc; reuses: those recycled */

/* Size classes: multiples of 2 MiB below 16 MiB, then eight steps per power
 * of two (at most 12.5% slack), so frames of one format share a class:
 * a 4096x3112 float plane (48.6 MiB) gets 52 MiB. */
static size_t size_class(size_t n) {
  size_t p = (size_t)1 << (63 - __builtin_clzll((unsigned long long)n));
  size_t step = p / 8 > HPAGE ? p / 8 : HPAGE;
  return (n + step - 1) / step * step;
}

static size_t bucket(const void *p) { return ((uintptr_t)p / HPAGE) % NBUCKET; }

static void init_limit(void) {
  if (limit_set) return;
  limit = 2048 * MIB;
  const char *e = getenv("REEL_POOL_MB");
  if (e && *e) {
    char *end;
    unsigned long long mb = strtoull(e, &end, 10);
    if (!*end) limit = (size_t)mb * MIB;
  }
  limit_set = 1;
}

static void account_live(size_t add) {
  st.live_bytes += add;
  if (st.live_bytes > st.peak_bytes) st.peak_bytes = st.live_bytes;
  st.allocs++;
}

/* Cuts the idle list after the newest blocks that fit in `keep` bytes and
 * returns the rest (older ones) for the caller to unmap outside the lock. */
static block_t *cut_idle(size_t keep) {
  size_t sum = 0;
  block_t **pp = &idle;
  while (*pp && sum + (*pp)->size <= keep) {
    sum += (*pp)->size;
    pp = &(*pp)->next;
  }
  block_t *rest = *pp;
  *pp = NULL;
  for (block_t *b = rest; b; b = b->next) st.idle_bytes -= b->size;
  return rest;
}

static void unmap_list(block_t *b) {
  while (b) {
    block_t *next = b->next;
    munmap(b->p, b->size);
    free(b);
    b = next;
  }
}

/* Maps `size` bytes (a multiple of 2 MiB) at a 2 MiB boundary, so that the
 * kernel can back the range with huge pages from the first touch. */
static void *map_huge(size_t size) {
  size_t span = size + HPAGE;
  char *q = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (q == MAP_FAILED) return NULL;
  char *a = (char *)(((uintptr_t)q + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
  if (a > q) munmap(q, (size_t)(a - q));
  if (q + span > a + size) munmap(a + size, (size_t)(q + span - (a + size)));
  madvise(a, size, MADV_HUGEPAGE); /* advisory: fails harmlessly where THP is off */
  return a;
}

static void *alloc_small(size_t n) {
  void *q;
  if (posix_memalign(&q, HDR, HDR + n)) {
    reel_error(REEL_EIO, "out of memory allocating %zu bytes", n);
    return NULL;
  }
  *(size_t *)q = n;
  pthread_mutex_lock(&mu);
  account_live(n);
  pthread_mutex_unlock(&mu);
  return (char *)q + HDR;
}

void *reel_pool_alloc(size_t n) {
  if (n < HPAGE) return alloc_small(n);
  if (n > SIZE_MAX / 4) {
    reel_error(REEL_EIO, "cannot allocate %zu bytes", n);
    return NULL;
  }
  size_t size = size_class(n);
  block_t *b = NULL, *evicted = NULL;
  pthread_mutex_lock(&mu);
  init_limit();
  for (block_t **pp = &idle; *pp; pp = &(*pp)->next) {
    if ((*pp)->size == size) {
      b = *pp;
      *pp = b->next;
      st.idle_bytes -= size;
      st.reuses++;
      break;
    }
  }
  pthread_mutex_unlock(&mu);

  if (!b) {
    void *p = map_huge(size);
    if (!p) { /* idle blocks of other classes may be what is in the way */
      pthread_mutex_lock(&mu);
      evicted = cut_idle(0);
      pthread_mutex_unlock(&mu);
      unmap_list(evicted);
      p = map_huge(size);
    }
    if (!p || !(b = malloc(sizeof *b))) {
      if (p) munmap(p, size);
      reel_error(REEL_EIO, "out of memory allocating %zu bytes: %s", n, strerror(errno));
      return NULL;
    }
    b->p = p;
    b->size = size;
  }

  pthread_mutex_lock(&mu);
  b->next = live[bucket(b->p)];
  live[bucket(b->p)] = b;
  account_live(size);
  pthread_mutex_unlock(&mu);
  return b->p;
}

void reel_pool_free(void *p) {
  if (!p) return;
  block_t *b = NULL, *evicted = NULL;
  pthread_mutex_lock(&mu);
  for (block_t **pp = &live[bucket(p)]; *pp; pp = &(*pp)->next) {
    if ((*pp)->p == p) {
      b = *pp;
      *pp = b->next;
      break;
    }
  }
  if (!b) { /* not a big block: a small one with its size in the header */
    char *q = (char *)p - HDR;
    st.live_bytes -= *(size_t *)q;
    pthread_mutex_unlock(&mu);
    free(q);
    return;
  }
  init_limit();
  st.live_bytes -= b->size;
  st.idle_bytes += b->size;
  b->next = idle;
  idle = b;
  if (st.idle_bytes > limit) evicted = cut_idle(limit);
  pthread_mutex_unlock(&mu);
  unmap_list(evicted);
}

void reel_pool_set_limit(size_t bytes) {
  pthread_mutex_lock(&mu);
  limit = bytes;
  limit_set = 1; /* an explicit limit wins over REEL_POOL_MB */
  block_t *evicted = cut_idle(limit);
  pthread_mutex_unlock(&mu);
  unmap_list(evicted);
}

void reel_pool_trim(void) {
  pthread_mutex_lock(&mu);
  block_t *evicted = cut_idle(0);
  pthread_mutex_unlock(&mu);
  unmap_list(evicted);
}

void reel_pool_stats(reel_pool_stats_t *s) {
  pthread_mutex_lock(&mu);
  *s = st;
  pthread_mutex_unlock(&mu);
}
