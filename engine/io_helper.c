/* Client of the decoder helper (tools/reel_decode.c), started lazily with
 * posix_spawn (no copy of this process's page tables, unlike fork) and kept
 * for many frames: requests over a socketpair, pixels through a memfd both
 * sides map, kept and grown here. A helper that dies or hangs (killed after
 * a timeout) costs one file and is replaced for the next; NSLOTS helpers
 * serve concurrent callers. Protocol: io_impl.h. */
#define _GNU_SOURCE
#include "error.h"
#include "io_impl.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NSLOTS
#define NSLOTS 2
#endif
#define HELLO_MS 10000 /* a helper that has not said hello by then is broken */

extern char **environ;

typedef struct {
  pthread_mutex_t mu;
  pid_t pid; /* 0: not running */
  int sock, shm, errfd;
  unsigned char *map;
  size_t mapn;
} slot_t;

static slot_t slots[NSLOTS];
static pthread_mutex_t cfg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
static int searched, timeout_ms;
static char exe[PATH_MAX]; /* "" when there is none */
static unsigned long n_spawns, n_requests;

static void init_slots(void) {
  for (int i = 0; i < NSLOTS; i++) {
    pthread_mutex_init(&slots[i].mu, NULL);
    slots[i].sock = slots[i].shm = slots[i].errfd = -1;
  }
}

/* ---- finding the executable ---- */

static int executable(const char *p) { return p[0] && !access(p, X_OK); }

/* REEL_DECODER, else reel/reel-decode beside the library that holds this
 * code (lib/libreel.so -> lib/reel/reel-decode, in the tree and installed),
 * else lib/reel/reel-decode beside the bin/ of a program that links libreel
 * statically. */
static void search(void) {
  const char *env = getenv("REEL_DECODER");
  searched = 1;
  exe[0] = 0;
  if (env) {
    /* "": no helper, on purpose; else made absolute, as the cwd may change */
    if (!env[0] || (executable(env) && realpath(env, exe))) return;
    exe[0] = 0;
    fprintf(stderr,
            "reel: warning: REEL_DECODER='%s' is not an executable; decoding DPX, Cineon, TIFF, "
            "PNG and JPEG in a forked process per frame instead (slower in a large process)\n",
            env);
    return;
  }
  Dl_info di = {0};
  char lib[PATH_MAX], cand[PATH_MAX + 64];
  if (dladdr((void *)reel_helper_decode, &di) && di.dli_fname && realpath(di.dli_fname, lib)) {
    char *slash = strrchr(lib, '/');
    if (slash) *slash = 0;
    static const char *const rel[] = {"/reel/reel-decode", "/../lib/reel/reel-decode"};
    for (int i = 0; i < 2; i++) {
      snprintf(cand, sizeof cand, "%s%s", lib, rel[i]);
      if (executable(cand) && realpath(cand, exe)) return;
    }
  }
  exe[0] = 0;
  fprintf(stderr,
          "reel: warning: the image decoder helper reel-decode is not installed beside %s; "
          "decoding DPX, Cineon, TIFF, PNG and JPEG in a forked process per frame instead "
          "(slower in a large process). Set REEL_DECODER to its path\n",
          di.dli_fname ? di.dli_fname : "libreel");
}

/* ---- starting and stopping ---- */

static int high_fd(int fd) { /* above the helper's fixed numbers */
  if (fd < 0 || fd > 10) return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return n;
}

static void reap(slot_t *s, int *st) {
  int status = -1;
  if (s->pid > 0) {
    /* the socket closed: the helper is exiting, give it a moment */
    for (int i = 0; i < 200; i++) {
      pid_t r = waitpid(s->pid, &status, WNOHANG);
      if (r == s->pid || (r < 0 && errno != EINTR)) break;
      if (i == 199) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      usleep(10000);
    }
    if (st) *st = status;
  }
  if (s->sock >= 0) close(s->sock);
  s->sock = -1;
  s->pid = 0;
}

static void stop(slot_t *s) {
  if (s->sock >= 0) shutdown(s->sock, SHUT_RDWR); /* the helper reads EOF and exits */
  reap(s, NULL);
}

/* Waits up to ms for a message of exactly n bytes. 0, or -1: timed out
 * (errno ETIMEDOUT), closed (errno EPIPE) or failed. */
static int recv_msg(int fd, void *buf, size_t n, int ms) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    long left = ms - (long)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (!r) continue;
    ssize_t got = recv(fd, buf, n, MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got == (ssize_t)n) return 0;
    errno = got < 0 ? errno : EPIPE;
    return -1;
  }
}

static int start(slot_t *s, const char *exe_path, char *why, size_t cap) {
  int sv[2] = {-1, -1}, rc = -1;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  if (s->errfd < 0) {
    s->errfd = high_fd(memfd_create("reel-decode-stderr", MFD_CLOEXEC));
    /* appends land at the end, which truncation before each request resets */
    if (s->errfd >= 0) fcntl(s->errfd, F_SETFL, fcntl(s->errfd, F_GETFL) | O_APPEND);
  }
  if (s->shm < 0 || s->errfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
    snprintf(why, cap, "cannot make its socket or memory: %s", strerror(errno));
    return -1;
  }
  sv[0] = high_fd(sv[0]);
  sv[1] = high_fd(sv[1]);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, s->errfd, 1);
  posix_spawn_file_actions_adddup2(&fa, s->errfd, 2);
  posix_spawn_file_actions_adddup2(&fa, sv[1], REEL_DEC_SOCK_FD);
  posix_spawn_file_actions_adddup2(&fa, s->shm, REEL_DEC_SHM_FD);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&fa, REEL_DEC_SHM_FD + 1);
#endif
  /* default signal handling and no blocked signals, whatever this process set */
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_init(&at);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char *argv[] = {"reel-decode", NULL};
  pid_t pid;
  int e = posix_spawn(&pid, exe_path, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(sv[1]);
  if (e) {
    snprintf(why, cap, "cannot start '%s': %s", exe_path, strerror(e));
    close(sv[0]);
    return -1;
  }
  s->pid = pid;
  s->sock = sv[0];
  reel_dec_hello_t h;
  if (recv_msg(s->sock, &h, sizeof h, HELLO_MS)) {
    snprintf(why, cap, "'%s' did not answer (%s)", exe_path,
             errno == ETIMEDOUT ? "timed out" : "it exited");
    goto out;
  }
  if (h.magic != REEL_DEC_MAGIC || h.reqsize != sizeof(reel_dec_req_t) ||
      h.anssize != sizeof(reel_dec_answer_t)) {
    snprintf(why, cap, "'%s' speaks another protocol (is it from another build of Reel?)",
             exe_path);
    goto out;
  }
  __atomic_fetch_add(&n_spawns, 1, __ATOMIC_RELAXED);
  rc = 0;
out:
  if (rc) {
    kill(s->pid, SIGKILL);
    reap(s, NULL);
  }
  return rc;
}

/* ---- requests ---- */

static void clear(int fd) {
  if (fd >= 0 && ftruncate(fd, 0)) return; /* then an old message may show; harmless */
}


static int map_size(slot_t *s, size_t need, const char *path) {
  if (s->mapn >= need) return 0;
  size_t n = (need + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
  if (s->shm < 0) s->shm = high_fd(memfd_create("reel-decode", MFD_CLOEXEC));
  if (s->shm < 0 || ftruncate(s->shm, (off_t)n)) goto fail;
  if (s->map) munmap(s->map, s->mapn);
  s->map = NULL;
  s->mapn = 0;
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, s->shm, 0);
  if (p == MAP_FAILED) goto fail;
  s->map = p;
  s->mapn = n;
  return 0;
fail:
  reel_error(REEL_EIO, "'%s': cannot map %zu bytes for the image decoder: %s", path, n,
             strerror(errno));
  return -1;
}

static slot_t *take(void) {
  pthread_once(&slots_once, init_slots);
  for (int i = 0; i < NSLOTS; i++)
    if (!pthread_mutex_trylock(&slots[i].mu)) return &slots[i];
  /* all busy: queue on one, spreading threads by their stack address */
  int dummy, i = (int)(((uintptr_t)&dummy >> 16) % NSLOTS);
  pthread_mutex_lock(&slots[i].mu);
  return &slots[i];
}

int reel_helper_decode(const char *path, const char *fmt, int part, size_t pxcap,
                       reel_dec_view_t *v) {
  char path_exe[PATH_MAX];
  pthread_mutex_lock(&cfg_mu);
  if (!searched) search();
  snprintf(path_exe, sizeof path_exe, "%s", exe);
  int tmo = timeout_ms > 0 ? timeout_ms : REEL_DEC_TIMEOUT_MS;
  pthread_mutex_unlock(&cfg_mu);
  if (!path_exe[0]) return 1;
  if (strlen(path) >= sizeof((reel_dec_req_t *)0)->path) {
    reel_error(REEL_EUSER, "'%s': path too long", path);
    return -1;
  }
  memset(v, 0, sizeof *v);
  slot_t *s = take();
  char why[PATH_MAX + 200];
  if (map_size(s, REEL_DEC_STRCAP + pxcap, path)) goto fail;
  static reel_dec_req_t zero;
  reel_dec_req_t *rq = malloc(sizeof *rq);
  if (!rq) {
    reel_error(REEL_EIO, "out of memory");
    goto fail;
  }
  *rq = zero;
  rq->magic = REEL_DEC_MAGIC;
  rq->part = part;
  rq->pxcap = pxcap;
  rq->map = s->mapn;
  snprintf(rq->fmt, sizeof rq->fmt, "%s", fmt);
  snprintf(rq->path, sizeof rq->path, "%s", path);
  int sent = 0;
  /* a helper that died while idle (killed from outside) is replaced once */
  for (int attempt = 0; attempt < 2 && !sent; attempt++) {
    if (!s->pid && start(s, path_exe, why, sizeof why)) {
      free(rq);
      pthread_mutex_unlock(&s->mu);
      pthread_mutex_lock(&cfg_mu);
      fprintf(stderr,
              "reel: warning: the image decoder helper failed: %s; decoding in a forked process "
              "per frame instead\n",
              why);
      exe[0] = 0;
      pthread_mutex_unlock(&cfg_mu);
      return 1;
    }
    clear(s->errfd);
    if (send(s->sock, rq, sizeof *rq, MSG_NOSIGNAL) == (ssize_t)sizeof *rq)
      sent = 1;
    else
      reap(s, NULL);
  }
  free(rq);
  if (!sent) {
    reel_error(REEL_EIO, "'%s': cannot reach the image decoder helper: %s", path, strerror(errno));
    goto fail;
  }
  __atomic_fetch_add(&n_requests, 1, __ATOMIC_RELAXED);
  if (!recv_msg(s->sock, &v->ans, sizeof v->ans, tmo)) {
    if (v->ans.spec.nch < 0 || v->ans.strbytes > REEL_DEC_STRCAP) {
      reel_error(REEL_EINTERNAL, "'%s': the image decoder sent a malformed answer", path);
      stop(s);
      goto fail;
    }
    v->ans.err[sizeof v->ans.err - 1] = 0;
    v->strs = (const char *)s->map;
    v->px = s->map + REEL_DEC_STRCAP;
    v->slot = s;
    return 0;
  }
  const char *f = fmt;
  if (errno == ETIMEDOUT) {
    kill(s->pid, SIGKILL);
    reap(s, NULL);
    reel_error(REEL_EUSER,
               "'%s': decoding took longer than %d s and was stopped; the file is probably "
               "damaged",
               path, tmo / 1000);
    goto fail;
  }
  int st = -1;
  reap(s, &st);
  reel_dec_tail(s->errfd, why, sizeof why);
  if (st != -1 && WIFSIGNALED(st))
    reel_error(REEL_EUSER,
               "'%s': the %s decoder crashed on it (signal %d, %s)%s; the file is probably "
               "damaged",
               path, f, WTERMSIG(st), strsignal(WTERMSIG(st)), why);
  else
    reel_error(REEL_EUSER, "'%s': the %s decoder failed on it (exit status %d)%s", path, f,
               st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, why);
fail:
  pthread_mutex_unlock(&s->mu);
  return -1;
}

void reel_helper_done(reel_dec_view_t *v) {
  if (v->slot) pthread_mutex_unlock(&((slot_t *)v->slot)->mu);
  v->slot = NULL;
}

void reel_helper_stop(void) {
  pthread_once(&slots_once, init_slots);
  for (int i = 0; i < NSLOTS; i++) {
    slot_t *s = &slots[i];
    pthread_mutex_lock(&s->mu);
    stop(s);
    pthread_mutex_unlock(&s->mu);
  }
}

void reel_helper_set_path(const char *path) {
  reel_helper_stop();
  pthread_mutex_lock(&cfg_mu);
  searched = path != NULL;
  snprintf(exe, sizeof exe, "%s", path ? path : "");
  pthread_mutex_unlock(&cfg_mu);
}

void reel_helper_set_timeout_ms(int ms) {
  pthread_mutex_lock(&cfg_mu);
  timeout_ms = ms;
  pthread_mutex_unlock(&cfg_mu);
}

void reel_helper_stats(unsigned long *spawns, unsigned long *requests) {
  *spawns = __atomic_load_n(&n_spawns, __ATOMIC_RELAXED);
  *requests = __atomic_load_n(&n_requests, __ATOMIC_RELAXED);
}
