/* Model values and the .reelnet file format (model.h; byte layout in
 * docs/formats.md): an 8-byte magic, a major/minor version, the total
 * length, tagged sections (architecture, channels, training summary,
 * provenance, parameters, optimiser state) and an XXH3-64 checksum of every
 * byte before it. Little-endian throughout; every length is bounded by the
 * bytes that remain, so no input can make the decoder read out of bounds. */
#include "nn/model.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "REELNET\x1a" /* 0x1a stops `type` on a terminal, as in PNG */
#define MAJOR 1
#define MINOR 0
#define HEAD 20 /* magic, u16 major, u16 minor, u64 total length */
#define TAIL 8  /* u64 checksum */

#define TAG(a, b, c, d)                                                                            \
  ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
/* the sections, in the order Reel writes them */
enum { S_ARCH, S_CHAN, S_TRAIN, S_INFO, S_PARAMS, S_ADAM, NSECT };
enum {
  T_ARCH = TAG('A', 'R', 'C', 'H'),
  T_CHAN = TAG('C', 'H', 'A', 'N'),
  T_TRAIN = TAG('T', 'R', 'N', 'G'),
  T_INFO = TAG('I', 'N', 'F', 'O'),
  T_PARAMS = TAG('P', 'A', 'R', 'M'),
  T_ADAM = TAG('A', 'D', 'A', 'M'),
};

/* ---- the value class ---- */

static void destroy(reel_value_t *v) {
  reel_model_t *m = (reel_model_t *)v;
  free(m->params);
  free(m->adam_m);
  free(m->adam_v);
  free(m->info);
  free(m);
}

static size_t bytes(const reel_value_t *v) {
  const reel_model_t *m = (const reel_model_t *)v;
  return sizeof *m + m->nparams * sizeof(float) * (m->adam_m ? 3 : 1) +
         (m->info ? strlen(m->info) : 0);
}

static int save(const reel_value_t *v, reel_buf_t *out) {
  return reel_model_encode((const reel_model_t *)v, out);
}

static uint64_t get_u64(const unsigned char *x) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | x[i];
  return v;
}

/* Cache entries hold the encoding as it is; its header says how long it is. */
static reel_value_t *load(reel_rd_t *in) {
  const unsigned char *p = in->p + in->at;
  size_t rest = in->bad ? 0 : in->n - in->at;
  uint64_t len = rest >= HEAD ? get_u64(p + 12) : rest;
  reel_model_t *m = reel_model_decode(p, len < rest ? (size_t)len : rest, "cached model");
  if (m) reel_rd_take(in, (size_t)len);
  return m ? &m->v : NULL;
}

const reel_value_class_t reel_model_class = {REEL_V_MODEL, "Model", destroy, bytes, save, load};

reel_model_t *reel_model_new(const reel_nn_arch_t *arch) {
  if (reel_nn_arch_check(arch)) return NULL;
  reel_model_t *m = calloc(1, sizeof *m);
  size_t np = reel_nn_nparams(arch);
  if (!m || !(m->params = calloc(np ? np : 1, sizeof(float)))) {
    free(m);
    reel_error(REEL_EIO, "out of memory for a model of %zu parameters", np);
    return NULL;
  }
  reel_value_init(&m->v, &reel_model_class);
  m->arch = *arch;
  m->nparams = np;
  /* images are R, G, B; a chroma model converts them to Y'CbCr itself */
  strcpy(m->ch[0], "R");
  strcpy(m->ch[1], "G");
  strcpy(m->ch[2], "B");
  m->rgb_to_ycc = arch->mode == REEL_NN_CHROMA;
  return m;
}

reel_model_t *reel_model_cast(reel_value_t *v) {
  return v && v->cls == &reel_model_class ? (reel_model_t *)v : NULL;
}

int reel_model_alloc_adam(reel_model_t *m) {
  size_t n = m->nparams ? m->nparams : 1;
  if (!m->adam_m) m->adam_m = calloc(n, sizeof(float));
  if (!m->adam_v) m->adam_v = calloc(n, sizeof(float));
  if (m->adam_m && m->adam_v) return 0;
  free(m->adam_m);
  free(m->adam_v);
  m->adam_m = m->adam_v = NULL;
  reel_error(REEL_EIO, "out of memory for the optimiser state of %zu parameters", m->nparams);
  return -1;
}

const char *reel_model_size(const reel_model_t *m) {
  static const char *const sizes[] = {"small", "medium", "large"};
  for (int i = 0; i < 3; i++) {
    reel_nn_arch_t a;
    if (reel_nn_arch_named(&a, sizes[i], m->arch.mode)) continue; /* cannot fail on these */
    int same = a.mode == m->arch.mode && a.in_ch == m->arch.in_ch && a.out_ch == m->arch.out_ch &&
               a.levels == m->arch.levels && a.slope == m->arch.slope;
    for (int l = 0; same && l <= a.levels; l++) same = a.width[l] == m->arch.width[l];
    if (same) return sizes[i];
  }
  return NULL;
}

int reel_model_info_set(reel_model_t *m, const char *key, const char *value) {
  size_t klen = strlen(key), old = m->info ? strlen(m->info) : 0;
  /* old lines (one may gain a newline), "key: value\n", NUL */
  char *s = malloc(old + klen + strlen(value) + 5), *w = s;
  if (!s) {
    reel_error(REEL_EIO, "out of memory");
    return -1;
  }
  for (const char *l = m->info; l && *l;) {
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    if (len && !(len > klen && !strncmp(l, key, klen) && l[klen] == ':')) {
      memcpy(w, l, len);
      w += len;
      *w++ = '\n';
    }
    l += len + (e != NULL);
  }
  w += sprintf(w, "%s: ", key);
  for (const char *v = value; *v; v++) *w++ = *v == '\n' ? ' ' : *v;
  strcpy(w, "\n");
  free(m->info);
  m->info = s;
  return 0;
}

/* ---- encoding ---- */

static void set_u64(unsigned char *x, uint64_t v) {
  for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
}

static int put_f32(reel_buf_t *b, const float *v, size_t n) {
  if (n > SIZE_MAX / 4) {
    reel_error(REEL_EIO, "model too large to encode");
    return -1;
  }
  unsigned char *x = reel_buf_grow(b, 4 * n);
  if (!x) return -1;
  for (size_t i = 0; i < n; i++, x += 4) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    x[0] = (unsigned char)u;
    x[1] = (unsigned char)(u >> 8);
    x[2] = (unsigned char)(u >> 16);
    x[3] = (unsigned char)(u >> 24);
  }
  return 0;
}

/* A section is written as tag, a length placeholder, then its bytes; end()
 * fills the length in. Returns the placeholder's offset, or 0 on failure. */
static size_t begin(reel_buf_t *b, uint32_t tag) {
  if (reel_buf_u32(b, tag) || reel_buf_u64(b, 0)) return 0;
  return b->n - 8;
}

static void end(reel_buf_t *b, size_t at) { set_u64(b->p + at, (uint64_t)(b->n - at - 8)); }

int reel_model_encode(const reel_model_t *m, reel_buf_t *out) {
  const reel_nn_arch_t *a = &m->arch;
  size_t start = out->n, s;
  if (reel_buf_put(out, MAGIC, 8) || reel_buf_u32(out, MAJOR | MINOR << 16) || reel_buf_u64(out, 0))
    return -1;

  if (!(s = begin(out, T_ARCH)) || reel_buf_u32(out, (uint32_t)a->mode) ||
      reel_buf_u32(out, (uint32_t)a->in_ch) || reel_buf_u32(out, (uint32_t)a->out_ch) ||
      reel_buf_u32(out, (uint32_t)a->levels))
    return -1;
  for (int l = 0; l <= a->levels && l <= REEL_NN_MAXLEV; l++)
    if (reel_buf_u32(out, (uint32_t)a->width[l])) return -1;
  if (put_f32(out, &a->slope, 1)) return -1;
  end(out, s);

  if (!(s = begin(out, T_CHAN)) || reel_buf_u32(out, m->rgb_to_ycc != 0)) return -1;
  for (int c = 0; c < 3; c++)
    if (reel_buf_str(out, m->ch[c])) return -1;
  end(out, s);

  if (!(s = begin(out, T_TRAIN)) || reel_buf_u64(out, (uint64_t)m->steps) ||
      reel_buf_f64(out, m->loss))
    return -1;
  end(out, s);

  if (m->info) {
    if (!(s = begin(out, T_INFO)) || reel_buf_put(out, m->info, strlen(m->info))) return -1;
    end(out, s);
  }

  if (!(s = begin(out, T_PARAMS)) || reel_buf_u64(out, m->nparams) ||
      put_f32(out, m->params, m->nparams))
    return -1;
  end(out, s);

  if (m->adam_m && m->adam_v) {
    if (!(s = begin(out, T_ADAM)) || reel_buf_u64(out, m->nparams) ||
        reel_buf_u64(out, m->train_key.hi) || reel_buf_u64(out, m->train_key.lo) ||
        put_f32(out, m->adam_m, m->nparams) || put_f32(out, m->adam_v, m->nparams))
      return -1;
    end(out, s);
  }

  set_u64(out->p + start + 12, (uint64_t)(out->n - start + TAIL));
  return reel_buf_u64(out, reel_hash64(out->p + start, out->n - start));
}

/* ---- decoding ---- */

/* What a foreign file is, from its first bytes, for a helpful error. */
static const char *foreign(const unsigned char *p, size_t n) {
  static const struct {
    const char *magic;
    size_t n;
    const char *name;
  } sigs[] = {
      {"\x89PNG\r\n\x1a\n", 8, "PNG"},
      {"\x76\x2f\x31\x01", 4, "OpenEXR"},
      {"\xff\xd8\xff", 3, "JPEG"},
      {"II*\0", 4, "TIFF"},
      {"MM\0*", 4, "TIFF"},
      {"SDPX", 4, "DPX"},
      {"XPDS", 4, "DPX"},
      {"\x80\x2a\x5f\xd7", 4, "Cineon"},
      {"\xd7\x5f\x2a\x80", 4, "Cineon"},
      {"PK\x03\x04", 4, "ZIP"}, /* a PyTorch .pt file */
      {"\x80\x02", 2, "Python pickle"},
      {"\x1f\x8b", 2, "gzip"},
  };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (n >= sigs[i].n && !memcmp(p, sigs[i].magic, sigs[i].n)) return sigs[i].name;
  return NULL;
}

static float get_f32(const unsigned char *x) {
  uint32_t u = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static float *take_f32(reel_rd_t *r, size_t n) {
  const unsigned char *x = n <= (r->n - r->at) / 4 ? reel_rd_take(r, 4 * n) : NULL;
  float *v = x ? malloc((n ? n : 1) * sizeof *v) : NULL;
  if (!v) {
    r->bad = 1;
    return NULL;
  }
  for (size_t i = 0; i < n; i++) v[i] = get_f32(x + 4 * i);
  return v;
}

static void tag_name(uint32_t tag, char out[5]) {
  for (int i = 0; i < 4; i++) {
    unsigned char c = (unsigned char)(tag >> (8 * i));
    out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  out[4] = 0;
}

/* Reads a u32 that must fit an int field. */
static int rd_int(reel_rd_t *r) {
  uint32_t v = reel_rd_u32(r);
  if (v > 1u << 20) r->bad = 1; /* no field of a network is near this */
  return (int)(v & 0xfffff);
}

static int parse_arch(reel_rd_t *r, reel_nn_arch_t *a) {
  memset(a, 0, sizeof *a);
  a->mode = rd_int(r);
  a->in_ch = rd_int(r);
  a->out_ch = rd_int(r);
  a->levels = rd_int(r);
  if (r->bad) return -1;
  if (a->levels < 1 || a->levels > REEL_NN_MAXLEV) return -2;
  for (int l = 0; l <= a->levels; l++) a->width[l] = rd_int(r);
  const unsigned char *x = reel_rd_take(r, 4);
  if (x) a->slope = get_f32(x);
  return r->bad ? -1 : 0;
}

static int parse_chan(reel_rd_t *r, reel_model_t *m) {
  uint32_t conv = reel_rd_u32(r);
  m->rgb_to_ycc = conv != 0;
  for (int c = 0; c < 3; c++) reel_rd_str(r, m->ch[c], REEL_CHNAME);
  return r->bad || conv > 1 || !m->ch[0][0] || !m->ch[1][0] || !m->ch[2][0] ? -1 : 0;
}

static int parse_adam(reel_rd_t *r, reel_model_t *m, uint64_t *count) {
  *count = reel_rd_u64(r);
  m->train_key.hi = reel_rd_u64(r);
  m->train_key.lo = reel_rd_u64(r);
  if (r->bad || *count > (r->n - r->at) / 8) return -1;
  if (!(m->adam_m = take_f32(r, (size_t)*count)) || !(m->adam_v = take_f32(r, (size_t)*count)))
    return -1;
  return 0;
}

/* The envelope: magic, version, length and checksum, in the order that
 * gives the most specific message. 0, or -1 with reel_error. */
static int envelope(const unsigned char *p, size_t n, const char *what) {
  const char *kind;
  if (!n) {
    reel_error(REEL_EUSER, "'%s': empty file, not a Reel model file", what);
    return -1;
  }
  if (memcmp(p, MAGIC, n < 8 ? n : 8)) {
    if ((kind = foreign(p, n)))
      reel_error(REEL_EUSER, "'%s': not a Reel model file (starts with %s signature)", what, kind);
    else
      reel_error(REEL_EUSER,
                 "'%s': not a Reel model file (unknown content: starts with %02x %02x %02x %02x)",
                 what, p[0], n > 1 ? p[1] : 0, n > 2 ? p[2] : 0, n > 3 ? p[3] : 0);
    return -1;
  }
  if (n < 12) {
    reel_error(REEL_EUSER, "'%s': truncated (%zu bytes, shorter than the %d-byte header)", what, n,
               HEAD);
    return -1;
  }
  unsigned major = (unsigned)p[8] | (unsigned)p[9] << 8;
  unsigned minor = (unsigned)p[10] | (unsigned)p[11] << 8;
  if (major != MAJOR) {
    reel_error(REEL_EUSER,
               "'%s': Reel model format version %u.%u; this build of Reel reads version %d.x%s",
               what, major, minor, MAJOR,
               major > MAJOR ? ": update Reel to read it" : ": the file is corrupt");
    return -1;
  }
  if (n < HEAD) {
    reel_error(REEL_EUSER, "'%s': truncated (%zu bytes, shorter than the %d-byte header)", what, n,
               HEAD);
    return -1;
  }
  uint64_t total = get_u64(p + 12);
  if (total < HEAD + TAIL)
    reel_error(REEL_EUSER, "'%s': corrupt header (total length %llu)", what,
               (unsigned long long)total);
  else if (n < total)
    reel_error(REEL_EUSER, "'%s': truncated (%zu of %llu bytes)", what, n,
               (unsigned long long)total);
  else if (n > total)
    reel_error(REEL_EUSER,
               "'%s': %llu bytes after the model's end at byte %llu: the file is corrupt", what,
               (unsigned long long)(n - total), (unsigned long long)total);
  else if (reel_hash64(p, n - TAIL) != get_u64(p + n - TAIL))
    reel_error(REEL_EUSER, "'%s': checksum mismatch: the file is corrupt", what);
  else
    return 0;
  return -1;
}

#define BAD(...)                                                                                   \
  do {                                                                                             \
    reel_error(REEL_EUSER, __VA_ARGS__);                                                           \
    goto fail;                                                                                     \
  } while (0)

reel_model_t *reel_model_decode(const void *data, size_t n, const char *what) {
  const unsigned char *p = data;
  if (!what) what = "model";
  if (envelope(p, n, what)) return NULL;

  reel_model_t *m = calloc(1, sizeof *m);
  if (!m) {
    reel_error(REEL_EIO, "out of memory");
    return NULL;
  }
  reel_value_init(&m->v, &reel_model_class);
  reel_rd_t r = {p, n - TAIL, HEAD, 0};
  uint32_t seen = 0; /* bit per known section */
  uint64_t nparams = 0, nadam = 0;
  while (r.at < r.n) {
    size_t at = r.at;
    uint32_t tag = reel_rd_u32(&r);
    uint64_t len = reel_rd_u64(&r);
    char tn[5];
    tag_name(tag, tn);
    if (r.bad) BAD("'%s': corrupt section header at byte %zu", what, at);
    if (len > r.n - r.at)
      BAD("'%s': section '%s' at byte %zu runs past the end (%llu bytes)", what, tn, at,
          (unsigned long long)len);
    reel_rd_t s = {p + r.at, (size_t)len, 0, 0};
    r.at += (size_t)len;
    static const uint32_t known[NSECT] = {T_ARCH, T_CHAN, T_TRAIN, T_INFO, T_PARAMS, T_ADAM};
    int k = 0;
    while (k < NSECT && known[k] != tag) k++;
    if (k == NSECT) continue; /* a later minor revision's section: skip it */
    if (seen & 1u << k) BAD("'%s': section '%s' appears twice", what, tn);
    seen |= 1u << k;
    int bad = 0;
    switch (tag) {
    case T_ARCH:
      bad = parse_arch(&s, &m->arch);
      if (bad == -2)
        BAD("'%s': the architecture has %d levels (1 to %d)", what, m->arch.levels, REEL_NN_MAXLEV);
      break;
    case T_CHAN: bad = parse_chan(&s, m); break;
    case T_TRAIN:
      m->steps = (int64_t)reel_rd_u64(&s);
      m->loss = reel_rd_f64(&s);
      bad = s.bad || m->steps < 0;
      break;
    case T_INFO:
      if (!(m->info = malloc((size_t)len + 1))) {
        reel_error(REEL_EIO, "out of memory");
        goto fail;
      }
      memcpy(m->info, s.p, (size_t)len);
      m->info[len] = 0;
      break;
    case T_PARAMS:
      nparams = reel_rd_u64(&s);
      bad = s.bad || nparams > (s.n - s.at) / 4 || !(m->params = take_f32(&s, (size_t)nparams));
      break;
    case T_ADAM: bad = parse_adam(&s, m, &nadam); break;
    }
    if (bad) BAD("'%s': section '%s' at byte %zu is corrupt", what, tn, at);
  }
  if (!(seen & 1u << S_ARCH)) BAD("'%s': no architecture section", what);
  if (!(seen & 1u << S_PARAMS)) BAD("'%s': no parameter section", what);
  if (reel_nn_arch_check(&m->arch)) {
    reel_error_prefix("'%s': the architecture is not one this build runs:", what);
    goto fail;
  }
  m->nparams = reel_nn_nparams(&m->arch);
  if (nparams != m->nparams)
    BAD("'%s': parameter count %llu does not match the architecture (%zu)", what,
        (unsigned long long)nparams, m->nparams);
  if (m->adam_m && nadam != nparams)
    BAD("'%s': optimiser state for %llu parameters, but the model has %zu", what,
        (unsigned long long)nadam, m->nparams);
  if (!(seen & 1u << S_CHAN)) { /* no channel section: the defaults of reel_model_new */
    strcpy(m->ch[0], "R");
    strcpy(m->ch[1], "G");
    strcpy(m->ch[2], "B");
    m->rgb_to_ycc = m->arch.mode == REEL_NN_CHROMA;
  }
  return m;
fail:
  reel_model_unref(m);
  return NULL;
}

int reel_model_stamp(const void *data, size_t n, reel_model_stamp_t *out) {
  const unsigned char *p = data;
  if (n < HEAD + TAIL || memcmp(p, MAGIC, 8)) {
    reel_error(REEL_EUSER, "not a Reel model encoding");
    return -1;
  }
  out->major = (unsigned)p[8] | (unsigned)p[9] << 8;
  out->minor = (unsigned)p[10] | (unsigned)p[11] << 8;
  out->bytes = get_u64(p + 12);
  out->checksum = get_u64(p + n - TAIL);
  out->checksum_ok = out->bytes == n && reel_hash64(p, n - TAIL) == out->checksum;
  return 0;
}

/* ---- files ---- */

int reel_model_read_file(const char *path, reel_buf_t *out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st)) {
    int e = errno;
    reel_error(e == ENOENT || e == ENOTDIR ? REEL_EUSER : REEL_EIO, "cannot open '%s': %s", path,
               strerror(e));
    if (fd >= 0) close(fd);
    return -1;
  }
  if (S_ISDIR(st.st_mode)) {
    reel_error(REEL_EUSER, "'%s' is a directory, not a model file", path);
    close(fd);
    return -1;
  }
  /* read to the end rather than trusting st_size (pipes, /proc) */
  for (;;) {
    unsigned char *x = reel_buf_grow(out, 1 << 16);
    if (!x) break;
    ssize_t k = read(fd, x, 1 << 16);
    out->n -= (size_t)(1 << 16) - (k > 0 ? (size_t)k : 0);
    if (k > 0) continue;
    if (k < 0 && errno == EINTR) continue;
    if (k == 0) {
      close(fd);
      return 0;
    }
    reel_error(REEL_EIO, "cannot read '%s': %s", path, strerror(errno));
    break;
  }
  close(fd);
  reel_buf_free(out);
  return -1;
}

reel_model_t *reel_model_load_file(const char *path) {
  reel_buf_t b = {0};
  if (reel_model_read_file(path, &b)) return NULL;
  reel_model_t *m = reel_model_decode(b.p, b.n, path);
  reel_buf_free(&b);
  return m;
}

int reel_model_save_file(const reel_model_t *m, const char *path) {
  reel_buf_t b = {0};
  char tmp[4096];
  const char *slash = strrchr(path, '/');
  int fd = -1, rc = -1, made = 0, n;
  /* same directory, so that rename is atomic; a leading dot hides it */
  if (slash)
    n = snprintf(tmp, sizeof tmp, "%.*s/.%s.tmp-XXXXXX", (int)(slash - path), path, slash + 1);
  else
    n = snprintf(tmp, sizeof tmp, ".%s.tmp-XXXXXX", path);
  if (n < 0 || (size_t)n >= sizeof tmp || !*(slash ? slash + 1 : path)) {
    reel_error(REEL_EUSER, "cannot write '%s': bad or too long path", path);
    return -1;
  }
  if (reel_model_encode(m, &b)) goto out;
  if ((fd = mkstemp(tmp)) < 0) {
    int e = errno;
    reel_error(e == ENOENT || e == ENOTDIR ? REEL_EUSER : REEL_EIO, "cannot write '%s': %s", path,
               e == ENOENT ? "its directory does not exist" : strerror(e));
    goto out;
  }
  made = 1;
  for (size_t at = 0; at < b.n;) {
    ssize_t k = write(fd, b.p + at, b.n - at);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      reel_error(REEL_EIO, "cannot write '%s': %s", path, k < 0 ? strerror(errno) : "short write");
      goto out;
    }
    at += (size_t)k;
  }
  if (fchmod(fd, 0644) || fsync(fd)) {
    reel_error(REEL_EIO, "cannot write '%s': syncing the temporary file failed: %s", path,
               strerror(errno));
    goto out;
  }
  if (close(fd)) {
    fd = -1;
    reel_error(REEL_EIO, "cannot write '%s': %s", path, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path)) {
    reel_error(REEL_EIO, "cannot write '%s': renaming the temporary file failed: %s", path,
               strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0) close(fd);
  if (rc && made) unlink(tmp); /* no partial file under any name */
  reel_buf_free(&b);
  return rc;
}

/* ---- description ---- */

int reel_model_describe(const reel_model_t *m, FILE *out) {
  const reel_nn_arch_t *a = &m->arch;
  const char *size = reel_model_size(m);
  fprintf(out, "  architecture  %s U-Net, %d levels, widths", size ? size : "custom", a->levels);
  for (int l = 0; l <= a->levels; l++) fprintf(out, " %d", a->width[l]);
  fprintf(out, ", LeakyReLU slope %g\n", (double)a->slope);
  fprintf(out, "  mode          %s\n",
          a->mode == REEL_NN_CHROMA ? "chroma (predicts Cb, Cr; keeps luma)"
                                    : "rgb (predicts R, G, B)");
  fprintf(out, "  parameters    %zu (%.1f MB as float32)\n", m->nparams,
          (double)m->nparams * 4 / 1048576.0);
  fprintf(out, "  channels      %s %s %s%s\n", m->ch[0], m->ch[1], m->ch[2],
          m->rgb_to_ycc ? " (converted to Y'CbCr inside)" : "");
  if (m->steps)
    fprintf(out, "  training      %lld steps, loss %.6g\n", (long long)m->steps, m->loss);
  else
    fprintf(out, "  training      none (untrained)\n");
  if (m->adam_m) {
    char hex[REEL_KEY_HEX];
    reel_key_hex(&m->train_key, hex);
    fprintf(out, "  checkpoint    yes: Adam moments, training key %s\n", hex);
  } else
    fprintf(out, "  checkpoint    no (no optimiser state)\n");
  const char *s = m->info;
  for (int first = 1; s && *s; first = 0) {
    const char *e = strchr(s, '\n');
    int len = e ? (int)(e - s) : (int)strlen(s);
    fprintf(out, "  %-13s %.*s\n", first ? "provenance" : "", len, s);
    s = e ? e + 1 : s + len;
  }
  return ferror(out) ? -1 : 0;
}
