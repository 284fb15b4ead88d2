/* ApplyGrade: applies a Grade (from MatchGrade, or read from a .cube, .3dl,
 * .csp, .cc, .ccc or .cdl file) to R, G, B. One OpenCL kernel is generated
 * per chain of operations (opencl/lut.cl, with color.cl's shaper and CDL
 * functions), so a shaper + 3D LUT costs one pass over the planes; the
 * tables and parameters come from buffers, so refitting a grade of the
 * same shape reuses the compiled kernel. Other channels pass through. */
#include "buf.h"
#include "color.h"
#include "grade.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  const char *file, *id;
  int interp;
} applygrade_t;

static const char *const interps[] = {"trilinear", "tetrahedral", NULL};

static const reel_param_desc_t params[] = {
    REEL_PSTR(applygrade_t, file, NULL,
              "a LUT or CDL file to apply instead of the `grade` input: .cube (Iridas, Adobe, "
              "Resolve 1D/3D/shaper), .3dl (Discreet, Lustre), .csp (cineSpace), .cc, .ccc, .cdl"),
    REEL_PSTR(applygrade_t, id, NULL,
              "the ColorCorrection id to use from a .ccc or .cdl file (needed when it holds "
              "several)"),
    REEL_PENUM(applygrade_t, interp, interps, "tetrahedral",
               "3D LUT interpolation: tetrahedral (keeps neutrals neutral; what ociochecklut "
               "and OpenColorIO's INTERP_BEST use) or trilinear (OpenColorIO's FileTransform "
               "default)"),
};

static const reel_port_desc_t inputs[] = {
    {"img", REEL_V_IMAGE, 0, "image to grade (channels R, G, B)"},
    {"grade", REEL_V_GRADE, 1, "the Grade from MatchGrade (or give `file`)"},
};

/* ---- grades read from files, kept per process while the file is unchanged ---- */

#define NFILES 4
static struct {
  char *path, *id;
  struct stat st;
  reel_grade_t *g;
  unsigned use;
} files[NFILES];
static unsigned use_clock;
static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;

static int same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The Grade of (path, id): a new reference, or NULL with an error naming n. */
static reel_grade_t *file_grade(const reel_node_t *n, const char *path, const char *id) {
  struct stat st;
  if (stat(path, &st)) {
    reel_node_error(n, REEL_EUSER, "cannot read the LUT file '%s': check `file` (relative paths "
                    "start where reel runs)", path);
    return NULL;
  }
  const char *key = id ? id : "";
  reel_grade_t *g = NULL;
  pthread_mutex_lock(&files_mu);
  for (int i = 0; i < NFILES && !g; i++)
    if (files[i].g && !strcmp(files[i].path, path) && !strcmp(files[i].id, key) &&
        same_file(&files[i].st, &st)) {
      files[i].use = ++use_clock;
      g = reel_grade_cast(reel_value_ref(&files[i].g->v));
    }
  pthread_mutex_unlock(&files_mu);
  if (g) return g;
  if (!(g = reel_grade_load_file(path, id))) {
    reel_error_prefix("%s:", reel_node_label(n));
    return NULL;
  }
  pthread_mutex_lock(&files_mu);
  int k = 0;
  for (int i = 1; i < NFILES; i++)
    if (files[i].use < files[k].use) k = i;
  char *pc = strdup(path), *ic = strdup(key);
  if (pc && ic) {
    free(files[k].path);
    free(files[k].id);
    reel_grade_unref(files[k].g);
    files[k].path = pc, files[k].id = ic, files[k].st = st, files[k].use = ++use_clock;
    files[k].g = reel_grade_cast(reel_value_ref(&g->v));
  } else {
    free(pc);
    free(ic);
  }
  pthread_mutex_unlock(&files_mu);
  return g;
}

static int check(reel_node_t *n, const void *pv) {
  const applygrade_t *p = pv;
  int has_in = reel_node_input_clip(n, 1) != NULL, has_file = p->file && *p->file;
  if (has_in == has_file) {
    reel_node_error(n, REEL_EUSER, "%s",
                    has_in ? "give either the `grade` input or `file`, not both"
                           : "no grade: connect a MatchGrade node to `grade` or name a LUT file "
                             "(file = \"look.cube\")");
    return -1;
  }
  if (has_in && p->id && *p->id) {
    reel_node_error(n, REEL_EUSER, "`id` selects a correction in a CDL file; with the `grade` "
                                   "input, leave it out");
    return -1;
  }
  /* read the file now, so that a bad LUT is reported when the graph is built */
  reel_grade_t *g = has_file ? file_grade(n, p->file, p->id) : NULL;
  reel_grade_unref(g);
  return has_file && !g ? -1 : 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  int idx[3];
  *out = in[0];
  return reel_color_rgb(n, in[0].nch, in[0].ch, idx);
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  if (reel_reqs_add(q, 0, frame)) return -1;
  return reel_node_input_clip(n, 1) ? reel_reqs_add(q, 1, REEL_FRAME_CONST) : 0;
}

static int key(reel_job_t *j, const void *pv, reel_hasher_t *h) {
  const applygrade_t *p = pv;
  if (!p->file || !*p->file) return 0;
  reel_key_t k;
  if (reel_job_file_key(j, p->file, &k)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    return -1;
  }
  reel_hash_key(h, &k);
  return 0;
}

/* ---- the generated kernel ---- */

static int put(reel_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put(reel_buf_t *b, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  return k < 0 || k >= (int)sizeof line ? -1 : reel_buf_put(b, line, (size_t)k);
}

/* Copies q floats of P from `at` into the private array Q. */
static int load_q(reel_buf_t *b, int at, int q) {
  return put(b, "    float Q[%d];\n    for (int k = 0; k < %d; k++) Q[k] = P[%d + k];\n", q, q,
             at);
}

/* Kernel source for g's chain, and its tables (float4 per entry) and
 * parameters (floats). The source depends only on the kinds of the
 * operations, the interpolation and a CDL's clamping, so grades of one
 * shape (any sizes and values) share one compiled kernel. */
static int generate(const reel_grade_t *g, int tetra, reel_buf_t *src, reel_buf_t *tab,
                    reel_buf_t *par) {
  const char *fam[2] = {reel_cl_family_source("color"), reel_cl_family_source("lut")};
  if (!fam[0] || !fam[1]) {
    reel_error(REEL_EINTERNAL, "kernel families color and lut are not built in");
    return -1;
  }
  int rc = reel_buf_put(src, fam[0], strlen(fam[0])) || reel_buf_put(src, "\n", 1) ||
           reel_buf_put(src, fam[1], strlen(fam[1])) ||
           put(src, "\n__kernel void applygrade(__global const float *src, __global float *dst, "
                    "int plane, int ir, int ig, int ib, __global const float4 *T, "
                    "__global const float *P) {\n"
                    "  int i = get_global_id(0);\n  if (i >= plane) return;\n"
                    "  float px[16] = {src[(size_t)ir * plane + i], src[(size_t)ig * plane + i], "
                    "src[(size_t)ib * plane + i]};\n");
  for (int o = 0; o < g->nops && !rc; o++) {
    const reel_gop_t *op = &g->op[o];
    int at = (int)(par->n / sizeof(float)), t = (int)(tab->n / (4 * sizeof(float)));
    float q[16];
    int nq = 0;
    rc |= put(src, "  {\n");
    switch (op->kind) {
    case REEL_GOP_SHAPER:
      reel_shaper_pack(op, q);
      nq = 16;
      rc |= load_q(src, at, nq) || put(src, "    lut_shaper(px, Q);\n");
      break;
    case REEL_GOP_LUT1D:
    case REEL_GOP_LUT3D: {
      int three = op->kind == REEL_GOP_LUT3D;
      /* domain, then size and table offset (exact in float below 2^24) */
      for (int c = 0; c < 3; c++)
        q[c] = (float)op->lo[c], q[3 + c] = (float)(1 / (op->hi[c] - op->lo[c]));
      q[6] = (float)op->size, q[7] = (float)t;
      nq = 8;
      size_t ne = three ? (size_t)op->size * op->size * op->size : (size_t)op->size;
      float *e = reel_buf_grow(tab, ne * 4 * sizeof(float));
      if (!e) return -1;
      for (size_t k = 0; k < ne; k++) {
        e[4 * k] = op->lut[3 * k], e[4 * k + 1] = op->lut[3 * k + 1];
        e[4 * k + 2] = op->lut[3 * k + 2], e[4 * k + 3] = 0;
      }
      rc |= load_q(src, at, nq) || put(src, "    lut_%s(px, T + (int)Q[7], (int)Q[6], Q);\n",
                                       three ? (tetra ? "3d_tet" : "3d_tri") : "1d");
      break;
    }
    case REEL_GOP_CDL: /* cdl_pw's layout: channels 0-2, slope, offset, power, sat, style */
      for (int c = 0; c < 3; c++)
        q[c] = (float)op->slope[c], q[3 + c] = (float)op->offset[c], q[6 + c] = (float)op->power[c];
      q[9] = (float)op->sat;
      nq = 10;
      rc |= put(src, "    float Q[14] = {0.0f, 1.0f, 2.0f};\n"
                     "    for (int k = 0; k < 10; k++) Q[3 + k] = P[%d + k];\n"
                     "    Q[13] = %s;\n    cdl_pw(px, Q);\n",
                at, op->clamp ? "1.0f" : "0.0f");
      break;
    case REEL_GOP_MATRIX:
      for (int k = 0; k < 9; k++) q[k] = (float)op->m[k];
      for (int k = 0; k < 3; k++) q[9 + k] = (float)op->off[k];
      nq = 12;
      rc |= load_q(src, at, nq) || put(src, "    lut_matrix(px, Q);\n");
      break;
    }
    rc |= put(src, "  }\n") || reel_buf_put(par, q, sizeof(float) * (size_t)nq);
  }
  rc = rc || put(src, "  dst[(size_t)ir * plane + i] = px[0];\n  dst[(size_t)ig * plane + i] = "
                      "px[1];\n  dst[(size_t)ib * plane + i] = px[2];\n}\n") ||
       reel_buf_put(src, "", 1);
  /* buffers may not be empty */
  float zero[4] = {0};
  if (!rc && !tab->n) rc = reel_buf_put(tab, zero, sizeof zero);
  if (!rc && !par->n) rc = reel_buf_put(par, zero, sizeof zero);
  return rc ? -1 : 0;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const applygrade_t *p = pv;
  reel_node_t *n = j->node;
  reel_image_t *src = reel_job_image(j, 0), *dst = NULL;
  if (!src) return -1;
  reel_grade_t *g = NULL;
  if (j->nin > 1 && j->in[1]) {
    if (!(g = reel_grade_cast(j->in[1]))) {
      reel_node_error(n, REEL_EINTERNAL, "input 'grade' is not a Grade");
      return -1;
    }
    reel_value_ref(&g->v);
  } else if (!(g = file_grade(n, p->file, p->id))) {
    return -1;
  }
  reel_buf_t s = {0}, tab = {0}, par = {0};
  cl_mem tb = NULL, pb = NULL;
  int rc = -1, idx[3];
  if (reel_color_rgb(n, src->nch, src->ch, idx) || !(dst = reel_image_new_like(src))) goto out;
  if (!src->mem) goto done;
  reel_cl_t *cl = src->cl;
  size_t pb_bytes = src->plane * sizeof(float);
  for (int c = 0; c < src->nch; c++) /* the channels the grade does not touch */
    if ((!g->nops || (c != idx[0] && c != idx[1] && c != idx[2])) &&
        reel_cl_copy(cl, src->mem, c * pb_bytes, dst->mem, c * pb_bytes, pb_bytes))
      goto out;
  if (!g->nops) goto done;
  if (generate(g, p->interp == 1, &s, &tab, &par)) goto out;
  cl_kernel k = reel_cl_kernel_gen(cl, (const char *)s.p, "applygrade");
  if (!k || !(tb = reel_cl_alloc(cl, tab.n)) || !(pb = reel_cl_alloc(cl, par.n)) ||
      reel_cl_upload(cl, tb, 0, tab.p, tab.n) || reel_cl_upload(cl, pb, 0, par.p, par.n))
    goto out;
  int plane = (int)src->plane;
  size_t global = src->plane;
  if (reel_cl_args(k, 8, REEL_ARG(src->mem), REEL_ARG(dst->mem), REEL_ARG(plane),
                   REEL_ARG(idx[0]), REEL_ARG(idx[1]), REEL_ARG(idx[2]), REEL_ARG(tb),
                   REEL_ARG(pb)) ||
      reel_cl_run(cl, k, 1, &global, NULL))
    goto out;
done:
  *out = &dst->v;
  dst = NULL;
  rc = 0;
out:
  if (rc) reel_error_prefix("%s:", reel_node_label(n));
  if (tb) reel_cl_release(src->cl, tb);
  if (pb) reel_cl_release(src->cl, pb);
  reel_buf_free(&s);
  reel_buf_free(&tab);
  reel_buf_free(&par);
  reel_image_unref(dst);
  reel_grade_unref(g);
  return rc;
}

const reel_node_desc_t reel_node_applygrade = {
    .name = "ApplyGrade",
    .version = 1,
    .summary = "Apply a Grade (MatchGrade's, or a .cube/.3dl/.csp/.cc/.cdl file) to R, G, B",
    .doc = "Runs the Grade's operations in order on R, G, B: shaper, 1D LUTs (linear "
           "interpolation), 3D LUT (trilinear or tetrahedral), CDL, matrix. LUT inputs are "
           "normalised by the table's domain and clamped to it, as OpenColorIO does; reading "
           "follows OpenColorIO 2.1 (docs/grading.md lists the differences: ASC_SOP and "
           "ASC_SAT elements are applied, OpenColorIO ignores them). CDL files apply without "
           "clamping (OpenColorIO's CDL_NO_CLAMP). A file's content enters the key, so an "
           "edited LUT re-renders. Other channels and the metadata pass through; outside the "
           "data window stays 0.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(applygrade_t),
    .kernels = "lut color",
    .check = check,
    .clip = clip,
    .frames = frames,
    .key = key,
    .eval = eval,
};
