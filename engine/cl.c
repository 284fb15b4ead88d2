/* OpenCL runtime (cl.h): device selection, kernel programs built lazily from
 * the sources embedded at build time (build/embed_cl.c), program binaries
 * cached on disk under XXH3-128(source, options, device, driver), a pool of
 * device buffers recycled by size class, and names for CL status codes.
 * Programs and kernels are created once per context and owned here; one mutex
 * guards the program and kernel tables, another the buffer pool and stats. */
#include "cl.h"
#include "framepath.h"
#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  const char *family, *source;
} reel_cl_source_t;
extern const reel_cl_source_t reel_cl_sources[];

/* Internal, for tests: builds `source` (common header prepended) as family
 * `family` through the binary cache. The caller owns the program. */
cl_program reel_cl_build_source(reel_cl_t *cl, const char *family, const char *source);

/* Every program is built with these options; both keys include them. */
static const char OPTIONS[] = "-cl-std=CL1.2 -cl-mad-enable";
/* Device buffer flags: see the measurements at set_defaults. */
static const cl_mem_flags MEM_FLAGS = CL_MEM_READ_WRITE;

#ifndef CL_PLATFORM_NOT_FOUND_KHR /* cl_icd.h / cl_ext.h: the ICD loader found no vendor */
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

typedef struct {
  char *family;
  cl_program prog;
} program_t;

typedef struct {
  char *family, *name;
  cl_kernel k;
} kernel_t;

typedef struct {
  cl_mem m;
  size_t size;
} buffer_t;

struct reel_cl {
  cl_platform_id platform;
  cl_device_id device;
  cl_context ctx;
  cl_command_queue queue;
  char platname[256], devname[256], devver[256], drvver[256];
  char name[520];     /* "platform: device" */
  char *bin_dir;      /* NULL: binaries are not kept */
  size_t local[3][3]; /* default work-group size for 1, 2 and 3 dimensions */

  pthread_mutex_t kmu; /* programs and kernels */
  program_t *progs;
  int nprogs, cprogs;
  kernel_t *kernels;
  int nkernels, ckernels;

  pthread_mutex_t pmu; /* buffer pool and stats */
  buffer_t *idle;      /* oldest first */
  int nidle, cidle;
  size_t pool_limit;
  reel_cl_stats_t st;
};

/* ---- status codes ---- */

static const char *const status_names[] = {
    "CL_SUCCESS",
    "CL_DEVICE_NOT_FOUND",
    "CL_DEVICE_NOT_AVAILABLE",
    "CL_COMPILER_NOT_AVAILABLE",
    "CL_MEM_OBJECT_ALLOCATION_FAILURE",
    "CL_OUT_OF_RESOURCES",
    "CL_OUT_OF_HOST_MEMORY",
    "CL_PROFILING_INFO_NOT_AVAILABLE",
    "CL_MEM_COPY_OVERLAP",
    "CL_IMAGE_FORMAT_MISMATCH",
    "CL_IMAGE_FORMAT_NOT_SUPPORTED",
    "CL_BUILD_PROGRAM_FAILURE",
    "CL_MAP_FAILURE",
    "CL_MISALIGNED_SUB_BUFFER_OFFSET",
    "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
    "CL_COMPILE_PROGRAM_FAILURE",
    "CL_LINKER_NOT_AVAILABLE",
    "CL_LINK_PROGRAM_FAILURE",
    "CL_DEVICE_PARTITION_FAILED",
    "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
    [30] = "CL_INVALID_VALUE",
    "CL_INVALID_DEVICE_TYPE",
    "CL_INVALID_PLATFORM",
    "CL_INVALID_DEVICE",
    "CL_INVALID_CONTEXT",
    "CL_INVALID_QUEUE_PROPERTIES",
    "CL_INVALID_COMMAND_QUEUE",
    "CL_INVALID_HOST_PTR",
    "CL_INVALID_MEM_OBJECT",
    "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",
    "CL_INVALID_IMAGE_SIZE",
    "CL_INVALID_SAMPLER",
    "CL_INVALID_BINARY",
    "CL_INVALID_BUILD_OPTIONS",
    "CL_INVALID_PROGRAM",
    "CL_INVALID_PROGRAM_EXECUTABLE",
    "CL_INVALID_KERNEL_NAME",
    "CL_INVALID_KERNEL_DEFINITION",
    "CL_INVALID_KERNEL",
    "CL_INVALID_ARG_INDEX",
    "CL_INVALID_ARG_VALUE",
    "CL_INVALID_ARG_SIZE",
    "CL_INVALID_KERNEL_ARGS",
    "CL_INVALID_WORK_DIMENSION",
    "CL_INVALID_WORK_GROUP_SIZE",
    "CL_INVALID_WORK_ITEM_SIZE",
    "CL_INVALID_GLOBAL_OFFSET",
    "CL_INVALID_EVENT_WAIT_LIST",
    "CL_INVALID_EVENT",
    "CL_INVALID_OPERATION",
    "CL_INVALID_GL_OBJECT",
    "CL_INVALID_BUFFER_SIZE",
    "CL_INVALID_MIP_LEVEL",
    "CL_INVALID_GLOBAL_WORK_SIZE",
    "CL_INVALID_PROPERTY",
    "CL_INVALID_IMAGE_DESCRIPTOR",
    "CL_INVALID_COMPILER_OPTIONS",
    "CL_INVALID_LINKER_OPTIONS",
    "CL_INVALID_DEVICE_PARTITION_COUNT",
    "CL_INVALID_PIPE_SIZE",
    "CL_INVALID_DEVICE_QUEUE",
    "CL_INVALID_SPEC_ID",
    "CL_MAX_SIZE_RESTRICTION_EXCEEDED",
};

const char *reel_cl_strerror(cl_int err) {
  int n = (int)(sizeof status_names / sizeof *status_names);
  if (err <= 0 && err > -n && status_names[-err]) return status_names[-err];
  switch (err) {
  case -1000: return "CL_INVALID_GL_SHAREGROUP_REFERENCE_KHR";
  case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
  case -1057: return "CL_DEVICE_PARTITION_FAILED_EXT";
  case -1058: return "CL_INVALID_PARTITION_COUNT_EXT";
  case -1059: return "CL_INVALID_PARTITION_NAME_EXT";
  default: return "CL_UNKNOWN_ERROR";
  }
}

int reel_cl_check(cl_int err, const char *what) {
  if (err == CL_SUCCESS) return 0;
  reel_error(REEL_EIO, "%s: %s (%d)", what, reel_cl_strerror(err), (int)err);
  return -1;
}

/* ---- devices ---- */

typedef struct {
  cl_platform_id p;
  cl_device_id d;
} devref_t;

static void plat_str(cl_platform_id p, cl_platform_info what, char *buf, size_t n) {
  if (clGetPlatformInfo(p, what, n, buf, NULL) != CL_SUCCESS) snprintf(buf, n, "?");
  buf[n - 1] = 0;
}

static void dev_str(cl_device_id d, cl_device_info what, char *buf, size_t n) {
  if (clGetDeviceInfo(d, what, n, buf, NULL) != CL_SUCCESS) snprintf(buf, n, "?");
  buf[n - 1] = 0;
}

static cl_device_type dev_type(cl_device_id d) {
  cl_device_type t = 0;
  clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL);
  return t;
}

/* Every device of every platform, in the order reel_cl_list numbers them. */
static int enumerate(devref_t **out, int *nout) {
  cl_uint np = 0;
  cl_platform_id *plats = NULL;
  devref_t *v = NULL;
  int n = 0, rc = -1;
  cl_int err = clGetPlatformIDs(0, NULL, &np);
  if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && np == 0)) {
    reel_error(REEL_EUSER,
               "no OpenCL platform found: install the Debian packages ocl-icd-libopencl1 "
               "pocl-opencl-icd (apt-get install ocl-icd-libopencl1 pocl-opencl-icd) for the "
               "CPU, or your GPU vendor's OpenCL ICD");
    goto out;
  }
  if (reel_cl_check(err, "clGetPlatformIDs")) goto out;
  plats = malloc(np * sizeof *plats);
  if (!plats || reel_cl_check(clGetPlatformIDs(np, plats, NULL), "clGetPlatformIDs")) goto out;
  for (cl_uint i = 0; i < np; i++) {
    cl_uint nd = 0;
    err = clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (err == CL_DEVICE_NOT_FOUND || nd == 0) continue;
    if (reel_cl_check(err, "clGetDeviceIDs")) goto out;
    devref_t *nv = realloc(v, (size_t)(n + (int)nd) * sizeof *v);
    cl_device_id *ds = malloc(nd * sizeof *ds);
    if (nv) v = nv;
    if (!nv || !ds) {
      free(ds);
      reel_error(REEL_EIO, "out of memory listing OpenCL devices");
      goto out;
    }
    err = clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, nd, ds, NULL);
    for (cl_uint j = 0; err == CL_SUCCESS && j < nd; j++) v[n++] = (devref_t){plats[i], ds[j]};
    free(ds);
    if (reel_cl_check(err, "clGetDeviceIDs")) goto out;
  }
  if (n == 0) {
    reel_error(REEL_EUSER, "OpenCL platforms exist but offer no device: install "
                           "pocl-opencl-icd (CPU) or your GPU vendor's OpenCL ICD");
    goto out;
  }
  rc = 0;
out:
  free(plats);
  if (rc) {
    free(v);
    v = NULL;
    n = 0;
  }
  *out = v;
  *nout = n;
  return rc;
}

static int icontains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && (hay[i] | 32) == (needle[i] | 32)) i++;
    if (i == n) return 1;
  }
  return n == 0;
}

static int is_pocl_cpu(devref_t r) {
  char pn[256];
  plat_str(r.p, CL_PLATFORM_NAME, pn, sizeof pn);
  return (icontains(pn, "Portable Computing Language") || icontains(pn, "pocl")) &&
         (dev_type(r.d) & CL_DEVICE_TYPE_CPU);
}

static int default_index(const devref_t *v, int n) {
  for (int i = 0; i < n; i++)
    if (is_pocl_cpu(v[i])) return i;
  return 0;
}

/* Index of the device `spec` names (see reel_cl_new), or -1 with an error
 * that lists the devices. */
static int pick(const devref_t *v, int n, const char *spec) {
  if (!*spec) return default_index(v, n);
  size_t digits = strspn(spec, "0123456789");
  for (int i = 0; i < n; i++) {
    char pn[256], dn[256];
    plat_str(v[i].p, CL_PLATFORM_NAME, pn, sizeof pn);
    dev_str(v[i].d, CL_DEVICE_NAME, dn, sizeof dn);
    if (digits == strlen(spec) ? atoi(spec) == i : icontains(pn, spec) || icontains(dn, spec))
      return i;
  }
  reel_error(REEL_EUSER,
             "no OpenCL device matches '%s' (an index or part of a name); devices:", spec);
  for (int i = 0; i < n; i++) {
    char pn[256], dn[256];
    plat_str(v[i].p, CL_PLATFORM_NAME, pn, sizeof pn);
    dev_str(v[i].d, CL_DEVICE_NAME, dn, sizeof dn);
    reel_error(REEL_EUSER, "%d: %s: %s", i, pn, dn);
  }
  return -1;
}

int reel_cl_list(FILE *out) {
  devref_t *v;
  int n;
  if (enumerate(&v, &n)) return -1;
  int def = default_index(v, n);
  for (int i = 0; i < n; i++) {
    char pn[256], dn[256], ver[256];
    cl_uint cus = 0;
    cl_ulong mem = 0;
    plat_str(v[i].p, CL_PLATFORM_NAME, pn, sizeof pn);
    dev_str(v[i].d, CL_DEVICE_NAME, dn, sizeof dn);
    dev_str(v[i].d, CL_DEVICE_VERSION, ver, sizeof ver);
    clGetDeviceInfo(v[i].d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL);
    clGetDeviceInfo(v[i].d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    cl_device_type t = dev_type(v[i].d);
    const char *kind = t & CL_DEVICE_TYPE_GPU ? "GPU" : t & CL_DEVICE_TYPE_CPU ? "CPU" : "other";
    fprintf(out, "%d: %s: %s (%s, %s, %u compute units, %.1f GiB)%s\n", i, pn, dn, kind, ver, cus,
            (double)mem / (1 << 30), i == def ? " [default]" : "");
  }
  free(v);
  return 0;
}

/* ---- context ---- */

static int mkdirs(const char *dir) {
  if (!reel_mkdirs(dir)) return 0;
  reel_error(REEL_EIO, "cannot create directory '%s': %s", dir, strerror(errno));
  return -1;
}

/* Defaults measured on PoCL 3.1 (2-core EPYC VM), a pointwise 2-D kernel over
 * 4096x3112 floats: 256x1 ran in 4.1 ms, 64x1 4.9, 16x1 9.4, 8x1 15, while
 * groups spanning rows were 2-4x slower (16x4 11 ms, 64x4 9.1, 16x16 10.9,
 * 8x8 28): PoCL runs a group as one loop vectorised along x, so groups are
 * one row of 256. A 1-D kernel: 64 3.0 ms, 256 2.5, 1024 2.3. GPUs get the
 * usual 256 and 16x16.
 * Buffers are plain CL_MEM_READ_WRITE: on PoCL CL_MEM_ALLOC_HOST_PTR measured
 * the same (median upload 4.4 vs 4.8 ms, download 4.1 vs 4.3 ms, kernel
 * writing a fresh buffer 20 vs 17 ms, for 50 MB) and on discrete GPUs it can
 * put buffers in host memory. What matters is reuse: a fresh buffer costs
 * 24 ms to upload into, a recycled one 4.4 ms. */
static void set_defaults(reel_cl_t *cl) {
  size_t maxwg = 256, maxit[3] = {256, 256, 64};
  clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof maxwg, &maxwg, NULL);
  clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof maxit, maxit, NULL);
  int gpu = (dev_type(cl->device) & CL_DEVICE_TYPE_GPU) != 0;
  size_t l[3][3] = {
      {256, 1, 1}, {gpu ? 16 : 256, gpu ? 16 : 1, 1}, {gpu ? 16 : 256, gpu ? 16 : 1, 1}};
  for (int d = 0; d < 3; d++) {
    for (int i = 0; i < 3; i++)
      while (l[d][i] > 1 && l[d][i] > maxit[i]) l[d][i] /= 2;
    while (l[d][0] * l[d][1] * l[d][2] > maxwg) {
      int i = l[d][1] > l[d][0] ? 1 : 0;
      l[d][i] = l[d][i] > 1 ? l[d][i] / 2 : 1;
    }
    memcpy(cl->local[d], l[d], sizeof l[d]);
  }

  /* Idle device memory kept for reuse: 2 GiB or REEL_CL_POOL_MB, at most half
   * the device's memory. */
  cl_ulong mem = 0;
  clGetDeviceInfo(cl->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
  cl->pool_limit = 2048 * MIB;
  const char *e = getenv("REEL_CL_POOL_MB");
  if (e && *e) {
    char *end;
    unsigned long long mb = strtoull(e, &end, 10);
    if (!*end) cl->pool_limit = (size_t)mb * MIB;
  }
  if (mem && cl->pool_limit > mem / 2) cl->pool_limit = (size_t)(mem / 2);
}

reel_cl_t *reel_cl_new(const char *spec, const char *bin_cache_dir) {
  devref_t *v = NULL;
  int n = 0;
  reel_cl_t *cl = NULL;
  cl_int err;
  if (!spec || !*spec) spec = getenv("REEL_DEVICE");
  if (!spec) spec = "";
  if (enumerate(&v, &n)) goto fail;
  int i = pick(v, n, spec);
  if (i < 0) goto fail;
  if (!(cl = calloc(1, sizeof *cl))) {
    reel_error(REEL_EIO, "out of memory");
    goto fail;
  }
  pthread_mutex_init(&cl->kmu, NULL);
  pthread_mutex_init(&cl->pmu, NULL);
  cl->platform = v[i].p;
  cl->device = v[i].d;
  plat_str(cl->platform, CL_PLATFORM_NAME, cl->platname, sizeof cl->platname);
  dev_str(cl->device, CL_DEVICE_NAME, cl->devname, sizeof cl->devname);
  dev_str(cl->device, CL_DEVICE_VERSION, cl->devver, sizeof cl->devver);
  dev_str(cl->device, CL_DRIVER_VERSION, cl->drvver, sizeof cl->drvver);
  snprintf(cl->name, sizeof cl->name, "%s: %s", cl->platname, cl->devname);

  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)cl->platform, 0};
  cl->ctx = clCreateContext(props, 1, &cl->device, NULL, NULL, &err);
  if (reel_cl_check(err, "clCreateContext")) goto fail;
  cl->queue = clCreateCommandQueue(cl->ctx, cl->device, 0, &err);
  if (reel_cl_check(err, "clCreateCommandQueue")) goto fail;
  if (bin_cache_dir && *bin_cache_dir) {
    if (mkdirs(bin_cache_dir)) goto fail;
    if (!(cl->bin_dir = strdup(bin_cache_dir))) {
      reel_error(REEL_EIO, "out of memory");
      goto fail;
    }
  }
  set_defaults(cl);
  free(v);
  return cl;
fail:
  reel_error_prefix("cannot open OpenCL device%s%s%s", *spec ? " '" : "", spec, *spec ? "'" : "");
  free(v);
  reel_cl_free(cl);
  return NULL;
}

void reel_cl_free(reel_cl_t *cl) {
  if (!cl) return;
  for (int i = 0; i < cl->nkernels; i++) {
    clReleaseKernel(cl->kernels[i].k);
    free(cl->kernels[i].family);
    free(cl->kernels[i].name);
  }
  for (int i = 0; i < cl->nprogs; i++) {
    clReleaseProgram(cl->progs[i].prog);
    free(cl->progs[i].family);
  }
  for (int i = 0; i < cl->nidle; i++) clReleaseMemObject(cl->idle[i].m);
  if (cl->queue) clReleaseCommandQueue(cl->queue);
  if (cl->ctx) clReleaseContext(cl->ctx);
  pthread_mutex_destroy(&cl->kmu);
  pthread_mutex_destroy(&cl->pmu);
  free(cl->kernels);
  free(cl->progs);
  free(cl->idle);
  free(cl->bin_dir);
  free(cl);
}

cl_context reel_cl_context(reel_cl_t *cl) { return cl->ctx; }
cl_command_queue reel_cl_queue(reel_cl_t *cl) { return cl->queue; }
cl_device_id reel_cl_device(reel_cl_t *cl) { return cl->device; }
const char *reel_cl_device_name(reel_cl_t *cl) { return cl->name; }

/* ---- programs ---- */

static const char *find_source(const char *family) {
  for (const reel_cl_source_t *s = reel_cl_sources; s->family; s++)
    if (!strcmp(s->family, family)) return s->source;
  return NULL;
}

/* The program text: the common header, then the family's source with its
 * own line numbers, so that compiler messages point into opencl/<family>.cl. */
static char *compose(const char *family, const char *source) {
  const char *common = find_source("common");
  if (!common) common = "";
  size_t n = strlen(common) + strlen(family) + strlen(source) + 32;
  char *s = malloc(n);
  if (!s) {
    reel_error(REEL_EIO, "out of memory");
    return NULL;
  }
  snprintf(s, n, "%s\n#line 1 \"%s.cl\"\n%s", common, family, source);
  return s;
}

int reel_cl_source_key(const char *family, reel_key_t *out) {
  const char *src = strcmp(family, "common") ? find_source(family) : NULL;
  if (!src) {
    reel_error(REEL_EINTERNAL, "no OpenCL kernel family '%s' (opencl/%s.cl is not embedded)",
               family, family);
    return -1;
  }
  char *text = compose(family, src);
  reel_hasher_t *h = text ? reel_hasher_new() : NULL;
  if (!h) {
    free(text);
    if (text) reel_error(REEL_EIO, "out of memory");
    return -1;
  }
  reel_hash_str(h, "reel-cl-source");
  reel_hash_str(h, text);
  reel_hash_str(h, OPTIONS);
  *out = reel_hasher_digest(h);
  reel_hasher_free(h);
  free(text);
  return 0;
}

/* Binary cache file: magic, payload size (u64 LE), XXH3-128 of the payload
 * (hi, lo as u64 LE), payload. The checksum keeps a damaged file away from
 * the driver, which need not survive garbage. */
static const char MAGIC[8] = "REELCLB1";
enum { FILE_HDR = 32 };

static void put_u64(unsigned char *b, uint64_t v) {
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

static int bin_path(reel_cl_t *cl, const char *text, char *path, size_t n) {
  reel_hasher_t *h = reel_hasher_new();
  if (!h) return -1;
  reel_hash_str(h, "reel-cl-binary");
  reel_hash_str(h, text);
  reel_hash_str(h, OPTIONS);
  reel_hash_str(h, cl->devname);
  reel_hash_str(h, cl->devver);
  reel_hash_str(h, cl->drvver);
  reel_hash_str(h, cl->platname);
  reel_key_t k = reel_hasher_digest(h);
  reel_hasher_free(h);
  char hex[REEL_KEY_HEX];
  reel_key_hex(&k, hex);
  return snprintf(path, n, "%s/%s.bin", cl->bin_dir, hex) < (int)n ? 0 : -1;
}

/* The program from a cached binary, or NULL (quietly: the caller falls back
 * to the source). */
static cl_program load_binary(reel_cl_t *cl, const char *path) {
  cl_program prog = NULL;
  unsigned char *buf = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct stat sb;
  if (fstat(fileno(f), &sb) || sb.st_size < FILE_HDR) goto out;
  size_t size = (size_t)sb.st_size;
  if (!(buf = malloc(size)) || fread(buf, 1, size, f) != size) goto out;
  size_t len = size - FILE_HDR;
  reel_key_t k = reel_key_of(buf + FILE_HDR, len);
  if (memcmp(buf, MAGIC, 8) || get_u64(buf + 8) != len || get_u64(buf + 16) != k.hi ||
      get_u64(buf + 24) != k.lo)
    goto out;
  const unsigned char *bin = buf + FILE_HDR;
  cl_int st, err;
  prog = clCreateProgramWithBinary(cl->ctx, 1, &cl->device, &len, &bin, &st, &err);
  if (err != CL_SUCCESS || st != CL_SUCCESS) goto fail;
  if (clBuildProgram(prog, 1, &cl->device, OPTIONS, NULL, NULL) != CL_SUCCESS) goto fail;
  goto out;
fail:
  if (prog) clReleaseProgram(prog);
  prog = NULL;
out:
  free(buf);
  fclose(f);
  return prog;
}

/* Writes the program's binary to path through a temporary file and a rename,
 * so readers never see half a file. Failures are ignored: the cache is only
 * a shortcut. */
static void save_binary(reel_cl_t *cl, cl_program prog, const char *path) {
  size_t len = 0;
  unsigned char *bin = NULL;
  char tmp[4200];
  int fd = -1;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS ||
      !len || !(bin = malloc(len)))
    goto out;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) goto out;
  if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) goto out;
  if ((fd = mkstemp(tmp)) < 0) goto out;
  unsigned char hdr[FILE_HDR];
  reel_key_t k = reel_key_of(bin, len);
  memcpy(hdr, MAGIC, 8);
  put_u64(hdr + 8, len);
  put_u64(hdr + 16, k.hi);
  put_u64(hdr + 24, k.lo);
  int ok = write(fd, hdr, FILE_HDR) == FILE_HDR && write(fd, bin, len) == (ssize_t)len;
  ok = !close(fd) && ok;
  if (!ok || rename(tmp, path)) unlink(tmp);
out:
  free(bin);
}

static char *build_log(reel_cl_t *cl, cl_program prog) {
  size_t n = 0;
  clGetProgramBuildInfo(prog, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
  char *log = malloc(n + 1);
  if (!log) return NULL;
  if (clGetProgramBuildInfo(prog, cl->device, CL_PROGRAM_BUILD_LOG, n, log, NULL) != CL_SUCCESS)
    n = 0;
  log[n] = 0;
  while (n && (log[n - 1] == '\n' || log[n - 1] == ' ' || log[n - 1] == 0)) log[--n] = 0;
  return log;
}

static void count(reel_cl_t *cl, int *counter) {
  pthread_mutex_lock(&cl->pmu);
  (*counter)++;
  pthread_mutex_unlock(&cl->pmu);
}

cl_program reel_cl_build_source(reel_cl_t *cl, const char *family, const char *source) {
  cl_program prog = NULL;
  char path[4096];
  char *text = compose(family, source);
  if (!text) return NULL;
  int cached = cl->bin_dir && !bin_path(cl, text, path, sizeof path);
  if (cached && (prog = load_binary(cl, path))) {
    count(cl, &cl->st.programs_from_cache);
    goto out;
  }
  cl_int err;
  const char *src = text;
  prog = clCreateProgramWithSource(cl->ctx, 1, &src, NULL, &err);
  if (reel_cl_check(err, "clCreateProgramWithSource")) {
    prog = NULL;
    goto out;
  }
  err = clBuildProgram(prog, 1, &cl->device, OPTIONS, NULL, NULL);
  if (err != CL_SUCCESS) {
    char *log = build_log(cl, prog);
    reel_error(REEL_EIO, "building opencl/%s.cl for %s (%s): %s (%d); compiler log:\n%s", family,
               cl->name, OPTIONS, reel_cl_strerror(err), (int)err, log ? log : "(none)");
    free(log);
    clReleaseProgram(prog);
    prog = NULL;
    goto out;
  }
  count(cl, &cl->st.programs_built);
  if (cached) save_binary(cl, prog, path);
out:
  free(text);
  return prog;
}

/* The program of a family, built on first use. Called with kmu held. */
/* A program by family name, built from src on first use. */
static cl_program program_src(reel_cl_t *cl, const char *family, const char *src) {
  for (int i = 0; i < cl->nprogs; i++)
    if (!strcmp(cl->progs[i].family, family)) return cl->progs[i].prog;
  if (!src) {
    reel_error(REEL_EINTERNAL, "no OpenCL kernel family '%s' (opencl/%s.cl is not embedded)",
               family, family);
    return NULL;
  }
  if (cl->nprogs == cl->cprogs) {
    int c = cl->cprogs ? 2 * cl->cprogs : 8;
    program_t *p = realloc(cl->progs, (size_t)c * sizeof *p);
    if (!p) return reel_error(REEL_EIO, "out of memory"), NULL;
    cl->progs = p;
    cl->cprogs = c;
  }
  char *fam = strdup(family);
  if (!fam) return reel_error(REEL_EIO, "out of memory"), NULL;
  cl_program prog = reel_cl_build_source(cl, family, src);
  if (!prog) {
    free(fam);
    return NULL;
  }
  cl->progs[cl->nprogs++] = (program_t){fam, prog};
  return prog;
}

static cl_kernel kernel_src(reel_cl_t *cl, const char *family, const char *src,
                            const char *name) {
  cl_kernel k = NULL;
  pthread_mutex_lock(&cl->kmu);
  for (int i = 0; i < cl->nkernels; i++) {
    if (!strcmp(cl->kernels[i].name, name) && !strcmp(cl->kernels[i].family, family)) {
      k = cl->kernels[i].k;
      goto out;
    }
  }
  cl_program prog = program_src(cl, family, src);
  if (!prog) goto out;
  if (cl->nkernels == cl->ckernels) {
    int c = cl->ckernels ? 2 * cl->ckernels : 16;
    kernel_t *p = realloc(cl->kernels, (size_t)c * sizeof *p);
    if (!p) {
      reel_error(REEL_EIO, "out of memory");
      goto out;
    }
    cl->kernels = p;
    cl->ckernels = c;
  }
  cl_int err;
  k = clCreateKernel(prog, name, &err);
  if (err == CL_INVALID_KERNEL_NAME) {
    reel_error(REEL_EINTERNAL, "no kernel '%s' in opencl/%s.cl", name, family);
    k = NULL;
    goto out;
  }
  if (err != CL_SUCCESS) {
    reel_error(REEL_EIO, "creating kernel '%s' of opencl/%s.cl: %s (%d)", name, family,
               reel_cl_strerror(err), (int)err);
    k = NULL;
    goto out;
  }
  kernel_t e = {strdup(family), strdup(name), k};
  if (!e.family || !e.name) {
    free(e.family);
    free(e.name);
    clReleaseKernel(k);
    k = NULL;
    reel_error(REEL_EIO, "out of memory");
    goto out;
  }
  cl->kernels[cl->nkernels++] = e;
out:
  pthread_mutex_unlock(&cl->kmu);
  return k;
}

cl_kernel reel_cl_kernel(reel_cl_t *cl, const char *family, const char *name) {
  const char *src = strcmp(family, "common") ? find_source(family) : NULL;
  return kernel_src(cl, family, src, name);
}

cl_kernel reel_cl_kernel_gen(reel_cl_t *cl, const char *source, const char *name) {
  char family[48];
  snprintf(family, sizeof family, "gen-%016llx",
           (unsigned long long)reel_hash64(source, strlen(source)));
  return kernel_src(cl, family, source, name);
}

const char *reel_cl_family_source(const char *family) {
  return strcmp(family, "common") ? find_source(family) : NULL;
}

/* ---- kernels ---- */

static void kernel_name(cl_kernel k, char *buf, size_t n) {
  if (clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, n, buf, NULL) != CL_SUCCESS)
    snprintf(buf, n, "?");
  buf[n - 1] = 0;
}

int reel_cl_args(cl_kernel k, int n, ...) {
  va_list ap;
  int rc = 0;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    size_t size = va_arg(ap, size_t);
    const void *ptr = va_arg(ap, const void *);
    cl_int err = clSetKernelArg(k, (cl_uint)i, size, ptr);
    if (err != CL_SUCCESS) {
      char name[256];
      kernel_name(k, name, sizeof name);
      reel_error(REEL_EIO, "kernel '%s': argument %d (%zu bytes%s): %s (%d)", name, i, size,
                 ptr ? "" : ", local", reel_cl_strerror(err), (int)err);
      rc = -1;
      break;
    }
  }
  va_end(ap);
  return rc;
}

static size_t pow2_at_least(size_t n) {
  size_t p = 1;
  while (p < n) p *= 2;
  return p;
}

int reel_cl_run(reel_cl_t *cl, cl_kernel k, int dims, const size_t *global, const size_t *local) {
  size_t g[3] = {1, 1, 1}, l[3] = {1, 1, 1};
  char name[256];
  if (dims < 1 || dims > 3) {
    kernel_name(k, name, sizeof name);
    reel_error(REEL_EINTERNAL, "kernel '%s': %d dimensions (1 to 3)", name, dims);
    return -1;
  }
  for (int d = 0; d < dims; d++)
    if (global[d] == 0) return 0; /* nothing to do; OpenCL rejects empty ranges */
  if (local) {
    memcpy(l, local, (size_t)dims * sizeof *l);
  } else {
    memcpy(l, cl->local[dims - 1], sizeof l);
    /* Small ranges: shrink to a power of two, so that few distinct sizes are
     * compiled (PoCL specialises each kernel per work-group size). */
    for (int d = 0; d < dims; d++)
      if (global[d] < l[d]) l[d] = pow2_at_least(global[d]);
    size_t kmax = 0;
    clGetKernelWorkGroupInfo(k, cl->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax, NULL);
    while (kmax && l[0] * l[1] * l[2] > kmax) {
      int d = l[1] > l[0] ? 1 : 0;
      l[d] /= 2;
    }
  }
  for (int d = 0; d < dims; d++) {
    if (!l[d]) {
      kernel_name(k, name, sizeof name);
      reel_error(REEL_EINTERNAL, "kernel '%s': local size 0 in dimension %d", name, d);
      return -1;
    }
    g[d] = (global[d] + l[d] - 1) / l[d] * l[d];
  }
  cl_int err = clEnqueueNDRangeKernel(cl->queue, k, (cl_uint)dims, NULL, g, l, 0, NULL, NULL);
  if (err != CL_SUCCESS) {
    kernel_name(k, name, sizeof name);
    reel_error(REEL_EIO, "running kernel '%s' over %zux%zux%zu in groups of %zux%zux%zu: %s (%d)",
               name, global[0], dims > 1 ? global[1] : 1, dims > 2 ? global[2] : 1, l[0], l[1],
               l[2], reel_cl_strerror(err), (int)err);
    return -1;
  }
  return 0;
}

/* ---- buffers ---- */

/* Size classes: multiples of 64 KiB below 512 KiB, then eight steps per
 * power of two (at most 12.5% slack). One film format gives one class per
 * channel count, e.g. a 4096x3112 float plane (48.6 MiB) gets 52 MiB. */
static size_t size_class(size_t n) {
  if (n == 0) n = 1;
  size_t p = (size_t)1 << (63 - __builtin_clzll((unsigned long long)n));
  size_t step = p / 8 > 64 * KIB ? p / 8 : 64 * KIB;
  return (n + step - 1) / step * step;
}

/* Drops idle buffers, oldest first, until at most `keep` bytes stay idle.
 * Called with pmu held. */
static void trim_idle(reel_cl_t *cl, size_t keep) {
  int i = 0;
  while (i < cl->nidle && cl->st.idle_bytes > keep) {
    clReleaseMemObject(cl->idle[i].m);
    cl->st.idle_bytes -= cl->idle[i].size;
    i++;
  }
  memmove(cl->idle, cl->idle + i, (size_t)(cl->nidle - i) * sizeof *cl->idle);
  cl->nidle -= i;
}

static void add_live(reel_cl_t *cl, size_t size) {
  cl->st.live_bytes += size;
  if (cl->st.live_bytes > cl->st.peak_bytes) cl->st.peak_bytes = cl->st.live_bytes;
}

cl_mem reel_cl_alloc(reel_cl_t *cl, size_t bytes) {
  if (bytes > SIZE_MAX / 4) {
    reel_error(REEL_EIO, "cannot allocate %zu bytes on %s", bytes, cl->name);
    return NULL;
  }
  size_t size = size_class(bytes);
  cl_mem m = NULL;
  pthread_mutex_lock(&cl->pmu);
  for (int i = cl->nidle - 1; i >= 0; i--) { /* newest first: its pages are warm */
    if (cl->idle[i].size != size) continue;
    m = cl->idle[i].m;
    memmove(cl->idle + i, cl->idle + i + 1, (size_t)(cl->nidle - i - 1) * sizeof *cl->idle);
    cl->nidle--;
    cl->st.idle_bytes -= size;
    add_live(cl, size);
    break;
  }
  pthread_mutex_unlock(&cl->pmu);
  if (m) return m;

  cl_int err;
  m = clCreateBuffer(cl->ctx, MEM_FLAGS, size, NULL, &err);
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
      err == CL_OUT_OF_HOST_MEMORY) { /* idle buffers of other sizes may be in the way */
    pthread_mutex_lock(&cl->pmu);
    trim_idle(cl, 0);
    pthread_mutex_unlock(&cl->pmu);
    m = clCreateBuffer(cl->ctx, MEM_FLAGS, size, NULL, &err);
  }
  if (err != CL_SUCCESS) {
    reel_error(REEL_EIO, "allocating %zu bytes on %s: %s (%d)", bytes, cl->name,
               reel_cl_strerror(err), (int)err);
    return NULL;
  }
  pthread_mutex_lock(&cl->pmu);
  add_live(cl, size);
  pthread_mutex_unlock(&cl->pmu);
  return m;
}

void reel_cl_release(reel_cl_t *cl, cl_mem m) {
  if (!m) return;
  size_t size = 0;
  clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof size, &size, NULL);
  pthread_mutex_lock(&cl->pmu);
  cl->st.live_bytes -= size;
  if (cl->nidle == cl->cidle) {
    int c = cl->cidle ? 2 * cl->cidle : 16;
    buffer_t *p = realloc(cl->idle, (size_t)c * sizeof *p);
    if (!p) { /* cannot keep it: give it back to the device */
      pthread_mutex_unlock(&cl->pmu);
      clReleaseMemObject(m);
      return;
    }
    cl->idle = p;
    cl->cidle = c;
  }
  cl->idle[cl->nidle++] = (buffer_t){m, size};
  cl->st.idle_bytes += size;
  trim_idle(cl, cl->pool_limit);
  pthread_mutex_unlock(&cl->pmu);
}

int reel_cl_upload(reel_cl_t *cl, cl_mem m, size_t off, const void *src, size_t n) {
  if (!n) return 0;
  return reel_cl_check(clEnqueueWriteBuffer(cl->queue, m, CL_TRUE, off, n, src, 0, NULL, NULL),
                       "uploading to the device");
}

int reel_cl_download(reel_cl_t *cl, cl_mem m, size_t off, void *dst, size_t n) {
  if (!n) return 0;
  return reel_cl_check(clEnqueueReadBuffer(cl->queue, m, CL_TRUE, off, n, dst, 0, NULL, NULL),
                       "downloading from the device");
}

int reel_cl_fill0(reel_cl_t *cl, cl_mem m, size_t off, size_t n) {
  if (!n) return 0;
  static const cl_uint zero[4] = {0, 0, 0, 0};
  size_t pat = (off | n) % 16 == 0 ? 16 : (off | n) % 4 == 0 ? 4 : 1;
  return reel_cl_check(clEnqueueFillBuffer(cl->queue, m, zero, pat, off, n, 0, NULL, NULL),
                       "clearing device memory");
}

int reel_cl_copy(reel_cl_t *cl, cl_mem src, size_t soff, cl_mem dst, size_t doff, size_t n) {
  if (!n) return 0;
  return reel_cl_check(clEnqueueCopyBuffer(cl->queue, src, dst, soff, doff, n, 0, NULL, NULL),
                       "copying device memory");
}

int reel_cl_finish(reel_cl_t *cl) { return reel_cl_check(clFinish(cl->queue), "clFinish"); }

void reel_cl_stats(reel_cl_t *cl, reel_cl_stats_t *s) {
  pthread_mutex_lock(&cl->pmu);
  *s = cl->st;
  pthread_mutex_unlock(&cl->pmu);
}
