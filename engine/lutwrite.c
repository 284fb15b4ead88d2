/* Writing a Grade as a LUT or CDL file (grade.h): .cube (a lone 1D or 3D
 * LUT as it is, a shaper or 1D LUT before a 3D LUT as a Resolve shaper +
 * 3D file, anything else baked into a 3D LUT), and ASC CDL XML (.cc, .ccc,
 * .cdl). Written under a temporary name and renamed. */
#include "error.h"
#include "grade.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *ext_of(const char *path) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  return dot && (!slash || dot > slash) ? dot + 1 : "";
}

int reel_grade_file_ext(const char *path) {
  const char *e = ext_of(path);
  return !strcasecmp(e, "cube") || !strcasecmp(e, "cc") || !strcasecmp(e, "ccc") ||
         !strcasecmp(e, "cdl");
}

static int uniform(const double *v) { return v[0] == v[1] && v[0] == v[2]; }

/* Each line of text between prefix and suffix; xml: without <, > and &. */
static void comments(FILE *f, const char *prefix, const char *text, const char *suffix, int xml) {
  for (const char *l = text; l && *l;) {
    size_t n = strcspn(l, "\n");
    if (n) {
      fputs(prefix, f);
      for (size_t i = 0; i < n; i++)
        fputc(xml && (l[i] == '<' || l[i] == '>' || l[i] == '&') ? ' ' : l[i], f);
      fputs(suffix, f);
    }
    l += n + (l[n] == '\n');
  }
}

static void put_table(FILE *f, const float *t, size_t n) {
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%.6f %.6f %.6f\n", (double)t[3 * i], (double)t[3 * i + 1], (double)t[3 * i + 2]);
}

/* Resolve's shaper: the 1D LUT samples a shaper op over the linear inputs
 * its codes 0..1 stand for, so inputs below and above clamp as the
 * analytic curve's codes do in the 3D LUT. */
#define SHAPER_1D 65536

static int write_cube(FILE *f, const reel_grade_t *g, int bake_size) {
  const reel_gop_t *a = g->nops > 0 ? &g->op[0] : NULL, *b = g->nops > 1 ? &g->op[1] : NULL;
  int lone = g->nops == 1 && (a->kind == REEL_GOP_LUT1D || a->kind == REEL_GOP_LUT3D);
  int shaped = g->nops == 2 && b->kind == REEL_GOP_LUT3D && uniform(b->lo) && uniform(b->hi) &&
               (a->kind == REEL_GOP_SHAPER ||
                (a->kind == REEL_GOP_LUT1D && uniform(a->lo) && uniform(a->hi)));
  if (lone) {
    int three = a->kind == REEL_GOP_LUT3D;
    size_t n = three ? (size_t)a->size * a->size * a->size : (size_t)a->size;
    fprintf(f, "LUT_%dD_SIZE %d\n", three ? 3 : 1, a->size);
    if (a->lo[0] || a->lo[1] || a->lo[2] || a->hi[0] != 1 || a->hi[1] != 1 || a->hi[2] != 1) {
      fprintf(f, "DOMAIN_MIN %.9g %.9g %.9g\n", a->lo[0], a->lo[1], a->lo[2]);
      fprintf(f, "DOMAIN_MAX %.9g %.9g %.9g\n", a->hi[0], a->hi[1], a->hi[2]);
    }
    put_table(f, a->lut, n);
    return 0;
  }
  if (shaped) {
    int n1 = a->kind == REEL_GOP_SHAPER ? SHAPER_1D : a->size;
    double lo = a->kind == REEL_GOP_SHAPER ? reel_shaper_decode(a, 0) : a->lo[0];
    double hi = a->kind == REEL_GOP_SHAPER ? reel_shaper_decode(a, 1) : a->hi[0];
    fprintf(f, "LUT_1D_SIZE %d\nLUT_1D_INPUT_RANGE %.9g %.9g\nLUT_3D_SIZE %d\n", n1, lo, hi,
            b->size);
    if (b->lo[0] != 0 || b->hi[0] != 1)
      fprintf(f, "LUT_3D_INPUT_RANGE %.9g %.9g\n", b->lo[0], b->hi[0]);
    if (a->kind == REEL_GOP_SHAPER) {
      for (int i = 0; i < n1; i++) {
        double x = lo + (hi - lo) * i / (n1 - 1), v = reel_shaper_encode(a, x);
        v = v > 0 ? (v < 1 ? v : 1) : 0;
        fprintf(f, "%.6f %.6f %.6f\n", v, v, v);
      }
    } else {
      put_table(f, a->lut, (size_t)n1);
    }
    put_table(f, b->lut, (size_t)b->size * b->size * b->size);
    return 0;
  }
  /* anything else: baked, red fastest over [0, 1] */
  int n = bake_size;
  fprintf(f, "# baked from: ");
  char d[512];
  reel_grade_describe(g, d, sizeof d);
  fprintf(f, "%s\nLUT_3D_SIZE %d\n", d, n);
  for (int bb = 0; bb < n; bb++)
    for (int gg = 0; gg < n; gg++)
      for (int r = 0; r < n; r++) {
        double in[3] = {(double)r / (n - 1), (double)gg / (n - 1), (double)bb / (n - 1)}, o[3];
        reel_grade_apply(g, 0, in, o);
        fprintf(f, "%.6f %.6f %.6f\n", o[0], o[1], o[2]);
      }
  return 0;
}

static void xml_attr(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '"') fputs("&quot;", f);
    else if (*s == '&') fputs("&amp;", f);
    else if (*s == '<') fputs("&lt;", f);
    else if (*s == '>') fputs("&gt;", f);
    else fputc(*s, f);
  }
}

static void write_cc(FILE *f, const reel_gop_t *op, const char *id, const char *comment,
                     const char *ind) {
  fprintf(f, "%s<ColorCorrection id=\"", ind);
  xml_attr(f, id);
  fprintf(f, "\">\n");
  char pre[64];
  snprintf(pre, sizeof pre, "%s  <Description>", ind);
  comments(f, pre, comment, "</Description>\n", 1);
  fprintf(f, "%s  <SOPNode>\n", ind);
  fprintf(f, "%s    <Slope>%.9g %.9g %.9g</Slope>\n", ind, op->slope[0], op->slope[1],
          op->slope[2]);
  fprintf(f, "%s    <Offset>%.9g %.9g %.9g</Offset>\n", ind, op->offset[0], op->offset[1],
          op->offset[2]);
  fprintf(f, "%s    <Power>%.9g %.9g %.9g</Power>\n", ind, op->power[0], op->power[1],
          op->power[2]);
  fprintf(f, "%s  </SOPNode>\n%s  <SatNode>\n%s    <Saturation>%.9g</Saturation>\n", ind, ind, ind,
          op->sat);
  fprintf(f, "%s  </SatNode>\n%s</ColorCorrection>\n", ind, ind);
}

int reel_grade_save_file(const reel_grade_t *g, const char *path, const char *id,
                         const char *comment, int bake_size) {
  const char *ext = ext_of(path);
  int cube = !strcasecmp(ext, "cube");
  if (!reel_grade_file_ext(path)) {
    reel_error(REEL_EUSER, "%s: a Grade is written as .cube, .cc, .ccc or .cdl", path);
    return -1;
  }
  if (!cube && (g->nops != 1 || g->op[0].kind != REEL_GOP_CDL)) {
    char d[256];
    reel_grade_describe(g, d, sizeof d);
    reel_error(REEL_EUSER, "%s: a .%s file holds one ASC CDL, but this grade is %s: write it as "
                           ".cube, or fit with method = \"cdl\"",
               path, ext, d);
    return -1;
  }
  if (!cube && g->op[0].clamp) {
    reel_error(REEL_EUSER, "%s: this CDL clamps (ASC style), which a .%s file cannot say "
                           "(readers apply it unclamped): write it as .cube",
               path, ext);
    return -1;
  }
  if (bake_size < 2 || bake_size > REEL_LUT3D_MAX) bake_size = 65;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) {
    reel_error(REEL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    return -1;
  }
  int rc = 0;
  if (cube) {
    comments(f, "# ", comment, "\n", 0);
    rc = write_cube(f, g, bake_size);
  } else {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if (!strcasecmp(ext, "cc")) {
      write_cc(f, &g->op[0], id ? id : "", comment, "");
    } else if (!strcasecmp(ext, "ccc")) {
      fprintf(f, "<ColorCorrectionCollection xmlns=\"urn:ASC:CDL:v1.01\">\n");
      write_cc(f, &g->op[0], id ? id : "", comment, "  ");
      fprintf(f, "</ColorCorrectionCollection>\n");
    } else {
      fprintf(f, "<ColorDecisionList xmlns=\"urn:ASC:CDL:v1.01\">\n  <ColorDecision>\n");
      write_cc(f, &g->op[0], id ? id : "", comment, "    ");
      fprintf(f, "  </ColorDecision>\n</ColorDecisionList>\n");
    }
  }
  if (ferror(f)) rc = -1;
  if (fclose(f)) rc = -1;
  if (rc || rename(tmp, path)) {
    reel_error(REEL_EIO, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
    unlink(tmp);
    return -1;
  }
  return 0;
}
