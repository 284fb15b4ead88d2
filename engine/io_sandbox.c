/* DPX, Cineon, TIFF, PNG and JPEG decode with OpenImageIO out of process, so
 * a decoder crash, abort, hang or allocation bomb costs an error, not the
 * process: in the decoder helper (io_helper.c), else (not installed) in a
 * child forked per frame into a reused shared mapping, under an address-space
 * limit, waited for on a pidfd with a timeout. Buffers are sized from the
 * header io_check.c validated; the answer becomes planar float here. */
#define _GNU_SOURCE
#include "error.h"
#include "io_impl.h"
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DONE 0x52454544u /* the child wrote a complete answer */
#define HEAD 4096        /* answer header */
#define STRCAP REEL_DEC_STRCAP
#define TIMEOUT_MS REEL_DEC_TIMEOUT_MS
#define STALL_MS 10000 /* asleep this long without CPU: deadlocked */
#define SLACK REEL_DEC_SLACK

typedef struct {
  volatile uint32_t done;
  reel_dec_answer_t ans;
} head_t;

/* ---- fork safety ---- */

static pthread_rwlock_t lock;
static pthread_once_t lock_once = PTHREAD_ONCE_INIT, init_once = PTHREAD_ONCE_INIT;

static void init_lock(void) {
  pthread_rwlockattr_t a;
  pthread_rwlockattr_init(&a);
  pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&lock, &a);
  pthread_rwlockattr_destroy(&a);
}

void reel_oiio_lock_shared(void) {
  pthread_once(&lock_once, init_lock);
  pthread_rwlock_rdlock(&lock);
}

void reel_oiio_unlock_shared(void) { pthread_rwlock_unlock(&lock); }

static void init_oiio(void) {
  reel_oiio_lock_shared();
  reel_oiio_init();
  reel_oiio_unlock_shared();
}

/* ---- per-thread arena ---- */

typedef struct {
  unsigned char *p;
  size_t n;
  int errfd; /* the child's stderr, read back for crash messages */
} arena_t;

static pthread_key_t akey;
static pthread_once_t akey_once = PTHREAD_ONCE_INIT;

static void arena_free(void *v) {
  arena_t *a = v;
  if (a->p) munmap(a->p, a->n);
  if (a->errfd >= 0) close(a->errfd);
  free(a);
}

static void make_key(void) { pthread_key_create(&akey, arena_free); }

static arena_t *arena(size_t need) {
  pthread_once(&akey_once, make_key);
  arena_t *a = pthread_getspecific(akey);
  if (!a) {
    if (!(a = calloc(1, sizeof *a))) goto oom;
    a->errfd = memfd_create("reel-decoder-stderr", MFD_CLOEXEC);
    pthread_setspecific(akey, a);
  }
  if (a->n < need) {
    if (a->p) munmap(a->p, a->n);
    a->n = 0;
    size_t n = (need + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
    void *p =
        mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      a->p = NULL;
      reel_error(REEL_EIO, "cannot map %zu bytes for the image decoder: %s", n, strerror(errno));
      return NULL;
    }
    a->p = p;
    a->n = n;
  }
  return a;
oom:
  reel_error(REEL_EIO, "out of memory");
  return NULL;
}

/* ---- the forked child ---- */

static void child(const char *path, const char *fmt, int part, size_t pxcap, arena_t *a,
                  size_t vmbytes) {
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, SIGXCPU};
  head_t *h = (head_t *)a->p;
  unsigned char *px = a->p + HEAD + STRCAP;
  sigset_t ss;
  sigemptyset(&ss);
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
    signal(sigs[i], SIG_DFL); /* the parent's crash handlers must not run here */
    sigaddset(&ss, sigs[i]);
  }
  sigprocmask(SIG_UNBLOCK, &ss, NULL);
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
  rl.rlim_cur = rl.rlim_max = vmbytes + 4 * pxcap + SLACK;
  setrlimit(RLIMIT_AS, &rl);
  rl.rlim_cur = TIMEOUT_MS / 1000;
  rl.rlim_max = TIMEOUT_MS / 1000 + 5;
  setrlimit(RLIMIT_CPU, &rl);
  if (a->errfd >= 0) dup2(a->errfd, 2);

  reel_dec_run(path, fmt, part, 1, pxcap, &h->ans, (char *)a->p + HEAD, px);
  __atomic_store_n(&h->done, DONE, __ATOMIC_RELEASE);
  _exit(0);
}

/* ---- the parent ---- */


/* CPU ticks pid has used; *asleep when it is waiting (state S). -1 if gone. */
static long long cpu_ticks(pid_t pid, int *asleep) {
  char path[64], b[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  if (n <= 0) return -1;
  b[n] = 0;
  char *p = strrchr(b, ')'), state = 0; /* the name may hold spaces */
  unsigned long long ut, stime;
  if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &state, &ut,
                   &stime) != 3)
    return -1;
  *asleep = state == 'S';
  return (long long)(ut + stime);
}

enum { EXITED, TIMED_OUT, STALLED };

/* Waits for pid: EXITED (status in *st, -1 if it could not be reaped),
 * TIMED_OUT after TIMEOUT_MS, or STALLED when it has slept STALL_MS without
 * using any CPU: a decoder has nothing to wait for but the disk (state D),
 * so that is a lock some parent thread held at the fork. */
static int await(pid_t pid, int *st) {
  int fd = -1, elapsed = 0, idle = 0, asleep = 0, why = EXITED;
  long long last = -2;
#ifdef SYS_pidfd_open
  fd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
  for (int step = 1;; step = step < 1000 ? step * 2 : 1000) {
    if (fd >= 0) {
      struct pollfd p = {fd, POLLIN, 0};
      if (poll(&p, 1, step) > 0) break;
    } else { /* kernels before 5.3: poll the child */
      pid_t r = waitpid(pid, st, WNOHANG);
      if (r == pid) return EXITED;
      if (r < 0 && errno != EINTR) {
        *st = -1;
        return EXITED;
      }
      usleep((useconds_t)step * 1000);
    }
    if ((elapsed += step) >= TIMEOUT_MS) why = TIMED_OUT;
    if (step == 1000) {
      long long t = cpu_ticks(pid, &asleep);
      idle = t >= 0 && t == last && asleep ? idle + step : 0;
      last = t;
      if (idle >= STALL_MS) why = STALLED;
    }
    if (why != EXITED) {
      kill(pid, SIGKILL);
      break;
    }
  }
  if (fd >= 0) close(fd);
  while (waitpid(pid, st, 0) < 0) {
    if (errno != EINTR) {
      *st = -1; /* reaped elsewhere (SIGCHLD ignored): the answer decides */
      break;
    }
  }
  return why;
}


/* Runs a forked child; 0 with *v pointing into this thread's arena. */
static int fork_decode(const char *path, const reel_io_hdr_t *hdr, int part, size_t pxcap,
                       reel_dec_view_t *v) {
  pthread_once(&lock_once, init_lock);
  pthread_once(&init_once, init_oiio);
  arena_t *a = arena(HEAD + STRCAP + pxcap);
  if (!a) return -1;
  head_t *h = (head_t *)a->p;
  size_t vm = reel_dec_vmsize();
  int st = 0, why = STALLED;
  for (int attempt = 0; why == STALLED && attempt < 2; attempt++) {
    memset(h, 0, sizeof *h);
    h->ans.status = -1;
    if (a->errfd >= 0 && !ftruncate(a->errfd, 0)) lseek(a->errfd, 0, SEEK_SET);
    /* no thread may be inside OpenImageIO (holding its locks) at the fork */
    pthread_rwlock_wrlock(&lock);
    pid_t pid = fork();
    if (pid == 0) child(path, reel_io_fmt_name(hdr->fmt), part, pxcap, a, vm);
    int fork_errno = errno;
    pthread_rwlock_unlock(&lock);
    if (pid < 0) {
      reel_error(REEL_EIO, "'%s': cannot start the image decoder: %s", path, strerror(fork_errno));
      return -1;
    }
    why = await(pid, &st); /* a stall is retried once, in a fresh child */
  }
  if (why == TIMED_OUT) {
    reel_error(REEL_EUSER,
               "'%s': decoding took longer than %d s and was stopped; the file is probably "
               "damaged",
               path, TIMEOUT_MS / 1000);
    return -1;
  }
  if (why == STALLED) {
    reel_error(REEL_EIO,
               "'%s': the %s decoder stopped making progress twice (blocked on a lock); try "
               "again",
               path, reel_io_fmt_name(hdr->fmt));
    return -1;
  }
  if (__atomic_load_n(&h->done, __ATOMIC_ACQUIRE) == DONE && st != -1 && WIFEXITED(st) &&
      !WEXITSTATUS(st)) {
    v->ans = h->ans;
    v->ans.err[sizeof v->ans.err - 1] = 0;
    v->strs = (const char *)a->p + HEAD;
    v->px = a->p + HEAD + STRCAP;
    v->slot = NULL;
    return 0;
  }
  char said[400] = "";
  if (a->errfd >= 0) reel_dec_tail(a->errfd, said, sizeof said);
  if (st != -1 && WIFSIGNALED(st))
    reel_error(REEL_EUSER,
               "'%s': the %s decoder crashed on it (signal %d, %s)%s; the file is probably "
               "damaged",
               path, reel_io_fmt_name(hdr->fmt), WTERMSIG(st), strsignal(WTERMSIG(st)), said);
  else
    reel_error(REEL_EUSER, "'%s': the %s decoder failed on it (exit status %d)%s", path,
               reel_io_fmt_name(hdr->fmt), st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, said);
  return -1;
}

/* Decodes in the helper, else in a forked child. On success the caller
 * ends with reel_helper_done(v). */
static int run(const char *path, const reel_io_hdr_t *hdr, int part, int pixels,
               reel_dec_view_t *v) {
  size_t pxcap = 0;
  if (pixels) {
    int nch = hdr->nch > 4 ? hdr->nch : 4; /* readers may expand (palette, YCbCr) */
    pxcap = (size_t)hdr->w * hdr->h * nch * sizeof(float);
  }
  memset(v, 0, sizeof *v);
  int r = reel_helper_decode(path, reel_io_fmt_name(hdr->fmt), part, pxcap, v);
  if (r > 0) r = fork_decode(path, hdr, part, pxcap, v);
  if (r) return -1;
  const reel_oiio_spec_t *sp = &v->ans.spec;
  if (!v->ans.status && (sp->nch < 1 || sp->w < 1 || sp->h < 1 ||
                         (pixels && ((sp->elem != 1 && sp->elem != 2 && sp->elem != 4) ||
                                     (uint64_t)sp->w * sp->h * sp->nch * sp->elem > pxcap)))) {
    v->ans.status = -1;
    snprintf(v->ans.err, sizeof v->ans.err,
             "the decoder's answer is malformed (%dx%d, %d channels)", sp->w, sp->h, sp->nch);
  }
  if (v->ans.status) {
    reel_error(REEL_EUSER, "'%s': %s", path, v->ans.err);
    reel_helper_done(v);
    return -1;
  }
  return 0;
}

/* Fills info from the decoder's answer. raw (optional) gets the channel
 * names in decoder order. */
static int answer(const char *path, const reel_io_hdr_t *hdr, const reel_dec_view_t *v,
                  reel_io_info_t *info, char ***raw) {
  const reel_dec_answer_t *h = &v->ans;
  const char *s = v->strs, *end = s + (h->strbytes < STRCAP ? h->strbytes : STRCAP);
  const reel_oiio_spec_t *sp = &h->spec;
  int nch = sp->nch;
  memset(info, 0, sizeof *info);
  snprintf(info->format, sizeof info->format, "%s", reel_io_fmt_name(hdr->fmt));
  snprintf(info->pixeltype, sizeof info->pixeltype, "%.15s", sp->pixeltype);
  info->data = info->display = (reel_box_t){0, 0, sp->w, sp->h};
  info->nparts = sp->nsub;
  if (nch < 0 || (uint32_t)nch > h->nstr ||
      !(info->chnames = calloc((size_t)nch + 1, sizeof(char *))))
    goto bad;
  if (raw && !(*raw = calloc((size_t)nch + 1, sizeof(char *)))) goto bad;
  for (int c = 0; c < nch; c++) {
    if (s >= end || !(info->chnames[c] = strndup(s, (size_t)(end - s)))) goto bad;
    if (raw && !((*raw)[c] = strdup(info->chnames[c]))) goto bad;
    info->nch = c + 1;
    s += strlen(info->chnames[c]) + 1;
  }
  reel_io_order_channels(info->chnames, info->nch);
  for (uint32_t i = (uint32_t)nch; i + 1 < h->nstr && s < end; i += 2) {
    const char *k = s, *val = s + strnlen(s, (size_t)(end - s)) + 1;
    if (val >= end) break;
    if (reel_meta_set(&info->meta, k, val)) goto bad;
    s = val + strnlen(val, (size_t)(end - val)) + 1;
  }
  if (reel_io_meta_finish(&info->meta, info->format, info->pixeltype)) goto bad;
  return 0;
bad:
  reel_error(REEL_EIO, "'%s': cannot take the decoder's answer (out of memory?)", path);
  return -1;
}

int reel_sandbox_probe(const char *path, const reel_io_hdr_t *hdr, int part, reel_io_info_t *info) {
  reel_dec_view_t v;
  memset(info, 0, sizeof *info);
  if (run(path, hdr, part, 0, &v)) return -1;
  int rc = answer(path, hdr, &v, info, NULL);
  reel_helper_done(&v);
  if (rc) reel_io_info_clear(info);
  return rc;
}

int reel_sandbox_read(const char *path, const reel_io_hdr_t *hdr, const reel_io_read_opts_t *opts,
                      reel_hostimg_t *out) {
  reel_io_info_t info;
  reel_dec_view_t v;
  char **raw = NULL, names[REEL_MAXCH][REEL_CHNAME];
  int idx[REEL_MAXCH], rc = -1, ran = 0;
  memset(out, 0, sizeof *out);
  memset(&info, 0, sizeof info);
  if (run(path, hdr, opts ? opts->part : 0, 1, &v)) goto out;
  ran = 1;
  if (answer(path, hdr, &v, &info, &raw)) goto out;
  int n = reel_io_select(path, &info, opts, idx, names);
  if (n < 0) goto out;
  const reel_oiio_spec_t *sp = &v.ans.spec;
  size_t plane = (size_t)sp->w * sp->h, nch = (size_t)sp->nch;
  if (!(out->px = reel_pool_alloc(plane * n * sizeof(float)))) goto out;
  /* integer codes to 0..1 by their range: 10-bit DPX arrives as 16-bit
   * with the code in the top bits (bit-replicated), so it is shifted back
   * and divided by 1023, not by 65535 */
  int shift = sp->elem == 2 && sp->bits < 16 && sp->bits > 8 ? 16 - sp->bits : 0;
  float maxv = sp->elem == 1 ? 255.f : (float)(65535 >> shift);
  const unsigned char *px = v.px;
  for (int s = 0; s < n; s++) {
    int c = 0;
    while (c < sp->nch && strcmp(raw[c], info.chnames[idx[s]])) c++;
    float *dst = out->px + s * plane;
    if (sp->elem == 1) {
      const uint8_t *src = px + c;
      for (size_t i = 0; i < plane; i++) dst[i] = src[i * nch] / maxv;
    } else if (sp->elem == 2) {
      const uint16_t *src = (const uint16_t *)px + c;
      for (size_t i = 0; i < plane; i++) dst[i] = (float)(src[i * nch] >> shift) / maxv;
    } else {
      const float *src = (const float *)px + c;
      for (size_t i = 0; i < plane; i++) dst[i] = src[i * nch];
    }
    memcpy(out->ch[s], names[s], REEL_CHNAME);
  }
  out->nch = n;
  out->data = info.data;
  out->display = info.display;
  if (reel_meta_copy(&out->meta, &info.meta)) goto out;
  rc = 0;
out:
  if (ran) reel_helper_done(&v);
  if (raw)
    for (int c = 0; raw[c]; c++) free(raw[c]);
  free(raw);
  reel_io_info_clear(&info);
  if (rc) reel_hostimg_clear(out);
  return rc;
}
