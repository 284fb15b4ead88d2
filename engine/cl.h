/* OpenCL runtime: one context and in-order queue on the chosen device
 * (PoCL on the CPU is the default that always works), kernels built from
 * sources embedded in the binary at build time, program binaries cached on
 * disk by hash(source, options, device, driver), and a pool of device
 * buffers recycled by size so that frames do not fault in fresh memory. */
#ifndef REEL_CL_H
#define REEL_CL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>

#include "hash.h"

typedef struct reel_cl reel_cl_t;

/* Opens a device. spec: NULL or "" picks the default (REEL_DEVICE if set,
 * else the first CPU device of PoCL, else the first device of any kind);
 * "N" is an index into the list that reel_cl_list prints; any other string
 * matches a substring of the platform or device name ("pocl", "nvidia").
 * bin_cache_dir: where program binaries are kept (NULL: not kept).
 * Returns NULL with a clear reel_error (naming the Debian package to install
 * when no platform exists). */
reel_cl_t *reel_cl_new(const char *spec, const char *bin_cache_dir);
void reel_cl_free(reel_cl_t *cl);

/* Prints every platform and device with its index. 0 / -1. */
int reel_cl_list(FILE *out);

cl_context reel_cl_context(reel_cl_t *cl);
cl_command_queue reel_cl_queue(reel_cl_t *cl);
cl_device_id reel_cl_device(reel_cl_t *cl);
const char *reel_cl_device_name(reel_cl_t *cl); /* "platform: device" */

/* Kernel `name` from the embedded source opencl/<family>.cl (with
 * opencl/common.h prepended). Built on first use and kept; the returned
 * kernel is borrowed (owned by cl). NULL with the build log in reel_error. */
cl_kernel reel_cl_kernel(reel_cl_t *cl, const char *family, const char *name);

/* A kernel from source generated at run time (fused pointwise chains): the
 * common header is prepended; programs are kept per source hash, in memory
 * and in the binary cache. Borrowed; NULL with the build log in reel_error. */
cl_kernel reel_cl_kernel_gen(reel_cl_t *cl, const char *source, const char *name);
/* The embedded source of a family (without the common header), or NULL. */
const char *reel_cl_family_source(const char *family);

/* Key of an embedded kernel family's source (common header included), for
 * node keys. 0 / -1 if no such family. Needs no device. */
int reel_cl_source_key(const char *family, reel_key_t *out);

/* Sets kernel arguments: pairs of (size_t size, const void *ptr), n pairs.
 * Use REEL_ARG(x) for a variable and REEL_LOCAL(bytes) for __local memory. */
int reel_cl_args(cl_kernel k, int n, ...);
#define REEL_ARG(x) sizeof(x), (const void *)&(x)
#define REEL_LOCAL(bytes) (size_t)(bytes), (const void *)0

/* Enqueues k over global[0..dims) with an explicit local size (NULL: a
 * default chosen for the device); the global size is rounded up to a
 * multiple of local, so kernels must bound-check. 0 / -1. */
int reel_cl_run(reel_cl_t *cl, cl_kernel k, int dims, const size_t *global, const size_t *local);

/* Device buffers from the pool: contents undefined. NULL with reel_error. */
cl_mem reel_cl_alloc(reel_cl_t *cl, size_t bytes);
void reel_cl_release(reel_cl_t *cl, cl_mem m); /* back to the pool; NULL ok */
int reel_cl_upload(reel_cl_t *cl, cl_mem m, size_t off, const void *src, size_t n);
int reel_cl_download(reel_cl_t *cl, cl_mem m, size_t off, void *dst, size_t n);
int reel_cl_fill0(reel_cl_t *cl, cl_mem m, size_t off, size_t n);
int reel_cl_copy(reel_cl_t *cl, cl_mem src, size_t soff, cl_mem dst, size_t doff, size_t n);
int reel_cl_finish(reel_cl_t *cl);

/* Turns a CL status into reel_error ("what: CL_OUT_OF_RESOURCES"); returns
 * 0 if err == CL_SUCCESS, else -1. */
int reel_cl_check(cl_int err, const char *what);
const char *reel_cl_strerror(cl_int err);

typedef struct {
  size_t live_bytes, idle_bytes, peak_bytes;
  int programs_built, programs_from_cache;
} reel_cl_stats_t;
void reel_cl_stats(reel_cl_t *cl, reel_cl_stats_t *s);

#endif
