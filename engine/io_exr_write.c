/* OpenEXR writing through OpenEXRCore (OpenEXR 3.1's C API): scanline files,
 * half or float, uncompressed, RLE, ZIPS, ZIP or PIZ, with data and display
 * windows and metadata. The library packs each chunk straight from Reel's
 * planar float planes (converting to half) and compresses it; chunks are
 * encoded on REEL_EXR_THREADS threads and written in file order. DWAA/DWAB, which
 * OpenEXRCore 3.1 cannot encode, go through OpenImageIO (io_oiio.cpp). */
#include "io_impl.h"

#include <openexr.h>

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const struct {
  const char *name;
  exr_compression_t c;
} comps[] = {{"none", EXR_COMPRESSION_NONE},
             {"rle", EXR_COMPRESSION_RLE},
             {"zips", EXR_COMPRESSION_ZIPS},
             {"zip", EXR_COMPRESSION_ZIP},
             {"piz", EXR_COMPRESSION_PIZ}};

int reel_exr_writes(const char *compression) {
  for (size_t i = 0; i < sizeof comps / sizeof *comps; i++)
    if (!strcmp(compression, comps[i].name)) return 1;
  return 0;
}

/* OpenEXRCore reports details through a callback on the failing thread. */
static __thread char lastmsg[256];

static void on_error(exr_const_context_t c, exr_result_t code, const char *msg) {
  snprintf(lastmsg, sizeof lastmsg, "%s", msg ? msg : exr_get_default_error_message(code));
}

typedef struct {
  exr_context_t c;
  const reel_hostimg_t *img;
  const float *zero; /* a line of zeros, for an image without pixels */
  int w, y0, lpc, nchunk;
  int src[REEL_MAXCH]; /* image plane of each channel, in the file's (sorted) order */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int next, written; /* next chunk to encode, chunks on disk */
  int failed;
  char err[300];
} job_t;

static void fail(job_t *j, const char *what, exr_result_t r) {
  pthread_mutex_lock(&j->mu);
  if (!j->failed)
    snprintf(j->err, sizeof j->err, "%s: %s", what,
             lastmsg[0] ? lastmsg : exr_get_default_error_message(r));
  j->failed = 1;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
}

/* Scanline chunks must reach the file in order: an encoded chunk waits
 * here (the pipeline's yield step) until the ones before it are written. */
static exr_result_t wait_turn(exr_encode_pipeline_t *e) {
  job_t *j = e->encoding_user_data;
  pthread_mutex_lock(&j->mu);
  while (j->written != e->chunk.idx && !j->failed) pthread_cond_wait(&j->cv, &j->mu);
  int failed = j->failed;
  pthread_mutex_unlock(&j->mu);
  return failed ? EXR_ERR_UNKNOWN : EXR_ERR_SUCCESS;
}

/* Writes the chunk, then gives the next one its turn. A chunk that does not
 * shrink is stored raw: readers take a chunk of its raw size as raw, and
 * OpenEXRCore 3.1.5 keeps one that deflates to exactly its raw size
 * compressed (a ZIPS line of noise did: unreadable pixels). */
static exr_result_t write_next(exr_encode_pipeline_t *e) {
  job_t *j = e->encoding_user_data;
  const void *data = e->compressed_buffer;
  uint64_t n = e->compressed_bytes;
  if (!data || n >= e->packed_bytes) {
    data = e->packed_buffer;
    n = e->packed_bytes;
  }
  exr_result_t r = exr_write_scanline_chunk(j->c, e->part_index, e->chunk.start_y, data, n);
  pthread_mutex_lock(&j->mu);
  j->written++;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
  return r;
}

static void *worker(void *arg) {
  job_t *j = arg;
  exr_encode_pipeline_t e = EXR_ENCODE_PIPELINE_INITIALIZER;
  const reel_hostimg_t *img = j->img;
  size_t plane = (size_t)reel_box_w(img->data) * (size_t)reel_box_h(img->data);
  int init = 0;
  lastmsg[0] = 0;
  for (;;) {
    pthread_mutex_lock(&j->mu);
    int i = j->failed || j->next >= j->nchunk ? -1 : j->next++;
    pthread_mutex_unlock(&j->mu);
    if (i < 0) break;
    exr_chunk_info_t ci;
    int y = j->y0 + i * j->lpc;
    exr_result_t r = exr_write_scanline_chunk_info(j->c, 0, y, &ci);
    if (!r)
      r = init ? exr_encoding_update(j->c, 0, &ci, &e) : exr_encoding_initialize(j->c, 0, &ci, &e);
    if (r) {
      fail(j, "cannot encode a chunk", r);
      break;
    }
    for (int k = 0; k < e.channel_count; k++) {
      exr_coding_channel_info_t *ch = &e.channels[k];
      ch->user_bytes_per_element = 4;
      ch->user_data_type = EXR_PIXEL_FLOAT;
      ch->user_pixel_stride = 4;
      if (j->zero) {
        ch->user_line_stride = 0; /* every line reads the same zeros */
        ch->encode_from_ptr = (const uint8_t *)j->zero;
      } else {
        ch->user_line_stride = 4 * j->w;
        ch->encode_from_ptr =
            (const uint8_t *)(img->px + (size_t)j->src[k] * plane + (size_t)(y - j->y0) * j->w);
      }
    }
    if (!init) {
      if ((r = exr_encoding_choose_default_routines(j->c, 0, &e))) {
        fail(j, "cannot encode a chunk", r);
        break;
      }
      e.yield_until_ready_fn = wait_turn;
      e.write_fn = write_next;
      e.encoding_user_data = j;
      init = 1;
    }
    if ((r = exr_encoding_run(j->c, 0, &e))) {
      fail(j, "writing a chunk failed", r);
      break;
    }
  }
  exr_encoding_destroy(j->c, &e);
  return NULL;
}

static int parse_floats(const char *s, float *v, int n) {
  for (int i = 0; i < n; i++) {
    char *end;
    v[i] = strtof(s, &end);
    if (end == s || !isfinite(v[i])) return -1;
    s = end + strspn(end, " ,");
  }
  return 0;
}

/* Metadata to attributes: the standard ones typed (OpenImageIO's names
 * mapped back), the rest as strings; the colour tag as reel:colorspace. */
static exr_result_t put_meta(exr_context_t c, const reel_meta_t *m, float *par) {
  exr_result_t r = 0;
  const char *cs = reel_meta_get(m, "reel:colorspace");
  if (!cs) cs = reel_meta_get(m, "oiio:ColorSpace");
  for (int i = 0; i < m->n && !r; i++) {
    const char *k = m->k[i], *v = m->v[i], *name = reel_exr_attr_name(k);
    float f[8];
    if (!strcmp(k, "oiio:ColorSpace") || !strcmp(k, "reel:colorspace")) continue;
    if (!strcmp(k, "PixelAspectRatio")) {
      if (!parse_floats(v, f, 1) && f[0] > 0) *par = f[0];
    } else if (!strcmp(k, "chromaticities")) {
      if (!parse_floats(v, f, 8)) {
        exr_attr_chromaticities_t ch = {f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
        r = exr_attr_set_chromaticities(c, 0, "chromaticities", &ch);
      }
    } else if (reel_exr_attr_kind(name) == 1) {
      if (!parse_floats(v, f, 1)) r = exr_attr_set_float(c, 0, name, f[0]);
    } else if (!strcmp(name, "framesPerSecond")) {
      exr_attr_rational_t q = {0, 1};
      if (sscanf(v, "%d/%u", &q.num, &q.denom) >= 1 && q.denom && q.num > 0)
        r = exr_attr_set_rational(c, 0, name, &q);
    } else if (!reel_exr_attr_kind(name) && !reel_io_meta_skip(k)) {
      r = exr_attr_set_string(c, 0, name, v);
    }
  }
  if (!r && cs && cs[0]) r = exr_attr_set_string(c, 0, "reel:colorspace", cs);
  return r;
}

int reel_exr_write(const char *path, const reel_hostimg_t *img, const reel_exr_wopts_t *o,
                   char *err, size_t cap) {
  exr_context_initializer_t ci = EXR_DEFAULT_CONTEXT_INITIALIZER;
  exr_context_t c = NULL;
  exr_result_t r;
  job_t j;
  int rc = -1, part = 0, mu = 0;
  const char *what = "cannot start the file";
  memset(&j, 0, sizeof j);
  lastmsg[0] = 0;
  exr_compression_t comp = EXR_COMPRESSION_NONE;
  for (size_t i = 0; i < sizeof comps / sizeof *comps; i++)
    if (!strcmp(o->compression, comps[i].name)) comp = comps[i].c;
  /* the data window, or zeros over the display window without pixels */
  int has_px = img->px && !reel_box_empty(img->data);
  reel_box_t dw = has_px ? img->data : img->display;
  reel_box_t dsp = reel_box_empty(img->display) ? dw : img->display;
  if (reel_box_empty(dw)) {
    snprintf(err, cap, "the image is empty");
    return -1;
  }
  j.w = reel_box_w(dw);
  j.y0 = dw.y0;
  if (!has_px && !(j.zero = calloc((size_t)j.w, sizeof(float)))) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  ci.error_handler_fn = on_error;
  if ((r = exr_start_write(&c, path, EXR_WRITE_FILE_DIRECTLY, &ci))) goto out;
  j.c = c;
  what = "cannot set up the header";
  exr_attr_box2i_t xdw, xdsp;
  exr_attr_v2f_t swc = {.x = 0.f, .y = 0.f};
  xdw.min.x = dw.x0;
  xdw.min.y = dw.y0;
  xdw.max.x = dw.x1 - 1;
  xdw.max.y = dw.y1 - 1;
  xdsp.min.x = dsp.x0;
  xdsp.min.y = dsp.y0;
  xdsp.max.x = dsp.x1 - 1;
  xdsp.max.y = dsp.y1 - 1;
  float par = 1.f;
  int longnames = 0;
  for (int i = 0; i < img->meta.n; i++) longnames |= strlen(img->meta.k[i]) > 31;
  for (int i = 0; i < img->nch; i++) longnames |= strlen(img->ch[i]) > 31;
  if ((r = exr_add_part(c, "", EXR_STORAGE_SCANLINE, &part)) ||
      (longnames && (r = exr_set_longname_support(c, 1))) || (r = put_meta(c, &img->meta, &par)) ||
      (r = exr_initialize_required_attr(c, part, &xdsp, &xdw, par, &swc, 1.f,
                                        EXR_LINEORDER_INCREASING_Y, comp)))
    goto out;
  if ((comp == EXR_COMPRESSION_ZIP || comp == EXR_COMPRESSION_ZIPS) &&
      (r = exr_set_zip_compression_level(c, part,
                                         o->zip_level > 0 ? o->zip_level : REEL_EXR_ZIP_LEVEL)))
    goto out;
  for (int i = 0; i < img->nch; i++)
    if ((r = exr_add_channel(c, part, img->ch[i], o->half ? EXR_PIXEL_HALF : EXR_PIXEL_FLOAT,
                             EXR_PERCEPTUALLY_LOGARITHMIC, 1, 1)))
      goto out;
  what = "cannot write the header";
  if ((r = exr_write_header(c))) goto out;
  /* the file keeps channels sorted by name: find each one's plane */
  const exr_attr_chlist_t *cl;
  if ((r = exr_get_channels(c, part, &cl)) || (r = exr_get_scanlines_per_chunk(c, part, &j.lpc)))
    goto out;
  for (int k = 0; k < cl->num_channels; k++)
    for (int i = 0; i < img->nch; i++)
      if (!strcmp(cl->entries[k].name.str, img->ch[i])) j.src[k] = i;
  j.img = img;
  j.nchunk = (reel_box_h(dw) + j.lpc - 1) / j.lpc;
  pthread_mutex_init(&j.mu, NULL);
  pthread_cond_init(&j.cv, NULL);
  mu = 1;
  reel_exr_fanout(worker, &j, j.nchunk);
  if (j.failed) {
    snprintf(err, cap, "%s", j.err);
    goto out2;
  }
  what = "cannot finish the file";
  r = exr_finish(&c); /* writes the chunk offsets */
  c = NULL;
  if (r) goto out;
  rc = 0;
  goto out2;
out:
  snprintf(err, cap, "%s: %s", what, lastmsg[0] ? lastmsg : exr_get_default_error_message(r));
out2:
  if (c) exr_finish(&c);
  if (mu) {
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
  }
  free((void *)j.zero);
  return rc;
}
