/* Read: an image sequence (or one still) from disk. Frame patterns: ####,
 * @@@@, %04d. The key of a frame is the content key of its file (memoised by
 * path, size, mtime and inode), so renaming or touching a scan does not
 * recompute anything and rewriting its pixels does. Formats and decoders:
 * engine/imageio.h. */
#include "framepath.h"
#include "imageio.h"
#include "node.h"
#include "pool.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  const char *path;
  double range[2];
  int missing;
  const char *layer, *channels;
  int part;
  const char *colorspace;
  int nonfinite;
} read_t;

enum { MISSING_ERROR, MISSING_HOLD, MISSING_BLACK };
static const char *const missing_names[] = {"error", "hold", "black", NULL};
/* in the order of reel_io_nonfinite_t */
static const char *const nonfinite_names[] = {"error", "zero", "keep", NULL};

static const reel_param_desc_t params[] = {
    {"path", REEL_P_STRING, 1, offsetof(read_t, path), {0}, NULL, 1, 0, NULL,
     "file or frame pattern (src.####.exr, src.%04d.dpx); also the first positional entry",
     REEL_PF_STATIC | REEL_PF_REQUIRED | REEL_PF_NOKEY},
    {"range", REEL_P_VECTOR, 2, offsetof(read_t, range), {0, -1}, NULL, -1e9, 1e9, NULL,
     "{first, last} frames of the sequence; default: the frames found on disk (a still "
     "without a pattern is the same picture on every frame)",
     REEL_PF_STATIC | REEL_PF_NOKEY},
    REEL_PENUM(read_t, missing, missing_names, "error",
               "a frame without a file: stop with an error, hold the nearest frame, or black"),
    REEL_PSTR(read_t, layer, NULL, "EXR layer to read (its channels layer.R, layer.G, ...)"),
    REEL_PSTR(read_t, channels, NULL, "comma list of channels to read, e.g. \"R,G,B\""),
    {"part", REEL_P_INT, 1, offsetof(read_t, part), {0}, NULL, 0, 1000, NULL,
     "EXR part (subimage) index", REEL_PF_STATIC},
    REEL_PSTR(read_t, colorspace, NULL,
              "colour space tag; default: the file's tag, else by format (EXR linear, DPX and "
              "Cineon log, others sRGB)"),
    REEL_PENUM(read_t, nonfinite, nonfinite_names, "error",
               "NaN and infinite samples in a float or half file (a damaged render or scan): "
               "stop with an error that says how many were found in which channel, replace them "
               "with 0, or keep them (later nodes may spread them to their neighbours)"),
};

static int has_range(const read_t *p) { return p->range[0] <= p->range[1]; }

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The file that frame `frame` reads ("" for black). */
static int frame_file(reel_node_t *n, const read_t *p, int frame, char *out, size_t cap) {
  if (reel_framepath(p->path, frame, out, cap)) return -1;
  if (!reel_framepath_has(p->path)) {
    if (exists(out)) return 0;
    reel_node_error(n, REEL_EUSER, "'%s' does not exist: check the path", out);
    return -1;
  }
  const reel_clip_t *c = reel_node_clip(n);
  int inrange = frame >= c->first && frame <= c->last;
  if (inrange && exists(out)) return 0;
  if (p->missing == MISSING_BLACK) {
    out[0] = 0;
    return 0;
  }
  if (p->missing == MISSING_HOLD) {
    for (int d = 1; d <= c->last - c->first + 1; d++)
      for (int s = -1; s <= 1; s += 2) {
        int f = frame + s * d;
        if (f < c->first || f > c->last) continue;
        if (reel_framepath(p->path, f, out, cap)) return -1;
        if (exists(out)) return 0;
      }
  }
  reel_framepath(p->path, frame, out, cap);
  reel_node_error(n, REEL_EUSER,
                  "frame %d: '%s' %s; check the path and range, or set missing = \"hold\" or "
                  "\"black\"",
                  frame, out, inrange ? "does not exist" : "is outside the sequence's range");
  return -1;
}

static reel_io_read_opts_t opts_of(const read_t *p) {
  return (reel_io_read_opts_t){p->part, p->layer, p->channels,
                               (reel_io_nonfinite_t)p->nonfinite};
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const read_t *p = pv;
  char path[4096];
  int first = 0, last = 0, count = 0, probe_frame;
  if (!reel_framepath_has(p->path)) {
    out->constant = !has_range(p);
    first = has_range(p) ? (int)p->range[0] : 0;
    last = has_range(p) ? (int)p->range[1] : 0;
    probe_frame = first;
  } else {
    if (reel_framepath_scan(p->path, &first, &last, &count)) return -1;
    if (!has_range(p) && !count) {
      reel_node_error(n, REEL_EUSER, "no file matches '%s': check the path and the padding", p->path);
      return -1;
    }
    int lo = first, hi = last;
    if (has_range(p)) {
      first = (int)p->range[0];
      last = (int)p->range[1];
    }
    /* probe the first file inside the range */
    probe_frame = INT_MIN;
    for (int f = first; f <= last && probe_frame == INT_MIN; f++) {
      if (count && (f < lo || f > hi)) continue;
      if (reel_framepath(p->path, f, path, sizeof path)) return -1;
      if (exists(path)) probe_frame = f;
      if (f - first > 100000) break;
    }
    if (probe_frame == INT_MIN) {
      reel_node_error(n, REEL_EUSER, "no file of '%s' exists in frames %d-%d", p->path, first, last);
      return -1;
    }
  }
  out->first = first;
  out->last = last;
  if (reel_framepath(p->path, probe_frame, path, sizeof path)) return -1;
  reel_io_info_t info = {0};
  int idx[REEL_MAXCH], rc = -1;
  reel_io_read_opts_t o = opts_of(p);
  if (reel_io_probe(path, p->part, &info)) goto out;
  int nch = reel_io_select(path, &info, &o, idx, out->ch);
  if (nch < 0) goto out;
  out->nch = nch;
  out->display = info.display;
  rc = 0;
out:
  if (rc) reel_error_prefix("%s:", reel_node_label(n));
  reel_io_info_clear(&info);
  return rc;
}

static int key(reel_job_t *j, const void *pv, reel_hasher_t *h) {
  const read_t *p = pv;
  char path[4096];
  if (frame_file(j->node, p, j->frame == REEL_FRAME_CONST ? 0 : j->frame, path, sizeof path))
    return -1;
  if (!path[0]) { /* black */
    const reel_clip_t *c = reel_node_clip(j->node);
    reel_hash_str(h, "black");
    reel_hash_i64(h, reel_box_w(c->display));
    reel_hash_i64(h, reel_box_h(c->display));
    reel_hash_i64(h, c->nch);
    return 0;
  }
  reel_key_t k;
  if (reel_job_file_key(j, path, &k)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    return -1;
  }
  reel_hash_key(h, &k);
  return 0;
}

static const char *default_space(const char *format) {
  if (!strcmp(format, "openexr")) return "linear";
  if (!strcmp(format, "dpx") || !strcmp(format, "cineon")) return "log";
  return "sRGB";
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const read_t *p = pv;
  char path[4096];
  reel_cl_t *cl = reel_job_cl(j);
  if (!cl) return -1;
  if (frame_file(j->node, p, j->frame == REEL_FRAME_CONST ? 0 : j->frame, path, sizeof path))
    return -1;
  const reel_clip_t *c = reel_node_clip(j->node);
  if (!path[0]) {
    const char *names[REEL_MAXCH];
    for (int i = 0; i < c->nch; i++) names[i] = c->ch[i];
    reel_image_t *im = reel_image_new(cl, c->nch, names, (reel_box_t){0, 0, 0, 0}, c->display);
    if (!im) return -1;
    *out = &im->v;
    return 0;
  }
  reel_hostimg_t h = {0};
  reel_io_read_opts_t o = opts_of(p);
  reel_image_t *im = NULL;
  int rc = -1;
  if (reel_io_read(path, &o, &h)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  if (h.nch != c->nch) {
    reel_node_error(j->node, REEL_EUSER,
                    "'%s' gives %d channels where the sequence's first file gave %d; all frames "
                    "must have the same channels",
                    path, h.nch, c->nch);
    goto out;
  }
  const char *names[REEL_MAXCH];
  for (int i = 0; i < h.nch; i++) names[i] = h.ch[i];
  if (!(im = reel_image_new(cl, h.nch, names, h.data, h.display))) goto out;
  if (reel_image_upload(im, h.px) || reel_meta_copy(&im->meta, &h.meta)) goto out;
  const char *cs = p->colorspace ? p->colorspace : reel_meta_get(&h.meta, "oiio:ColorSpace");
  if (!cs) cs = default_space(reel_meta_get(&h.meta, "reel:format") ? reel_meta_get(&h.meta, "reel:format") : "");
  if (reel_meta_set(&im->meta, "reel:colorspace", cs) || reel_meta_set(&im->meta, "reel:source", path))
    goto out;
  *out = &im->v;
  im = NULL;
  rc = 0;
out:
  reel_image_unref(im);
  reel_hostimg_clear(&h);
  return rc;
}

const reel_node_desc_t reel_node_read = {
    .name = "Read",
    .version = 1,
    .summary = "Read an image sequence: EXR, DPX, Cineon, TIFF, PNG, JPEG",
    .doc = "Integer formats are scaled to 0-1 floats; EXR keeps its data and display windows.",
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(read_t),
    .clip = clip,
    .key = key,
    .eval = eval,
};
