/* Transform values (xform.h): the value class, lookup and interpolation as
 * a corner pin, and the two export formats. Files are written whole under a
 * temporary name and renamed; merging frames into one file holds an flock
 * on a hidden ".NAME.lock" beside it. Entries are one line each in both
 * formats, so a merge reads them back without a general JSON parser. */
#include "xform.h"
#include "error.h"
#include "reel.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

const char *const reel_xf_model_names[] = {"translation", "similarity", "affine", "homography",
                                           NULL};
static const char *const status_names[] = {"solved", "interpolated", "held"};

/* ---- the value class ---- */

static void destroy(reel_value_t *v) {
  reel_xform_t *x = (reel_xform_t *)v;
  free(x->e);
  free(x);
}

static size_t bytes(const reel_value_t *v) {
  return sizeof(reel_xform_t) + (size_t)((const reel_xform_t *)v)->n * sizeof(reel_xf_entry_t);
}

static int put_box(reel_buf_t *b, reel_box_t r) {
  return reel_buf_u32(b, (uint32_t)r.x0) || reel_buf_u32(b, (uint32_t)r.y0) ||
         reel_buf_u32(b, (uint32_t)r.x1) || reel_buf_u32(b, (uint32_t)r.y1);
}

static reel_box_t get_box(reel_rd_t *r) {
  reel_box_t b;
  b.x0 = (int)reel_rd_u32(r);
  b.y0 = (int)reel_rd_u32(r);
  b.x1 = (int)reel_rd_u32(r);
  b.y1 = (int)reel_rd_u32(r);
  return b;
}

#define XF_VERSION 1

static int save(const reel_value_t *v, reel_buf_t *out) {
  const reel_xform_t *x = (const reel_xform_t *)v;
  if (reel_buf_u32(out, XF_VERSION) || reel_buf_u32(out, (uint32_t)x->model) ||
      put_box(out, x->moving) || put_box(out, x->fixed) || reel_buf_u32(out, (uint32_t)x->n))
    return -1;
  for (int i = 0; i < x->n; i++) {
    const reel_xf_entry_t *e = &x->e[i];
    if (reel_buf_u32(out, (uint32_t)e->frame) || reel_buf_u32(out, (uint32_t)e->status) ||
        reel_buf_u32(out, (uint32_t)e->iterations) || reel_buf_f64(out, e->residual))
      return -1;
    for (int k = 0; k < 9; k++)
      if (reel_buf_f64(out, e->m.m[k])) return -1;
  }
  return 0;
}

static reel_value_t *load(reel_rd_t *in) {
  uint32_t ver = reel_rd_u32(in), model = reel_rd_u32(in);
  reel_box_t mv = get_box(in), fx = get_box(in);
  uint32_t n = reel_rd_u32(in);
  /* every entry takes 92 bytes: a count beyond what remains is corrupt */
  if (in->bad || ver != XF_VERSION || model > REEL_XF_HOMOGRAPHY || n > (in->n - in->at) / 92)
    return NULL;
  reel_xform_t *x = reel_xform_new((int)model, mv, fx, (int)n);
  if (!x) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    reel_xf_entry_t *e = &x->e[i];
    e->frame = (int)reel_rd_u32(in);
    e->status = (int)reel_rd_u32(in);
    e->iterations = (int)reel_rd_u32(in);
    e->residual = reel_rd_f64(in);
    for (int k = 0; k < 9; k++) e->m.m[k] = reel_rd_f64(in);
    if (e->status < 0 || e->status > REEL_XF_HELD) in->bad = 1;
  }
  if (in->bad) {
    reel_value_unref(&x->v);
    return NULL;
  }
  return &x->v;
}

const reel_value_class_t reel_xform_class = {
    REEL_V_TRANSFORM, "Transform", destroy, bytes, save, load};

/* The class table of engine/value.c learns this class when the library
 * loads, so cached Transforms can be read back in any process. */
void reel_value_register(const reel_value_class_t *cls);
__attribute__((constructor)) static void register_class(void) {
  reel_value_register(&reel_xform_class);
}

reel_xform_t *reel_xform_new(int model, reel_box_t moving, reel_box_t fixed, int n) {
  reel_xform_t *x = calloc(1, sizeof *x);
  if (x && n > 0 && !(x->e = calloc((size_t)n, sizeof *x->e))) {
    free(x);
    x = NULL;
  }
  if (!x) {
    reel_error(REEL_EIO, "out of memory");
    return NULL;
  }
  reel_value_init(&x->v, &reel_xform_class);
  x->model = model;
  x->moving = moving;
  x->fixed = fixed;
  x->n = n;
  return x;
}

reel_xform_t *reel_xform_cast(reel_value_t *v) {
  return v && v->cls == &reel_xform_class ? (reel_xform_t *)v : NULL;
}

/* ---- geometry ---- */

int reel_xf_corners(const reel_mat3_t *m, reel_box_t b, double out[8]) {
  double xs[4] = {b.x0, b.x1, b.x1, b.x0}, ys[4] = {b.y0, b.y0, b.y1, b.y1};
  for (int i = 0; i < 4; i++)
    if (!(reel_mat3_apply(m, xs[i], ys[i], &out[2 * i], &out[2 * i + 1]) > 0)) return -1;
  return 0;
}

int reel_xf_lerp(const reel_mat3_t *a, const reel_mat3_t *b, double t, reel_box_t box,
                 reel_mat3_t *out) {
  double ca[8], cb[8], c[8],
      from[8] = {box.x0, box.y0, box.x1, box.y0, box.x1, box.y1, box.x0, box.y1};
  if (reel_xf_corners(a, box, ca) || reel_xf_corners(b, box, cb)) return -1;
  for (int i = 0; i < 8; i++) c[i] = ca[i] + t * (cb[i] - ca[i]);
  return reel_geom_homography(from, c, out);
}

int reel_xform_at(const reel_xform_t *x, int frame, reel_xf_entry_t *out) {
  if (x->n <= 0) {
    reel_error(REEL_EUSER, "the Transform holds no frames");
    return -1;
  }
  int lo = 0, hi = x->n - 1;
  if (frame <= x->e[0].frame || frame >= x->e[hi].frame) {
    *out = x->e[frame <= x->e[0].frame ? 0 : hi];
    if (out->frame != frame) out->status = REEL_XF_HELD;
    out->frame = frame;
    return 0;
  }
  while (hi - lo > 1) { /* e[lo].frame <= frame < e[hi].frame */
    int mid = (lo + hi) / 2;
    if (x->e[mid].frame <= frame)
      lo = mid;
    else
      hi = mid;
  }
  const reel_xf_entry_t *a = &x->e[lo], *b = &x->e[hi];
  *out = *a;
  if (a->frame == frame) return 0;
  double t = (double)(frame - a->frame) / (double)(b->frame - a->frame);
  if (reel_xf_lerp(&a->m, &b->m, t, x->moving, &out->m)) out->m = t < 0.5 ? a->m : b->m;
  out->frame = frame;
  out->status = REEL_XF_INTERPOLATED;
  out->residual = fmax(a->residual, b->residual);
  out->iterations = 0;
  return 0;
}

/* ---- text ---- */

static int putf(reel_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int putf(reel_buf_t *b, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  return k < 0 || (size_t)k >= sizeof tmp ? -1 : reel_buf_put(b, tmp, (size_t)k);
}

int reel_xform_entry_json(const reel_xform_t *x, const reel_xf_entry_t *e, reel_buf_t *out) {
  double c[8];
  int st = e->status >= 0 && e->status <= REEL_XF_HELD ? e->status : 0;
  if (putf(out, "{\"frame\": %d, \"status\": \"%s\", \"residual\": ", e->frame, status_names[st]))
    return -1;
  if (isfinite(e->residual) ? putf(out, "%.6g", e->residual) : putf(out, "null")) return -1;
  if (putf(out, ", \"iterations\": %d, \"matrix\": [", e->iterations)) return -1;
  for (int k = 0; k < 9; k++)
    if (putf(out, "%s%.12g", k ? ", " : "", e->m.m[k])) return -1;
  if (putf(out, "], \"corners\": [")) return -1;
  if (reel_xf_corners(&e->m, x->moving, c)) {
    if (putf(out, "]}")) return -1;
    return 0;
  }
  for (int k = 0; k < 8; k++)
    if (putf(out, "%s%.6f", k ? ", " : "", c[k])) return -1;
  return putf(out, "]}");
}

/* The line that identifies the model and formats of a file's entries. */
static int head_json(const reel_xform_t *x, reel_buf_t *b) {
  reel_box_t m = x->moving, f = x->fixed;
  return putf(b,
              "  \"model\": \"%s\", \"moving_format\": [%d, %d, %d, %d], \"fixed_format\": [%d, "
              "%d, %d, %d],\n",
              reel_xf_model_names[x->model], m.x0, m.y0, m.x1, m.y1, f.x0, f.y0, f.x1, f.y1);
}

static int head_nuke(const reel_xform_t *x, reel_buf_t *b) {
  reel_box_t m = x->moving, f = x->fixed;
  return putf(b, "# reel-transform-formats %s %d %d %d %d %d %d %d %d\n",
              reel_xf_model_names[x->model], m.x0, m.y0, m.x1, m.y1, f.x0, f.y0, f.x1, f.y1);
}

#define NUKE_ENTRY "# reel-transform "
#define JSON_ENTRY "    "

static int json_doc(const reel_xform_t *x, reel_buf_t *b) {
  if (putf(b, "{\n  \"reel_transform\": 1,\n") || head_json(x, b) ||
      putf(b, "  \"convention\": \"matrix maps moving (reference) pixel coordinates to fixed "
              "(source) pixel coordinates: column vectors (x, y, 1), y down, pixel centres at "
              "+0.5; corners: where the moving format's top-left, top-right, bottom-right and "
              "bottom-left corners land; residual: 1 - normalised correlation of the lumas\",\n"
              "  \"frames\": [\n"))
    return -1;
  for (int i = 0; i < x->n; i++)
    if (reel_buf_put(b, JSON_ENTRY, strlen(JSON_ENTRY)) || reel_xform_entry_json(x, &x->e[i], b) ||
        putf(b, "%s\n", i + 1 < x->n ? "," : ""))
      return -1;
  return putf(b, "  ]\n}\n") || reel_buf_put(b, "", 1);
}

int reel_xform_json(const reel_xform_t *x, reel_buf_t *out) { return json_doc(x, out); }

int reel_xform_nuke(const reel_xform_t *x, reel_buf_t *b) {
  reel_box_t mv = x->moving, fx = x->fixed;
  /* Nuke: origin at the bottom-left, y up. Corner k of Nuke's CornerPin2D
   * (1 bottom-left, 2 bottom-right, 3 top-right, 4 top-left) is Reel's
   * corner 3, 2, 1, 0 (top-left, top-right, bottom-right, bottom-left). */
  static const int reel_corner[4] = {3, 2, 1, 0};
  if (putf(b,
           "# Reel Transform as a Nuke CornerPin2D: from1-4 are the corners of the moving "
           "(reference)\n# format %dx%d, to1-4 where they land on the fixed (source) format "
           "%dx%d, keyed\n# per frame. Put the reference on the source's format first "
           "(Reformat, resize none,\n# centre off), then this node.\n",
           reel_box_w(mv), reel_box_h(mv), reel_box_w(fx), reel_box_h(fx)) ||
      head_nuke(x, b))
    return -1;
  for (int i = 0; i < x->n; i++)
    if (putf(b, NUKE_ENTRY) || reel_xform_entry_json(x, &x->e[i], b) || putf(b, "\n")) return -1;
  if (putf(b, "CornerPin2D {\n inputs 1\n")) return -1;
  for (int k = 0; k < 4; k++) {
    int rc = reel_corner[k];
    for (int axis = 0; axis < 2; axis++) {
      if (putf(b, axis ? " {curve" : " to%d {{curve", k + 1)) return -1;
      for (int i = 0; i < x->n; i++) {
        double c[8];
        if (reel_xf_corners(&x->e[i].m, mv, c)) continue;
        double v = axis ? (double)fx.y1 - c[2 * rc + 1] : c[2 * rc] - fx.x0;
        if (putf(b, " x%d %.4f", x->e[i].frame, v)) return -1;
      }
      if (putf(b, axis ? "}}\n" : "}")) return -1;
    }
  }
  double fxs[4] = {0, reel_box_w(mv), reel_box_w(mv), 0},
         fys[4] = {0, 0, reel_box_h(mv), reel_box_h(mv)};
  for (int k = 0; k < 4; k++)
    if (putf(b, " from%d {%g %g}\n", k + 1, fxs[k], fys[k])) return -1;
  return putf(b, " name ReelAlign\n label \"Reel %s\"\n}\n", reel_xf_model_names[x->model]) ||
         reel_buf_put(b, "", 1);
}

/* ---- files ---- */

int reel_xform_file_kind(const char *path) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  if (!dot || (slash && dot < slash)) return 0;
  if (!strcasecmp(dot + 1, "json")) return 1;
  if (!strcasecmp(dot + 1, "nk")) return 2;
  return 0;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  reel_buf_t b = {0};
  char tmp[65536];
  size_t k;
  while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
    if (reel_buf_put(&b, tmp, k)) break;
  fclose(f);
  if (reel_buf_put(&b, "", 1)) {
    reel_buf_free(&b);
    return NULL;
  }
  return (char *)b.p;
}

/* Reads one entry line (up to its newline) as reel_xform_entry_json writes
 * it. 0 / -1. */
static int parse_entry(const char *line, reel_xf_entry_t *e) {
  char s[2048];
  const char *p;
  size_t len = strcspn(line, "\n");
  if (len >= sizeof s) return -1;
  memcpy(s, line, len);
  s[len] = 0;
  memset(e, 0, sizeof *e);
  if (sscanf(s, "{\"frame\": %d", &e->frame) != 1) return -1;
  e->status = REEL_XF_SOLVED;
  for (int i = 0; i <= REEL_XF_HELD; i++) {
    char want[64];
    snprintf(want, sizeof want, "\"status\": \"%s\"", status_names[i]);
    if (strstr(s, want)) e->status = i;
  }
  e->residual = NAN;
  if ((p = strstr(s, "\"residual\": ")) && strncmp(p + 12, "null", 4))
    e->residual = strtod(p + 12, NULL);
  if ((p = strstr(s, "\"iterations\": "))) e->iterations = atoi(p + 14);
  if (!(p = strstr(s, "\"matrix\": ["))) return -1;
  p += 11;
  for (int k = 0; k < 9; k++) {
    char *end;
    e->m.m[k] = strtod(p, &end);
    if (end == p) return -1;
    p = end + strspn(end, ", ");
  }
  return 0;
}

/* Entries of an existing file with the same head line, appended to *v. */
static int read_entries(const char *text, const char *head, int kind, reel_xf_entry_t **v, int *n) {
  if (!text || !strstr(text, head)) return 0;
  const char *prefix = kind == 2 ? NUKE_ENTRY : JSON_ENTRY;
  size_t pl = strlen(prefix);
  for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
    if (strncmp(l, prefix, pl) || strncmp(l + pl, "{\"frame\"", 8)) continue;
    reel_xf_entry_t e;
    if (parse_entry(l + pl, &e)) continue;
    reel_xf_entry_t *nv = realloc(*v, sizeof *nv * (size_t)(*n + 1));
    if (!nv) return -1;
    *v = nv;
    (*v)[(*n)++] = e;
  }
  return 0;
}

static int by_frame(const void *a, const void *b) {
  int fa = ((const reel_xf_entry_t *)a)->frame, fb = ((const reel_xf_entry_t *)b)->frame;
  return (fa > fb) - (fa < fb);
}

static int lock_beside(const char *path) {
  char lp[4200];
  const char *slash = strrchr(path, '/');
  if (slash)
    snprintf(lp, sizeof lp, "%.*s/.%s.lock", (int)(slash - path), path, slash + 1);
  else
    snprintf(lp, sizeof lp, ".%s.lock", path);
  int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd >= 0 && flock(fd, LOCK_EX)) {
    close(fd);
    fd = -1;
  }
  if (fd < 0) reel_error(REEL_EIO, "cannot lock '%s': %s", lp, strerror(errno));
  return fd;
}

int reel_xform_save_file(const reel_xform_t *x, const char *path, int merge) {
  int kind = reel_xform_file_kind(path), lock = -1, rc = -1;
  reel_buf_t head = {0}, doc = {0};
  reel_xf_entry_t *all = NULL;
  char *old = NULL, tmp[4200];
  reel_xform_t view = *x;
  if (!kind) {
    reel_error(REEL_EUSER, "'%s': a Transform is written as .json or .nk", path);
    return -1;
  }
  if (merge && (lock = lock_beside(path)) < 0) return -1;
  int n = 0;
  if (merge &&
      ((kind == 1 ? head_json(x, &head) : head_nuke(x, &head)) || reel_buf_put(&head, "", 1) ||
       read_entries(old = slurp(path), (char *)head.p, kind, &all, &n)))
    goto out;
  /* the value's entries replace the file's for the same frames */
  reel_xf_entry_t *nv = realloc(all, sizeof *nv * (size_t)(n + x->n + 1));
  if (!nv) goto oom;
  all = nv;
  int kept = 0;
  for (int i = 0; i < n; i++) {
    int dup = 0;
    for (int k = 0; k < x->n && !dup; k++) dup = x->e[k].frame == all[i].frame;
    if (!dup) all[kept++] = all[i];
  }
  memcpy(all + kept, x->e, sizeof *all * (size_t)x->n);
  n = kept + x->n;
  qsort(all, (size_t)n, sizeof *all, by_frame);
  view.e = all;
  view.n = n;
  if (kind == 1 ? json_doc(&view, &doc) : reel_xform_nuke(&view, &doc)) goto out;
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f || fwrite(doc.p, 1, doc.n - 1, f) != doc.n - 1 || fclose(f) || rename(tmp, path)) {
    reel_error(REEL_EIO, "cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
    goto out;
  }
  rc = 0;
  goto out;
oom:
  reel_error(REEL_EIO, "out of memory");
out:
  if (lock >= 0) close(lock);
  free(old);
  free(all);
  reel_buf_free(&head);
  reel_buf_free(&doc);
  return rc;
}

/* e's line as reel_xform_save_file writes it into a file of that kind. */
static int entry_line(const reel_xform_t *x, const reel_xf_entry_t *e, int kind, reel_buf_t *out) {
  const char *prefix = kind == 2 ? NUKE_ENTRY : JSON_ENTRY;
  return reel_buf_put(out, prefix, strlen(prefix)) || reel_xform_entry_json(x, e, out) ||
         reel_buf_put(out, "", 1);
}

/* The entry Write writes at `frame`: a value of one entry (a frame's own,
 * or a constant's) is written as it is, under its own frame number. */
static int entry_for(const reel_xform_t *x, int frame, reel_xf_entry_t *e) {
  if (x->n != 1) return reel_xform_at(x, frame, e);
  *e = x->e[0];
  return 0;
}

int reel_xform_write(const reel_xform_t *x, int frame, const char *path, int merge,
                     reel_meta_t *rec) {
  reel_xf_entry_t e;
  reel_buf_t line = {0};
  int rc = -1;
  if (entry_for(x, frame, &e)) return -1;
  /* the frame's entry alone: a Transform may hold more than this frame */
  reel_xform_t one = *x;
  one.e = &e;
  one.n = 1;
  if (!reel_xform_save_file(&one, path, merge) &&
      !entry_line(x, &e, reel_xform_file_kind(path), &line) && !reel_meta_set(rec, "path", path) &&
      !reel_meta_set(rec, "entry", (char *)line.p))
    rc = 0;
  reel_buf_free(&line);
  return rc;
}

int reel_xform_record_holds(const reel_meta_t *rec, const reel_xform_t *x, int frame) {
  const char *path = reel_meta_get(rec, "path"), *want = reel_meta_get(rec, "entry");
  reel_buf_t line = {0};
  reel_xf_entry_t e;
  int ok = 0;
  if (!path || !want) return 0;
  if (x && (entry_for(x, frame, &e) || entry_line(x, &e, reel_xform_file_kind(path), &line) ||
            strcmp(want, (char *)line.p)))
    goto out;
  char *text = slurp(path);
  ok = text && strstr(text, want) != NULL;
  free(text);
out:
  reel_buf_free(&line);
  reel_error_clear();
  return ok;
}
