/* Image file I/O on the host: probe headers, read pixels into planar float
 * buffers, write atomically (temp name + rename). Formats: OpenEXR (scanline
 * and tiled, multi-part, layers; half/float/uint), DPX and Cineon (10-bit),
 * TIFF, PNG, JPEG. Malformed files give a clear reel_error and never take the
 * process down (see imageio.c for how). */
#ifndef REEL_IMAGEIO_H
#define REEL_IMAGEIO_H

#include "image.h"
#include "meta.h"

#include <stddef.h>

typedef struct {
  char format[16];    /* "openexr", "dpx", "cineon", "tiff", "png", "jpeg" */
  char pixeltype[16]; /* of the file: "half", "float", "uint8", "uint10", "uint16", ... */
  reel_box_t data, display;
  int nparts;       /* EXR parts (subimages); 1 elsewhere */
  int nch;          /* channels in the chosen part */
  char **chnames;   /* nch names, owned */
  reel_meta_t meta; /* file attributes, colour space tag */
} reel_io_info_t;

void reel_io_info_clear(reel_io_info_t *info);

/* What a read does with NaN and infinite samples of a float or half file. */
typedef enum {
  REEL_IO_NONFINITE_ERROR, /* refuse the frame, saying how many and where (default) */
  REEL_IO_NONFINITE_ZERO,  /* replace them with 0 */
  REEL_IO_NONFINITE_KEEP,  /* pass them through */
} reel_io_nonfinite_t;

typedef struct {
  int part;             /* EXR part index (default 0) */
  const char *layer;    /* EXR layer prefix ("left", "diffuse"): channels layer.X */
  const char *channels; /* comma list of channels to read ("R,G,B"); NULL: all (at most 16) */
  reel_io_nonfinite_t nonfinite;
} reel_io_read_opts_t;

/* A decoded frame on the host: planar float32 (channel c at px + c*w*h),
 * px allocated with reel_pool_alloc. */
typedef struct {
  int nch;
  char ch[REEL_MAXCH][REEL_CHNAME];
  reel_box_t data, display;
  float *px;
  reel_meta_t meta;
} reel_hostimg_t;

void reel_hostimg_clear(reel_hostimg_t *h); /* frees px and meta */

/* Header only. 0 / -1 with reel_error. */
int reel_io_probe(const char *path, int part, reel_io_info_t *info);
/* Header and pixels. 0 / -1 with reel_error. Integer formats are scaled to
 * 0..1 (code value / max code); float formats are passed through, their
 * NaN and infinite samples as opts->nonfinite says. */
int reel_io_read(const char *path, const reel_io_read_opts_t *opts, reel_hostimg_t *out);

typedef struct {
  const char *format;      /* NULL: from the extension */
  const char *pixeltype;   /* "half" (EXR default), "float", "uint8", "uint10", "uint16" */
  const char *compression; /* EXR: "none", "rle", "zip", "zips", "piz", "dwaa", "dwab";
                              TIFF: "none", "zip", "lzw" */
  int quality;             /* JPEG 1-100 (default 95); DWA level (default 45); EXR ZIP/ZIPS
                              deflate level 1-9 (default 4) */
} reel_io_write_opts_t;

/* Writes img to path through a temporary file in the same directory and a
 * rename, so a killed writer never leaves a partial file under path. The
 * metadata is written where the format can carry it. 0 / -1 with reel_error. */
int reel_io_write(const char *path, const reel_io_write_opts_t *opts, const reel_hostimg_t *img);

/* Which of a file's channels a read with opts gives, in order: indices into
 * info->chnames and the names the image will carry (a layer prefix removed).
 * Returns the count (1..REEL_MAXCH) or -1 with reel_error naming what the
 * file has. Shared by reel_io_read and by nodes that need the channels
 * without pixels. */
int reel_io_select(const char *path, const reel_io_info_t *info, const reel_io_read_opts_t *opts,
                   int *idx, char (*names)[REEL_CHNAME]);
#endif
