/* OpenEXR reading through OpenEXRCore (OpenEXR 3.1's C API), in process:
 * scanline and tiled parts (level 0), NONE/RLE/ZIPS/ZIP/PIZ/PXR24/B44(A).
 * The library decompresses chunks (2 threads, a decode pipeline each); they
 * are converted here from storage layout to planar float (half via F16C when
 * the CPU has it; UINT keeps its integer value). DWAA/DWAB, which
 * OpenEXRCore 3.1 cannot decompress, are decoded by OpenImageIO. */
#include "error.h"
#include "io_impl.h"
#include "pool.h"

#include <openexr.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_X86 1
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "io_exr.c reads EXR's little-endian storage layout directly"
#endif


/* ---- half to float ---- */

static float half_bits(uint16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
  if (e == 31) {
    u = s | 0x7f800000 | m << 13;
  } else if (e) {
    u = s | (e + 112) << 23 | m << 13;
  } else if (m) { /* subnormal: normalise */
    e = 113;
    while (!(m & 0x400)) {
      m <<= 1;
      e--;
    }
    u = s | e << 23 | (m & 0x3ff) << 13;
  } else {
    u = s;
  }
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static float *table;
static int use_f16c;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_half(void) {
#ifdef HAVE_X86
  /* F16C and AVX in the CPU, and the OS saving AVX registers (XCR0) */
  unsigned a, b, c, d, lo, hi;
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) && (c & bit_AVX) && (c & bit_OSXSAVE)) {
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    use_f16c = (lo & 6) == 6;
  }
#endif
  if (!use_f16c && (table = malloc(65536 * sizeof *table)))
    for (uint32_t i = 0; i < 65536; i++) table[i] = half_bits((uint16_t)i);
}

#ifdef HAVE_X86
__attribute__((target("f16c,avx"))) static void h2f_f16c(const uint16_t *s, float *d, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
  for (; i < n; i++) d[i] = _cvtsh_ss(s[i]);
}
#endif

void reel_io_half_to_float(const uint16_t *src, float *dst, size_t n) {
  pthread_once(&once, init_half);
#ifdef HAVE_X86
  if (use_f16c) {
    h2f_f16c(src, dst, n);
    return;
  }
#endif
  if (table)
    for (size_t i = 0; i < n; i++) dst[i] = table[src[i]];
  else
    for (size_t i = 0; i < n; i++) dst[i] = half_bits(src[i]);
}

/* ---- context, errors ---- */

/* OpenEXRCore reports details through a callback on the failing thread. */
static __thread char lastmsg[256];

static void on_error(exr_const_context_t c, exr_result_t code, const char *msg) {
  snprintf(lastmsg, sizeof lastmsg, "%s", msg ? msg : exr_get_default_error_message(code));
}

static const char *why(exr_result_t r) {
  return lastmsg[0] ? lastmsg : exr_get_default_error_message(r);
}

static int open_ctx(const char *path, exr_context_t *c) {
  exr_context_initializer_t ci = EXR_DEFAULT_CONTEXT_INITIALIZER;
  ci.error_handler_fn = on_error;
  /* a damaged chunk table is an error, not something to search around */
  ci.flags = EXR_CONTEXT_FLAG_DISABLE_CHUNK_RECONSTRUCTION;
  lastmsg[0] = 0;
  exr_result_t r = exr_start_read(c, path, &ci);
  if (r) {
    struct stat st;
    if (stat(path, &st))
      reel_error(REEL_EUSER, "cannot open '%s': no such file", path);
    else
      reel_error(REEL_EUSER, "'%s': not a readable OpenEXR file: %s", path, why(r));
    *c = NULL;
    return -1;
  }
  return 0;
}

/* ---- header to info ---- */

static const char *comp_name(exr_compression_t c) {
  static const char *const n[] = {"none",  "rle", "zips", "zip",  "piz",
                                  "pxr24", "b44", "b44a", "dwaa", "dwab"};
  return (unsigned)c < sizeof n / sizeof *n ? n[c] : "unknown";
}

/* OpenImageIO's names for the standard attributes, so metadata reads the
 * same whichever library decoded the file. */
static const char *const std_names[][2] = {{"capDate", "DateTime"},
                                           {"comments", "ImageDescription"},
                                           {"owner", "Copyright"},
                                           {"pixelAspectRatio", "PixelAspectRatio"},
                                           {"expTime", "ExposureTime"},
                                           {"aperture", "FNumber"},
                                           {"framesPerSecond", "FramesPerSecond"},
                                           {"timeCode", "smpte:TimeCode"},
                                           {"keyCode", "smpte:KeyCode"}};

static const char *meta_name(const char *n) {
  for (size_t i = 0; i < sizeof std_names / sizeof *std_names; i++)
    if (!strcmp(n, std_names[i][0])) return std_names[i][1];
  return n;
}

const char *reel_exr_attr_name(const char *key) {
  for (size_t i = 0; i < sizeof std_names / sizeof *std_names; i++)
    if (!strcmp(key, std_names[i][1])) return std_names[i][0];
  return key;
}

static void fl(char *b, size_t cap, const float *v, int n) {
  size_t at = 0;
  b[0] = 0;
  for (int i = 0; i < n && at < cap; i++)
    at += (size_t)snprintf(b + at, cap - at, "%s%.9g", i ? ", " : "", (double)v[i]);
}

/* Attribute value as text; NULL for structure and blobs. */
static const char *attr_text(const exr_attribute_t *a, char *b, size_t cap) {
  static const char *const skip[] = {"channels",  "dataWindow", "displayWindow",
                                     "lineOrder", "tiles",      "chunkCount",
                                     "type",      "version",    NULL};
  for (int i = 0; skip[i]; i++)
    if (!strcmp(a->name, skip[i])) return NULL;
  switch (a->type) {
  case EXR_ATTR_STRING:
    if (a->string->length > 1 << 20) return NULL;
    snprintf(b, cap, "%.*s", (int)a->string->length, a->string->str);
    return b;
  case EXR_ATTR_STRING_VECTOR: {
    size_t at = 0;
    b[0] = 0;
    for (int i = 0; i < a->stringvector->n_strings && at < cap; i++)
      at += (size_t)snprintf(b + at, cap - at, "%s%.*s", i ? ", " : "",
                             (int)a->stringvector->strings[i].length,
                             a->stringvector->strings[i].str);
    return b;
  }
  case EXR_ATTR_INT: snprintf(b, cap, "%d", a->i); return b;
  case EXR_ATTR_FLOAT: snprintf(b, cap, "%.9g", (double)a->f); return b;
  case EXR_ATTR_DOUBLE: snprintf(b, cap, "%.17g", a->d); return b;
  case EXR_ATTR_COMPRESSION: snprintf(b, cap, "%s", comp_name(a->uc)); return b;
  case EXR_ATTR_V2I: snprintf(b, cap, "%d, %d", a->v2i->x, a->v2i->y); return b;
  case EXR_ATTR_V3I: snprintf(b, cap, "%d, %d, %d", a->v3i->x, a->v3i->y, a->v3i->z); return b;
  case EXR_ATTR_V2F: fl(b, cap, a->v2f->arr, 2); return b;
  case EXR_ATTR_V3F: fl(b, cap, a->v3f->arr, 3); return b;
  case EXR_ATTR_BOX2I:
    snprintf(b, cap, "%d, %d, %d, %d", a->box2i->min.x, a->box2i->min.y, a->box2i->max.x,
             a->box2i->max.y);
    return b;
  case EXR_ATTR_BOX2F:
    snprintf(b, cap, "%.9g, %.9g, %.9g, %.9g", (double)a->box2f->min.x, (double)a->box2f->min.y,
             (double)a->box2f->max.x, (double)a->box2f->max.y);
    return b;
  case EXR_ATTR_CHROMATICITIES: fl(b, cap, &a->chromaticities->red_x, 8); return b;
  case EXR_ATTR_M33F: fl(b, cap, a->m33f->m, 9); return b;
  case EXR_ATTR_M44F: fl(b, cap, a->m44f->m, 16); return b;
  case EXR_ATTR_RATIONAL: snprintf(b, cap, "%d/%u", a->rational->num, a->rational->denom); return b;
  case EXR_ATTR_TIMECODE: {
    uint32_t t = a->timecode->time_and_flags;
#define BCD(sh, tb) ((int)((t >> ((sh) + 4)) & ((1u << (tb)) - 1)) * 10 + (int)((t >> (sh)) & 15))
    snprintf(b, cap, "%02d:%02d:%02d:%02d", BCD(24, 2), BCD(16, 3), BCD(8, 3), BCD(0, 2));
#undef BCD
    return b;
  }
  case EXR_ATTR_KEYCODE: {
    const exr_attr_keycode_t *k = a->keycode;
    snprintf(b, cap, "%d, %d, %d, %d, %d, %d, %d", k->film_mfc_code, k->film_type, k->prefix,
             k->count, k->perf_offset, k->perfs_per_frame, k->perfs_per_count);
    return b;
  }
  default: return NULL; /* preview images, opaque data, envmap, ... */
  }
}

/* ---- attributes with invalid values ----
 * Attributes whose meaning is known and that Reel or OpenImageIO act on
 * must hold values they can: a header that says otherwise is damaged, and
 * the file is refused before a decoder trips on it (OpenImageIO 2.4 divides
 * by tiff:RowsPerStrip, whatever the format). */

static int numeric(const exr_attribute_t *a, double *v) {
  switch (a->type) {
  case EXR_ATTR_INT: *v = a->i; return 1;
  case EXR_ATTR_FLOAT: *v = a->f; return 1;
  case EXR_ATTR_DOUBLE: *v = a->d; return 1;
  default: return 0;
  }
}

static int invalid(const char *path, const char *name, const char *val, const char *rule) {
  reel_error(REEL_EUSER, "'%s': attribute %s = %s is invalid (%s): the file's header is damaged",
             path, name, val, rule);
  return -1;
}

static int check_window(const char *path, const char *name, exr_attr_box2i_t b) {
  int64_t w = (int64_t)b.max.x - b.min.x + 1, h = (int64_t)b.max.y - b.min.y + 1;
  char v[120];
  snprintf(v, sizeof v, "(%d, %d) - (%d, %d)", b.min.x, b.min.y, b.max.x, b.max.y);
  if (w <= 0 || h <= 0) return invalid(path, name, v, "its maximum is less than its minimum");
  if (w > REEL_IO_MAXDIM || h > REEL_IO_MAXDIM || w * h > REEL_IO_MAXPIX) {
    char rule[64];
    snprintf(rule, sizeof rule, "larger than the %lld megapixel limit",
             (long long)(REEL_IO_MAXPIX / 1000000));
    return invalid(path, name, v, rule);
  }
  return 0;
}

static int check_attr(const char *path, const exr_attribute_t *a) {
  double v;
  char t[64];
  if (!strcmp(a->name, "tiff:RowsPerStrip") && numeric(a, &v) && !(v >= 1)) {
    snprintf(t, sizeof t, "%g", v);
    return invalid(path, a->name, t, "must be at least 1");
  }
  if (!strcmp(a->name, "pixelAspectRatio") && numeric(a, &v) && !(v >= 0.01 && v <= 100)) {
    snprintf(t, sizeof t, "%g", v);
    return invalid(path, a->name, t, "must be between 0.01 and 100");
  }
  if (!strcmp(a->name, "framesPerSecond") && a->type == EXR_ATTR_RATIONAL &&
      (a->rational->num <= 0 || !a->rational->denom)) {
    snprintf(t, sizeof t, "%d/%u", a->rational->num, a->rational->denom);
    return invalid(path, a->name, t, "must be a positive number of frames per second");
  }
  if (a->type == EXR_ATTR_CHROMATICITIES) {
    const float *c = &a->chromaticities->red_x;
    for (int i = 0; i < 8; i++)
      if (!(c[i] >= -1 && c[i] <= 2)) {
        snprintf(t, sizeof t, "{..., %g, ...}", (double)c[i]);
        return invalid(path, a->name, t, "CIE xy coordinates lie between -1 and 2");
      }
  }
  return 0;
}

/* Fills info for one part: windows, channels (R, G, B, A first), metadata.
 * Also refuses absurd sizes, before anything is allocated for pixels, and
 * attributes with invalid values (check_attr). */
static int describe(const char *path, exr_context_t c, int part, reel_io_info_t *info) {
  int np = 0;
  exr_attr_box2i_t dw, dsp;
  const exr_attr_chlist_t *cl;
  exr_compression_t comp;
  exr_storage_t st;
  exr_result_t r;
  exr_get_count(c, &np);
  if (part < 0 || part >= np) {
    reel_error(REEL_EUSER, "'%s' has %d part%s; part %d does not exist", path, np,
               np == 1 ? "" : "s", part);
    return -1;
  }
  if ((r = exr_get_data_window(c, part, &dw)) || (r = exr_get_display_window(c, part, &dsp)) ||
      (r = exr_get_channels(c, part, &cl)) || (r = exr_get_compression(c, part, &comp)) ||
      (r = exr_get_storage(c, part, &st))) {
    reel_error(REEL_EUSER, "'%s': damaged OpenEXR header: %s", path, why(r));
    return -1;
  }
  int64_t w = (int64_t)dw.max.x - dw.min.x + 1, h = (int64_t)dw.max.y - dw.min.y + 1;
  if (w > 0 && h > 0 && (w > REEL_IO_MAXDIM || h > REEL_IO_MAXDIM || w * h > REEL_IO_MAXPIX)) {
    reel_error(REEL_EUSER,
               "'%s': image of %lldx%lld pixels is larger than the %lld megapixel limit; the "
               "file is probably damaged",
               path, (long long)w, (long long)h, (long long)(REEL_IO_MAXPIX / 1000000));
    return -1;
  }
  if (check_window(path, "dataWindow", dw) || check_window(path, "displayWindow", dsp)) return -1;
  snprintf(info->format, sizeof info->format, "openexr");
  info->nparts = np;
  info->data = (reel_box_t){dw.min.x, dw.min.y, dw.max.x + 1, dw.max.y + 1};
  info->display = (reel_box_t){dsp.min.x, dsp.min.y, dsp.max.x + 1, dsp.max.y + 1};
  const char *pt = NULL;
  for (int i = 0; i < cl->num_channels; i++) {
    exr_pixel_type_t t = cl->entries[i].pixel_type;
    const char *n = t == EXR_PIXEL_HALF ? "half" : t == EXR_PIXEL_FLOAT ? "float" : "uint";
    pt = !pt || !strcmp(pt, n) ? n : "mixed";
  }
  snprintf(info->pixeltype, sizeof info->pixeltype, "%s", pt ? pt : "none");
  if (!(info->chnames = calloc((size_t)cl->num_channels + 1, sizeof *info->chnames))) goto oom;
  for (int i = 0; i < cl->num_channels; i++) {
    if (!(info->chnames[i] = strdup(cl->entries[i].name.str))) goto oom;
    info->nch = i + 1;
  }
  reel_io_order_channels(info->chnames, info->nch);
  int na = 0;
  exr_get_attribute_count(c, part, &na);
  size_t cap = (1 << 20) + 64;
  char *b = malloc(cap);
  if (!b) goto oom;
  for (int i = 0; i < na; i++) {
    const exr_attribute_t *a;
    const char *v;
    if (exr_get_attribute_by_index(c, part, EXR_ATTR_LIST_FILE_ORDER, i, &a)) continue;
    if (check_attr(path, a) ||
        ((v = attr_text(a, b, cap)) && reel_meta_set(&info->meta, meta_name(a->name), v))) {
      free(b);
      return -1;
    }
  }
  free(b);
  if (reel_io_meta_finish(&info->meta, info->format, info->pixeltype)) return -1;
  return 0;
oom:
  reel_error(REEL_EIO, "'%s': out of memory reading the header", path);
  return -1;
}

int reel_exr_probe(const char *path, int part, reel_io_info_t *info) {
  exr_context_t c;
  memset(info, 0, sizeof *info);
  if (open_ctx(path, &c)) return -1;
  int rc = describe(path, c, part, info);
  exr_finish(&c);
  if (rc) reel_io_info_clear(info);
  return rc;
}

/* ---- pixels ---- */

typedef struct {
  exr_context_t c;
  int part, tiled, spc, ntx, tw, th;
  int nchunk;
  int w, h, wx, wy; /* data window: size, origin */
  int nfile;        /* channels in the file */
  int line_bpp;     /* bytes of one pixel over all file channels */
  int nsel;
  int sel[REEL_MAXCH];  /* file channel of each output plane */
  int off[REEL_MAXCH];  /* bytes before it in one storage line, per pixel of width */
  int type[REEL_MAXCH]; /* exr_pixel_type_t */
  float *px;
  pthread_mutex_t mu;
  int next;         /* next chunk to take */
  int count;        /* count NaN and Inf samples (not when they are kept) */
  size_t nonfinite; /* how many were seen */
  int failed;
  char err[512];
} job_t;

static void fail(job_t *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(job_t *j, const char *fmt, ...) {
  pthread_mutex_lock(&j->mu);
  if (!j->failed) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof j->err, fmt, ap);
    va_end(ap);
    j->failed = 1;
  }
  pthread_mutex_unlock(&j->mu);
}

static int take(job_t *j) {
  pthread_mutex_lock(&j->mu);
  int i = j->failed || j->next >= j->nchunk ? -1 : j->next++;
  pthread_mutex_unlock(&j->mu);
  return i;
}

/* NaN and Inf among n samples (exponent all ones), counted while they are
 * in cache: a separate pass over a 4K frame would cost as much as the read. */
static size_t count_half(const uint16_t *p, int n) {
  size_t k = 0;
  for (int i = 0; i < n; i++) k += (p[i] & 0x7c00) == 0x7c00;
  return k;
}

static size_t count_float(const unsigned char *p, int n) {
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, p + 4 * i, 4);
    k += (u & 0x7f800000u) == 0x7f800000u;
  }
  return k;
}

/* Storage layout of a chunk: for each line, each channel in file order,
 * width samples. Copies the selected channels into the output planes and
 * returns how many of their samples are not finite. */
static size_t convert(job_t *j, const unsigned char *buf, int x0, int y0, int cw, int chh) {
  size_t bad = 0;
  size_t plane = (size_t)j->w * j->h, linebytes = (size_t)cw * j->line_bpp;
  for (int y = 0; y < chh; y++) {
    const unsigned char *line = buf + (size_t)y * linebytes;
    for (int s = 0; s < j->nsel; s++) {
      const unsigned char *src = line + (size_t)j->off[s] * cw;
      float *dst = j->px + s * plane + (size_t)(y0 + y) * j->w + x0;
      if (j->type[s] == EXR_PIXEL_HALF) {
        reel_io_half_to_float((const uint16_t *)src, dst, (size_t)cw);
        if (j->count) bad += count_half((const uint16_t *)src, cw);
      } else if (j->type[s] == EXR_PIXEL_FLOAT) {
        memcpy(dst, src, (size_t)cw * 4);
        if (j->count) bad += count_float(src, cw);
      } else {
        for (int x = 0; x < cw; x++) {
          uint32_t u;
          memcpy(&u, src + 4 * x, 4);
          dst[x] = (float)u;
        }
      }
    }
  }
  return bad;
}

static void *worker(void *arg) {
  job_t *j = arg;
  exr_decode_pipeline_t d = EXR_DECODE_PIPELINE_INITIALIZER;
  int init = 0, i;
  size_t bad = 0;
  lastmsg[0] = 0;
  while ((i = take(j)) >= 0) {
    exr_chunk_info_t ci;
    exr_result_t r;
    int x0 = 0, y0, tx = 0, ty = 0;
    if (j->tiled) {
      tx = i % j->ntx;
      ty = i / j->ntx;
      x0 = tx * j->tw;
      y0 = ty * j->th;
      r = exr_read_tile_chunk_info(j->c, j->part, tx, ty, 0, 0, &ci);
    } else {
      y0 = i * j->spc;
      r = exr_read_scanline_chunk_info(j->c, j->part, j->wy + y0, &ci);
    }
    if (!r)
      r = init ? exr_decoding_update(j->c, j->part, &ci, &d)
               : exr_decoding_initialize(j->c, j->part, &ci, &d);
    if (!r && !init) {
      /* no output pointers: the library reads and decompresses into its
       * buffer in storage layout, and convert() does the rest */
      r = exr_decoding_choose_default_routines(j->c, j->part, &d);
      d.unpack_and_convert_fn = NULL;
      init = 1;
    }
    if (!r) r = exr_decoding_run(j->c, j->part, &d);
    if (r) {
      fail(j, "%s %d is damaged: %s", j->tiled ? "tile" : "scanline chunk at y",
           j->tiled ? i : j->wy + y0, why(r));
      break;
    }
    int cw = ci.width, chh = ci.height;
    if (x0 + cw > j->w || y0 + chh > j->h || cw <= 0 || chh <= 0 ||
        ci.unpacked_size != (uint64_t)cw * chh * j->line_bpp) {
      fail(j, "chunk %d does not match the image layout", i);
      break;
    }
    const void *buf = d.unpacked_buffer ? d.unpacked_buffer : d.packed_buffer;
    if (!buf) {
      fail(j, "chunk %d decoded to nothing", i);
      break;
    }
    bad += convert(j, buf, x0, y0, cw, chh);
  }
  pthread_mutex_lock(&j->mu);
  j->nonfinite += bad;
  pthread_mutex_unlock(&j->mu);
  exr_decoding_destroy(j->c, &d);
  return NULL;
}

/* Reads every chunk's position first: OpenEXRCore checks the offset table
 * and each chunk header against the file size here, before anything big is
 * allocated or decoded. */
static int check_chunks(const char *path, job_t *j) {
  for (int i = 0; i < j->nchunk; i++) {
    exr_chunk_info_t ci;
    exr_result_t r =
        j->tiled ? exr_read_tile_chunk_info(j->c, j->part, i % j->ntx, i / j->ntx, 0, 0, &ci)
                 : exr_read_scanline_chunk_info(j->c, j->part, j->wy + i * j->spc, &ci);
    if (r) {
      reel_error(REEL_EUSER, "'%s': %s %d is damaged: %s; the file is truncated or damaged", path,
                 j->tiled ? "tile" : "chunk", i, why(r));
      return -1;
    }
  }
  return 0;
}

/* Layout and chunk geometry of a part; refuses what this reader cannot do. */
static int plan(const char *path, job_t *j, const reel_io_info_t *info) {
  const exr_attr_chlist_t *cl;
  exr_storage_t st;
  exr_get_storage(j->c, j->part, &st);
  exr_get_channels(j->c, j->part, &cl);
  if (st == EXR_STORAGE_DEEP_SCANLINE || st == EXR_STORAGE_DEEP_TILED) {
    reel_error(REEL_EUSER, "'%s': deep OpenEXR images are not supported; flatten it first", path);
    return -1;
  }
  j->w = reel_box_w(info->data);
  j->h = reel_box_h(info->data);
  j->wx = info->data.x0;
  j->wy = info->data.y0;
  j->nfile = cl->num_channels;
  j->line_bpp = 0;
  for (int i = 0; i < cl->num_channels; i++) {
    const exr_attr_chlist_entry_t *e = &cl->entries[i];
    if (e->x_sampling != 1 || e->y_sampling != 1) {
      reel_error(REEL_EUSER,
                 "'%s': channel '%s' is subsampled (%dx%d); subsampled (luminance/chroma) "
                 "OpenEXR images are not supported",
                 path, e->name.str, e->x_sampling, e->y_sampling);
      return -1;
    }
    j->line_bpp += e->pixel_type == EXR_PIXEL_HALF ? 2 : 4;
  }
  if (st == EXR_STORAGE_TILED) {
    uint32_t tw, th;
    exr_tile_level_mode_t lm;
    exr_tile_round_mode_t rm;
    if (exr_get_tile_descriptor(j->c, j->part, &tw, &th, &lm, &rm) || !tw || !th) {
      reel_error(REEL_EUSER, "'%s': damaged tile description", path);
      return -1;
    }
    j->tiled = 1;
    j->tw = (int)tw;
    j->th = (int)th;
    j->ntx = (int)((j->w + (int64_t)tw - 1) / tw);
    j->nchunk = j->ntx * (int)((j->h + (int64_t)th - 1) / th);
  } else {
    exr_get_scanlines_per_chunk(j->c, j->part, &j->spc);
    if (j->spc <= 0) {
      reel_error(REEL_EUSER, "'%s': damaged header (scanlines per chunk)", path);
      return -1;
    }
    j->nchunk = (j->h + j->spc - 1) / j->spc;
  }
  return 0;
}

/* Output planes for the selected channels (names from reel_io_select). */
static int select_planes(const char *path, job_t *j, const reel_io_info_t *info,
                         const reel_io_read_opts_t *opts, char (*names)[REEL_CHNAME]) {
  const exr_attr_chlist_t *cl;
  int idx[REEL_MAXCH];
  exr_get_channels(j->c, j->part, &cl);
  int n = reel_io_select(path, info, opts, idx, names);
  if (n < 0) return -1;
  j->nsel = n;
  for (int s = 0; s < n; s++) {
    const char *want = info->chnames[idx[s]];
    int off = 0;
    j->sel[s] = -1;
    for (int i = 0; i < cl->num_channels; i++) {
      if (!strcmp(cl->entries[i].name.str, want)) {
        j->sel[s] = i;
        j->off[s] = off;
        j->type[s] = cl->entries[i].pixel_type;
      }
      off += cl->entries[i].pixel_type == EXR_PIXEL_HALF ? 2 : 4;
    }
    if (j->sel[s] < 0) {
      reel_error(REEL_EINTERNAL, "'%s': channel '%s' vanished", path, want);
      return -1;
    }
  }
  return 0;
}

static int fill_out(const reel_io_info_t *info, int n, char (*names)[REEL_CHNAME],
                    reel_hostimg_t *out) {
  out->nch = n;
  for (int s = 0; s < n; s++) memcpy(out->ch[s], names[s], REEL_CHNAME);
  out->data = info->data;
  out->display = info->display;
  return reel_meta_copy(&out->meta, &info->meta);
}

int reel_exr_read(const char *path, const reel_io_read_opts_t *opts, reel_hostimg_t *out,
                  size_t *nonfinite) {
  exr_context_t c;
  reel_io_info_t info = {0};
  char names[REEL_MAXCH][REEL_CHNAME];
  job_t j;
  int rc = -1, part = opts ? opts->part : 0;
  memset(&j, 0, sizeof j);
  memset(out, 0, sizeof *out);
  if (open_ctx(path, &c)) return -1;
  j.c = c;
  j.part = part;
  j.count = !opts || opts->nonfinite != REEL_IO_NONFINITE_KEEP;
  if (describe(path, c, part, &info)) goto out;
  exr_compression_t comp;
  exr_get_compression(c, part, &comp);
  if (comp == EXR_COMPRESSION_DWAA || comp == EXR_COMPRESSION_DWAB) {
    exr_finish(&c);
    reel_io_info_clear(&info);
    if (nonfinite) *nonfinite = (size_t)-1; /* not counted */
    return reel_exr_read_oiio(path, opts, out);
  }
  if (plan(path, &j, &info) || select_planes(path, &j, &info, opts, names) ||
      check_chunks(path, &j))
    goto out;
  size_t plane = (size_t)j.w * j.h;
  if (!(j.px = reel_pool_alloc(plane * j.nsel * sizeof(float)))) goto out;
  pthread_mutex_init(&j.mu, NULL);
  reel_exr_fanout(worker, &j, j.nchunk);
  pthread_mutex_destroy(&j.mu);
  if (j.failed) {
    reel_error(REEL_EUSER, "'%s': %s; the file is truncated or damaged", path, j.err);
    goto out;
  }
  if (fill_out(&info, j.nsel, names, out)) goto out;
  out->px = j.px;
  j.px = NULL;
  if (nonfinite) *nonfinite = j.count ? j.nonfinite : (size_t)-1;
  rc = 0;
out:
  reel_pool_free(j.px);
  if (c) exr_finish(&c);
  reel_io_info_clear(&info);
  if (rc) reel_hostimg_clear(out);
  return rc;
}

/* ---- the same through OpenImageIO (DWAA/DWAB) ---- */

int reel_exr_read_oiio(const char *path, const reel_io_read_opts_t *opts, reel_hostimg_t *out) {
  exr_context_t c;
  reel_io_info_t info = {0};
  char names[REEL_MAXCH][REEL_CHNAME], err[512];
  reel_oiio_in_t *in = NULL;
  float *tmp = NULL;
  job_t j;
  int rc = -1, part = opts ? opts->part : 0, locked = 0;
  memset(&j, 0, sizeof j);
  memset(out, 0, sizeof *out);
  if (open_ctx(path, &c)) return -1;
  j.c = c;
  j.part = part;
  /* OpenEXRCore vets the header and every chunk's place in the file before
   * OpenEXR's C++ decoder (in process) sees the data */
  if (describe(path, c, part, &info) || plan(path, &j, &info) ||
      select_planes(path, &j, &info, opts, names) || check_chunks(path, &j))
    goto out;
  reel_oiio_spec_t sp;
  reel_oiio_lock_shared();
  locked = 1;
  if (!(in = reel_oiio_open(path, "openexr", part, 0, &sp, err, sizeof err))) {
    reel_error(REEL_EUSER, "'%s': %s", path, err);
    goto out;
  }
  if (sp.w != j.w || sp.h != j.h || sp.x != j.wx || sp.y != j.wy) {
    reel_error(REEL_EUSER, "'%s': OpenImageIO and OpenEXRCore disagree on the data window", path);
    goto out;
  }
  int map[REEL_MAXCH], cb = sp.nch, ce = 0;
  for (int s = 0; s < j.nsel; s++) {
    const exr_attr_chlist_t *cl;
    exr_get_channels(c, part, &cl);
    const char *want = cl->entries[j.sel[s]].name.str;
    map[s] = -1;
    for (int k = 0; k < sp.nch; k++)
      if (!strcmp(reel_oiio_chname(in, k), want)) map[s] = k;
    if (map[s] < 0) {
      reel_error(REEL_EUSER, "'%s': OpenImageIO does not see channel '%s'", path, want);
      goto out;
    }
    cb = map[s] < cb ? map[s] : cb;
    ce = map[s] + 1 > ce ? map[s] + 1 : ce;
  }
  size_t plane = (size_t)j.w * j.h, nr = (size_t)(ce - cb);
  if (!(tmp = reel_pool_alloc(plane * nr * sizeof(float))) ||
      !(j.px = reel_pool_alloc(plane * j.nsel * sizeof(float))))
    goto out;
  if (reel_oiio_read(in, cb, ce, 4, tmp, err, sizeof err)) {
    reel_error(REEL_EUSER, "'%s': %s; the file is truncated or damaged", path, err);
    goto out;
  }
  /* one pass over the interleaved rows, writing every plane */
  for (size_t y = 0; y < (size_t)j.h; y++) {
    const float *src = tmp + y * j.w * nr;
    for (int s = 0; s < j.nsel; s++) {
      float *dst = j.px + s * plane + y * j.w;
      const float *in_c = src + (map[s] - cb);
      for (size_t x = 0; x < (size_t)j.w; x++) dst[x] = in_c[x * nr];
    }
  }
  if (fill_out(&info, j.nsel, names, out)) goto out;
  out->px = j.px;
  j.px = NULL;
  rc = 0;
out:
  reel_oiio_close(in);
  if (locked) reel_oiio_unlock_shared();
  reel_pool_free(tmp);
  reel_pool_free(j.px);
  if (c) exr_finish(&c);
  reel_io_info_clear(&info);
  if (rc) reel_hostimg_clear(out);
  return rc;
}

void reel_exr_fanout(void *(*fn)(void *), void *arg, int nchunk) {
  pthread_t th[REEL_EXR_THREADS];
  int nth = 0;
  for (int t = 1; t < REEL_EXR_THREADS && nchunk >= 4 * (t + 1); t++)
    if (!pthread_create(&th[nth], NULL, fn, arg)) nth++;
  fn(arg);
  for (int t = 0; t < nth; t++) pthread_join(th[t], NULL);
}
