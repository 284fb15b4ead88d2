/* Image file I/O: malformed files from OpenImageIO's test suite give clean
 * errors in this very process; conformance images read with the right
 * windows, channels and values (EXR: OpenEXRCore path against OpenImageIO's
 * reading, bit for bit; DPX/Cineon: against a 10-bit decoder written here);
 * photos round-trip through every written format; writes are atomic.
 * Conformance files: $REEL_CONFORMANCE or ../shared/conformance. */
#define _GNU_SOURCE
#include "imageio.h"
#include "io_impl.h"
#include "pool.h"
#include "reel.h"
#include "test.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *conf; /* conformance dir, NULL: skip those tests */
static char tmpdir[64];  /* scratch, removed at the end */
static const char *photos[] = {"/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
                               "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"};

static const char *cpath(const char *sub, const char *name) {
  static __thread char b[4][1024];
  static __thread int i;
  i = (i + 1) % 4;
  snprintf(b[i], sizeof b[i], "%s/%s/%s", conf, sub, name);
  return b[i];
}

static int exists(const char *p) {
  struct stat st;
  return !stat(p, &st);
}

static size_t plane(const reel_hostimg_t *h) {
  return (size_t)reel_box_w(h->data) * reel_box_h(h->data);
}

static int box_eq(reel_box_t a, int x0, int y0, int x1, int y1) {
  return a.x0 == x0 && a.y0 == y0 && a.x1 == x1 && a.y1 == y1;
}

/* Reads that must fail: -1, a message naming the file, and we are alive;
 * the probe (header only) fails too unless header_ok. */
static void expect_fail_read(const char *path, int part, const char *why, int header_ok) {
  reel_io_info_t info = {0};
  reel_hostimg_t h = {0};
  reel_io_read_opts_t o = {part, NULL, NULL, 0};
  const char *base = strrchr(path, '/') + 1;
  reel_error_clear();
  int rp = reel_io_probe(path, part, &info);
  char pmsg[2048];
  snprintf(pmsg, sizeof pmsg, "%s", reel_error_get());
  reel_error_clear();
  int rr = reel_io_read(path, &o, &h);
  const char *rmsg = reel_error_get();
  fprintf(stderr, "    %-40s part %d: %s\n", base, part, rmsg);
  CHECK(rr == -1 && (header_ok ? rp == 0 : rp == -1));
  CHECK(header_ok || strstr(pmsg, base) != NULL);
  CHECK(strstr(rmsg, base) != NULL);
  CHECK(!why || strstr(rmsg, why) != NULL);
  CHECK(h.px == NULL);
  if (!header_ok) CHECK(info.chnames == NULL);
  reel_io_info_clear(&info);
  reel_error_clear();
}

static void expect_fail(const char *path, int part, const char *why) {
  expect_fail_read(path, part, why, 0);
}

/* Both EXR paths give the same bits (NaN and Inf included). */
static void exr_paths_agree(const char *path, const reel_io_read_opts_t *o, int nch) {
  reel_hostimg_t a = {0}, b = {0};
  int ra = reel_exr_read(path, o, &a, NULL), rb = reel_exr_read_oiio(path, o, &b);
  if (ra || rb) fprintf(stderr, "    %s\n", reel_error_get());
  CHECK(ra == 0 && rb == 0);
  if (!ra && !rb) {
    CHECK(a.nch == nch && b.nch == nch);
    CHECK(!memcmp(&a.data, &b.data, sizeof a.data) &&
          !memcmp(&a.display, &b.display, sizeof a.display));
    for (int c = 0; c < a.nch; c++) CHECK(!strcmp(a.ch[c], b.ch[c]));
    CHECK(!memcmp(a.px, b.px, plane(&a) * a.nch * sizeof(float)));
  }
  reel_hostimg_clear(&a);
  reel_hostimg_clear(&b);
  reel_error_clear();
}

static double psnr_of(const reel_hostimg_t *a, const reel_hostimg_t *b);
static int read_ok(const char *path);
static void make(reel_hostimg_t *h, int nch, reel_box_t data, reel_box_t display);

/* ---- an independent 10-bit decoder: DPX filled method A and Cineon's
 * equivalent packing, three samples per 32-bit word at bits 22, 12, 2 ---- */

static int decode10(const char *path, uint32_t off, int be, int w, int h, int nc, float *out) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t words = ((size_t)w * nc + 2) / 3, n = words * 4 * h;
  unsigned char *buf = malloc(n);
  int ok = buf && !fseek(f, off, SEEK_SET) && fread(buf, 1, n, f) == n;
  fclose(f);
  for (int y = 0; ok && y < h; y++)
    for (int k = 0; k < w * nc; k++) {
      const unsigned char *p = buf + ((size_t)y * words + k / 3) * 4;
      uint32_t v = be ? (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]
                      : (uint32_t)p[3] << 24 | p[2] << 16 | p[1] << 8 | p[0];
      uint32_t code = v >> (22 - 10 * (k % 3)) & 1023;
      out[(size_t)(k % nc) * w * h + (size_t)y * w + k / nc] = (float)code / 1023.0f;
    }
  free(buf);
  return ok ? 0 : -1;
}

static void check10(const char *path, int part, uint32_t off, int be, int w, int h, int nc) {
  reel_hostimg_t img = {0};
  reel_io_read_opts_t o = {part, NULL, NULL, 0};
  float *ref = malloc(sizeof(float) * w * h * nc);
  CHECK(ref && !decode10(path, off, be, w, h, nc, ref));
  int r = reel_io_read(path, &o, &img);
  if (r) fprintf(stderr, "    %s\n", reel_error_get());
  CHECK(r == 0);
  if (!r) {
    CHECK(img.nch == nc && box_eq(img.data, 0, 0, w, h) && box_eq(img.display, 0, 0, w, h));
    double md = 0;
    for (size_t i = 0; i < (size_t)w * h * nc; i++) md = fmax(md, fabs(img.px[i] - ref[i]));
    CHECK_NEAR(md, 0, 1e-6);
    CHECK(!strcmp(img.ch[0], "R"));
  }
  reel_hostimg_clear(&img);
  free(ref);
  reel_error_clear();
}

/* ---- tests ---- */

/* Every half value converts exactly (the F16C path or the table). */
static void test_half(void) {
  static uint16_t h[65536];
  static float f[65536];
  for (int i = 0; i < 65536; i++) h[i] = (uint16_t)i;
  reel_io_half_to_float(h, f, 65536);
  int bad = 0;
  for (int i = 0; i < 65536; i++) {
    int e = i >> 10 & 31, m = i & 1023;
    float want = e == 31 ? (m ? NAN : INFINITY)
                 : e     ? ldexpf(1 + m / 1024.f, e - 15)
                         : ldexpf(m / 1024.f, -14);
    if (i & 0x8000) want = -want;
    if (isnan(want) ? !isnan(f[i]) : f[i] != want || signbit(f[i]) != signbit(want)) bad++;
  }
  CHECK(bad == 0);
}

static void test_bad_images(void) {
  static const struct {
    const char *name, *why;
  } bad[] = {
      {"bomb-46341.cin", "megapixel limit"},
      {"bomb-46341.dpx", "megapixel limit"},
      {"bomb-65500x65500.jpg", "megapixel limit"},
      {"bomb.exr", "megapixel limit"},
      {"bomb.png", "megapixel limit"},
      {"broken_bitdepth.cin", "damaged"},
      {"broken_bitdepth2.cin", "bit depth of 26"},
      {"corrupt-exif.jpg", "Exif"},
      {"corrupt-icc-4552.jpg", "ICC profile"},
      {"corrupt1.tif", "past the end"},
      {"crash-1709.tif", "past the end"},
      {"crash-badusersize.dpx", "user data"},
      {"crash-rawstrip-offset-past-eof.tif", "past the end"},
      /* an attribute with an invalid value (it crashed OpenImageIO's TIFF code) */
      {"rowsperstrip-zero.exr", "attribute tiff:RowsPerStrip = 0 is invalid (must be at least 1)"},
      /* element 1 cannot be decoded correctly: the whole file is refused */
      {"crash-1chan-10bit-filled-methodA.dpx", "element 1 is single-channel 10-bit data"},
  };
  if (!conf) return;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    expect_fail(cpath("bad-images", bad[i].name), 0, bad[i].why);
  const char *c1 = cpath("bad-images", "crash-1chan-10bit-filled-methodA.dpx");
  expect_fail(c1, 1, "element 1 is single-channel");
  expect_fail(c1, 2, "does not exist");
  /* a sound header with pixels that are not finite numbers */
  expect_fail_read(cpath("bad-images", "bad.exr"), 0,
                   "has 2 samples that are not finite numbers (1 NaN and 1 infinite in R)", 1);
  /* every file of the corpus: -1, a message naming it, this process alive */
  DIR *d = opendir(cpath("bad-images", ""));
  struct dirent *e;
  int n = 0, clear = 0;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    reel_hostimg_t h = {0};
    reel_io_read_opts_t o = {0, NULL, NULL, 0};
    n++;
    clear += reel_io_read(cpath("bad-images", e->d_name), &o, &h) == -1 &&
             strstr(reel_error_get(), e->d_name) && !h.px;
    reel_error_clear();
  }
  if (d) closedir(d);
  fprintf(stderr, "    %d of %d malformed images give a clear error\n", clear, n);
  CHECK(n == 16 && clear == 16);
  /* not an image at all */
  char junk[128];
  snprintf(junk, sizeof junk, "%s/junk.exr", tmpdir);
  FILE *f = fopen(junk, "w");
  fputs("hello", f);
  fclose(f);
  expect_fail(junk, 0, "not an image file");
  expect_fail("/nonexistent/x.dpx", 0, "cannot open");
}

/* Policy for NaN and Inf: counted per channel on the way in (both EXR
 * paths), refused by default, zeroed or kept on request. */
static void test_nonfinite(void) {
  if (!conf) return;
  const char *p = cpath("bad-images", "bad.exr");
  reel_io_read_opts_t o = {0, NULL, NULL, REEL_IO_NONFINITE_KEEP};
  exr_paths_agree(p, &o, 3); /* the file itself reads the same either way */
  reel_hostimg_t keep = {0}, zero = {0}, h = {0};
  CHECK(!reel_io_read(p, &o, &keep));
  o.nonfinite = REEL_IO_NONFINITE_ZERO;
  CHECK(!reel_io_read(p, &o, &zero));
  size_t nan = 0, inf = 0, changed = 0, left = 0;
  for (size_t i = 0; keep.px && zero.px && i < plane(&keep) * keep.nch; i++) {
    nan += isnan(keep.px[i]) != 0;
    inf += isinf(keep.px[i]) != 0;
    left += !isfinite(zero.px[i]);
    changed += isfinite(keep.px[i]) ? keep.px[i] != zero.px[i] : zero.px[i] != 0;
  }
  fprintf(stderr, "    bad.exr: %zu NaN, %zu Inf\n", nan, inf);
  CHECK(nan + inf > 0 && left == 0 && changed == 0);
  /* the error counts them as keep sees them */
  o.nonfinite = REEL_IO_NONFINITE_ERROR;
  CHECK(reel_io_read(p, &o, &h) == -1 && !h.px);
  char want[64];
  snprintf(want, sizeof want, "has %zu samples", nan + inf);
  CHECK(strstr(reel_error_get(), want) && strstr(reel_error_get(), "nonfinite = \"zero\""));
  reel_error_clear();
  reel_hostimg_clear(&keep);
  reel_hostimg_clear(&zero);
  /* finite files of every kind pass the default (integer formats unchecked) */
  CHECK(read_ok(cpath("images", "Tree.exr")) && read_ok(cpath("images", "checker.cin")));
  /* a float TIFF (decoded in the helper) and a DWAB EXR (through OpenImageIO)
   * are checked after the read; DWA keeps alpha lossless, so NaN and Inf
   * survive there */
  reel_hostimg_t t;
  make(&t, 4, (reel_box_t){0, 0, 64, 64}, (reel_box_t){0, 0, 64, 64});
  t.px[3 * 4096 + 100] = NAN;
  t.px[3 * 4096 + 107] = -INFINITY;
  static const struct {
    const char *ext, *pt, *comp;
  } k[] = {{"tif", "float", NULL}, {"exr", "half", "dwab"}, {"exr", "float", "piz"}};
  for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
    char out[256];
    snprintf(out, sizeof out, "%s/nonfinite_%zu.%s", tmpdir, i, k[i].ext);
    reel_io_write_opts_t wo = {NULL, k[i].pt, k[i].comp, 0};
    CHECK(!reel_io_write(out, &wo, &t));
    expect_fail_read(out, 0,
                     "has 2 samples that are not finite numbers (1 NaN and 1 infinite in A)", 1);
  }
  reel_hostimg_clear(&t);
}

/* ---- DPX elements Reel refuses, against the reference decoder ---- */

/* A little-endian DPX with one 10-bit element, filled method A, random
 * codes; nc 1 is luminance, 3 RGB, 4 RGBA. */
static void write_dpx10(const char *path, int w, int h, int nc) {
  size_t words = ((size_t)w * nc + 2) / 3, n = words * 4 * h;
  unsigned char *b = calloc(1, 2048 + n);
  uint32_t r = 99u + (uint32_t)w * 31u + (uint32_t)nc;
#define PUT32(o, v)                                                                                \
  do {                                                                                             \
    uint32_t v_ = (v);                                                                             \
    memcpy(b + (o), &v_, 4);                                                                       \
  } while (0)
  memcpy(b, "XPDS", 4);
  PUT32(4, 2048);
  memcpy(b + 8, "V2.0", 4);
  PUT32(16, (uint32_t)(2048 + n));
  PUT32(24, 1664);
  b[770] = 1; /* one element */
  PUT32(772, (uint32_t)w);
  PUT32(776, (uint32_t)h);
  b[800] = nc == 1 ? 6 : nc == 3 ? 50 : 51;
  b[801] = b[802] = 2;
  b[803] = 10;
  b[804] = 1; /* filled, method A */
  PUT32(808, 2048);
  for (size_t i = 0; i < words * h; i++) {
    uint32_t v = 0;
    for (int k = 0; k < 3; k++) {
      r = r * 1103515245u + 12345u;
      v |= (r >> 12 & 1023) << (22 - 10 * k);
    }
    PUT32(2048 + 4 * i, v);
  }
#undef PUT32
  FILE *f = fopen(path, "wb");
  fwrite(b, 1, 2048 + n, f);
  fclose(f);
  free(b);
}

/* Samples where OpenImageIO's decoding (in the helper, the header checks
 * bypassed) differs from the reference decoder; -1 if it could not read. */
static long oiio_vs_ref(const char *path, int part, uint32_t off, int w, int h, int nc) {
  reel_io_hdr_t hdr = {REEL_FMT_DPX, w, h, nc, part + 1};
  reel_io_read_opts_t o = {part, NULL, NULL, 0};
  reel_hostimg_t img = {0};
  float *ref = malloc(sizeof(float) * w * h * nc);
  long bad = -1;
  if (!decode10(path, off, 0, w, h, nc, ref) && !reel_sandbox_read(path, &hdr, &o, &img) &&
      img.nch == nc) {
    bad = 0;
    for (size_t i = 0; i < (size_t)w * h * nc; i++) bad += fabsf(img.px[i] - ref[i]) > 1e-6f;
  }
  reel_error_clear();
  reel_hostimg_clear(&img);
  free(ref);
  return bad;
}

static void test_dpx_elements(void) {
  static const struct {
    int nc, w;
    const char *refused; /* NULL: read, and equal to the reference */
  } k[] = {{3, 80, NULL},
           {3, 79, NULL},
           {4, 78, NULL},
           {4, 80, NULL},
           {4, 79, "a sample alone in its 32-bit word"},
           {4, 82, "a sample alone in its 32-bit word"},
           {1, 78, "single-channel 10-bit data in filled packing (method A)"},
           {1, 80, "single-channel 10-bit data in filled packing (method A)"}};
  for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
    char p[256];
    snprintf(p, sizeof p, "%s/el_%d_%d.dpx", tmpdir, k[i].nc, k[i].w);
    write_dpx10(p, k[i].w, 6, k[i].nc);
    long diff = oiio_vs_ref(p, 0, 2048, k[i].w, 6, k[i].nc);
    fprintf(stderr,
            "    %d channels, %d wide: OpenImageIO differs from the reference in %ld samples\n",
            k[i].nc, k[i].w, diff);
    if (k[i].refused) {
      CHECK(diff > 0); /* the reason for refusing holds */
      expect_fail(p, 0, k[i].refused);
    } else {
      CHECK(diff == 0);
      check10(p, 0, 2048, 0, k[i].w, 6, k[i].nc);
    }
  }
  if (!conf) return;
  /* the corpus file: element 0 (RGB) decodes right, element 1 (one channel,
   * 80 wide) does not, so neither is handed over */
  char c1[1024];
  snprintf(c1, sizeof c1, "%s", cpath("bad-images", "crash-1chan-10bit-filled-methodA.dpx"));
  CHECK(oiio_vs_ref(c1, 0, 2048, 80, 60, 3) == 0);
  CHECK(oiio_vs_ref(c1, 1, 21248, 80, 60, 1) > 0);
}

/* ---- attributes with invalid values ---- */

/* Copies the EXR src to dst with attribute name's value replaced by n bytes. */
static int patch_exr(const char *src, const char *dst, const char *name, const void *val,
                     size_t n) {
  FILE *f = fopen(src, "rb");
  static unsigned char b[1 << 20];
  size_t len = f ? fread(b, 1, sizeof b, f) : 0;
  if (f) fclose(f);
  for (size_t i = 8; i < len && b[i];) {
    size_t nl = strlen((char *)b + i), tl = strlen((char *)b + i + nl + 1);
    size_t at = i + nl + 1 + tl + 1;
    int32_t sz;
    memcpy(&sz, b + at, 4);
    if (!strcmp((char *)b + i, name) && n <= (size_t)sz) {
      memcpy(b + at + 4, val, n);
      f = fopen(dst, "wb");
      fwrite(b, 1, len, f);
      fclose(f);
      return 0;
    }
    i = at + 4 + (size_t)sz;
  }
  return -1;
}

/* Copies the little-endian TIFF src to dst with tag's inline value set. */
static int patch_tiff(const char *src, const char *dst, int tag, uint32_t v) {
  FILE *f = fopen(src, "rb");
  static unsigned char b[1 << 22];
  size_t len = f ? fread(b, 1, sizeof b, f) : 0;
  if (f) fclose(f);
  if (len < 8 || memcmp(b, "II*\0", 4)) return -1;
  uint32_t ifd;
  uint16_t cnt;
  memcpy(&ifd, b + 4, 4);
  memcpy(&cnt, b + ifd, 2);
  for (int i = 0; i < cnt; i++) {
    unsigned char *e = b + ifd + 2 + 12 * i;
    uint16_t t, type;
    memcpy(&t, e, 2);
    memcpy(&type, e + 2, 2);
    if (t != tag) continue;
    if (type == 3) {
      uint16_t s16 = (uint16_t)v;
      memcpy(e + 8, &s16, 2);
    } else {
      memcpy(e + 8, &v, 4);
    }
    f = fopen(dst, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
    return 0;
  }
  return -1;
}

static void test_bad_attributes(void) {
  reel_hostimg_t h;
  make(&h, 3, (reel_box_t){0, 0, 32, 16}, (reel_box_t){0, 0, 32, 16});
  reel_meta_set(&h.meta, "FramesPerSecond", "24/1");
  reel_meta_set(&h.meta, "chromaticities", "0.64, 0.33, 0.3, 0.6, 0.15, 0.06, 0.3127, 0.329");
  reel_meta_set(&h.meta, "tiff:RowsPerStrip", "16"); /* a layout key: never written */
  char src[256], dst[256];
  snprintf(src, sizeof src, "%s/attr.exr", tmpdir);
  snprintf(dst, sizeof dst, "%s/attr_bad.exr", tmpdir);
  reel_io_write_opts_t wo = {NULL, NULL, "zip", 0};
  CHECK(!reel_io_write(src, &wo, &h));
  CHECK(read_ok(src));
  float par = 1000.f, nan = NAN, zero = 0.f;
  int32_t fps[2] = {24, 0}, win[4] = {0, 0, -5, 15};
  CHECK(!patch_exr(src, dst, "pixelAspectRatio", &par, 4));
  expect_fail(dst, 0,
              "attribute pixelAspectRatio = 1000 is invalid (must be between 0.01 and 100)");
  CHECK(!patch_exr(src, dst, "pixelAspectRatio", &zero, 4));
  expect_fail(dst, 0, "pixel aspect ratio 0"); /* OpenEXRCore's own check */
  CHECK(!patch_exr(src, dst, "framesPerSecond", fps, 8));
  expect_fail(dst, 0, "attribute framesPerSecond = 24/0 is invalid");
  CHECK(!patch_exr(src, dst, "chromaticities", &nan, 4));
  expect_fail(dst, 0, "attribute chromaticities = {..., nan, ...} is invalid");
  CHECK(!patch_exr(src, dst, "displayWindow", win, 16));
  expect_fail(dst, 0, "display window");
  /* a TIFF whose RowsPerStrip tag is 0 */
  snprintf(src, sizeof src, "%s/attr.tif", tmpdir);
  snprintf(dst, sizeof dst, "%s/attr_bad.tif", tmpdir);
  wo = (reel_io_write_opts_t){NULL, "uint16", "none", 0};
  CHECK(!reel_io_write(src, &wo, &h) && read_ok(src));
  CHECK(!patch_tiff(src, dst, 278, 0));
  expect_fail(dst, 0, "attribute tiff:RowsPerStrip = 0 is invalid (must be at least 1)");
  reel_hostimg_clear(&h);
}

static void test_exr_singlepart(void) {
  if (!conf) return;
  const char *p = cpath("images", "singlepart.0001.exr");
  reel_io_info_t info = {0};
  CHECK(!reel_io_probe(p, 0, &info));
  /* oiiotool --info -v: 911 x 876, origin 654,245, full 2048 x 1556 */
  fprintf(stderr, "    data (%d,%d)-(%d,%d) display (%d,%d)-(%d,%d), %d channels\n", info.data.x0,
          info.data.y0, info.data.x1, info.data.y1, info.display.x0, info.display.y0,
          info.display.x1, info.display.y1, info.nch);
  CHECK(box_eq(info.data, 654, 245, 654 + 911, 245 + 876));
  CHECK(box_eq(info.display, 0, 0, 2048, 1556));
  CHECK(info.nch == 20 && !strcmp(info.chnames[0], "R") && !strcmp(info.chnames[3], "A"));
  CHECK(!strcmp(info.format, "openexr") && !strcmp(info.pixeltype, "half"));
  CHECK(reel_meta_get(&info.meta, "compression") &&
        !strcmp(reel_meta_get(&info.meta, "compression"), "zips"));
  reel_io_info_clear(&info);

  reel_hostimg_t h = {0};
  reel_io_read_opts_t all = {0, NULL, NULL, 0};
  CHECK(reel_io_read(p, &all, &h) == -1);
  CHECK(strstr(reel_error_get(), "20 channels") && strstr(reel_error_get(), "layer"));
  reel_error_clear();

  reel_io_read_opts_t left = {0, "left", NULL, 0};
  CHECK(!reel_io_read(p, &left, &h));
  CHECK(h.nch == 5 && !strcmp(h.ch[0], "R") && !strcmp(h.ch[1], "G") && !strcmp(h.ch[2], "B") &&
        !strcmp(h.ch[3], "A") && !strcmp(h.ch[4], "Z"));
  CHECK(box_eq(h.data, 654, 245, 1565, 1121));
  reel_hostimg_clear(&h);
  exr_paths_agree(p, &left, 5);
  reel_io_read_opts_t some = {0, NULL, "Z,forward.left.u,G", 0};
  exr_paths_agree(p, &some, 3);
  reel_io_read_opts_t nolayer = {0, "nosuch", NULL, 0};
  CHECK(reel_io_read(p, &nolayer, &h) == -1 && strstr(reel_error_get(), "nosuch"));
  reel_error_clear();
}

static void test_exr_tree(void) {
  if (!conf) return;
  const char *p = cpath("images", "Tree.exr");
  reel_hostimg_t h = {0};
  reel_io_read_opts_t o = {0, NULL, NULL, 0};
  CHECK(!reel_io_read(p, &o, &h));
  CHECK(h.nch == 4 && !strcmp(h.ch[0], "R") && !strcmp(h.ch[3], "A"));
  CHECK(box_eq(h.data, 0, 0, 928, 906) && box_eq(h.display, 0, 0, 928, 906));
  CHECK(reel_meta_get(&h.meta, "reel:format") &&
        !strcmp(reel_meta_get(&h.meta, "reel:pixeltype"), "half"));
  reel_hostimg_clear(&h);
  exr_paths_agree(p, &o, 4);
  reel_io_read_opts_t rg = {0, NULL, "G,R", 0};
  CHECK(!reel_io_read(p, &rg, &h) && h.nch == 2 && !strcmp(h.ch[0], "G"));
  reel_hostimg_clear(&h);
}

static void test_dpx_cineon(void) {
  if (!conf) return;
  check10(cpath("images", "dpx_nuke_10bits_rgb.dpx"), 0, 2048, 1, 512, 512, 3);
  check10(cpath("images", "dpx_nuke_16bits_rgba.dpx"), 0, 2048, 1, 512, 512, 4);
  check10(cpath("images", "checker.cin"), 0, 32768, 1, 160, 90, 3);
  reel_io_info_t info = {0};
  CHECK(!reel_io_probe(cpath("images", "checker.cin"), 0, &info));
  CHECK(!strcmp(info.format, "cineon") && !strcmp(info.pixeltype, "uint10") && info.nch == 3);
  reel_io_info_clear(&info);
  /* the format comes from the bytes, not the name */
  char fake[128], cmd[1200];
  snprintf(fake, sizeof fake, "%s/really_a_dpx.exr", tmpdir);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", cpath("images", "dpx_nuke_10bits_rgb.dpx"), fake);
  CHECK(!system(cmd));
  check10(fake, 0, 2048, 1, 512, 512, 3);
  /* and against OpenImageIO's own reading (oiiotool -d float, read back by
   * the EXR path): its floats are 16-bit words over 65535 with the 10-bit
   * code bit-replicated, up to 1.4e-5 from code/1023, so codes are compared */
  static const char *const files[] = {"dpx_nuke_10bits_rgb.dpx", "dpx_nuke_16bits_rgba.dpx",
                                      "checker.cin"};
  if (system("command -v oiiotool >/dev/null 2>&1")) return;
  for (int i = 0; i < 3; i++) {
    char exr[128];
    snprintf(exr, sizeof exr, "%s/oiio_%d.exr", tmpdir, i);
    snprintf(cmd, sizeof cmd, "oiiotool '%s' -d float -o '%s'", cpath("images", files[i]), exr);
    CHECK(!system(cmd));
    reel_hostimg_t a = {0}, b = {0};
    reel_io_read_opts_t o = {0, NULL, NULL, 0};
    CHECK(!reel_io_read(cpath("images", files[i]), &o, &a) && !reel_io_read(exr, &o, &b));
    int bad = !a.px || !b.px || a.nch != b.nch;
    for (size_t k = 0; !bad && k < plane(&a) * a.nch; k++) {
      long code = lrintf(b.px[k] * 65535) >> 6;
      bad += code != lrintf(a.px[k] * 1023) || fabsf(a.px[k] - (float)code / 1023.f) > 1e-6f;
    }
    CHECK(bad == 0);
    reel_hostimg_clear(&a);
    reel_hostimg_clear(&b);
  }
}

/* Every compression and layout OpenEXRCore decodes here, written by
 * oiiotool from Tree.exr, read identically by both EXR paths. */
static void test_exr_variants(void) {
  if (!conf) return;
  if (system("command -v oiiotool >/dev/null 2>&1")) {
    printf("skip EXR variants: oiiotool not found\n");
    return;
  }
  static const char *const comps[] = {"none", "rle", "zips", "zip", "piz", "pxr24", "b44", "b44a"};
  const char *tree = cpath("images", "Tree.exr");
  char out[256], cmd[1024];
  reel_io_read_opts_t o = {0, NULL, NULL, 0};
  for (int tiled = 0; tiled < 2; tiled++)
    for (size_t i = 0; i < sizeof comps / sizeof *comps; i++) {
      snprintf(out, sizeof out, "%s/tree_%s_%s.exr", tmpdir, comps[i], tiled ? "tiled" : "scan");
      snprintf(cmd, sizeof cmd,
               "oiiotool '%s' --ch R,G,B,A,Z=0.25 -d half -d Z=float %s "
               "--compression %s -o '%s'",
               tree, tiled ? "--tile 64 48" : "", comps[i], out);
      CHECK(!system(cmd));
      exr_paths_agree(out, &o, 5);
    }
  /* DWAB through the fallback */
  reel_hostimg_t a = {0}, b = {0};
  snprintf(out, sizeof out, "%s/tree_dwab.exr", tmpdir);
  snprintf(cmd, sizeof cmd, "oiiotool '%s' --compression dwab -o '%s'", tree, out);
  CHECK(!system(cmd));
  CHECK(!reel_io_read(out, &o, &b) && !reel_io_read(tree, &o, &a));
  if (a.px && b.px) CHECK(a.nch == 4 && b.nch == 4 && psnr_of(&a, &b) > 35);
  reel_hostimg_clear(&a);
  reel_hostimg_clear(&b);
  /* a UINT channel keeps its integer value (an object ID, not a level);
   * oiiotool stores the float 7 as the normalised maximum, 2^32 - 1 */
  snprintf(out, sizeof out, "%s/tree_id.exr", tmpdir);
  snprintf(cmd, sizeof cmd, "oiiotool '%s' --ch R,G,B,A,ID=7 -d half -d ID=uint -o '%s'", tree,
           out);
  CHECK(!system(cmd));
  reel_io_read_opts_t id = {0, NULL, "ID", 0};
  CHECK(!reel_io_read(out, &id, &a) && a.nch == 1 && a.px[0] == 4294967295.f &&
        a.px[plane(&a) - 1] == 4294967295.f);
  reel_hostimg_clear(&a);
  /* two parts: part 1 is Tree itself */
  snprintf(out, sizeof out, "%s/tree_parts.exr", tmpdir);
  snprintf(cmd, sizeof cmd, "oiiotool '%s' --ch R,G,B '%s' --siappend -o '%s'", tree, tree, out);
  CHECK(!system(cmd));
  reel_io_info_t info = {0};
  CHECK(!reel_io_probe(out, 1, &info) && info.nparts == 2 && info.nch == 4);
  reel_io_info_clear(&info);
  reel_io_read_opts_t p1 = {1, NULL, NULL, 0};
  CHECK(!reel_io_read(out, &p1, &a) && !reel_io_read(tree, &o, &b));
  CHECK(a.nch == 4 && b.nch == 4 && !memcmp(a.px, b.px, plane(&a) * 4 * sizeof(float)));
  reel_hostimg_clear(&a);
  reel_hostimg_clear(&b);
  expect_fail(out, 2, "does not exist");
}

/* The out-of-process decoder alone, without the header checks in front of
 * it: OpenImageIO's abort, segfault and huge allocation become errors, in
 * the helper (which is replaced after a crash) and in the forked fallback. */
static void sandbox_bad(const char *mode) {
  static const struct {
    const char *name;
    reel_fmt_t fmt;
    const char *why;
  } f[] = {{"broken_bitdepth2.cin", REEL_FMT_CINEON, "signal 6"},
           {"corrupt-icc-4552.jpg", REEL_FMT_JPEG, "signal 11"},
           {"crash-badusersize.dpx", REEL_FMT_DPX, "bad_alloc"},
           {"bomb.png", REEL_FMT_PNG, "more than its header promised"}};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
    reel_io_hdr_t hdr = {f[i].fmt, 512, 512, 4, 1};
    reel_hostimg_t h = {0};
    reel_io_read_opts_t o = {0, NULL, NULL, 0};
    int r = reel_sandbox_read(cpath("bad-images", f[i].name), &hdr, &o, &h);
    fprintf(stderr, "    %s: %s\n", mode, reel_error_get());
    CHECK(r == -1 && strstr(reel_error_get(), f[i].name) && !h.px);
#ifndef __SANITIZE_ADDRESS__ /* under ASan the decoder reports crashes and bombs itself */
    CHECK(strstr(reel_error_get(), f[i].why) != NULL);
#endif
    reel_error_clear();
  }
}

static int read_ok(const char *path) {
  reel_hostimg_t h = {0};
  reel_io_read_opts_t o = {0, NULL, NULL, 0};
  int r = reel_io_read(path, &o, &h);
  if (r) fprintf(stderr, "    %s\n", reel_error_get());
  reel_error_clear();
  reel_hostimg_clear(&h);
  return r == 0;
}

static void test_sandbox_alone(void) {
  if (!conf) return;
  char good[1024];
  snprintf(good, sizeof good, "%s", cpath("images", "dpx_nuke_10bits_rgb.dpx"));
  unsigned long s0, r0, s1, r1;
  CHECK(read_ok(good));
  reel_helper_stats(&s0, &r0);
  CHECK(s0 >= 1); /* the helper, not the fork fallback, is in use */
  for (int i = 0; i < 5; i++) CHECK(read_ok(good));
  reel_helper_stats(&s1, &r1);
  CHECK(s1 == s0 && r1 == r0 + 5); /* one helper serves many frames */
  sandbox_bad("helper");
  CHECK(read_ok(good)); /* a fresh helper after the crashes */
  reel_helper_stats(&s1, &r1);
  CHECK(s1 >= s0 + 2);
  reel_helper_set_path(""); /* no helper: a forked child per frame */
  sandbox_bad("fork");
  CHECK(read_ok(good));
  reel_helper_stats(&s0, &r0);
  CHECK(r0 == r1);
  /* this test binary as a helper that hangs, or exits, on its first request */
  reel_helper_set_timeout_ms(1000);
  reel_helper_set_path("/proc/self/exe");
  setenv("REEL_TEST_FAKE_HELPER", "hang", 1);
  CHECK(!read_ok(good));
  reel_hostimg_t h = {0};
  reel_io_read_opts_t o = {0, NULL, NULL, 0};
  CHECK(reel_io_read(good, &o, &h) == -1 && strstr(reel_error_get(), "longer than 1 s"));
  fprintf(stderr, "    %s\n", reel_error_get());
  reel_error_clear();
  setenv("REEL_TEST_FAKE_HELPER", "exit", 1);
  CHECK(reel_io_read(good, &o, &h) == -1 && strstr(reel_error_get(), "exit status 7"));
  fprintf(stderr, "    %s\n", reel_error_get());
  reel_error_clear();
  unsetenv("REEL_TEST_FAKE_HELPER");
  reel_helper_set_timeout_ms(0);
  reel_helper_set_path(NULL); /* back to REEL_DECODER */
  CHECK(read_ok(good));
}

/* REEL_TEST_FAKE_HELPER: this binary, started as the decoder helper, says
 * hello and then hangs or exits on the first request. */
static int fake_helper(const char *mode) {
  reel_dec_hello_t hello = {REEL_DEC_MAGIC, sizeof(reel_dec_req_t), sizeof(reel_dec_answer_t),
                            (int32_t)getpid()};
  static reel_dec_req_t req;
  if (write(REEL_DEC_SOCK_FD, &hello, sizeof hello) != (ssize_t)sizeof hello) return 1;
  if (read(REEL_DEC_SOCK_FD, &req, sizeof req) <= 0) return 1;
  if (!strcmp(mode, "hang")) sleep(60);
  return 7;
}

typedef struct {
  int id, fails;
} worker_t;

static void *reader(void *arg) {
  worker_t *w = arg;
  for (int i = 0; i < 4; i++) {
    reel_hostimg_t h = {0};
    reel_io_read_opts_t o = {0, NULL, NULL, 0};
    const char *p =
        (w->id + i) % 2 ? cpath("images", "dpx_nuke_10bits_rgb.dpx") : cpath("images", "Tree.exr");
    if (reel_io_read(p, &o, &h)) {
      fprintf(stderr, "    thread %d: %s\n", w->id, reel_error_get());
      w->fails++;
    }
    reel_hostimg_clear(&h);
    if (w->id == 0) { /* and writes through OpenImageIO meanwhile */
      char out[256];
      snprintf(out, sizeof out, "%s/thread_%d.exr", tmpdir, i);
      reel_hostimg_t s = {0};
      reel_io_write_opts_t wo = {NULL, NULL, "zip", 0};
      if (reel_io_read(cpath("images", "checker.cin"), &o, &s) || reel_io_write(out, &wo, &s)) {
        fprintf(stderr, "    thread %d: %s\n", w->id, reel_error_get());
        w->fails++;
      }
      reel_hostimg_clear(&s);
    }
  }
  return NULL;
}

static void test_threads(void) {
  if (!conf) return;
  pthread_t t[3];
  worker_t w[3] = {{0, 0}, {1, 0}, {2, 0}};
  for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, reader, &w[i]);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  CHECK(w[0].fails + w[1].fails + w[2].fails == 0);
}

/* ---- round trips ---- */

static float half_round(float f) { /* float -> half (nearest even) -> float, normals and 0 */
  uint32_t u;
  memcpy(&u, &f, 4);
  if (!(u & 0x7fffffff)) return f;
  uint32_t e = (u >> 23 & 255), m = u & 0x7fffff;
  if (e < 113) return f; /* not needed here */
  uint32_t keep = m >> 13, rest = m & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (keep & 1))) keep++;
  uint32_t r = (u & 0x80000000) | ((e << 23) + (keep << 13));
  memcpy(&f, &r, 4);
  return f;
}

static double psnr_of(const reel_hostimg_t *a, const reel_hostimg_t *b) {
  double se = 0;
  size_t n = plane(a) * a->nch;
  for (size_t i = 0; i < n; i++) se += (a->px[i] - b->px[i]) * (double)(a->px[i] - b->px[i]);
  return se ? 10 * log10(n / se) : 999;
}

static void roundtrip(const reel_hostimg_t *src, const char *name, const char *ext, const char *pt,
                      const char *comp, const char *mode, double tol) {
  char out[256];
  snprintf(out, sizeof out, "%s/%s_%s_%s.%s", tmpdir, name, pt, comp ? comp : "def", ext);
  reel_io_write_opts_t wo = {NULL, pt, comp, 0};
  reel_hostimg_t back = {0};
  reel_io_read_opts_t ro = {0, NULL, NULL, 0};
  int w = reel_io_write(out, &wo, src);
  if (w) fprintf(stderr, "    write %s: %s\n", out, reel_error_get());
  CHECK(w == 0);
  int r = w ? -1 : reel_io_read(out, &ro, &back);
  if (!w && r) fprintf(stderr, "    read %s: %s\n", out, reel_error_get());
  CHECK(r == 0);
  if (!r) {
    CHECK(back.nch == src->nch && !memcmp(&back.data, &src->data, sizeof back.data));
    double md = 0;
    size_t n = plane(src) * src->nch;
    for (size_t i = 0; i < n; i++) {
      float want = !strcmp(mode, "half") ? half_round(src->px[i]) : src->px[i];
      md = fmax(md, fabs(back.px[i] - want));
    }
    double q = psnr_of(src, &back);
    fprintf(stderr, "    %-10s %-4s %-6s %-5s max |diff| %.3g  PSNR %.1f dB\n", name, ext, pt,
            comp ? comp : "", md, q);
    if (!strcmp(mode, "psnr"))
      CHECK(q > tol);
    else if (!strcmp(mode, "dwa"))
      CHECK(q > 40 && md < tol);
    else
      CHECK_NEAR(md, 0, tol);
  }
  reel_hostimg_clear(&back);
  reel_error_clear();
}

static void test_roundtrips(void) {
  for (int i = 0; i < 2; i++) {
    if (!exists(photos[i])) {
      printf("skip round trips: %s not found (install python3-skimage)\n", photos[i]);
      return;
    }
    reel_hostimg_t src = {0};
    reel_io_read_opts_t o = {0, NULL, NULL, 0};
    CHECK(!reel_io_read(photos[i], &o, &src));
    CHECK(src.nch == 3);
    const char *name = i ? "chelsea" : "astronaut";
    roundtrip(&src, name, "exr", "half", "none", "half", 0);
    roundtrip(&src, name, "exr", "half", "zip", "half", 0);
    roundtrip(&src, name, "exr", "half", "piz", "half", 0);
    roundtrip(&src, name, "exr", "half", "dwaa", "dwa", 0.05);
    roundtrip(&src, name, "exr", "float", "zips", "exact", 0);
    roundtrip(&src, name, "dpx", "uint10", NULL, "exact", 0.5 / 1023 + 1e-7);
    roundtrip(&src, name, "tif", "uint16", "zip", "exact", 0.5 / 65535 + 1e-7);
    roundtrip(&src, name, "png", "uint8", NULL, "exact", 0);
    roundtrip(&src, name, "png", "uint16", NULL, "exact", 0.5 / 65535 + 1e-7);
    roundtrip(&src, name, "dpx", "uint16", NULL, "exact", 0.5 / 65535 + 1e-7);
    roundtrip(&src, name, "jpg", "uint8", NULL, "psnr", 35);
    reel_hostimg_clear(&src);
  }
}

static void make(reel_hostimg_t *h, int nch, reel_box_t data, reel_box_t display) {
  memset(h, 0, sizeof *h);
  h->nch = nch;
  for (int c = 0; c < nch; c++)
    snprintf(h->ch[c], REEL_CHNAME, "%s", (const char *[]){"R", "G", "B", "A"}[c]);
  h->data = data;
  h->display = display;
  size_t n = plane(h);
  h->px = reel_pool_alloc(n * nch * sizeof(float));
  for (size_t i = 0; i < n * nch; i++) h->px[i] = (float)(i % 1000) / 1000.f;
}

/* ---- EXR written through OpenEXRCore ---- */

/* float -> half bits, round to nearest even, with subnormals, overflow to
 * infinity and NaN: the reference for the writer's conversion. */
static uint16_t f2h(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint32_t s = (u >> 16) & 0x8000, m = u & 0x7fffff;
  int e = (int)(u >> 23 & 255), he = e - 127 + 15;
  if (e == 255) return (uint16_t)(s | 0x7c00 | (m ? 0x200 | m >> 13 : 0));
  if (he >= 31) return (uint16_t)(s | 0x7c00);
  if (he <= 0) {
    if (he < -10) return (uint16_t)s;
    m |= 0x800000;
    int sh = 14 - he;
    uint32_t hm = m >> sh, rem = m & ((1u << sh) - 1), half = 1u << (sh - 1);
    if (rem > half || (rem == half && (hm & 1))) hm++;
    return (uint16_t)(s | hm);
  }
  uint32_t hm = m >> 13, rem = m & 0x1fff, h = s | (uint32_t)he << 10 | hm;
  if (rem > 0x1000 || (rem == 0x1000 && (hm & 1))) h++;
  return (uint16_t)h;
}

static float want_of(float v, int half) {
  if (!half) return v;
  uint16_t h = f2h(v);
  float f;
  reel_io_half_to_float(&h, &f, 1);
  return f;
}

static int same(float a, float b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, 4); }

/* Samples of plane c of b for channel named name, or NULL. */
static const float *plane_of(const reel_hostimg_t *h, const char *name) {
  for (int c = 0; c < h->nch; c++)
    if (!strcmp(h->ch[c], name)) return h->px + (size_t)c * plane(h);
  return NULL;
}

/* OpenImageIO writing the same image (interleaved float to half/float), as
 * reel_io_write did before: the pixels it stores must be the same. */
static int oiio_write_exr(const char *path, const reel_hostimg_t *h, int half, const char *comp) {
  size_t n = plane(h), nch = (size_t)h->nch;
  float *buf = malloc(n * nch * sizeof(float));
  reel_oiio_wspec_t ws;
  memset(&ws, 0, sizeof ws);
  ws.w = reel_box_w(h->data);
  ws.h = reel_box_h(h->data);
  ws.x = h->data.x0;
  ws.y = h->data.y0;
  ws.fw = reel_box_w(h->display);
  ws.fh = reel_box_h(h->display);
  ws.fx = h->display.x0;
  ws.fy = h->display.y0;
  ws.nch = h->nch;
  for (int c = 0; c < h->nch; c++) ws.chnames[c] = h->ch[c];
  ws.elem = 4;
  ws.bits = half ? 16 : 32;
  ws.half = half;
  ws.compression = comp;
  for (size_t c = 0; c < nch; c++)
    for (size_t i = 0; i < n; i++) buf[i * nch + c] = h->px[c * n + i];
  char err[512];
  int rc = reel_oiio_write(path, "openexr", &ws, buf, err, sizeof err);
  if (rc) fprintf(stderr, "    oiio write: %s\n", err);
  free(buf);
  return rc;
}

/* Writes src with every OpenEXRCore compression, half and float; reads it
 * back through OpenEXRCore and through OpenImageIO (bit for bit the same,
 * and the same as the reference conversion), and against a file
 * OpenImageIO wrote from the same planes. */
static void exr_write_check(const reel_hostimg_t *src, const char *name) {
  static const char *const comps[] = {"none", "rle", "zips", "zip", "piz"};
  for (int half = 0; half < 2; half++)
    for (size_t k = 0; k < sizeof comps / sizeof *comps; k++) {
      char out[256], ref[256];
      snprintf(out, sizeof out, "%s/core_%s_%s_%s.exr", tmpdir, name, comps[k],
               half ? "half" : "float");
      snprintf(ref, sizeof ref, "%s/oiio_%s.exr", tmpdir, name);
      reel_io_write_opts_t wo = {NULL, half ? "half" : "float", comps[k], 0};
      reel_io_read_opts_t ro = {0, NULL, NULL, 0};
      reel_hostimg_t a = {0}, b = {0}, c = {0};
      int w = reel_io_write(out, &wo, src);
      if (w) fprintf(stderr, "    %s\n", reel_error_get());
      CHECK(w == 0);
      CHECK(!reel_exr_read(out, &ro, &a, NULL) && !reel_exr_read_oiio(out, &ro, &b));
      CHECK(!oiio_write_exr(ref, src, half, comps[k]) && !reel_exr_read(ref, &ro, &c, NULL));
      int bad = !a.px || !b.px || !c.px || a.nch != src->nch || b.nch != src->nch ||
                memcmp(&a.data, &src->data, sizeof a.data) ||
                memcmp(&a.display, &src->display, sizeof a.display) ||
                memcmp(&b.data, &a.data, sizeof a.data);
      for (int ch = 0; !bad && ch < src->nch; ch++) {
        const float *pa = plane_of(&a, src->ch[ch]), *pb = plane_of(&b, src->ch[ch]),
                    *pc = plane_of(&c, src->ch[ch]), *ps = src->px + (size_t)ch * plane(src);
        bad += !pa || !pb || !pc;
        for (size_t i = 0; !bad && i < plane(src); i++) {
          bad += !same(pa[i], pb[i]) || !same(pa[i], pc[i]) || !same(pa[i], want_of(ps[i], half));
          if (bad)
            fprintf(stderr,
                    "    channel %s sample %zu: core %g, oiio read %g, oiio written %g, want %g\n",
                    src->ch[ch], i, pa[i], pb[i], pc[i], want_of(ps[i], half));
        }
      }
      if (bad) fprintf(stderr, "    %s: pixels differ\n", out);
      CHECK(bad == 0);
      reel_hostimg_clear(&a);
      reel_hostimg_clear(&b);
      reel_hostimg_clear(&c);
      reel_error_clear();
    }
}

static void test_exr_write(void) {
  /* odd sizes, an offset (negative) data window inside a larger display
   * window, more channels than RGBA, and every kind of float */
  reel_hostimg_t h = {0};
  h.nch = 6;
  static const char *const names[] = {"R", "G", "B", "A", "Z", "N.x"};
  for (int c = 0; c < 6; c++) snprintf(h.ch[c], REEL_CHNAME, "%s", names[c]);
  h.data = (reel_box_t){-7, -3, 130, 70};
  h.display = (reel_box_t){0, 0, 128, 64};
  size_t n = plane(&h);
  h.px = reel_pool_alloc(n * 6 * sizeof(float));
  static const float special[] = {
      0.f,   -0.f,     1.f,       65504.f, 65520.f,    65519.f,     1e6f,
      -1e6f, 6.0e-8f,  3.0e-8f,   2.9e-8f, 6.1e-5f,    1.00049f,    1.000488f,
      -2.5f, INFINITY, -INFINITY, NAN,     1.0009766f, 0.33333334f, 5.9604645e-08f};
  uint32_t r = 12345;
  for (size_t i = 0; i < n * 6; i++) {
    r = r * 1103515245u + 12345u;
    h.px[i] = i % 7 == 0 ? special[(r >> 8) % (sizeof special / sizeof *special)]
                         : ((float)(r >> 8) / 16777216.f - 0.25f) * 4.f;
  }
  exr_write_check(&h, "mixed");
  reel_hostimg_clear(&h);
  if (exists(photos[0])) {
    reel_io_read_opts_t o = {0, NULL, NULL, 0};
    CHECK(!reel_io_read(photos[0], &o, &h));
    exr_write_check(&h, "astronaut");
    reel_hostimg_clear(&h);
  }
  /* 1x1, and an image without pixels: zeros over its display window */
  make(&h, 1, (reel_box_t){5, 5, 6, 6}, (reel_box_t){0, 0, 8, 8});
  exr_write_check(&h, "one");
  reel_hostimg_clear(&h);
  h = (reel_hostimg_t){0};
  h.nch = 2;
  snprintf(h.ch[0], REEL_CHNAME, "Y");
  snprintf(h.ch[1], REEL_CHNAME, "A");
  h.display = (reel_box_t){0, 0, 40, 30};
  char out[256];
  snprintf(out, sizeof out, "%s/nopixels.exr", tmpdir);
  reel_io_write_opts_t wo = {NULL, NULL, "zip", 0};
  reel_io_read_opts_t ro = {0, NULL, NULL, 0};
  reel_hostimg_t b = {0};
  CHECK(!reel_io_write(out, &wo, &h) && !reel_exr_read_oiio(out, &ro, &b));
  CHECK(box_eq(b.data, 0, 0, 40, 30) && b.nch == 2 && b.px);
  int nz = 0;
  for (size_t i = 0; b.px && i < plane(&b) * 2; i++) nz += b.px[i] != 0;
  CHECK(nz == 0);
  reel_hostimg_clear(&b);
  /* the ZIP level changes the size, never the pixels */
  make(&h, 3, (reel_box_t){0, 0, 300, 200}, (reel_box_t){0, 0, 300, 200});
  long sz[2];
  for (int i = 0; i < 2; i++) {
    reel_io_write_opts_t zo = {NULL, NULL, "zip", i ? 9 : 1};
    snprintf(out, sizeof out, "%s/level%d.exr", tmpdir, i);
    CHECK(!reel_io_write(out, &zo, &h) && !reel_exr_read_oiio(out, &ro, &b));
    CHECK(b.px && !memcmp(&b.data, &h.data, sizeof b.data));
    for (size_t k = 0; b.px && k < plane(&h) * 3; k++)
      if (!same(b.px[k], want_of(h.px[k], 1))) nz++;
    reel_hostimg_clear(&b);
    FILE *f = fopen(out, "rb");
    fseek(f, 0, SEEK_END);
    sz[i] = ftell(f);
    fclose(f);
  }
  CHECK(nz == 0 && sz[1] < sz[0]);
  reel_io_write_opts_t bad = {NULL, NULL, "zip", 10};
  CHECK(reel_io_write(out, &bad, &h) == -1 && strstr(reel_error_get(), "1 to 9"));
  reel_error_clear();
  reel_hostimg_clear(&h);
}

/* Attributes OpenImageIO sees in a file (its names, values as text). */
typedef struct {
  const char *key;
  char val[256];
} attr_find_t;

static void find_attr(void *ud, const char *k, const char *v) {
  attr_find_t *a = ud;
  if (!strcmp(k, a->key)) snprintf(a->val, sizeof a->val, "%s", v);
}

static const char *oiio_attr(const char *path, const char *key, attr_find_t *a) {
  reel_oiio_spec_t sp;
  char err[256];
  a->key = key;
  a->val[0] = 0;
  reel_oiio_in_t *in = reel_oiio_open(path, "openexr", 0, 1, &sp, err, sizeof err);
  if (!in) return "";
  reel_oiio_attrs(in, find_attr, a);
  reel_oiio_close(in);
  return a->val;
}

static void test_windows_and_meta(void) {
  reel_hostimg_t h, back = {0};
  make(&h, 4, (reel_box_t){10, 20, 110, 70}, (reel_box_t){0, 0, 200, 100});
  reel_meta_set(&h.meta, "reel:graph", "graphs/r1.lua: Read -> Grade -> Write");
  reel_meta_set(&h.meta, "reel:colorspace", "ACEScg");
  reel_meta_set(&h.meta, "chromaticities",
                "0.713, 0.293, 0.165, 0.83, 0.128, 0.044, 0.32168, 0.33767");
  reel_meta_set(&h.meta, "DateTime", "2026:11:24 12:00:00");
  reel_meta_set(&h.meta, "PixelAspectRatio", "2");
  reel_meta_set(&h.meta, "reel:format", "png"); /* a source file's, never written */
  char out[256];
  snprintf(out, sizeof out, "%s/win.exr", tmpdir);
  reel_io_write_opts_t wo = {NULL, "float", "zip", 0};
  reel_io_read_opts_t ro = {0, NULL, NULL, 0};
  CHECK(!reel_io_write(out, &wo, &h));
  CHECK(!reel_io_read(out, &ro, &back));
  CHECK(box_eq(back.data, 10, 20, 110, 70) && box_eq(back.display, 0, 0, 200, 100));
  CHECK(back.nch == 4 && !memcmp(back.px, h.px, plane(&h) * 4 * sizeof(float)));
  const char *g = reel_meta_get(&back.meta, "reel:graph");
  CHECK(g && !strcmp(g, "graphs/r1.lua: Read -> Grade -> Write"));
  CHECK(reel_meta_get(&back.meta, "oiio:ColorSpace") &&
        !strcmp(reel_meta_get(&back.meta, "oiio:ColorSpace"), "ACEScg"));
  CHECK(!strcmp(reel_meta_get(&back.meta, "reel:format"), "openexr"));
  const char *chr = reel_meta_get(&back.meta, "chromaticities");
  float c[8] = {0};
  CHECK(chr &&
        sscanf(chr, "%f, %f, %f, %f, %f, %f, %f, %f", c, c + 1, c + 2, c + 3, c + 4, c + 5, c + 6,
               c + 7) == 8 &&
        c[0] == 0.713f && c[7] == 0.33767f);
  CHECK(reel_meta_get(&back.meta, "DateTime") &&
        !strcmp(reel_meta_get(&back.meta, "DateTime"), "2026:11:24 12:00:00"));
  reel_hostimg_clear(&back);
  /* and as OpenImageIO reads them */
  attr_find_t a;
  CHECK(!strcmp(oiio_attr(out, "reel:graph", &a), "graphs/r1.lua: Read -> Grade -> Write"));
  CHECK(!strcmp(oiio_attr(out, "reel:colorspace", &a), "ACEScg"));
  CHECK(!strcmp(oiio_attr(out, "DateTime", &a), "2026:11:24 12:00:00"));
  CHECK(!strcmp(oiio_attr(out, "PixelAspectRatio", &a), "2"));
  CHECK(!strncmp(oiio_attr(out, "chromaticities", &a), "0.713, 0.293", 12));
  CHECK(!oiio_attr(out, "reel:format", &a)[0]);
  CHECK(reel_meta_get(&back.meta, "PixelAspectRatio") == NULL);
  /* a format without windows gets the display window, black outside data */
  snprintf(out, sizeof out, "%s/win.tif", tmpdir);
  wo = (reel_io_write_opts_t){NULL, "float", NULL, 0};
  CHECK(!reel_io_write(out, &wo, &h));
  CHECK(!reel_io_read(out, &ro, &back));
  CHECK(box_eq(back.data, 0, 0, 200, 100) && box_eq(back.display, 0, 0, 200, 100));
  if (back.px) {
    CHECK(back.px[0] == 0 && back.px[20 * 200 + 10] == h.px[0]);
    CHECK(back.px[3 * 20000 + 69 * 200 + 109] == h.px[3 * 5000 + 4999]);
  }
  reel_hostimg_clear(&back);
  reel_hostimg_clear(&h);
}

static int temps_left(void) {
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)))
    if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp-")) n++;
  if (d) closedir(d);
  return n;
}

static void test_atomic_write(void) {
  reel_hostimg_t h;
  make(&h, 3, (reel_box_t){0, 0, 64, 48}, (reel_box_t){0, 0, 64, 48});
  reel_io_write_opts_t wo = {NULL, NULL, NULL, 0};
  char out[300], dir[256];
  CHECK(temps_left() == 0);
  /* missing directory */
  snprintf(out, sizeof out, "%s/nosuchdir/f.exr", tmpdir);
  CHECK(reel_io_write(out, &wo, &h) == -1 && strstr(reel_error_get(), "does not exist"));
  CHECK(!exists(out));
  reel_error_clear();
  /* read-only directory (root ignores modes: then a path no one can create in) */
  snprintf(dir, sizeof dir, "%s/ro", tmpdir);
  mkdir(dir, 0555);
  snprintf(out, sizeof out, "%s/f.exr", geteuid() ? dir : "/proc");
  int r = reel_io_write(out, &wo, &h);
  fprintf(stderr, "    %s\n", reel_error_get());
  CHECK(r == -1 && strstr(reel_error_get(), out));
  CHECK(!exists(out));
  reel_error_clear();
  rmdir(dir);
  /* the rename fails (a directory is in the way): no temporary is left */
  snprintf(out, sizeof out, "%s/isdir.exr", tmpdir);
  mkdir(out, 0755);
  CHECK(reel_io_write(out, &wo, &h) == -1);
  reel_error_clear();
  rmdir(out);
  /* replacing a file; bad options write nothing */
  snprintf(out, sizeof out, "%s/a.png", tmpdir);
  CHECK(!reel_io_write(out, &wo, &h) && !reel_io_write(out, &wo, &h));
  reel_io_write_opts_t bad = {NULL, "half", NULL, 0};
  snprintf(out, sizeof out, "%s/b.png", tmpdir);
  CHECK(reel_io_write(out, &bad, &h) == -1 && strstr(reel_error_get(), "half") && !exists(out));
  reel_error_clear();
  snprintf(out, sizeof out, "%s/c.cin", tmpdir);
  CHECK(reel_io_write(out, &wo, &h) == -1 && !exists(out));
  reel_error_clear();
  CHECK(temps_left() == 0);
  reel_hostimg_clear(&h);
}

int main(void) {
  if (getenv("REEL_TEST_FAKE_HELPER")) return fake_helper(getenv("REEL_TEST_FAKE_HELPER"));
  /* run by hand: the helper of this tree (static link: not found beside a library) */
  if (!getenv("REEL_DECODER") && exists("lib/reel/reel-decode"))
    setenv("REEL_DECODER", "lib/reel/reel-decode", 1);
  const char *env = getenv("REEL_CONFORMANCE");
  conf = env && *env ? env : "../shared/conformance";
  if (!exists(conf)) {
    printf("skip conformance tests: %s not found (set REEL_CONFORMANCE)\n", conf);
    conf = NULL;
  }
  snprintf(tmpdir, sizeof tmpdir, "/tmp/reel-test-io-XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_half);
  RUN(test_bad_images);
  RUN(test_nonfinite);
  RUN(test_dpx_elements);
  RUN(test_bad_attributes);
  RUN(test_exr_singlepart);
  RUN(test_exr_tree);
  RUN(test_dpx_cineon);
  RUN(test_exr_variants);
  RUN(test_sandbox_alone);
  RUN(test_threads);
  RUN(test_roundtrips);
  RUN(test_exr_write);
  RUN(test_windows_and_meta);
  RUN(test_atomic_write);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
  TEST_END();
}
