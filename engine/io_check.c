/* Header checks, in process, before any decoder library sees a file: the
 * format from its magic bytes; DPX/Cineon headers and elements, every TIFF
 * directory, the PNG IHDR, JPEG segments with their Exif directories and ICC
 * profile, so that sizes are bounded (REEL_IO_MAXPIX), blocks lie inside the
 * file and uncompressed data fits in it. EXR headers are checked through
 * OpenEXRCore (io_exr.c). Bounded preads only, never mmap. */
#include "error.h"
#include "io_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  const char *path;
  int fd;
  int64_t size;
  int be; /* big-endian fields */
} rd_t;

static int bad(const rd_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const rd_t *f, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  reel_error(REEL_EUSER, "'%s': %s", f->path, msg);
  return -1;
}

/* Reads n bytes at off; -1 (no message) if they are not all in the file. */
static int rd(const rd_t *f, int64_t off, void *buf, size_t n) {
  if (off < 0 || off > f->size || (int64_t)n > f->size - off) return -1;
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(f->fd, (char *)buf + got, n - got, off + (int64_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static uint32_t u16(const rd_t *f, const unsigned char *p) {
  return f->be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}
static uint32_t u32(const rd_t *f, const unsigned char *p) {
  return f->be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static uint64_t u64(const rd_t *f, const unsigned char *p) {
  uint64_t a = u32(f, p), b = u32(f, p + 4);
  return f->be ? a << 32 | b : b << 32 | a;
}

static int dims(const rd_t *f, int64_t w, int64_t h) {
  if (w <= 0 || h <= 0)
    return bad(f, "image of %lldx%lld pixels is empty; the file is probably damaged", (long long)w,
               (long long)h);
  if (w > REEL_IO_MAXDIM || h > REEL_IO_MAXDIM || w * h > REEL_IO_MAXPIX)
    return bad(f,
               "image of %lldx%lld pixels is larger than the %lld megapixel limit; the file is "
               "probably damaged",
               (long long)w, (long long)h, (long long)(REEL_IO_MAXPIX / 1000000));
  return 0;
}

/* Uncompressed data of need bytes at off must be in the file. */
static int fits(const rd_t *f, int64_t off, int64_t need, const char *what) {
  if (off < 0 || need < 0 || off > f->size || need > f->size - off)
    return bad(f,
               "%s needs %lld bytes from byte %lld, but the file has %lld bytes; it is truncated "
               "or damaged",
               what, (long long)need, (long long)off, (long long)f->size);
  return 0;
}

reel_fmt_t reel_io_sniff(const unsigned char *p, size_t n) {
  if (n >= 4 && p[0] == 0x76 && p[1] == 0x2f && p[2] == 0x31 && p[3] == 0x01) return REEL_FMT_EXR;
  if (n >= 4 && (!memcmp(p, "SDPX", 4) || !memcmp(p, "XPDS", 4))) return REEL_FMT_DPX;
  if (n >= 4 && (!memcmp(p, "\x80\x2a\x5f\xd7", 4) || !memcmp(p, "\xd7\x5f\x2a\x80", 4)))
    return REEL_FMT_CINEON;
  if (n >= 4 && (!memcmp(p, "II*\0", 4) || !memcmp(p, "MM\0*", 4) || !memcmp(p, "II+\0", 4) ||
                 !memcmp(p, "MM\0+", 4)))
    return REEL_FMT_TIFF;
  if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return REEL_FMT_PNG;
  if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return REEL_FMT_JPEG;
  return REEL_FMT_UNKNOWN;
}

const char *reel_io_fmt_name(reel_fmt_t f) {
  static const char *const names[] = {"unknown", "openexr", "dpx", "cineon", "tiff", "png", "jpeg"};
  return (unsigned)f < sizeof names / sizeof *names ? names[f] : "unknown";
}

/* ---- DPX (SMPTE 268M) ---- */

static int dpx_components(unsigned desc) {
  switch (desc) {
  case 0:
  case 1:
  case 2:
  case 3:
  case 4:
  case 6:
  case 8:
  case 9: return 1;
  case 7:
  case 100: return 2;
  case 50:
  case 101:
  case 102: return 3;
  case 51:
  case 52:
  case 103: return 4;
  default: return desc >= 150 && desc <= 156 ? (int)desc - 148 : 0;
  }
}

/* Elements the decoder (OpenImageIO 2.4's DPX reader) gets wrong, checked
 * against a reference decoder in tests/unit/test_imageio.c. A file with one
 * is refused whole, whichever part was asked for: a restorer is not handed
 * part of a damaged file silently. */
static int dpx_sound(const rd_t *f, unsigned e, int nc, unsigned bits, unsigned packing,
                     unsigned enc, int w) {
  static const char *const refuse =
      "; Reel refuses the whole file rather than hand over part of it";
  char pk = packing == 1 ? 'A' : 'B';
  if (enc)
    return bad(f,
               "element %u is run-length encoded, which OpenImageIO 2.4's DPX reader cannot "
               "decode%s",
               e, refuse);
  if (bits == 10 && packing && nc == 1)
    return bad(f,
               "element %u is single-channel 10-bit data in filled packing (method %c), which "
               "OpenImageIO 2.4 decodes with the three samples of each 32-bit word in reverse "
               "order%s",
               e, pk, refuse);
  if (bits == 10 && packing && (int64_t)w * nc % 3 == 1)
    return bad(f,
               "element %u (%d channels of 10-bit data, filled packing method %c, %d pixels "
               "wide) ends each line with a sample alone in its 32-bit word, which OpenImageIO "
               "2.4 reads from the wrong bits%s",
               e, nc, pk, w, refuse);
  return 0;
}

static int check_dpx(rd_t *f, int part, reel_io_hdr_t *hdr) {
  unsigned char h[1408];
  f->be = 0;
  if (rd(f, 0, h, sizeof h)) return bad(f, "too short for a DPX header; the file is damaged");
  f->be = !memcmp(h, "SDPX", 4);
  uint32_t imgoff = u32(f, h + 4), user = u32(f, h + 32);
  if (user != 0xffffffffu && user && (int64_t)user > f->size - 2048)
    return bad(f,
               "its header declares %u bytes of user data, more than the %lld-byte file holds; "
               "the file is damaged",
               user, (long long)f->size);
  unsigned nel = u16(f, h + 770);
  int64_t w = u32(f, h + 772), ht = u32(f, h + 776);
  if (nel < 1 || nel > 8)
    return bad(f, "its header declares %u image elements (DPX allows 1 to 8); the file is damaged",
               nel);
  if (dims(f, w, ht)) return -1;
  if (part < 0 || part >= (int)nel)
    return bad(f, "it has %u part%s; part %d does not exist", nel, nel > 1 ? "s" : "", part);
  hdr->w = (int)w;
  hdr->h = (int)ht;
  hdr->nparts = (int)nel;
  for (unsigned e = 0; e < nel; e++) {
    const unsigned char *el = h + 780 + 72 * e;
    unsigned desc = el[20], bits = el[23], packing = u16(f, el + 24), enc = u16(f, el + 26);
    uint32_t off = u32(f, el + 28);
    int nc = dpx_components(desc);
    if (!nc)
      return bad(f, "element %u has unknown descriptor %u; the file is probably damaged", e, desc);
    if (bits != 1 && bits != 8 && bits != 10 && bits != 12 && bits != 16 && bits != 32 &&
        bits != 64)
      return bad(f,
                 "element %u has a bit depth of %u (DPX allows 1, 8, 10, 12, 16, 32, 64); the "
                 "file is damaged",
                 e, bits);
    if (packing > 2)
      return bad(f, "element %u has unknown packing %u; the file is damaged", e, packing);
    if (enc > 1) return bad(f, "element %u has unknown encoding %u; the file is damaged", e, enc);
    if (off == 0xffffffffu || (!off && !e)) off = imgoff;
    int64_t n = w * ht * nc, need;
    if (bits == 10 && packing)
      need = ht * ((w * nc + 2) / 3 * 4); /* three samples per 32-bit word, lines padded */
    else if (bits == 12 && packing)
      need = n * 2;
    else
      need = (n * bits + 7) / 8;
    char what[64];
    snprintf(what, sizeof what, "DPX element %u (%dx%d, %d x %u-bit)", e, (int)w, (int)ht, nc,
             bits);
    if (!enc && fits(f, off, need, what)) return -1;
    if (dpx_sound(f, e, nc, bits, packing, enc, (int)w)) return -1;
    if ((int)e == part) hdr->nch = nc;
  }
  return 0;
}

/* ---- Cineon (Kodak 4.5) ---- */

static int check_cineon(rd_t *f, int part, reel_io_hdr_t *hdr) {
  unsigned char h[712];
  f->be = 0;
  if (rd(f, 0, h, sizeof h)) return bad(f, "too short for a Cineon header; the file is damaged");
  f->be = h[0] == 0x80;
  uint32_t imgoff = u32(f, h + 4), gen = u32(f, h + 8), ind = u32(f, h + 12), user = u32(f, h + 16);
  unsigned nc = h[193];
  if (nc < 1 || nc > 8)
    return bad(f, "its header declares %u channels (Cineon allows 1 to 8); the file is damaged",
               nc);
  int64_t w = 0, ht = 0, bitsum = 0;
  for (unsigned c = 0; c < nc; c++) {
    const unsigned char *ch = h + 196 + 28 * c;
    unsigned bits = ch[2];
    int64_t cw = u32(f, ch + 4), chh = u32(f, ch + 8);
    if (bits != 8 && bits != 10 && bits != 12 && bits != 16)
      return bad(f,
                 "channel %u has a bit depth of %u (Cineon readers take 8, 10, 12, 16); the "
                 "file is damaged",
                 c, bits);
    if (!c) {
      w = cw;
      ht = chh;
      if (dims(f, w, ht)) return -1;
    } else if (cw != w || chh != ht) {
      return bad(f, "its channels differ in size (%lldx%lld and %lldx%lld); the file is damaged",
                 (long long)w, (long long)ht, (long long)cw, (long long)chh);
    }
    bitsum += bits;
  }
  if ((int64_t)gen + ind + user > f->size)
    return bad(f,
               "its header blocks (%u + %u + %u bytes) are larger than the %lld-byte file; the "
               "file is damaged",
               gen, ind, user, (long long)f->size);
  if (part) return bad(f, "it has 1 part; part %d does not exist", part);
  if (fits(f, imgoff, w * ht * bitsum / 8, "the Cineon image data")) return -1;
  hdr->w = (int)w;
  hdr->h = (int)ht;
  hdr->nch = (int)nc;
  hdr->nparts = 1;
  return 0;
}

/* ---- TIFF and BigTIFF ---- */

typedef struct {
  uint32_t type;
  uint64_t count, off; /* off: where the data is, unless inline */
  int inl;
  unsigned char raw[8]; /* inline data, in file byte order */
  unsigned char *mem;   /* or the whole array, once loaded */
} tag_t;

static int tsize(uint32_t type) {
  static const int sz[] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8};
  return type < sizeof sz / sizeof *sz ? sz[type] : 0;
}

/* Value i of a SHORT/LONG/LONG8 tag (data inside the file was checked). */
/* Reads a long array (strip offsets) in one go; its bounds were checked. */
static void tload(rd_t *f, tag_t *t) {
  size_t n = (size_t)t->count * (size_t)tsize(t->type);
  if (t->inl || t->mem || !(t->mem = malloc(n))) return;
  if (rd(f, (int64_t)t->off, t->mem, n)) {
    free(t->mem);
    t->mem = NULL;
  }
}

static int tval(rd_t *f, const tag_t *t, uint64_t i, uint64_t *out) {
  int s = tsize(t->type);
  unsigned char b[8];
  if (i >= t->count) return -1;
  if (t->inl) {
    memcpy(b, t->raw + i * (uint64_t)s, (size_t)s);
  } else if (t->mem) {
    memcpy(b, t->mem + i * (uint64_t)s, (size_t)s);
  } else if (rd(f, (int64_t)(t->off + i * (uint64_t)s), b, (size_t)s)) {
    return -1;
  }
  *out = s == 2 ? u16(f, b) : s == 4 ? u32(f, b) : s == 8 ? u64(f, b) : b[0];
  return 0;
}

enum {
  T_W,
  T_H,
  T_BITS,
  T_COMP,
  T_SPP,
  T_RPS,
  T_SOFF,
  T_SCNT,
  T_PLANAR,
  T_TW,
  T_TH,
  T_TOFF,
  T_TCNT,
  T_N
};

static int check_ifd(rd_t *f, int big, uint64_t at, int idx, uint64_t *next, int64_t *w_,
                     int64_t *h_, int *spp_) {
  static const uint32_t ids[T_N] = {256, 257, 258, 259, 277, 278, 273,
                                    279, 284, 322, 323, 324, 325};
  unsigned char b[20];
  int es = big ? 20 : 12;
  if (rd(f, (int64_t)at, b, big ? 8 : 2))
    return bad(f,
               "TIFF directory %d at byte %llu lies past the end of the file; the file is "
               "damaged",
               idx, (unsigned long long)at);
  uint64_t n = big ? u64(f, b) : u16(f, b);
  uint64_t tab = at + (big ? 8 : 2);
  if (n > 4096 || (int64_t)(tab + n * es + (big ? 8 : 4)) > f->size)
    return bad(f,
               "TIFF directory %d (%llu entries at byte %llu) runs past the end of the file; "
               "the file is damaged",
               idx, (unsigned long long)n, (unsigned long long)at);
  tag_t tg[T_N];
  memset(tg, 0, sizeof tg);
  int have[T_N] = {0};
  for (uint64_t i = 0; i < n; i++) {
    if (rd(f, (int64_t)(tab + i * es), b, (size_t)es)) return bad(f, "TIFF read failed");
    uint32_t id = u16(f, b), type = u16(f, b + 2);
    uint64_t count = big ? u64(f, b + 4) : u32(f, b + 4);
    int s = tsize(type);
    if (!s) continue; /* unknown types are skipped by readers */
    uint64_t off = big ? u64(f, b + 12) : u32(f, b + 8);
    int inl = count * (uint64_t)s <= (uint64_t)(big ? 8 : 4);
    if (!inl && (count > (uint64_t)f->size || (int64_t)off > f->size ||
                 (int64_t)(count * (uint64_t)s) > f->size - (int64_t)off))
      return bad(f,
                 "TIFF tag %u of directory %d points past the end of the file; the file is "
                 "damaged",
                 id, idx);
    for (int k = 0; k < T_N; k++)
      if (id == ids[k]) {
        tg[k] = (tag_t){type, count, off, inl, {0}, NULL};
        memcpy(tg[k].raw, b + (big ? 12 : 8), big ? 8 : 4);
        have[k] = 1;
      }
  }
  unsigned char nb[8];
  if (rd(f, (int64_t)(tab + n * es), nb, big ? 8 : 4)) return bad(f, "TIFF read failed");
  *next = big ? u64(f, nb) : u32(f, nb);

  uint64_t w = 0, h = 0, spp = 1, comp = 1, planar = 1, rps = 0, bits = 1, tw = 0, th = 0;
  if (!have[T_W] || !have[T_H] || tval(f, &tg[T_W], 0, &w) || tval(f, &tg[T_H], 0, &h))
    return bad(f, "TIFF directory %d has no image size; the file is damaged", idx);
  if (dims(f, (int64_t)w, (int64_t)h)) return -1;
  if (have[T_SPP] && tval(f, &tg[T_SPP], 0, &spp)) return -1;
  if (spp < 1 || spp > REEL_MAXCH)
    return bad(f, "TIFF directory %d has %llu samples per pixel (Reel reads 1 to %d)", idx,
               (unsigned long long)spp, REEL_MAXCH);
  if (have[T_COMP]) tval(f, &tg[T_COMP], 0, &comp);
  if (have[T_PLANAR]) tval(f, &tg[T_PLANAR], 0, &planar);
  if (have[T_BITS]) {
    for (uint64_t i = 0; i < tg[T_BITS].count && i < spp; i++) {
      uint64_t bi;
      if (tval(f, &tg[T_BITS], i, &bi)) return -1;
      if (bi < 1 || bi > 64)
        return bad(f, "TIFF directory %d has %llu bits per sample; the file is damaged", idx,
                   (unsigned long long)bi);
      if (bi > bits || !i) bits = bi;
    }
  }
  int tiled = have[T_TOFF] || have[T_TW];
  int ko = tiled ? T_TOFF : T_SOFF, kc = tiled ? T_TCNT : T_SCNT;
  uint64_t nchunk;
  if (tiled) {
    if (!have[T_TW] || !have[T_TH] || tval(f, &tg[T_TW], 0, &tw) || tval(f, &tg[T_TH], 0, &th) ||
        !tw || !th || tw > 65536 || th > 65536)
      return bad(f, "TIFF directory %d has a bad tile size; the file is damaged", idx);
    nchunk = (w + tw - 1) / tw * ((h + th - 1) / th);
  } else {
    if (have[T_RPS] && !tval(f, &tg[T_RPS], 0, &rps) && !rps)
      return bad(f,
                 "TIFF directory %d: attribute tiff:RowsPerStrip = 0 is invalid (must be at "
                 "least 1): the file's header is damaged",
                 idx);
    if (!rps || rps > h) rps = h;
    nchunk = (h + rps - 1) / rps;
  }
  if (planar == 2) nchunk *= spp;
  if (!have[ko])
    return bad(f, "TIFF directory %d has no %s offsets; the file is damaged", idx,
               tiled ? "tile" : "strip");
  if (tg[ko].count < nchunk || (have[kc] && tg[kc].count < tg[ko].count))
    return bad(f,
               "TIFF directory %d lists %llu %s for an image that needs %llu; the file is "
               "damaged",
               idx, (unsigned long long)tg[ko].count, tiled ? "tiles" : "strips",
               (unsigned long long)nchunk);
  uint64_t total = 0;
  int rc = 0;
  tload(f, &tg[ko]);
  if (have[kc]) tload(f, &tg[kc]);
  for (uint64_t i = 0; i < nchunk; i++) {
    uint64_t off, cnt = 0;
    if (tval(f, &tg[ko], i, &off) || (have[kc] && tval(f, &tg[kc], i, &cnt))) {
      rc = bad(f, "TIFF read failed");
      break;
    }
    if ((int64_t)off > f->size || (int64_t)cnt > f->size - (int64_t)off) {
      rc = bad(f,
               "%s %llu of TIFF directory %d (%llu bytes at byte %llu) lies past the end of "
               "the %lld-byte file; it is truncated or damaged",
               tiled ? "tile" : "strip", (unsigned long long)i, idx, (unsigned long long)cnt,
               (unsigned long long)off, (long long)f->size);
      break;
    }
    total += cnt;
  }
  free(tg[ko].mem);
  free(tg[kc].mem);
  if (rc) return rc;
  if (comp == 1 && !tiled && have[kc]) {
    uint64_t row = planar == 2 ? (w * bits + 7) / 8 * spp : (w * spp * bits + 7) / 8;
    if (total < row * h)
      return bad(f,
                 "its uncompressed TIFF strips hold %llu bytes, less than the %llu a %llux%llu "
                 "image needs; the file is truncated or damaged",
                 (unsigned long long)total, (unsigned long long)(row * h), (unsigned long long)w,
                 (unsigned long long)h);
  }
  *w_ = (int64_t)w;
  *h_ = (int64_t)h;
  *spp_ = (int)spp;
  return 0;
}

static int check_tiff(rd_t *f, int part, reel_io_hdr_t *hdr) {
  unsigned char h[16];
  f->be = 0;
  if (rd(f, 0, h, 8)) return bad(f, "too short for a TIFF header; the file is damaged");
  f->be = h[0] == 'M';
  int big = u16(f, h + 2) == 43;
  uint64_t at;
  if (big) {
    if (rd(f, 0, h, 16) || u16(f, h + 4) != 8)
      return bad(f, "bad BigTIFF header; the file is damaged");
    at = u64(f, h + 8);
  } else {
    at = u32(f, h + 4);
  }
  uint64_t seen[256];
  int n = 0;
  while (at) {
    for (int i = 0; i < n; i++)
      if (seen[i] == at) return bad(f, "its TIFF directories form a loop; the file is damaged");
    if (n == 256) return bad(f, "more than 256 TIFF directories; the file is probably damaged");
    seen[n] = at;
    int64_t w = 0, ht = 0;
    int spp = 0;
    if (check_ifd(f, big, at, n, &at, &w, &ht, &spp)) return -1;
    if (n == part) {
      hdr->w = (int)w;
      hdr->h = (int)ht;
      hdr->nch = spp;
    }
    n++;
  }
  if (!n) return bad(f, "it has no TIFF directory; the file is damaged");
  if (part < 0 || part >= n)
    return bad(f, "it has %d part%s; part %d does not exist", n, n > 1 ? "s" : "", part);
  hdr->nparts = n;
  return 0;
}

/* ---- PNG ---- */

static int check_png(rd_t *f, int part, reel_io_hdr_t *hdr) {
  unsigned char h[33];
  f->be = 1;
  if (rd(f, 0, h, sizeof h) || u32(f, h + 8) != 13 || memcmp(h + 12, "IHDR", 4))
    return bad(f, "its PNG header (IHDR) is missing or damaged");
  int64_t w = u32(f, h + 16), ht = u32(f, h + 20);
  unsigned depth = h[24], ct = h[25];
  static const char *const ok[7] = {
      "\x01\x02\x04\x08\x10", "", "\x08\x10", "\x01\x02\x04\x08", "\x08\x10", "", "\x08\x10"};
  if (ct > 6 || !ok[ct][0] || !depth || !strchr(ok[ct], (int)depth) || h[26] || h[27] || h[28] > 1)
    return bad(f,
               "its PNG header has an invalid combination (colour type %u, bit depth %u); the "
               "file is damaged",
               ct, depth);
  if (dims(f, w, ht)) return -1;
  static const int nfile[7] = {1, 0, 3, 1, 2, 0, 4};
  /* deflate expands at most 1032:1 */
  int64_t raw = ht * (1 + (w * nfile[ct] * depth + 7) / 8);
  if (raw / 1100 > f->size)
    return bad(f, "a %lld-byte PNG cannot hold %lldx%lld pixels; the file is damaged",
               (long long)f->size, (long long)w, (long long)ht);
  if (part) return bad(f, "it has 1 part; part %d does not exist", part);
  static const int nmax[7] = {2, 0, 4, 4, 2, 0, 4}; /* tRNS may add alpha */
  hdr->w = (int)w;
  hdr->h = (int)ht;
  hdr->nch = nmax[ct];
  hdr->nparts = 1;
  return 0;
}

/* ---- JPEG: segments, Exif directories, ICC profile ---- */

/* Exif (a TIFF structure inside an APP1 block): every directory's entry
 * table must lie inside the block. */
static int exif_ifd(rd_t *f, const unsigned char *t, size_t n, uint32_t off, int depth) {
  rd_t e = *f;
  e.be = t[0] == 'M';
  while (off) {
    if (depth > 8) return bad(f, "its Exif block nests too deep; the file is damaged");
    if ((size_t)off + 2 > n)
      return bad(f, "its Exif block points outside itself; the file is damaged");
    uint32_t cnt = u16(&e, t + off);
    if ((size_t)off + 2 + 12 * (size_t)cnt + 4 > n)
      return bad(f,
                 "its Exif block is damaged: a directory of %u entries at byte %u runs past "
                 "the %zu-byte block",
                 cnt, off, n);
    for (uint32_t i = 0; i < cnt; i++) {
      const unsigned char *en = t + off + 2 + 12 * i;
      uint32_t tag = u16(&e, en);
      if (tag == 0x8769 || tag == 0x8825 || tag == 0xa005)
        if (exif_ifd(f, t, n, u32(&e, en + 8), depth + 1)) return -1;
    }
    off = u32(&e, t + off + 2 + 12 * cnt);
    depth++;
  }
  return 0;
}

static int check_exif(rd_t *f, const unsigned char *t, size_t n) {
  rd_t e = *f;
  if (n < 8 || (memcmp(t, "II*\0", 4) && memcmp(t, "MM\0*", 4)))
    return bad(f, "its Exif block has a bad header; the file is damaged");
  e.be = t[0] == 'M';
  return exif_ifd(f, t, n, u32(&e, t + 4), 0);
}

/* The ICC profile as OpenImageIO decodes it: tag table and the text tags it
 * copies into metadata. */
static int check_icc(rd_t *f, const unsigned char *p, size_t n) {
  rd_t e = *f;
  e.be = 1;
  if (n < 132 || u32(&e, p) != n || memcmp(p + 36, "acsp", 4))
    return bad(f, "its embedded ICC profile is damaged (bad header or size)");
  uint32_t nt = u32(&e, p + 128);
  if (nt > (n - 132) / 12) return bad(f, "its embedded ICC profile has a damaged tag table");
  for (uint32_t i = 0; i < nt; i++) {
    const unsigned char *tg = p + 132 + 12 * i;
    uint32_t off = u32(&e, tg + 4), sz = u32(&e, tg + 8);
    char sig[5] = {(char)tg[0], (char)tg[1], (char)tg[2], (char)tg[3], 0};
    if (off > n || (sz < 4 ? 4 : sz) > n - off)
      return bad(f, "its embedded ICC profile is damaged: tag '%s' lies outside the profile", sig);
    const unsigned char *d = p + off;
    if ((!memcmp(d, "text", 4) && sz < 8) || (!memcmp(d, "desc", 4) && sz < 12))
      return bad(f, "its embedded ICC profile is damaged: text tag '%s' is %u bytes long", sig, sz);
    if (!memcmp(d, "mluc", 4)) {
      if (sz < 16) return bad(f, "its embedded ICC profile is damaged: tag '%s' is too short", sig);
      uint32_t nr = u32(&e, d + 8);
      if (u32(&e, d + 12) != 12 || nr > (sz - 16) / 12)
        return bad(f, "its embedded ICC profile is damaged: tag '%s' has a bad record table", sig);
      for (uint32_t r = 0; r < nr; r++) {
        uint32_t len = u32(&e, d + 16 + 12 * r + 4), so = u32(&e, d + 16 + 12 * r + 8);
        if (so > n - off || len > n - off - so)
          return bad(f,
                     "its embedded ICC profile is damaged: a string of tag '%s' lies outside "
                     "the profile",
                     sig);
      }
    }
  }
  return 0;
}

static int check_jpeg(rd_t *f, int part, reel_io_hdr_t *hdr) {
  int64_t at = 2;
  int sof = 0, rc = -1;
  unsigned char *icc = NULL;
  size_t icc_n = 0;
  f->be = 1;
  for (;;) {
    unsigned char m[4];
    if (rd(f, at, m, 2)) {
      bad(f, "it ends before its image data; the file is truncated or damaged");
      goto out;
    }
    if (m[0] != 0xff) {
      bad(f, "it has garbage instead of a marker at byte %lld; the file is damaged", (long long)at);
      goto out;
    }
    if (m[1] == 0xff) { /* fill byte */
      at++;
      continue;
    }
    if (m[1] == 0x01 || (m[1] >= 0xd0 && m[1] <= 0xd8)) {
      at += 2;
      continue;
    }
    if (m[1] == 0xd9) {
      bad(f, "it ends before its image data; the file is damaged");
      goto out;
    }
    if (rd(f, at + 2, m + 2, 2) || u16(f, m + 2) < 2) {
      bad(f, "a JPEG segment at byte %lld is damaged", (long long)at);
      goto out;
    }
    size_t len = u16(f, m + 2) - 2;
    unsigned char seg[65536];
    if (rd(f, at + 4, seg, len)) {
      bad(f,
          "a JPEG segment at byte %lld runs past the end of the file; it is truncated or "
          "damaged",
          (long long)at);
      goto out;
    }
    unsigned mk = m[1];
    if (mk == 0xda) break;
    if (mk >= 0xc0 && mk <= 0xcf && mk != 0xc4 && mk != 0xc8 && mk != 0xcc) {
      if (len < 6 || len < 6 + 3 * (size_t)seg[5] || seg[5] < 1 || seg[5] > 4) {
        bad(f, "its JPEG frame header is damaged");
        goto out;
      }
      if (seg[0] != 8 && seg[0] != 12) {
        bad(f, "its JPEG frame header declares %u-bit samples; the file is damaged", seg[0]);
        goto out;
      }
      if (dims(f, u16(f, seg + 3), u16(f, seg + 1))) goto out;
      hdr->w = (int)u16(f, seg + 3);
      hdr->h = (int)u16(f, seg + 1);
      hdr->nch = seg[5] == 4 ? 4 : seg[5] == 1 ? 1 : 3;
      sof = 1;
    } else if (mk == 0xe1 && len >= 6 && !memcmp(seg, "Exif\0", 5)) {
      if (check_exif(f, seg + 6, len - 6)) goto out;
    } else if (mk == 0xe2 && len >= 14 && !memcmp(seg, "ICC_PROFILE\0", 12)) {
      /* chunks are concatenated in file order, as OpenImageIO does */
      unsigned char *p = realloc(icc, icc_n + len - 14);
      if (!p) {
        reel_error(REEL_EIO, "out of memory");
        goto out;
      }
      icc = p;
      memcpy(icc + icc_n, seg + 14, len - 14);
      icc_n += len - 14;
    }
    at += 2 + 2 + (int64_t)len;
  }
  if (!sof) {
    bad(f, "its image data starts before any JPEG frame header; the file is damaged");
    goto out;
  }
  if (icc_n && check_icc(f, icc, icc_n)) goto out;
  if (part) {
    bad(f, "it has 1 part; part %d does not exist", part);
    goto out;
  }
  hdr->nparts = 1;
  rc = 0;
out:
  free(icc);
  return rc;
}

int reel_io_check(const char *path, int part, reel_io_hdr_t *hdr) {
  rd_t f = {path, -1, 0, 0};
  unsigned char magic[8] = {0};
  struct stat st;
  int rc = -1;
  memset(hdr, 0, sizeof *hdr);
  f.fd = open(path, O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) {
    reel_error(errno == ENOENT || errno == EACCES ? REEL_EUSER : REEL_EIO, "cannot open '%s': %s",
               path, strerror(errno));
    return -1;
  }
  if (fstat(f.fd, &st) || !S_ISREG(st.st_mode)) {
    reel_error(REEL_EUSER, "'%s' is not a regular file", path);
    goto out;
  }
  f.size = st.st_size;
  size_t n = f.size < 8 ? (size_t)f.size : 8;
  if (rd(&f, 0, magic, n)) {
    reel_error(REEL_EIO, "cannot read '%s'", path);
    goto out;
  }
  hdr->fmt = reel_io_sniff(magic, n);
  switch (hdr->fmt) {
  case REEL_FMT_EXR: rc = 0; break; /* io_exr.c checks through OpenEXRCore */
  case REEL_FMT_DPX: rc = check_dpx(&f, part, hdr); break;
  case REEL_FMT_CINEON: rc = check_cineon(&f, part, hdr); break;
  case REEL_FMT_TIFF: rc = check_tiff(&f, part, hdr); break;
  case REEL_FMT_PNG: rc = check_png(&f, part, hdr); break;
  case REEL_FMT_JPEG: rc = check_jpeg(&f, part, hdr); break;
  default:
    reel_error(REEL_EUSER,
               "'%s' is not an image file Reel reads (OpenEXR, DPX, Cineon, TIFF, PNG, JPEG): "
               "its first bytes match none of them",
               path);
  }
out:
  close(f.fd);
  return rc;
}
