/* Private interface between the image I/O files (not installed): format
 * sniffing and header checks (io_check.c), the OpenEXRCore reader and
 * writer (io_exr.c, io_exr_write.c), the OpenImageIO shim (io_oiio.cpp) and
 * the out-of-process decoding that runs it on untrusted files (io_sandbox.c,
 * io_helper.c, io_decode.c, tools/reel_decode.c). imageio.c dispatches. */
#ifndef REEL_IO_IMPL_H
#define REEL_IO_IMPL_H

#include "imageio.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Frames larger than this are refused as damaged: 2^28 pixels is 16384^2,
 * past any film or video format. */
#define REEL_IO_MAXPIX ((int64_t)1 << 28)
#define REEL_IO_MAXDIM (1 << 24)

typedef enum {
  REEL_FMT_UNKNOWN,
  REEL_FMT_EXR,
  REEL_FMT_DPX,
  REEL_FMT_CINEON,
  REEL_FMT_TIFF,
  REEL_FMT_PNG,
  REEL_FMT_JPEG,
} reel_fmt_t;

/* ---- io_check.c ---- */

/* What a validated header promises: upper bounds for the decoder's output. */
typedef struct {
  reel_fmt_t fmt;
  int w, h;   /* largest image (element, directory) in the file */
  int nch;    /* most channels of any image in it */
  int nparts; /* DPX elements, TIFF directories; 1 elsewhere */
} reel_io_hdr_t;

/* Format from the first bytes of a file (magic numbers), REEL_FMT_UNKNOWN if
 * none matches. */
reel_fmt_t reel_io_sniff(const unsigned char *p, size_t n);
/* "openexr", "dpx", "cineon", "tiff", "png", "jpeg" (OpenImageIO's names). */
const char *reel_io_fmt_name(reel_fmt_t f);
/* Opens path, sniffs it and, for every format but EXR (io_exr.c checks those
 * through OpenEXRCore), validates the header before any decoder sees it:
 * bounded size, offsets and blocks inside the file, plausible for its size,
 * part inside the file's parts. 0 / -1 with reel_error naming path. */
int reel_io_check(const char *path, int part, reel_io_hdr_t *hdr);

/* ---- imageio.c ---- */

/* Orders channel names as reads present them: R, G, B, A first, then the
 * others in file order (n entries, permuted in place). */
void reel_io_order_channels(char **names, int n);
/* Adds what every read's metadata carries: "reel:format", "reel:pixeltype",
 * and "oiio:ColorSpace" from a "reel:colorspace" Reel wrote (OpenImageIO
 * keeps oiio:ColorSpace out of EXR files) when the file names none. */
int reel_io_meta_finish(reel_meta_t *m, const char *format, const char *pixeltype);

/* ---- io_exr.c: OpenEXRCore reader (in process; validated header and
 * chunk table). DWAA/DWAB parts decode through OpenImageIO instead. ---- */

int reel_exr_probe(const char *path, int part, reel_io_info_t *info);
/* nonfinite (optional): NaN and Inf samples seen while converting, or
 * (size_t)-1 when the read could not count them (DWA). */
int reel_exr_read(const char *path, const reel_io_read_opts_t *opts, reel_hostimg_t *out,
                  size_t *nonfinite);
/* The same read through OpenImageIO's EXR reader (the DWA fallback; also a
 * reference for tests). */
int reel_exr_read_oiio(const char *path, const reel_io_read_opts_t *opts, reel_hostimg_t *out);
/* The EXR attribute name of a metadata key ("DateTime" -> "capDate"), the
 * key itself where it names no standard attribute. */
const char *reel_exr_attr_name(const char *key);
/* Half to float conversion (F16C where the CPU has it), n values. */
void reel_io_half_to_float(const uint16_t *src, float *dst, size_t n);

/* ---- io_oiio.cpp: OpenImageIO shim. Never throws; errors go to err. ---- */

typedef struct {
  int w, h, x, y;     /* data window: size, origin */
  int fw, fh, fx, fy; /* display (full) window */
  int nch, nsub;
  int bits;           /* bits per sample in the file */
  int elem;           /* bytes per sample reel_oiio_read gives: 1 uint8, 2 uint16, 4 float */
  char pixeltype[16]; /* "uint8", "uint10", "half", ... */
} reel_oiio_spec_t;

typedef struct reel_oiio_in reel_oiio_in_t;

/* Once per process, before any fork: catalogues OpenImageIO's readers. */
void reel_oiio_init(void);
/* Opens path with the reader named fmt (OpenImageIO name), subimage part.
 * threads: the reader's thread fan-out (1 in a forked child). */
reel_oiio_in_t *reel_oiio_open(const char *path, const char *fmt, int part, int threads,
                               reel_oiio_spec_t *spec, char *err, size_t cap);
const char *reel_oiio_chname(const reel_oiio_in_t *in, int c);
/* Calls fn for each string or numeric attribute (as text), skipping blobs. */
void reel_oiio_attrs(const reel_oiio_in_t *in, void (*fn)(void *, const char *, const char *),
                     void *ud);
/* Reads channels [cb, ce) of the data window, interleaved, elem bytes per
 * sample (1 uint8, 2 uint16, 4 float), into dst. 0 / -1. */
int reel_oiio_read(reel_oiio_in_t *in, int cb, int ce, int elem, void *dst, char *err, size_t cap);
void reel_oiio_close(reel_oiio_in_t *in);

typedef struct {
  int w, h, x, y, fw, fh, fx, fy, nch;
  const char *chnames[REEL_MAXCH];
  int elem;                /* type of px: 1 uint8, 2 uint16 (codes of bits), 4 float */
  int bits;                /* bits per sample in the file: 8, 10, 16, 32; 16 with
                              half for EXR half */
  int half;                /* EXR: store half */
  const char *compression; /* OpenImageIO compression name or NULL */
  int quality;             /* JPEG quality or DWA level; 0: default */
  const reel_meta_t *meta;
} reel_oiio_wspec_t;

/* Metadata keys never carried into a written file: the source file's layout
 * (dpx:*, tiff:*, compression, windows, ...). */
int reel_io_meta_skip(const char *key);
/* A standard EXR attribute's kind: 0 a string (or not standard), 1 one
 * float, 2 another type (never written from text). */
int reel_exr_attr_kind(const char *name);
/* Writes interleaved px to path with the writer named fmt. 0 / -1. */
int reel_oiio_write(const char *path, const char *fmt, const reel_oiio_wspec_t *ws, const void *px,
                    char *err, size_t cap);

/* ---- io_exr_write.c: OpenEXRCore writer ---- */

#define REEL_EXR_ZIP_LEVEL 4 /* default deflate level for ZIP/ZIPS (bench_io.sh) */

typedef struct {
  int half;                /* store half, else float */
  const char *compression; /* "none", "rle", "zips", "zip", "piz" */
  int zip_level;           /* 1-9; 0: REEL_EXR_ZIP_LEVEL */
} reel_exr_wopts_t;

/* Whether the OpenEXRCore writer takes this compression (DWAA/DWAB go
 * through OpenImageIO). */
int reel_exr_writes(const char *compression);
/* Writes img as a scanline EXR at path: its data window (zeros over the
 * display window when it has no pixels), display window, channels and
 * metadata (reel_io_meta_skip drops the source file's layout keys). 0, or
 * -1 with the reason in err. */
int reel_exr_write(const char *path, const reel_hostimg_t *img, const reel_exr_wopts_t *o,
                   char *err, size_t cap);

/* ---- io_sandbox.c: decoding out of process ---- */

/* Opens path with OpenImageIO (reader fmt, subimage part) in another process
 * (the decoder helper of io_helper.c, else a forked child) and, when pixels
 * is set, decodes it into planar floats (integer samples scaled to 0..1 by
 * their code range). hdr bounds what the decoder may return. Fills info
 * (probe) and, with pixels, out (all channels of the file, at most
 * REEL_MAXCH, else an error naming them). A crash, a hang or an allocation
 * bomb in the decoder becomes an error. 0 / -1 with reel_error. */
int reel_sandbox_probe(const char *path, const reel_io_hdr_t *hdr, int part, reel_io_info_t *info);
int reel_sandbox_read(const char *path, const reel_io_hdr_t *hdr, const reel_io_read_opts_t *opts,
                      reel_hostimg_t *out);
/* Serialises in-process OpenImageIO use against fork() (the fallback when
 * the helper is missing): in-process callers hold it shared, the sandbox
 * takes it exclusively around fork(), so no thread is inside OpenImageIO
 * (holding one of its locks) when a child is made. */
void reel_oiio_lock_shared(void);
void reel_oiio_unlock_shared(void);

/* ---- io_decode.c: one decode, shared by the helper (tools/reel_decode.c)
 * and the forked fallback ---- */

#define REEL_DEC_STRCAP (1u << 20) /* channel names and metadata, "s\0" each */
#ifndef REEL_DEC_TIMEOUT_MS
#define REEL_DEC_TIMEOUT_MS 120000 /* a decode that takes longer is stopped */
#endif
#define REEL_DEC_SLACK ((size_t)1 << 30) /* decoder address space beyond its buffers */

/* What a decode gives back besides strings and pixels. */
typedef struct {
  int32_t status; /* 0 decoded; -1: err says why */
  char err[1024];
  reel_oiio_spec_t spec;
  uint32_t nstr, strbytes; /* channel names (spec.nch), then key, value pairs */
} reel_dec_answer_t;

/* Decodes path with the reader fmt, subimage part, into strs
 * (REEL_DEC_STRCAP bytes) and, when pxcap > 0, its pixels interleaved into
 * px (spec.elem bytes a sample). threads: the reader's fan-out (0: the
 * library's default). Never fails the caller: ans->status says. */
void reel_dec_run(const char *path, const char *fmt, int part, int threads, size_t pxcap,
                  reel_dec_answer_t *ans, char *strs, void *px);
/* Runs fn(arg) on this thread and on up to REEL_EXR_THREADS - 1 more, fewer
 * when nchunk is small (at least 4 chunks a thread); returns when all are
 * done. The EXR reader and writer share it (io_exr.c). */
#define REEL_EXR_THREADS 2
void reel_exr_fanout(void *(*fn)(void *), void *arg, int nchunk);

/* This process's address-space size in bytes (0 if unknown), for limits. */
size_t reel_dec_vmsize(void);
/* The last line a decoder wrote to the file fd (an assertion, a library
 * complaint), as " (it said: ...)", or "" when it wrote nothing. */
void reel_dec_tail(int fd, char *out, size_t cap);

/* ---- io_helper.c: the decoder helper, a separate executable (reel-decode)
 * started once with posix_spawn and fed one request per frame ----
 *
 * Protocol, over a SOCK_SEQPACKET socketpair on the helper's fd 3: the
 * helper says hello (reel_dec_hello_t), then answers each request
 * (reel_dec_req_t) with one reel_dec_answer_t. Strings and pixels go
 * through a memfd on the helper's fd 4 that both sides map: REEL_DEC_STRCAP
 * bytes of strings, then pixels. The parent grows it (ftruncate) before a
 * request that needs more; req.map tells the helper its size. */

#define REEL_DEC_MAGIC 0x31434452u /* "RDC1" */
#define REEL_DEC_SOCK_FD 3
#define REEL_DEC_SHM_FD 4

typedef struct {
  uint32_t magic, reqsize, anssize;
  int32_t pid;
} reel_dec_hello_t;

typedef struct {
  uint32_t magic;
  int32_t part;
  uint64_t pxcap; /* bytes the pixels may take; 0: header only */
  uint64_t map;   /* bytes of the shared memory now */
  char fmt[16];   /* OpenImageIO reader name */
  char path[4096];
} reel_dec_req_t;

/* A decode's result: valid until reel_helper_done (the helper's memory is
 * reused by the next request). */
typedef struct {
  reel_dec_answer_t ans;
  const char *strs;
  const unsigned char *px;
  void *slot; /* the helper held for it; NULL for the forked path */
} reel_dec_view_t;

/* Decodes in a helper: 0 with *v filled (check v->ans.status), -1 with
 * reel_error (the helper crashed, hung or could not be reached: the
 * message names path and the signal), 1 when there is no helper to use
 * (the caller forks instead). */
int reel_helper_decode(const char *path, const char *fmt, int part, size_t pxcap,
                       reel_dec_view_t *v);
void reel_helper_done(reel_dec_view_t *v);
/* For tests and tools: use exe as the helper (NULL: search again, as at
 * start; "": none, fork instead), stopping running helpers; the wall-clock
 * limit of one decode (0: REEL_DEC_TIMEOUT_MS); counters. */
void reel_helper_set_path(const char *exe);
void reel_helper_set_timeout_ms(int ms);
void reel_helper_stats(unsigned long *spawns, unsigned long *requests);
/* Stops the helpers (they also exit when this process does). */
void reel_helper_stop(void);

#ifdef __cplusplus
}
#endif

#endif
