/* Private interface between the image I/O files (not installed): format
 * sniffing and header checks (io_check.c), the OpenEXRCore reader (io_exr.c),
 * the OpenImageIO shim (io_oiio.cpp) and the forked decoder that runs it on
 * untrusted files (io_sandbox.c). imageio.c dispatches between them. */
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
int reel_exr_read(const char *path, const reel_io_read_opts_t *opts, reel_hostimg_t *out);
/* The same read through OpenImageIO's EXR reader (the DWA fallback; also a
 * reference for tests). */
int reel_exr_read_oiio(const char *path, const reel_io_read_opts_t *opts, reel_hostimg_t *out);
/* Half to float conversion (F16C where the CPU has it), n values. */
void reel_io_half_to_float(const uint16_t *src, float *dst, size_t n);

/* ---- io_sandbox.c: decoding in a forked child ---- */

/* Opens path with OpenImageIO (reader fmt, subimage part) in a forked child
 * process and, when pixels is set, decodes it into planar floats (integer
 * samples scaled to 0..1 by their code range). hdr bounds what the child may
 * return. Fills info (probe) and, with pixels, out (all channels of the
 * file, at most REEL_MAXCH, else an error naming them). A crash, a hang or
 * an allocation bomb in the decoder becomes an error. 0 / -1 with reel_error. */
int reel_sandbox_probe(const char *path, const reel_io_hdr_t *hdr, int part, reel_io_info_t *info);
int reel_sandbox_read(const char *path, const reel_io_hdr_t *hdr, const reel_io_read_opts_t *opts,
                      reel_hostimg_t *out);
/* Serialises in-process OpenImageIO use against fork(): in-process callers
 * hold it shared, the sandbox takes it exclusively around fork(), so no
 * thread is inside OpenImageIO (holding one of its locks) when a child is
 * made. */
void reel_oiio_lock_shared(void);
void reel_oiio_unlock_shared(void);

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

/* Writes interleaved px to path with the writer named fmt. 0 / -1. */
int reel_oiio_write(const char *path, const char *fmt, const reel_oiio_wspec_t *ws, const void *px,
                    char *err, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
