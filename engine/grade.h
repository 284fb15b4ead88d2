/* Grade values: a colour transform of R, G, B fitted by MatchGrade or read
 * from a LUT or CDL file, applied by ApplyGrade and written by Write. A
 * Grade is a short chain of operations applied in order, as OpenColorIO's
 * processors are: an analytic shaper (log2 range or ACEScct), 1D LUTs, a 3D
 * LUT, an ASC CDL, a 3x3 matrix with offset. Values are float R, G, B in
 * any range; LUT inputs are normalised by their domain and clamped to it. */
#ifndef REEL_GRADE_H
#define REEL_GRADE_H

#include "value.h"

#include <stddef.h>

#define REEL_GRADE_MAXOPS 8
#define REEL_LUT3D_MAX 129     /* entries per axis (OpenColorIO's limit) */
#define REEL_LUT1D_MAX 1048576 /* entries */

typedef enum {
  REEL_GOP_SHAPER, /* per channel: linear -> log code, see reel_shaper_encode */
  REEL_GOP_LUT1D,  /* per channel: table of `size` over [lo, hi], linear interpolation */
  REEL_GOP_LUT3D,  /* size^3 lattice over [lo, hi]^3, trilinear or tetrahedral */
  REEL_GOP_CDL,    /* ASC CDL: slope, offset, power, saturation about Rec.709 luma */
  REEL_GOP_MATRIX, /* out = m in + off */
} reel_gop_kind_t;

typedef enum { REEL_SHAPER_LOG2, REEL_SHAPER_ACESCCT } reel_shaper_t;

typedef struct {
  reel_gop_kind_t kind;
  /* LUT1D and LUT3D: input x of channel c is looked up at (x - lo[c]) /
   * (hi[c] - lo[c]) in [0, 1] (clamped); lut holds R, G, B per entry,
   * LUT1D: size entries; LUT3D: size^3 entries, red fastest (index
   * (b size + g) size + r, the .cube order) */
  int size;
  double lo[3], hi[3];
  float *lut;
  /* SHAPER: log2: v = (log2(x / grey) - min) / (max - min); acescct: ACES
   * S-2016-001. Code values 0..1 are what a following 3D LUT spans. */
  reel_shaper_t shaper;
  double log2_min, log2_max, log2_grey;
  /* CDL: out = (in slope + offset)^power, then luma + sat (out - luma).
   * clamp 0: OpenColorIO's CDL_NO_CLAMP (negative values skip the power,
   * the default of .cc files); 1: ASC v1.2 clamps to [0, 1] */
  double slope[3], offset[3], power[3], sat;
  int clamp;
  /* MATRIX: row-major */
  double m[9], off[3];
} reel_gop_t;

typedef struct {
  reel_value_t v;
  int nops;
  reel_gop_t op[REEL_GRADE_MAXOPS];
  char *info; /* provenance and fit figures, "key: value" lines; may be NULL */
} reel_grade_t;

extern const reel_value_class_t reel_grade_class;

/* An empty Grade (the identity): a new reference, or NULL with reel_error. */
reel_grade_t *reel_grade_new(void);
reel_grade_t *reel_grade_cast(reel_value_t *v); /* NULL unless v is a Grade */
static inline void reel_grade_unref(reel_grade_t *g) {
  if (g) reel_value_unref(&g->v);
}

/* Appends an operation with identity settings (domain [0, 1], identity
 * tables, unit slope and power, ...); LUTs get a table of `size` entries
 * per axis. Returns the operation (owned by g) or NULL with reel_error. */
reel_gop_t *reel_grade_add(reel_grade_t *g, reel_gop_kind_t kind, int size);
/* Appends a shaper with the given log2 parameters (ignored for ACEScct). */
reel_gop_t *reel_grade_add_shaper(reel_grade_t *g, reel_shaper_t s, double log2_min,
                                  double log2_max, double log2_grey);
/* Replaces g's info with a copy of text. 0 / -1. */
int reel_grade_set_info(reel_grade_t *g, const char *text);
/* A one-line summary: "shaper log2 [-6.5, 6.5] @ 0.18 -> 3D LUT 33^3". */
void reel_grade_describe(const reel_grade_t *g, char *out, size_t cap);
/* 0 when g's operations are consistent (sizes, finite numbers, domains
 * with hi > lo); -1 with reel_error naming `what` otherwise. Loaders and
 * fits call it so that a Grade that exists can always be applied. */
int reel_grade_check(const reel_grade_t *g, const char *what);

/* The shaper curve in double: linear x -> code, and its inverse. */
double reel_shaper_encode(const reel_gop_t *op, double x);
double reel_shaper_decode(const reel_gop_t *op, double v);
/* The 5 floats of opencl/lut.cl's lut_shaper for a shaper op. */
void reel_shaper_pack(const reel_gop_t *op, float e[5]);

/* Applies g to one pixel in double (the reference the kernel of
 * ApplyGrade is checked against, and how Write bakes a Grade into a
 * LUT). tetra: tetrahedral 3D interpolation, else trilinear. */
void reel_grade_apply(const reel_grade_t *g, int tetra, const double in[3], double out[3]);

/* Applies g to channels idx[0..2] (R, G, B) of src, writing the same
 * channels of dst (an image of src's size on the same device); other
 * channels of dst are not touched. One OpenCL kernel per chain shape
 * (opencl/lut.cl, with color.cl's shaper and CDL functions), so a shaper
 * and a 3D LUT cost one pass over memory; tables and values come from
 * buffers, so grades of one shape share the compiled kernel. 0 / -1. */
struct reel_image;
int reel_grade_apply_image(const reel_grade_t *g, int tetra, const struct reel_image *src,
                           const int idx[3], struct reel_image *dst);

/* ---- files (lutio.c) ---- */

/* Reads a LUT or CDL file by extension: .cube (Iridas/Adobe: 1D or 3D with
 * DOMAIN_MIN/MAX; Resolve: 1D, 3D, shaper 1D + 3D with LUT_*_INPUT_RANGE),
 * .3dl (Discreet/Lustre integer codes, with its shaper line), .csp (Rising
 * Sun/cineSpace 1D or 3D with its prelut), .cc, .ccc, .cdl (ASC CDL XML;
 * id selects a ColorCorrection, needed when the file holds several).
 * Returns a new Grade or NULL with a reel_error that names the file and
 * line ("look.cube:12: ...") and says what to do. Never crashes on bad
 * input. */
reel_grade_t *reel_grade_load_file(const char *path, const char *id);
/* Writes g to path, chosen by extension: .cube (a lone 1D or 3D LUT as is;
 * a shaper or 1D LUT before a 3D LUT as a Resolve shaper + 3D file; other
 * chains baked into a 3D LUT of bake_size over [0, 1]), .cc, .ccc or .cdl
 * (a Grade that is one CDL; id names the ColorCorrection). comment: lines
 * of provenance written as comments (may be NULL). Written under a
 * temporary name and renamed. 0 / -1 with reel_error. */
int reel_grade_save_file(const reel_grade_t *g, const char *path, const char *id,
                         const char *comment, int bake_size);
/* 1 if path has an extension reel_grade_save_file writes. */
int reel_grade_file_ext(const char *path);

/* ---- fitting (gradefit.c) ---- */

/* Paired samples: src and dst R, G, B (3 n floats each), weight w (n). */
typedef struct {
  size_t n, cap;
  float *src, *dst, *w;
} reel_gsamples_t;

/* Appends one pair. 0 / -1 (out of memory). */
int reel_gsamples_add(reel_gsamples_t *s, const float src[3], const float dst[3], float w);
void reel_gsamples_free(reel_gsamples_t *s);

typedef enum { REEL_GFIT_LUT3D, REEL_GFIT_CDL, REEL_GFIT_MATRIX } reel_gfit_method_t;

typedef struct {
  reel_gfit_method_t method;
  int size;                /* LUT3D: entries per axis (2..129) */
  int shaper;              /* LUT3D: -1 none (lattice over [0, 1]), or a reel_shaper_t */
  double log2_min, log2_max, log2_grey;
  double smooth;           /* LUT3D: membrane weight per lattice edge */
  double prior;            /* LUT3D: pull toward the identity, per node */
  int tetra;               /* LUT3D: fit for tetrahedral interpolation (else trilinear) */
} reel_gfit_opts_t;

typedef struct {
  size_t used;    /* samples fitted on */
  double rms;     /* root mean square residual over R, G, B, weighted */
  int iterations; /* CG or Levenberg-Marquardt iterations */
} reel_gfit_stats_t;

/* Fits a Grade mapping s->src to s->dst. Deterministic. Returns a new
 * reference or NULL with reel_error (too few samples, a degenerate
 * source). st may be NULL. */
reel_grade_t *reel_grade_fit(const reel_gsamples_t *s, const reel_gfit_opts_t *o,
                             reel_gfit_stats_t *st);

#endif
