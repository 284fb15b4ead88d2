/* ApplyGrade: applies a Grade (from MatchGrade, or read from a .cube, .3dl,
 * .csp, .cc, .ccc or .cdl file) to R, G, B with reel_grade_apply_image (one
 * generated kernel per chain of operations, engine/grade.c). Grades read
 * from files are kept per process while the file is unchanged. Other
 * channels pass through. */
#include "color.h"
#include "grade.h"

#include <pthread.h>
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
  return reel_job_hash_file(j, ((const applygrade_t *)pv)->file, h);
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
  int rc = -1, idx[3];
  if (reel_color_rgb(n, src->nch, src->ch, idx)) { /* names the node itself */
    reel_grade_unref(g);
    return -1;
  }
  if (!(dst = reel_image_new_like(src))) goto out;
  if (!src->mem) goto done;
  size_t pb_bytes = src->plane * sizeof(float);
  for (int c = 0; c < src->nch; c++) /* the channels the grade does not touch */
    if ((!g->nops || (c != idx[0] && c != idx[1] && c != idx[2])) &&
        reel_cl_copy(src->cl, src->mem, c * pb_bytes, dst->mem, c * pb_bytes, pb_bytes))
      goto out;
  if (g->nops && reel_grade_apply_image(g, p->interp == 1, src, idx, dst)) goto out;
done:
  *out = &dst->v;
  dst = NULL;
  rc = 0;
out:
  if (rc) reel_error_prefix("%s:", reel_node_label(n));
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
