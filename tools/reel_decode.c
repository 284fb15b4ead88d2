/* reel-decode: the image decoder helper. libreel starts it with posix_spawn
 * (engine/io_helper.c) and sends it one request per frame over a socket on
 * fd 3; it decodes with OpenImageIO into the shared memory on fd 4 and
 * answers with the spec and status (protocol: engine/io_impl.h). Before each
 * decode it bounds its address space and CPU time, so a crash, abort or
 * limit costs one file; libreel then starts a fresh helper for the next. */
#define _GNU_SOURCE
#include "io_impl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>


/* Soft limits for the next decode: the address space this process has now
 * plus what the frame may need, and CPU seconds used so far plus the
 * timeout. Raising a soft limit back is allowed up to the hard limit. */
static void limits(size_t pxcap) {
  struct rlimit rl;
  if (!getrlimit(RLIMIT_AS, &rl)) {
    rlim_t want = (rlim_t)(reel_dec_vmsize() + 4 * pxcap + REEL_DEC_SLACK);
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_AS, &rl);
  }
  struct rusage ru;
  if (!getrlimit(RLIMIT_CPU, &rl) && !getrusage(RUSAGE_SELF, &ru)) {
    rlim_t want =
        (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1 + REEL_DEC_TIMEOUT_MS / 1000);
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_CPU, &rl);
  }
}

int main(void) {
  static reel_dec_req_t req;
  static reel_dec_answer_t ans;
  unsigned char *map = NULL;
  size_t mapped = 0;
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core); /* a crash is reported, not dumped */
  signal(SIGPIPE, SIG_IGN);
  reel_dec_hello_t hello = {REEL_DEC_MAGIC, sizeof req, sizeof ans, (int32_t)getpid()};
  if (send(REEL_DEC_SOCK_FD, &hello, sizeof hello, MSG_NOSIGNAL) != (ssize_t)sizeof hello) {
    fprintf(stderr, "reel-decode: no socket on fd %d: this helper is started by libreel\n",
            REEL_DEC_SOCK_FD);
    return 2;
  }
  for (;;) {
    ssize_t n = recv(REEL_DEC_SOCK_FD, &req, sizeof req, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return 0; /* the library closed its end: done */
    if (n != (ssize_t)sizeof req || req.magic != REEL_DEC_MAGIC) return 2;
    req.path[sizeof req.path - 1] = 0;
    req.fmt[sizeof req.fmt - 1] = 0;
    if (req.map > mapped) { /* the library grew the shared memory */
      if (map) munmap(map, mapped);
      mapped = 0;
      map = mmap(NULL, req.map, PROT_READ | PROT_WRITE, MAP_SHARED, REEL_DEC_SHM_FD, 0);
      if (map == MAP_FAILED) {
        map = NULL;
        memset(&ans, 0, sizeof ans);
        ans.status = -1;
        snprintf(ans.err, sizeof ans.err, "the decoder cannot map %llu bytes: %s",
                 (unsigned long long)req.map, strerror(errno));
        if (send(REEL_DEC_SOCK_FD, &ans, sizeof ans, MSG_NOSIGNAL) < 0) return 1;
        continue;
      }
      mapped = req.map;
    }
    if (REEL_DEC_STRCAP + req.pxcap > mapped) {
      memset(&ans, 0, sizeof ans);
      ans.status = -1;
      snprintf(ans.err, sizeof ans.err, "request larger than the shared memory");
    } else {
      limits(req.pxcap);
      reel_dec_run(req.path, req.fmt, req.part, 0, req.pxcap, &ans, (char *)map,
                   map + REEL_DEC_STRCAP);
    }
    if (send(REEL_DEC_SOCK_FD, &ans, sizeof ans, MSG_NOSIGNAL) < 0) return 1;
  }
}
