/* Unit tests for the host memory pool (engine/pool.c): alignment, reuse by
 * size class, byte accounting, eviction at the idle limit, and a two-thread
 * smoke test. The pool is process-wide, so each test trims it first. */
#include "pool.h"
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#define MIB ((size_t)1 << 20)

static void test_alignment(void) {
  size_t sizes[] = {0, 1, 3, 63, 64, 65, 1000, 4096, 100000, 2 * MIB - 1, 2 * MIB, 7 * MIB + 5};
  void *p[sizeof sizes / sizeof *sizes];
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    p[i] = reel_pool_alloc(sizes[i]);
    CHECK(p[i] != NULL);
    CHECK((uintptr_t)p[i] % 64 == 0);
    memset(p[i], 0xab, sizes[i]); /* the whole range is writable */
  }
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) reel_pool_free(p[i]);
  reel_pool_free(NULL);
}

static void test_reuse_and_stats(void) {
  reel_pool_trim();
  reel_pool_set_limit(1024 * MIB);
  reel_pool_stats_t s0, s;
  reel_pool_stats(&s0);
  CHECK(s0.idle_bytes == 0);

  /* 5 MiB falls in the 6 MiB class (2 MiB steps below 16 MiB). */
  char *a = reel_pool_alloc(5 * MIB);
  CHECK(a != NULL);
  reel_pool_stats(&s);
  CHECK(s.live_bytes - s0.live_bytes == 6 * MIB);
  CHECK(s.idle_bytes == 0);
  CHECK(s.allocs == s0.allocs + 1);
  CHECK(s.reuses == s0.reuses);
  a[0] = 1;
  a[5 * MIB - 1] = 2;

  reel_pool_free(a);
  reel_pool_stats(&s);
  CHECK(s.live_bytes == s0.live_bytes);
  CHECK(s.idle_bytes == 6 * MIB);

  /* Another request of the same class gets the same block back. */
  char *b = reel_pool_alloc(5 * MIB + 12345);
  CHECK(b == a);
  reel_pool_stats(&s);
  CHECK(s.reuses == s0.reuses + 1);
  CHECK(s.allocs == s0.allocs + 2);
  CHECK(s.idle_bytes == 0);
  CHECK(s.peak_bytes >= s0.live_bytes + 6 * MIB);

  /* A different class does not take it. */
  reel_pool_free(b);
  char *c = reel_pool_alloc(9 * MIB); /* 10 MiB class */
  CHECK(c != NULL && c != a);
  reel_pool_stats(&s);
  CHECK(s.idle_bytes == 6 * MIB);
  CHECK(s.live_bytes - s0.live_bytes == 10 * MIB);

  /* Large sizes: a 4096x3112 float plane lands in the 52 MiB class. */
  char *d = reel_pool_alloc((size_t)4096 * 3112 * 4);
  reel_pool_stats(&s);
  CHECK(s.live_bytes - s0.live_bytes == 62 * MIB);
  reel_pool_free(c);
  reel_pool_free(d);
  reel_pool_trim();
  reel_pool_stats(&s);
  CHECK(s.idle_bytes == 0);
  CHECK(s.live_bytes == s0.live_bytes);
}

static void test_small_accounting(void) {
  reel_pool_stats_t s0, s;
  reel_pool_stats(&s0);
  void *p = reel_pool_alloc(1000);
  reel_pool_stats(&s);
  CHECK(s.live_bytes - s0.live_bytes == 1000);
  CHECK(s.allocs == s0.allocs + 1);
  reel_pool_free(p);
  reel_pool_stats(&s);
  CHECK(s.live_bytes == s0.live_bytes);
  CHECK(s.idle_bytes == s0.idle_bytes); /* small blocks are not kept */
}

static void test_limit_eviction(void) {
  reel_pool_trim();
  reel_pool_set_limit(10 * MIB);
  reel_pool_stats_t s;
  char *a = reel_pool_alloc(6 * MIB), *b = reel_pool_alloc(6 * MIB), *c = reel_pool_alloc(6 * MIB);
  CHECK(a && b && c);
  reel_pool_free(a);
  reel_pool_free(b);
  reel_pool_free(c);
  /* Only one 6 MiB block fits under 10 MiB: the newest, c. */
  reel_pool_stats(&s);
  CHECK(s.idle_bytes == 6 * MIB);
  char *d = reel_pool_alloc(6 * MIB);
  CHECK(d == c);
  reel_pool_stats(&s);
  CHECK(s.idle_bytes == 0);
  reel_pool_free(d);

  /* Lowering the limit evicts at once; a block over the limit is not kept. */
  reel_pool_set_limit(0);
  reel_pool_stats(&s);
  CHECK(s.idle_bytes == 0);
  char *e = reel_pool_alloc(20 * MIB);
  reel_pool_free(e);
  reel_pool_stats(&s);
  CHECK(s.idle_bytes == 0);
  reel_pool_set_limit(1024 * MIB);
}

enum { ROUNDS = 300 };

static void *worker(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  long bad = 0;
  for (int i = 0; i < ROUNDS; i++) {
    seed = seed * 1103515245u + 12345u;
    size_t n = (seed >> 8) % 3 == 0 ? 1000 + seed % 5000 : (2 + (seed >> 12) % 6) * MIB;
    unsigned char *p = reel_pool_alloc(n);
    if (!p) return (void *)1;
    unsigned char tag = (unsigned char)(seed >> 20);
    /* Touch the first and last 1000 bytes only: the point is ownership. */
    memset(p, tag, 1000);
    memset(p + n - 1000, tag, 1000);
    sched_yield();
    for (size_t j = 0; j < 1000; j += 7) bad += p[j] != tag || p[n - 1 - j] != tag;
    reel_pool_free(p);
  }
  return (void *)(uintptr_t)(bad != 0);
}

static void test_threads(void) {
  reel_pool_trim();
  reel_pool_set_limit(16 * MIB); /* small, so eviction races with reuse */
  reel_pool_stats_t s0, s;
  reel_pool_stats(&s0);
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0);
  for (int i = 0; i < 2; i++) {
    void *r;
    pthread_join(t[i], &r);
    CHECK(r == NULL);
  }
  reel_pool_stats(&s);
  CHECK(s.live_bytes == s0.live_bytes);
  CHECK(s.idle_bytes <= 16 * MIB);
  CHECK(s.allocs == s0.allocs + 2 * ROUNDS);
  CHECK(s.reuses > s0.reuses);
  reel_pool_trim();
  reel_pool_set_limit(2048 * MIB);
}

int main(void) {
  RUN(test_alignment);
  RUN(test_reuse_and_stats);
  RUN(test_small_accounting);
  RUN(test_limit_eviction);
  RUN(test_threads);
  TEST_END();
}
