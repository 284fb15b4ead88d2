/* Image file I/O (imageio.h): dispatch on the format the magic bytes name.
 * Headers are checked in process first (io_check.c, io_exr.c); EXR decodes
 * in process (OpenEXRCore, io_exr.c), the rest through OpenImageIO in the
 * decoder helper (io_sandbox.c). Writes go to a temporary file beside the
 * target, fsync'd and renamed over it: EXR through OpenEXRCore
 * (io_exr_write.c; DWA and other formats through OpenImageIO, io_oiio.cpp). */
#include "error.h"
#include "io_impl.h"
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void reel_io_info_clear(reel_io_info_t *info) {
  if (info->chnames)
    for (int i = 0; i < info->nch; i++) free(info->chnames[i]);
  free(info->chnames);
  reel_meta_clear(&info->meta);
  memset(info, 0, sizeof *info);
}

void reel_hostimg_clear(reel_hostimg_t *h) {
  reel_pool_free(h->px);
  reel_meta_clear(&h->meta);
  memset(h, 0, sizeof *h);
}

void reel_io_order_channels(char **names, int n) {
  static const char *const first[] = {"R", "G", "B", "A"};
  int at = 0;
  for (int k = 0; k < 4; k++)
    for (int i = at; i < n; i++)
      if (!strcmp(names[i], first[k])) {
        char *t = names[i];
        memmove(names + at + 1, names + at, sizeof *names * (size_t)(i - at));
        names[at++] = t;
        break;
      }
}

int reel_io_meta_finish(reel_meta_t *m, const char *format, const char *pixeltype) {
  const char *cs = reel_meta_get(m, "reel:colorspace");
  if (cs && !reel_meta_get(m, "oiio:ColorSpace") && reel_meta_set(m, "oiio:ColorSpace", cs))
    return -1;
  return reel_meta_set(m, "reel:format", format) || reel_meta_set(m, "reel:pixeltype", pixeltype);
}

int reel_io_probe(const char *path, int part, reel_io_info_t *info) {
  reel_io_hdr_t hdr;
  memset(info, 0, sizeof *info);
  if (reel_io_check(path, part, &hdr)) return -1;
  if (hdr.fmt == REEL_FMT_EXR) return reel_exr_probe(path, part, info);
  return reel_sandbox_probe(path, &hdr, part, info);
}

/* NaN and Inf samples of float and half sources (integer codes cannot be
 * either). seen: how many the decoder counted on the way ((size_t)-1: it
 * did not), else one pass of exponent tests over the planes; per channel
 * only when some turn up. */
static int nonfinite(const char *path, reel_hostimg_t *h, reel_io_nonfinite_t policy, size_t seen) {
  const char *pt = reel_meta_get(&h->meta, "reel:pixeltype");
  size_t n = (size_t)reel_box_w(h->data) * (size_t)reel_box_h(h->data), total = 0;
  if (policy == REEL_IO_NONFINITE_KEEP || !h->px || !seen || (pt && !strncmp(pt, "uint", 4)))
    return 0;
  float *px = h->px;
  for (size_t i = 0; i < n * (size_t)h->nch; i++) total += !isfinite(px[i]);
  if (!total) return 0;
  if (policy == REEL_IO_NONFINITE_ZERO) {
    for (size_t i = 0; i < n * (size_t)h->nch; i++)
      if (!isfinite(px[i])) px[i] = 0;
    return 0;
  }
  char where[600] = "";
  size_t at = 0;
  for (int c = 0; c < h->nch && at < sizeof where - 80; c++) {
    size_t nan = 0, inf = 0;
    for (size_t i = 0; i < n; i++) {
      nan += isnan(px[(size_t)c * n + i]) != 0;
      inf += isinf(px[(size_t)c * n + i]) != 0;
    }
    char nn[32] = "", ni[32] = "";
    if (nan) snprintf(nn, sizeof nn, "%zu NaN", nan);
    if (inf) snprintf(ni, sizeof ni, "%zu infinite", inf);
    if (nan + inf)
      at += (size_t)snprintf(where + at, sizeof where - at, "%s%s%s%s in %s", at ? ", " : "", nn,
                             nan && inf ? " and " : "", ni, h->ch[c]);
  }
  reel_error(REEL_EUSER,
             "'%s' has %zu samples that are not finite numbers (%s). Set the Read node's "
             "nonfinite = \"zero\" to replace them with 0, or \"keep\" to pass them on",
             path, total, where);
  return -1;
}

int reel_io_read(const char *path, const reel_io_read_opts_t *opts, reel_hostimg_t *out) {
  reel_io_hdr_t hdr;
  size_t seen = (size_t)-1;
  int rc;
  memset(out, 0, sizeof *out);
  if (reel_io_check(path, opts ? opts->part : 0, &hdr)) return -1;
  if (hdr.fmt == REEL_FMT_EXR)
    rc = reel_exr_read(path, opts, out, &seen);
  else
    rc = reel_sandbox_read(path, &hdr, opts, out);
  if (!rc && nonfinite(path, out, opts ? opts->nonfinite : REEL_IO_NONFINITE_ERROR, seen)) {
    reel_hostimg_clear(out);
    rc = -1;
  }
  return rc;
}

/* ---- writing ---- */

typedef struct {
  const char *name, *oiio, *types, *comps, *deftype;
} wfmt_t;

/* What each writer takes: pixel types and compressions, space-separated. */
static const wfmt_t wfmts[] = {
    {"exr", "openexr", " half float ", " none rle zip zips piz dwaa dwab ", "half"},
    {"dpx", "dpx", " uint8 uint10 uint16 ", " none ", "uint10"},
    {"tiff", "tiff", " uint8 uint16 float ", " none zip lzw ", "uint16"},
    {"png", "png", " uint8 uint16 ", " ", "uint8"},
    {"jpeg", "jpeg", " uint8 ", " ", "uint8"},
};

static const wfmt_t *find_wfmt(const char *path, const char *format) {
  static const char *const alias[][2] = {{"openexr", "exr"}, {"tif", "tiff"}, {"jpg", "jpeg"}};
  const char *f = format;
  if (!f) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash)) return NULL;
    f = dot + 1;
  }
  char low[16];
  size_t i = 0;
  for (; f[i] && i < sizeof low - 1; i++)
    low[i] = (char)(f[i] >= 'A' && f[i] <= 'Z' ? f[i] + 32 : f[i]);
  low[i] = 0;
  for (size_t k = 0; k < sizeof alias / sizeof *alias; k++)
    if (!strcmp(low, alias[k][0])) snprintf(low, sizeof low, "%s", alias[k][1]);
  for (size_t k = 0; k < sizeof wfmts / sizeof *wfmts; k++)
    if (!strcmp(low, wfmts[k].name)) return &wfmts[k];
  return NULL;
}

static int listed(const char *list, const char *word) {
  char w[40];
  snprintf(w, sizeof w, " %.32s ", word);
  return strstr(list, w) != NULL;
}

/* (image.c has reel_box_intersect; kept local so file I/O links without the
 * device side) */
static reel_box_t clip(reel_box_t a, reel_box_t b) {
  reel_box_t r = {a.x0 > b.x0 ? a.x0 : b.x0, a.y0 > b.y0 ? a.y0 : b.y0, a.x1 < b.x1 ? a.x1 : b.x1,
                  a.y1 < b.y1 ? a.y1 : b.y1};
  return r;
}

static uint16_t quant(float v, float maxv) {
  if (!(v > 0)) return 0; /* also NaN */
  if (v >= 1) return (uint16_t)maxv;
  return (uint16_t)(v * maxv + 0.5f);
}

/* Interleaves the planes over region r (zero outside the data window) as
 * elem-byte samples: float, 8-bit codes, or 16-bit words holding bits-bit
 * codes in their top bits (bit-replicated, as OpenImageIO expects). */
static void *interleave(const reel_hostimg_t *img, reel_box_t r, int elem, int bits) {
  size_t w = (size_t)reel_box_w(r), h = (size_t)reel_box_h(r), nch = (size_t)img->nch;
  size_t dw = (size_t)reel_box_w(img->data), plane = dw * (size_t)reel_box_h(img->data);
  unsigned char *buf = reel_pool_alloc(w * h * nch * (size_t)elem);
  if (!buf) return NULL;
  reel_box_t in = clip(r, img->data);
  if (memcmp(&in, &r, sizeof r) || !img->px) memset(buf, 0, w * h * nch * (size_t)elem);
  if (reel_box_empty(in) || !img->px) return buf;
  float maxv = elem == 4 ? 1.f : (float)((1u << bits) - 1);
  for (int y = in.y0; y < in.y1; y++)
    for (size_t c = 0; c < nch; c++) {
      const float *src = img->px + c * plane + (size_t)(y - img->data.y0) * dw;
      size_t o = ((size_t)(y - r.y0) * w + (size_t)(in.x0 - r.x0)) * nch + c;
      for (int x = in.x0; x < in.x1; x++, o += nch) {
        float v = src[x - img->data.x0];
        if (elem == 4) {
          ((float *)buf)[o] = v;
        } else if (elem == 1) {
          buf[o] = (unsigned char)quant(v, maxv);
        } else {
          uint16_t q = quant(v, maxv);
          ((uint16_t *)buf)[o] =
              bits == 16 ? q : (uint16_t)(q << (16 - bits) | q >> (2 * bits - 16));
        }
      }
    }
  return buf;
}

/* Directory part of path ("." when none), and the temporary name beside it:
 * ".stem.tmp-<pid>-<n>.ext", keeping the extension for the writer. */
static int temp_name(const char *path, char *dir, size_t dcap, char *tmp, size_t tcap) {
  static unsigned counter;
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  if (!*base) return -1;
  if (slash)
    snprintf(dir, dcap, "%.*s", slash == path ? 1 : (int)(slash - path), path);
  else
    snprintf(dir, dcap, ".");
  const char *dot = strrchr(base, '.');
  int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
  unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
  int len = snprintf(tmp, tcap, "%s/.%.*s.tmp-%ld-%u%s", dir, stem, base, (long)getpid(), n,
                     dot && dot != base ? dot : "");
  return len < 0 || (size_t)len >= tcap ? -1 : 0;
}

int reel_io_write(const char *path, const reel_io_write_opts_t *opts, const reel_hostimg_t *img) {
  static const reel_io_write_opts_t none = {0};
  const reel_io_write_opts_t *o = opts ? opts : &none;
  const wfmt_t *f = find_wfmt(path, o->format);
  char dir[4096], tmp[4096], err[1024];
  void *px = NULL;
  int rc = -1, made = 0;
  if (!f) {
    if (o->format)
      reel_error(REEL_EUSER,
                 "cannot write '%s': Reel writes exr, dpx, tiff, png and jpeg, not '%s'", path,
                 o->format);
    else
      reel_error(REEL_EUSER,
                 "cannot write '%s': the extension names no format Reel writes "
                 "(.exr, .dpx, .tif, .png, .jpg)",
                 path);
    return -1;
  }
  const char *pt = o->pixeltype && strcmp(o->pixeltype, "auto") ? o->pixeltype : f->deftype;
  const char *cz = o->compression && strcmp(o->compression, "auto") ? o->compression : NULL;
  if (!listed(f->types, pt)) {
    reel_error(REEL_EUSER, "cannot write '%s': %s takes pixel types%s, not '%s'", path, f->name,
               f->types, pt);
    return -1;
  }
  if (cz && !listed(f->comps, cz)) {
    reel_error(REEL_EUSER, "cannot write '%s': %s takes compression%s, not '%s'", path, f->name,
               strlen(f->comps) > 1 ? f->comps : " (none to choose)", cz);
    return -1;
  }
  if (img->nch < 1 || img->nch > REEL_MAXCH ||
      (!strcmp(f->name, "jpeg") && img->nch != 1 && img->nch != 3) ||
      ((!strcmp(f->name, "png") || !strcmp(f->name, "dpx")) && img->nch > 4)) {
    reel_error(REEL_EUSER, "cannot write '%s': %s cannot hold %d channels%s", path, f->name,
               img->nch, !strcmp(f->name, "jpeg") ? " (it takes 1 or 3)" : "");
    return -1;
  }
  if (reel_box_empty(img->display) && reel_box_empty(img->data)) {
    reel_error(REEL_EUSER, "cannot write '%s': the image is empty", path);
    return -1;
  }
  if (temp_name(path, dir, sizeof dir, tmp, sizeof tmp)) {
    reel_error(REEL_EUSER, "cannot write '%s': bad or too long path", path);
    return -1;
  }
  struct stat st;
  if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
    reel_error(REEL_EUSER, "cannot write '%s': directory '%s' does not exist", path, dir);
    return -1;
  }
  if (access(dir, W_OK)) {
    reel_error(REEL_EUSER, "cannot write '%s': directory '%s' is not writable", path, dir);
    return -1;
  }

  int exr = !strcmp(f->name, "exr");
  if (exr && cz && (!strcmp(cz, "zip") || !strcmp(cz, "zips")) && o->quality > 9) {
    reel_error(REEL_EUSER, "cannot write '%s': the EXR ZIP level is 1 to 9, not %d", path,
               o->quality);
    return -1;
  }
  if (exr && reel_exr_writes(cz ? cz : "none")) { /* OpenEXRCore, from the planes */
    reel_exr_wopts_t eo = {!strcmp(pt, "half"), cz ? cz : "none", o->quality};
    made = 1;
    if (reel_exr_write(tmp, img, &eo, err, sizeof err)) {
      reel_error(REEL_EIO, "cannot write '%s': %s", path, err);
      goto out;
    }
    goto sync;
  }
  /* EXR keeps both windows; other formats hold the display window (the
   * frame), with black outside the data window */
  reel_box_t r = exr && !reel_box_empty(img->data) ? img->data : img->display;
  if (reel_box_empty(r)) r = img->data;
  reel_box_t full = reel_box_empty(img->display) ? r : img->display;
  reel_oiio_wspec_t ws;
  memset(&ws, 0, sizeof ws);
  ws.w = reel_box_w(r);
  ws.h = reel_box_h(r);
  ws.x = r.x0;
  ws.y = r.y0;
  ws.fw = reel_box_w(full);
  ws.fh = reel_box_h(full);
  ws.fx = full.x0;
  ws.fy = full.y0;
  ws.nch = img->nch;
  for (int c = 0; c < img->nch; c++) ws.chnames[c] = img->ch[c];
  ws.bits = !strcmp(pt, "uint8") ? 8 : !strcmp(pt, "uint10") ? 10 : !strcmp(pt, "uint16") ? 16 : 32;
  ws.half = !strcmp(pt, "half");
  ws.elem = ws.bits == 8 ? 1 : ws.bits <= 16 ? 2 : 4;
  ws.compression = cz;
  ws.quality = o->quality;
  ws.meta = &img->meta;
  if (!(px = interleave(img, r, ws.elem, ws.bits))) goto out;

  reel_oiio_lock_shared();
  made = 1;
  int w = reel_oiio_write(tmp, f->oiio, &ws, px, err, sizeof err);
  reel_oiio_unlock_shared();
  if (w) {
    reel_error(REEL_EIO, "cannot write '%s': %s", path, err);
    goto out;
  }
sync:
  /* the data must be on disk before the name points at it */
  int fd = open(tmp, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd)) {
    reel_error(REEL_EIO, "cannot write '%s': syncing the temporary file failed: %s", path,
               strerror(errno));
    if (fd >= 0) close(fd);
    goto out;
  }
  close(fd);
  if (rename(tmp, path)) {
    reel_error(REEL_EIO, "cannot write '%s': renaming the temporary file failed: %s", path,
               strerror(errno));
    goto out;
  }
  made = 0;
  rc = 0;
out:
  if (made) unlink(tmp);
  reel_pool_free(px);
  return rc;
}
