/* Unit tests for the OpenCL runtime (engine/cl.c) on the default device
 * (PoCL): kernels from opencl/test.cl against CPU loops, error messages
 * (missing platform, unknown device, kernel, argument, compiler log), the
 * on-disk binary cache, the device buffer pool and transfers. */
#include "cl.h"
#include "reel.h"
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Internal to cl.c, for this test only. */
cl_program reel_cl_build_source(reel_cl_t *cl, const char *family, const char *source);

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

static reel_cl_t *cl; /* the default device, shared by most tests */

static int has(const char *msg, const char *part) { return strstr(msg, part) != NULL; }

/* Runs before anything else touches OpenCL: a child whose ICD loader finds
 * no vendor file must get the message naming the Debian packages. */
static void test_no_platform(void) {
  char dir[] = "/tmp/reel_test_icd_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  pid_t pid = fork();
  if (pid == 0) {
    setenv("OCL_ICD_VENDORS", dir, 1);
    reel_cl_t *c = reel_cl_new(NULL, NULL);
    const char *msg = reel_error_get();
    int ok = !c && has(msg, "ocl-icd-libopencl1 pocl-opencl-icd") && reel_error_class() == 2;
    if (!ok) fprintf(stderr, "  child got: %s\n", msg);
    reel_error_clear();
    ok = ok && reel_cl_list(stdout) == -1;
    _exit(ok ? 0 : 1);
  }
  int status = -1;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  rmdir(dir);
}

static void test_strerror(void) {
  CHECK(!strcmp(reel_cl_strerror(CL_SUCCESS), "CL_SUCCESS"));
  CHECK(!strcmp(reel_cl_strerror(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES"));
  CHECK(!strcmp(reel_cl_strerror(CL_INVALID_VALUE), "CL_INVALID_VALUE"));
  CHECK(!strcmp(reel_cl_strerror(CL_INVALID_DEVICE_PARTITION_COUNT),
                "CL_INVALID_DEVICE_PARTITION_COUNT"));
  CHECK(!strcmp(reel_cl_strerror(-1001), "CL_PLATFORM_NOT_FOUND_KHR"));
  CHECK(!strcmp(reel_cl_strerror(-25), "CL_UNKNOWN_ERROR")); /* a gap in the table */
  CHECK(!strcmp(reel_cl_strerror(-9999), "CL_UNKNOWN_ERROR"));
  CHECK(!strcmp(reel_cl_strerror(7), "CL_UNKNOWN_ERROR"));
  CHECK(reel_cl_check(CL_SUCCESS, "nothing") == 0);
  CHECK(!strcmp(reel_error_get(), ""));
  CHECK(reel_cl_check(CL_INVALID_KERNEL_NAME, "making k") == -1);
  CHECK(!strcmp(reel_error_get(), "making k: CL_INVALID_KERNEL_NAME (-46)"));
  CHECK(reel_error_class() == 3);
  reel_error_clear();
}

static void test_open(void) {
  cl = reel_cl_new(NULL, NULL);
  CHECK(cl != NULL);
  if (!cl) {
    fprintf(stderr, "  %s\n", reel_error_get());
    exit(1);
  }
  const char *name = reel_cl_device_name(cl);
  CHECK(has(name, ": "));
  CHECK(reel_cl_context(cl) && reel_cl_queue(cl) && reel_cl_device(cl));

  /* Index and substring specs find the same device as the default. */
  char first[64];
  snprintf(first, sizeof first, "%.20s", strchr(name, ':') + 2);
  reel_cl_t *c = reel_cl_new(first, NULL);
  CHECK(c && !strcmp(reel_cl_device_name(c), name));
  reel_cl_free(c);
  setenv("REEL_DEVICE", "no-such-device-xyz", 1);
  c = reel_cl_new(NULL, NULL);
  unsetenv("REEL_DEVICE");
  CHECK(c == NULL);
  CHECK(has(reel_error_get(), "no OpenCL device matches 'no-such-device-xyz'"));
  CHECK(has(reel_error_get(), "0: "));
  CHECK(reel_error_class() == 2);
  reel_error_clear();
  c = reel_cl_new("999", NULL);
  CHECK(c == NULL && has(reel_error_get(), "'999'"));
  reel_error_clear();

  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  CHECK(reel_cl_list(f) == 0);
  fclose(f);
  CHECK(text && !strncmp(text, "0: ", 3) && has(text, "[default]"));
  free(text);
}

static void test_axpy(void) {
  const int n = 100003; /* not a multiple of any work-group size */
  float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *r = malloc(n * sizeof *r);
  for (int i = 0; i < n; i++) {
    x[i] = (float)(i % 1000) * 0.25f - 7;
    y[i] = (float)(i % 77) - 30;
  }
  cl_mem dx = reel_cl_alloc(cl, n * sizeof *x), dy = reel_cl_alloc(cl, n * sizeof *y);
  CHECK(dx && dy);
  cl_kernel k = reel_cl_kernel(cl, "test", "test_axpy");
  CHECK(k != NULL);
  CHECK(reel_cl_kernel(cl, "test", "test_axpy") == k); /* cached */
  float a = 1.5f;
  for (int pass = 0; pass < 2; pass++) { /* default local size, then an explicit one */
    size_t global = (size_t)n, local = 64;
    CHECK(reel_cl_upload(cl, dx, 0, x, n * sizeof *x) == 0);
    CHECK(reel_cl_upload(cl, dy, 0, y, n * sizeof *y) == 0);
    CHECK(reel_cl_args(k, 4, REEL_ARG(dy), REEL_ARG(dx), REEL_ARG(a), REEL_ARG(n)) == 0);
    CHECK(reel_cl_run(cl, k, 1, &global, pass ? &local : NULL) == 0);
    CHECK(reel_cl_download(cl, dy, 0, r, n * sizeof *r) == 0);
    double maxerr = 0;
    for (int i = 0; i < n; i++) maxerr = fmax(maxerr, fabs(r[i] - (a * x[i] + y[i])));
    CHECK_NEAR(maxerr, 0, 1e-5);
  }
  reel_cl_release(cl, dx);
  reel_cl_release(cl, dy);
  free(x);
  free(y);
  free(r);
}

static void test_gain_2d(void) {
  const int w = 333, h = 77, nch = 3;
  size_t np = (size_t)w * h * nch;
  float *src = malloc(np * sizeof *src), *dst = malloc(np * sizeof *dst);
  for (size_t i = 0; i < np; i++) src[i] = (float)(i % 4099) / 4099.0f;
  cl_mem ds = reel_cl_alloc(cl, np * 4), dd = reel_cl_alloc(cl, np * 4);
  cl_kernel k = reel_cl_kernel(cl, "test", "test_gain");
  CHECK(k && ds && dd);
  float gain = 0.75f;
  size_t global[2] = {(size_t)w, (size_t)h}, local[2] = {16, 4};
  for (int pass = 0; pass < 2; pass++) {
    CHECK(reel_cl_upload(cl, ds, 0, src, np * 4) == 0);
    CHECK(reel_cl_fill0(cl, dd, 0, np * 4) == 0);
    CHECK(reel_cl_args(k, 6, REEL_ARG(dd), REEL_ARG(ds), REEL_ARG(w), REEL_ARG(h), REEL_ARG(nch),
                       REEL_ARG(gain)) == 0);
    CHECK(reel_cl_run(cl, k, 2, global, pass ? local : NULL) == 0);
    CHECK(reel_cl_download(cl, dd, 0, dst, np * 4) == 0);
    double maxerr = 0;
    for (size_t i = 0; i < np; i++) maxerr = fmax(maxerr, fabs(dst[i] - gain * src[i]));
    CHECK(maxerr == 0);
  }
  size_t zero[2] = {0, 5};
  CHECK(reel_cl_run(cl, k, 2, zero, NULL) == 0); /* empty range: nothing to do */
  CHECK(reel_cl_finish(cl) == 0);
  reel_cl_release(cl, ds);
  reel_cl_release(cl, dd);
  free(src);
  free(dst);
}

static void test_errors(void) {
  CHECK(reel_cl_kernel(cl, "test", "test_nope") == NULL);
  CHECK(has(reel_error_get(), "no kernel 'test_nope' in opencl/test.cl"));
  reel_error_clear();
  CHECK(reel_cl_kernel(cl, "nofamily", "x") == NULL);
  CHECK(has(reel_error_get(), "no OpenCL kernel family 'nofamily'"));
  reel_error_clear();
  CHECK(reel_cl_kernel(cl, "common", "x") == NULL); /* the header is not a family */
  reel_error_clear();

  /* Arguments: an index past the kernel's four names that index. */
  cl_kernel k = reel_cl_kernel(cl, "test", "test_axpy");
  float a = 1;
  int n = 1;
  cl_mem m = reel_cl_alloc(cl, 64);
  CHECK(reel_cl_args(k, 5, REEL_ARG(m), REEL_ARG(m), REEL_ARG(a), REEL_ARG(n), REEL_ARG(n)) == -1);
  CHECK(has(reel_error_get(), "kernel 'test_axpy': argument 4"));
  CHECK(has(reel_error_get(), "CL_INVALID_ARG_INDEX"));
  reel_error_clear();
  reel_cl_release(cl, m);

  /* A source that does not compile: the compiler log, with the family's
   * own file name and line, is in the message. */
  fflush(stderr);
  int saved = dup(2), null = open("/dev/null", O_WRONLY); /* PoCL echoes the log */
  dup2(null, 2);
  cl_program p = reel_cl_build_source(cl, "broken",
                                      "kernel void broken_k(global float *x) {\n"
                                      "  x[0] = undefined_thing;\n"
                                      "}\n");
  dup2(saved, 2);
  close(saved);
  close(null);
  CHECK(p == NULL);
  const char *msg = reel_error_get();
  CHECK(has(msg, "building opencl/broken.cl"));
  CHECK(has(msg, "CL_BUILD_PROGRAM_FAILURE"));
  CHECK(has(msg, "undefined_thing"));
  CHECK(has(msg, "broken.cl:2"));
  reel_error_clear();
}

static void test_source_key(void) {
  reel_key_t a, b, c;
  CHECK(reel_cl_source_key("test", &a) == 0);
  CHECK(reel_cl_source_key("test", &b) == 0);
  CHECK(reel_key_eq(&a, &b) && !reel_key_is_zero(&a));
  CHECK(reel_cl_source_key("nofamily", &c) == -1);
  CHECK(has(reel_error_get(), "nofamily"));
  reel_error_clear();
}

static int count_bins(const char *dir, char *path, size_t n) {
  DIR *d = opendir(dir);
  int count = 0;
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len == 36 && !strcmp(e->d_name + 32, ".bin")) {
      snprintf(path, n, "%s/%s", dir, e->d_name);
      count++;
    }
  }
  closedir(d);
  return count;
}

/* Opens a context on dir, runs test_axpy on a few values, returns its stats. */
static reel_cl_stats_t cached_run(const char *dir) {
  reel_cl_stats_t s = {0};
  reel_cl_t *c = reel_cl_new(NULL, dir);
  CHECK(c != NULL);
  if (!c) return s;
  cl_kernel k = reel_cl_kernel(c, "test", "test_axpy");
  CHECK(k != NULL);
  float x[5] = {1, 2, 3, 4, 5}, y[5] = {10, 20, 30, 40, 50}, a = 2;
  int n = 5;
  cl_mem dx = reel_cl_alloc(c, sizeof x), dy = reel_cl_alloc(c, sizeof y);
  size_t global = 5;
  CHECK(reel_cl_upload(c, dx, 0, x, sizeof x) == 0 && reel_cl_upload(c, dy, 0, y, sizeof y) == 0);
  CHECK(reel_cl_args(k, 4, REEL_ARG(dy), REEL_ARG(dx), REEL_ARG(a), REEL_ARG(n)) == 0);
  CHECK(reel_cl_run(c, k, 1, &global, NULL) == 0);
  CHECK(reel_cl_download(c, dy, 0, y, sizeof y) == 0);
  for (int i = 0; i < 5; i++) CHECK_NEAR(y[i], 10 * (i + 1) + 2 * (i + 1), 0);
  reel_cl_release(c, dx);
  reel_cl_release(c, dy);
  reel_cl_stats(c, &s);
  reel_cl_free(c);
  return s;
}

static void test_binary_cache(void) {
  char root[] = "/tmp/reel_test_bin_XXXXXX", dir[256], bin[512];
  CHECK(mkdtemp(root) != NULL);
  snprintf(dir, sizeof dir, "%s/a/b", root); /* created on demand, mkdir -p style */

  reel_cl_stats_t s = cached_run(dir);
  CHECK(s.programs_built == 1 && s.programs_from_cache == 0);
  CHECK(count_bins(dir, bin, sizeof bin) == 1);

  s = cached_run(dir);
  CHECK(s.programs_built == 0 && s.programs_from_cache == 1);

  /* A damaged file is rebuilt from source and replaced. */
  FILE *f = fopen(bin, "r+b");
  CHECK(f != NULL);
  if (f) {
    fseek(f, 100, SEEK_SET);
    fputs("garbage", f);
    fclose(f);
  }
  s = cached_run(dir);
  CHECK(s.programs_built == 1 && s.programs_from_cache == 0);
  s = cached_run(dir);
  CHECK(s.programs_built == 0 && s.programs_from_cache == 1);
  CHECK(count_bins(dir, bin, sizeof bin) == 1); /* no temporary files left */

  unlink(bin);
  snprintf(bin, sizeof bin, "%s/a/b", root);
  rmdir(bin);
  snprintf(bin, sizeof bin, "%s/a", root);
  rmdir(bin);
  rmdir(root);

  /* A path that cannot be a directory is an error at open time. */
  CHECK(reel_cl_new(NULL, "/dev/null/x") == NULL);
  CHECK(has(reel_error_get(), "cannot create directory '/dev/null/x'"));
  reel_error_clear();
}

static void test_pool(void) {
  reel_cl_t *pc = reel_cl_new(NULL, NULL); /* a fresh pool: nothing idle */
  CHECK(pc != NULL);
  if (!pc) return;
  reel_cl_stats_t s0, s;
  reel_cl_stats(pc, &s0);
  CHECK(s0.live_bytes == 0 && s0.idle_bytes == 0 && s0.peak_bytes == 0);
  cl_mem a = reel_cl_alloc(pc, 1000); /* the 64 KiB class */
  CHECK(a != NULL);
  reel_cl_stats(pc, &s);
  CHECK(s.live_bytes == 64 * KIB);
  reel_cl_release(pc, a);
  reel_cl_stats(pc, &s);
  CHECK(s.live_bytes == 0);
  CHECK(s.idle_bytes == 64 * KIB);

  cl_mem b = reel_cl_alloc(pc, 60000); /* same class: recycled */
  CHECK(b == a);
  cl_mem c = reel_cl_alloc(pc, 2000); /* b is taken: a fresh one */
  CHECK(c && c != b);
  reel_cl_stats(pc, &s);
  CHECK(s.live_bytes == 128 * KIB);
  CHECK(s.idle_bytes == 0);
  CHECK(s.peak_bytes == 128 * KIB);

  /* A 4096x3112 float plane lands in the 52 MiB class. */
  cl_mem d = reel_cl_alloc(pc, (size_t)4096 * 3112 * 4);
  reel_cl_stats(pc, &s);
  CHECK(s.live_bytes == 128 * KIB + 52 * MIB);

  /* Transfers with offsets: fill, copy, partial upload and download. */
  float v[256], r[256];
  for (int i = 0; i < 256; i++) v[i] = (float)i + 0.5f;
  CHECK(reel_cl_fill0(pc, b, 0, sizeof v) == 0);
  CHECK(reel_cl_upload(pc, b, 64 * 4, v, 64 * 4) == 0); /* floats 64..127 */
  CHECK(reel_cl_fill0(pc, c, 0, sizeof v) == 0);
  CHECK(reel_cl_copy(pc, b, 64 * 4, c, 3, 64 * 4) == 0); /* to an odd byte offset */
  CHECK(reel_cl_fill0(pc, c, 1, 2) == 0);                /* odd size and offset */
  CHECK(reel_cl_download(pc, b, 0, r, sizeof r) == 0);
  int bad = 0;
  for (int i = 0; i < 256; i++) bad += r[i] != (i >= 64 && i < 128 ? v[i - 64] : 0);
  CHECK(bad == 0);
  unsigned char raw[4 + 64 * 4];
  CHECK(reel_cl_download(pc, c, 0, raw, sizeof raw) == 0);
  CHECK(raw[0] == 0 && raw[1] == 0 && raw[2] == 0 && !memcmp(raw + 3, v, 64 * 4));

  reel_cl_release(pc, b);
  reel_cl_release(pc, c);
  reel_cl_release(pc, d);
  reel_cl_release(pc, NULL);
  reel_cl_stats(pc, &s);
  CHECK(s.live_bytes == 0);
  CHECK(s.idle_bytes == 128 * KIB + 52 * MIB);
  CHECK(s.peak_bytes == 128 * KIB + 52 * MIB);
  reel_cl_free(pc);

  /* REEL_CL_POOL_MB bounds idle bytes; the oldest buffers go first. */
  setenv("REEL_CL_POOL_MB", "1", 1);
  pc = reel_cl_new(NULL, NULL);
  unsetenv("REEL_CL_POOL_MB");
  CHECK(pc != NULL);
  if (!pc) return;
  cl_mem m[3];
  for (int i = 0; i < 3; i++) m[i] = reel_cl_alloc(pc, 400 * KIB); /* 448 KiB class */
  for (int i = 0; i < 3; i++) reel_cl_release(pc, m[i]);
  reel_cl_stats(pc, &s);
  CHECK(s.idle_bytes == 2 * 448 * KIB);
  cl_mem e = reel_cl_alloc(pc, 400 * KIB);
  CHECK(e == m[2]); /* the newest stays */
  reel_cl_release(pc, e);
  reel_cl_free(pc);
}

static void *worker(void *arg) {
  reel_cl_t *c = arg;
  cl_kernel first = reel_cl_kernel(c, "test", "test_gain");
  for (int i = 0; i < 200; i++) {
    cl_mem m = reel_cl_alloc(c, (size_t)(1 + i % 5) * 100 * KIB);
    if (!m || reel_cl_kernel(c, "test", "test_gain") != first) return (void *)1;
    reel_cl_release(c, m);
  }
  return NULL;
}

/* Two threads share one context: one kernel object, consistent accounting. */
static void test_threads(void) {
  reel_cl_t *c = reel_cl_new(NULL, NULL);
  CHECK(c != NULL);
  if (!c) return;
  pthread_t t[2];
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, worker, c) == 0);
  for (int i = 0; i < 2; i++) {
    void *r;
    pthread_join(t[i], &r);
    CHECK(r == NULL);
  }
  reel_cl_stats_t s;
  reel_cl_stats(c, &s);
  CHECK(s.live_bytes == 0);
  CHECK(s.programs_built == 1);
  CHECK(s.peak_bytes <= 2 * 512 * KIB);
  reel_cl_free(c);
}

int main(void) {
  unsetenv("REEL_DEVICE");
  RUN(test_no_platform);
  RUN(test_strerror);
  RUN(test_source_key);
  RUN(test_open);
  RUN(test_axpy);
  RUN(test_gain_2d);
  RUN(test_errors);
  RUN(test_binary_cache);
  RUN(test_pool);
  RUN(test_threads);
  reel_cl_free(cl);
  TEST_END();
}
