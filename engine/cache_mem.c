/* Memory cache (cache.h): a chained hash table keyed by reel_key_t plus a
 * doubly linked LRU list (head = most recently used), bounded by the sum of
 * reel_value_bytes of the values it holds. One mutex guards everything;
 * values leaving the cache are unreferenced after the mutex is released, so a
 * class's destroy callback never runs under the lock. */
#include "cache.h"
#include "error.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct entry {
  reel_key_t key;
  reel_value_t *v; /* the cache's own reference */
  size_t bytes;    /* reel_value_bytes at put time */
  struct entry *hnext, *prev, *next;
} entry_t;

struct reel_memcache {
  pthread_mutex_t mu;
  entry_t **tab;
  size_t nbuckets; /* a power of two */
  size_t count, bytes, max;
  entry_t *head, *tail;
  uint64_t hits, misses, evictions;
};

/* Keys are already uniform hashes, so their low bits index the table. */
static size_t slot(const reel_memcache_t *mc, const reel_key_t *k) {
  return (size_t)(k->lo ^ k->hi) & (mc->nbuckets - 1);
}

static entry_t *find(reel_memcache_t *mc, const reel_key_t *k) {
  for (entry_t *e = mc->tab[slot(mc, k)]; e; e = e->hnext)
    if (reel_key_eq(&e->key, k)) return e;
  return NULL;
}

static void lru_unlink(reel_memcache_t *mc, entry_t *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    mc->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    mc->tail = e->prev;
  e->prev = e->next = NULL;
}

static void lru_push_front(reel_memcache_t *mc, entry_t *e) {
  e->prev = NULL;
  e->next = mc->head;
  if (mc->head) mc->head->prev = e;
  mc->head = e;
  if (!mc->tail) mc->tail = e;
}

/* Takes e out of the table and the list and prepends it to *dead; its value
 * is released later by release(), outside the lock. */
static void detach(reel_memcache_t *mc, entry_t *e, entry_t **dead) {
  entry_t **pp = &mc->tab[slot(mc, &e->key)];
  while (*pp != e) pp = &(*pp)->hnext;
  *pp = e->hnext;
  lru_unlink(mc, e);
  mc->count--;
  mc->bytes -= e->bytes;
  e->hnext = *dead;
  *dead = e;
}

static void evict_to(reel_memcache_t *mc, size_t max, entry_t **dead) {
  while (mc->bytes > max && mc->tail) {
    detach(mc, mc->tail, dead);
    mc->evictions++;
  }
}

static void release(entry_t *dead) {
  while (dead) {
    entry_t *next = dead->hnext;
    reel_value_unref(dead->v);
    free(dead);
    dead = next;
  }
}

/* Doubles the table when it averages more than one entry per bucket. A failed
 * allocation just leaves longer chains. */
static void grow(reel_memcache_t *mc) {
  size_t n = mc->nbuckets * 2;
  entry_t **tab = calloc(n, sizeof *tab);
  if (!tab) return;
  entry_t **old = mc->tab;
  size_t oldn = mc->nbuckets;
  mc->tab = tab;
  mc->nbuckets = n;
  for (size_t i = 0; i < oldn; i++)
    for (entry_t *e = old[i], *next; e; e = next) {
      next = e->hnext;
      size_t s = slot(mc, &e->key);
      e->hnext = tab[s];
      tab[s] = e;
    }
  free(old);
}

reel_memcache_t *reel_memcache_new(size_t max_bytes) {
  reel_memcache_t *mc = calloc(1, sizeof *mc);
  if (mc) mc->tab = calloc(mc->nbuckets = 64, sizeof *mc->tab);
  if (!mc || !mc->tab) {
    free(mc);
    reel_error(REEL_EIO, "out of memory creating the memory cache");
    return NULL;
  }
  pthread_mutex_init(&mc->mu, NULL);
  mc->max = max_bytes;
  return mc;
}

void reel_memcache_free(reel_memcache_t *mc) {
  if (!mc) return;
  entry_t *dead = NULL;
  evict_to(mc, 0, &dead);
  release(dead);
  pthread_mutex_destroy(&mc->mu);
  free(mc->tab);
  free(mc);
}

void reel_memcache_set_max(reel_memcache_t *mc, size_t max_bytes) {
  entry_t *dead = NULL;
  pthread_mutex_lock(&mc->mu);
  mc->max = max_bytes;
  evict_to(mc, max_bytes, &dead);
  pthread_mutex_unlock(&mc->mu);
  release(dead);
}

reel_value_t *reel_memcache_get(reel_memcache_t *mc, const reel_key_t *k) {
  reel_value_t *v = NULL;
  pthread_mutex_lock(&mc->mu);
  entry_t *e = find(mc, k);
  if (e) {
    lru_unlink(mc, e);
    lru_push_front(mc, e);
    v = reel_value_ref(e->v);
    mc->hits++;
  } else {
    mc->misses++;
  }
  pthread_mutex_unlock(&mc->mu);
  return v;
}

void reel_memcache_put(reel_memcache_t *mc, const reel_key_t *k, reel_value_t *v) {
  assert(v);
  size_t bytes = reel_value_bytes(v);
  /* Allocated before locking; freed unused when the value does not fit. */
  entry_t *e = malloc(sizeof *e);
  entry_t *dead = NULL;
  pthread_mutex_lock(&mc->mu);
  entry_t *old = find(mc, k);
  /* The new value supersedes the old one even when it is too large to keep. */
  if (old) detach(mc, old, &dead);
  if (e && bytes <= mc->max) {
    *e = (entry_t){.key = *k, .v = reel_value_ref(v), .bytes = bytes};
    size_t s = slot(mc, k);
    e->hnext = mc->tab[s];
    mc->tab[s] = e;
    lru_push_front(mc, e);
    mc->count++;
    mc->bytes += bytes;
    /* e itself fits the bound, so eviction stops before reaching it. */
    evict_to(mc, mc->max, &dead);
    if (mc->count > mc->nbuckets) grow(mc);
    e = NULL;
  }
  pthread_mutex_unlock(&mc->mu);
  free(e);
  release(dead);
}

void reel_memcache_remove(reel_memcache_t *mc, const reel_key_t *k) {
  entry_t *dead = NULL;
  pthread_mutex_lock(&mc->mu);
  entry_t *e = find(mc, k);
  if (e) detach(mc, e, &dead);
  pthread_mutex_unlock(&mc->mu);
  release(dead);
}

void reel_memcache_stats(const reel_memcache_t *cmc, reel_memcache_stats_t *s) {
  /* The mutex lives in the object, so a const reader still has to take it. */
  reel_memcache_t *mc = (reel_memcache_t *)cmc;
  pthread_mutex_lock(&mc->mu);
  *s = (reel_memcache_stats_t){.bytes = mc->bytes,
                               .max_bytes = mc->max,
                               .count = mc->count,
                               .hits = mc->hits,
                               .misses = mc->misses,
                               .evictions = mc->evictions};
  pthread_mutex_unlock(&mc->mu);
}
