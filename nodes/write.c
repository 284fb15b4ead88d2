/* Write: renders its input to files (EXR half/float with none, RLE, ZIP, PIZ
 * or DWAA/DWAB; DPX 10-bit; TIFF 16-bit; PNG; JPEG), a Model to one
 * .reelnet file, a Transform to .json or .nk (engine/xform.h), or a Grade to
 * one .cube, .cc, .ccc or .cdl file. Each file is written under a temporary
 * name and renamed, so a killed render never leaves half a file. Every file
 * carries provenance (reel:key, reel:version, reel:lineage, reel:graph). The
 * result is a record of the file's size, mtime and inode: a later render
 * skips it while unchanged. */
#include "framepath.h"
#include "grade.h"
#include "imageio.h"
#include "nn/model.h"
#include "node.h"
#include "pool.h"
#include "record.h"
#include "xform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
  const char *path;
  int format, pixeltype, compression, quality;
  const char *colorspace;
  int mkdirs;
} write_t;

static const char *const formats[] = {"auto", "exr", "dpx", "tiff", "png", "jpeg", NULL};
static const char *const pixeltypes[] = {"auto", "half", "float", "uint8", "uint10", "uint16", NULL};
static const char *const compressions[] = {"auto", "none", "zip", "zips", "piz",
                                           "dwaa", "dwab", "lzw",  "rle", NULL};

static const reel_param_desc_t params[] = {
    {"path", REEL_P_STRING, 1, offsetof(write_t, path), {0}, NULL, 1, 0, NULL,
     "output file or frame pattern (out.####.exr); a Model: one .reelnet file; a Transform: "
     ".json or .nk (Nuke), one file per frame with a pattern, else all frames in one file; a "
     "Grade: one .cube, .cc, .ccc or .cdl file",
     REEL_PF_STATIC | REEL_PF_REQUIRED},
    REEL_PENUM(write_t, format, formats, "auto", "file format; auto: from the extension"),
    REEL_PENUM(write_t, pixeltype, pixeltypes, "auto",
               "sample type; auto: EXR half, DPX uint10, TIFF uint16, PNG and JPEG uint8"),
    REEL_PENUM(write_t, compression, compressions, "auto",
               "EXR: none, rle, zip, zips, piz, dwaa, dwab (auto: zip); TIFF: none, zip, lzw"),
    {"quality", REEL_P_INT, 1, offsetof(write_t, quality), {0}, NULL, 0, 100, NULL,
     "JPEG quality 1-100 (0: 95); EXR DWA compression level (0: 45); EXR ZIP/ZIPS deflate "
     "level 1-9 (0: 4, the best time for its size)",
     REEL_PF_STATIC},
    REEL_PSTR(write_t, colorspace, NULL,
              "colour space tag written to the file (default: the image's tag); converts "
              "nothing: put a Colorspace node before"),
    REEL_PBOOL(write_t, mkdirs, 1, "create missing output directories"),
};

/* any type: an Image (frames), a Model (one .reelnet file) or a Grade (one
 * LUT or CDL file); check() refuses the rest */
static const reel_port_desc_t inputs[] = {
    {"img", REEL_V_NONE, 0,
     "image to write, a Model (.reelnet), a Transform (.json, .nk) or a Grade (.cube, .cc, "
     ".ccc, .cdl)"}};

static const char *ext_format(const char *path) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  if (!dot || (slash && dot < slash)) return NULL;
  static const struct {
    const char *ext, *fmt;
  } map[] = {{"exr", "exr"}, {"dpx", "dpx"},  {"tif", "tiff"}, {"tiff", "tiff"},
             {"png", "png"}, {"jpg", "jpeg"}, {"jpeg", "jpeg"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcasecmp(dot + 1, map[i].ext)) return map[i].fmt;
  return NULL;
}

static const char *format_of(const write_t *p) {
  return p->format ? formats[p->format] : ext_format(p->path);
}

static int is_reelnet(const char *path) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  return dot && (!slash || dot > slash) && !strcasecmp(dot + 1, "reelnet");
}

/* A Model or a Grade is one file for all frames (ext_ok: the path's
 * extension fits, files: what it should be); the image options do not apply. */
static int check_single(reel_node_t *n, const write_t *p, const char *what, int ext_ok,
                        const char *files) {
  if (!ext_ok) {
    reel_node_error(n, REEL_EUSER, "input 'img' gives a %s, which is written as %s, not '%s'",
                    what, files, p->path);
    return -1;
  }
  if (reel_framepath_has(p->path)) {
    reel_node_error(n, REEL_EUSER,
                    "a %s is one file for all frames: remove the frame pattern from '%s'", what,
                    p->path);
    return -1;
  }
  if (p->format || p->pixeltype || p->compression) {
    reel_node_error(n, REEL_EUSER, "%s does not apply to a %s: leave it out",
                    p->format ? "format" : p->pixeltype ? "pixeltype" : "compression", what);
    return -1;
  }
  return 0;
}

static int check(reel_node_t *n, const void *pv) {
  const write_t *p = pv;
  const reel_clip_t *in = reel_node_input_clip(n, 0);
  if (in && in->type == REEL_V_MODEL)
    return check_single(n, p, "Model", is_reelnet(p->path), "a .reelnet file");
  if (in && in->type == REEL_V_TRANSFORM && reel_xform_file_kind(p->path)) return 0;
  if (in && in->type == REEL_V_TRANSFORM) {
    reel_node_error(n, REEL_EUSER, "a Transform is written as .json or .nk, not '%s'", p->path);
    return -1;
  }
  if (in && in->type == REEL_V_GRADE)
    return check_single(n, p, "Grade", reel_grade_file_ext(p->path) != 0,
                        ".cube (3D LUT), .cc, .ccc or .cdl (ASC CDL)");
  if (in && in->type != REEL_V_IMAGE) {
    reel_node_error(n, REEL_EUSER,
                    "writes Images, Models, Transforms and Grades, but input 'img' gives %s values",
                    reel_vtype_name(in->type));
    return -1;
  }
  if (reel_grade_file_ext(p->path)) {
    reel_node_error(n, REEL_EUSER,
                    "'%s' is a LUT/CDL file, but input 'img' gives an Image: connect a "
                    "MatchGrade to write a Grade, or write images as .exr, .dpx, .tif, .png or "
                    ".jpg",
                    p->path);
    return -1;
  }
  if (is_reelnet(p->path)) {
    reel_node_error(n, REEL_EUSER,
                    "'%s' is a model file (.reelnet), but input 'img' gives an Image: write "
                    "images as .exr, .dpx, .tif, .png or .jpg",
                    p->path);
    return -1;
  }
  const char *f = format_of(p);
  if (!f) {
    reel_node_error(n, REEL_EUSER,
                    "cannot tell the format of '%s' from its extension: use .exr, .dpx, .tif, "
                    ".png or .jpg, or set format",
                    p->path);
    return -1;
  }
  const char *pt = pixeltypes[p->pixeltype], *cz = compressions[p->compression];
  static const struct {
    const char *fmt, *types, *comps;
  } ok[] = {{"exr", " auto half float ", " auto none rle zip zips piz dwaa dwab "},
            {"dpx", " auto uint8 uint10 uint16 ", " auto none "},
            {"tiff", " auto uint8 uint16 float ", " auto none zip lzw "},
            {"png", " auto uint8 uint16 ", " auto "},
            {"jpeg", " auto uint8 ", " auto "}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    if (strcmp(ok[i].fmt, f)) continue;
    char w[32];
    snprintf(w, sizeof w, " %s ", pt);
    if (!strstr(ok[i].types, w)) {
      reel_node_error(n, REEL_EUSER, "%s files cannot hold pixeltype \"%s\"; use one of:%s", f,
                      pt, ok[i].types);
      return -1;
    }
    snprintf(w, sizeof w, " %s ", cz);
    if (!strstr(ok[i].comps, w)) {
      reel_node_error(n, REEL_EUSER, "%s files cannot use compression \"%s\"; use one of:%s", f,
                      cz, ok[i].comps);
      return -1;
    }
  }
  return 0;
}

static int valid(reel_job_t *j, const void *pv, reel_value_t *cached) {
  reel_record_t *r = reel_record_cast(cached);
  if (r && reel_meta_get(&r->kv, "entry")) return reel_xform_record_holds(&r->kv, NULL, 0);
  return reel_record_file_valid(r);
}

/* Hash of what is written: windows, channel names and float pixels, so that
 * --verify can check a file against a fresh computation of its input. */
static void pixel_hash(const reel_hostimg_t *h, char out[REEL_KEY_HEX]) {
  reel_hasher_t *x = reel_hasher_new();
  if (!x) {
    out[0] = 0;
    return;
  }
  reel_hash_bytes(x, &h->data, sizeof h->data);
  reel_hash_bytes(x, &h->display, sizeof h->display);
  for (int c = 0; c < h->nch; c++) reel_hash_str(x, h->ch[c]);
  if (h->px)
    reel_hash_bytes(x, h->px, sizeof(float) * (size_t)h->nch * (size_t)reel_box_w(h->data) *
                                  (size_t)reel_box_h(h->data));
  reel_key_t k = reel_hasher_digest(x);
  reel_hasher_free(x);
  reel_key_hex(&k, out);
}

static int to_host(reel_image_t *im, reel_hostimg_t *h) {
  h->nch = im->nch;
  memcpy(h->ch, im->ch, sizeof h->ch);
  h->data = im->data;
  h->display = im->display;
  if (reel_image_bytes(im) && !(h->px = reel_pool_alloc(reel_image_bytes(im)))) return -1;
  return reel_image_download(im, h->px);
}

/* Hash of a model's encoding (without the provenance Write adds), for --verify. */
static int model_hash(const reel_model_t *m, char out[REEL_KEY_HEX]) {
  reel_buf_t b = {0};
  int rc = reel_model_encode(m, &b);
  if (!rc) {
    reel_key_t k = reel_key_of(b.p, b.n);
    reel_key_hex(&k, out);
  }
  reel_buf_free(&b);
  return rc;
}

/* Hash of a grade's serialisation, for --verify. */
static int grade_hash(const reel_grade_t *g, char out[REEL_KEY_HEX]) {
  reel_buf_t b = {0};
  int rc = reel_value_save(&g->v, &b);
  if (!rc) {
    reel_key_t k = reel_key_of(b.p, b.n);
    reel_key_hex(&k, out);
  }
  reel_buf_free(&b);
  return rc;
}

static int verify(reel_job_t *j, const void *pv, reel_value_t *cached) {
  reel_record_t *r = reel_record_cast(cached);
  reel_xform_t *x = j->nin ? reel_xform_cast(j->in[0]) : NULL;
  if (x && r && reel_xform_record_holds(&r->kv, x, j->frame) != 1) {
    reel_node_error(j->node, REEL_EINTERNAL, "--verify: frame %d: the transform in '%s' differs "
                    "from what its input gives now; please report this with the graph file",
                    j->frame, reel_meta_get(&r->kv, "path"));
    return -1;
  }
  if (x) return 0;
  reel_model_t *m = j->nin ? reel_model_cast(j->in[0]) : NULL;
  reel_grade_t *g = j->nin ? reel_grade_cast(j->in[0]) : NULL;
  reel_image_t *im = m || g ? NULL : reel_job_image(j, 0);
  if (!r || (!im && !m && !g)) return -1;
  char now[REEL_KEY_HEX];
  int rc;
  if (m) {
    rc = model_hash(m, now);
  } else if (g) {
    rc = grade_hash(g, now);
  } else {
    reel_hostimg_t h = {0};
    rc = to_host(im, &h);
    pixel_hash(&h, now);
    reel_hostimg_clear(&h);
  }
  const char *was = reel_meta_get(&r->kv, m || g ? "content" : "pixels");
  if (!rc && (!was || strcmp(was, now))) {
    reel_node_error(j->node, REEL_EINTERNAL,
                    "--verify: frame %d: '%s' was written from different %s than its input "
                    "gives now. The key misses something the result depends on; please report "
                    "this with the graph file",
                    j->frame, reel_meta_get(&r->kv, "path"),
                    m ? "model content" : g ? "grade content" : "pixels");
    rc = -1;
  }
  return rc;
}

static int eval_model(reel_job_t *j, const write_t *p, const reel_model_t *m, reel_value_t **out) {
  char path[4096], keyhex[REEL_KEY_HEX], lineage[2048], content[REEL_KEY_HEX];
  reel_record_t *rec = NULL;
  int rc = -1;
  snprintf(path, sizeof path, "%s", p->path);
  if (p->mkdirs && reel_mkdirs_for(path)) {
    reel_node_error(j->node, REEL_EIO, "cannot create the directory of '%s': %s", path,
                    strerror(errno));
    return -1;
  }
  reel_key_hex(&j->key, keyhex);
  reel_node_lineage(j->node, lineage, sizeof lineage);
  /* a shallow copy with Write's provenance: the input model is shared and
   * stays as it is; the copy owns only its info and is never unreferenced */
  /* the date goes into the file, not into the cached Model (a retrained
   * model must equal the cached one byte for byte under --verify) */
  char written[64];
  time_t now_t = time(NULL);
  struct tm tmv;
  gmtime_r(&now_t, &tmv);
  strftime(written, sizeof written, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  reel_model_t tagged = *m;
  tagged.info = NULL;
  if ((m->info && !(tagged.info = strdup(m->info))) ||
      reel_model_info_set(&tagged, "reel:key", keyhex) ||
      reel_model_info_set(&tagged, "reel:version", reel_version()) ||
      reel_model_info_set(&tagged, "reel:lineage", lineage) ||
      reel_model_info_set(&tagged, "reel:graph", reel_node_file(j->node)) ||
      reel_model_info_set(&tagged, "reel:written", written) ||
      reel_model_save_file(&tagged, path)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  if (model_hash(m, content) || !(rec = reel_record_new()) || reel_record_file(rec, path) ||
      reel_meta_set(&rec->kv, "content", content)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  *out = &rec->v;
  rec = NULL;
  rc = 0;
out:
  if (rec) reel_value_unref(&rec->v);
  free(tagged.info);
  return rc;
}

/* A Grade as a LUT or CDL file: the grade's own figures and Write's
 * provenance go in as comments; a CDL's id is the file's base name. */
static int eval_grade(reel_job_t *j, const write_t *p, const reel_grade_t *g, reel_value_t **out) {
  char path[4096], keyhex[REEL_KEY_HEX], lineage[2048], content[REEL_KEY_HEX];
  char id[256], *comment = NULL;
  reel_record_t *rec = NULL;
  int rc = -1;
  snprintf(path, sizeof path, "%s", p->path);
  if (p->mkdirs && reel_mkdirs_for(path)) {
    reel_node_error(j->node, REEL_EIO, "cannot create the directory of '%s': %s", path,
                    strerror(errno));
    return -1;
  }
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  snprintf(id, sizeof id, "%.*s", (int)(strrchr(base, '.') ? strrchr(base, '.') - base : 255),
           base);
  reel_key_hex(&j->key, keyhex);
  reel_node_lineage(j->node, lineage, sizeof lineage);
  size_t cap = 8192 + (g->info ? strlen(g->info) : 0);
  if (!(comment = malloc(cap))) {
    reel_error(REEL_EIO, "out of memory");
    return -1;
  }
  snprintf(comment, cap, "written by Reel %s\nreel:key: %s\nreel:lineage: %s\nreel:graph: %s\n%s",
           reel_version(), keyhex, lineage, reel_node_file(j->node), g->info ? g->info : "");
  if (reel_grade_save_file(g, path, id, comment, 65)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  if (grade_hash(g, content) || !(rec = reel_record_new()) || reel_record_file(rec, path) ||
      reel_meta_set(&rec->kv, "content", content)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  *out = &rec->v;
  rec = NULL;
  rc = 0;
out:
  if (rec) reel_value_unref(&rec->v);
  free(comment);
  return rc;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const write_t *p = pv;
  reel_model_t *m = j->nin ? reel_model_cast(j->in[0]) : NULL;
  reel_xform_t *x = j->nin ? reel_xform_cast(j->in[0]) : NULL;
  if (m) return eval_model(j, p, m, out);
  reel_grade_t *g = j->nin ? reel_grade_cast(j->in[0]) : NULL;
  if (g) return eval_grade(j, p, g, out);
  reel_image_t *im = x ? NULL : reel_job_image(j, 0);
  if (!im && !x) return -1;
  char path[4096], keyhex[REEL_KEY_HEX], lineage[2048], frame[32], pix[REEL_KEY_HEX];
  if (reel_framepath(p->path, j->frame, path, sizeof path)) return -1;
  if (p->mkdirs && reel_mkdirs_for(path)) {
    reel_node_error(j->node, REEL_EIO, "cannot create the directory of '%s': %s", path,
                    strerror(errno));
    return -1;
  }
  if (x) { /* one file per frame with a pattern, else every frame into one */
    reel_record_t *rec = reel_record_new();
    if (rec && !reel_xform_write(x, j->frame, path, !reel_framepath_has(p->path), &rec->kv)) {
      *out = &rec->v;
      return 0;
    }
    if (rec) reel_value_unref(&rec->v);
    reel_error_prefix("%s:", reel_node_label(j->node));
    return -1;
  }
  reel_hostimg_t h = {0};
  reel_record_t *rec = NULL;
  int rc = -1;
  if (to_host(im, &h) || reel_meta_copy(&h.meta, &im->meta)) goto out;
  reel_key_hex(&j->key, keyhex);
  reel_node_lineage(j->node, lineage, sizeof lineage);
  snprintf(frame, sizeof frame, "%d", j->frame);
  const char *cs = p->colorspace ? p->colorspace : reel_meta_get(&im->meta, "reel:colorspace");
  if (reel_meta_set(&h.meta, "reel:key", keyhex) ||
      reel_meta_set(&h.meta, "reel:version", reel_version()) ||
      reel_meta_set(&h.meta, "reel:lineage", lineage) ||
      reel_meta_set(&h.meta, "reel:graph", reel_node_file(j->node)) ||
      reel_meta_set(&h.meta, "reel:frame", frame) ||
      (cs && reel_meta_set(&h.meta, "reel:colorspace", cs)))
    goto out;
  reel_io_write_opts_t o = {format_of(p), p->pixeltype ? pixeltypes[p->pixeltype] : NULL,
                            p->compression ? compressions[p->compression] : NULL, p->quality};
  if (!strcmp(o.format, "exr") && !o.compression) o.compression = "zip";
  if (reel_io_write(path, &o, &h)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  pixel_hash(&h, pix);
  if (!(rec = reel_record_new()) || reel_record_file(rec, path) ||
      reel_meta_set(&rec->kv, "pixels", pix)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  *out = &rec->v;
  rec = NULL;
  rc = 0;
out:
  if (rec) reel_value_unref(&rec->v);
  reel_hostimg_clear(&h);
  return rc;
}

const reel_node_desc_t reel_node_write = {
    .name = "Write",
    .version = 1,
    .summary = "Write images, a Model, a Transform or a Grade to files atomically, with provenance",
    .inputs = inputs,
    .ninputs = 1,
    .output = REEL_V_RECORD,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(write_t),
    .flags = REEL_NF_SINK | REEL_NF_DISK,
    .check = check,
    .eval = eval,
    .valid = valid,
    .verify = verify,
};
