/* Parameter values, keyframe curves, resolution into node structs and
 * canonical hashing (param.h). Curves: step holds the previous key, linear
 * interpolates, smooth is a Catmull-Rom spline through the keys; before the
 * first and after the last key the end values hold. */
#include "param.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *reel_ptype_name(reel_ptype_t t) {
  static const char *n[] = {"number", "integer", "boolean", "enum",
                            "string", "box",     "vector",  "list"};
  return t <= REEL_P_LIST ? n[t] : "?";
}

static int is_numeric(reel_ptype_t t) { return t != REEL_P_STRING && t != REEL_P_LIST; }

static void curve_free(reel_curve_t *c) {
  if (!c) return;
  free(c->f);
  free(c->v);
  free(c);
}

double reel_curve_eval(const reel_curve_t *c, double x) {
  int n = c->n;
  if (x <= c->f[0]) return c->v[0];
  if (x >= c->f[n - 1]) return c->v[n - 1];
  int i = 0;
  while (i + 1 < n && c->f[i + 1] <= x) i++;
  if (c->interp == REEL_INTERP_STEP) return c->v[i];
  double t = (x - c->f[i]) / (c->f[i + 1] - c->f[i]);
  if (c->interp == REEL_INTERP_LINEAR) return c->v[i] + t * (c->v[i + 1] - c->v[i]);
  /* Catmull-Rom with tangents from neighbouring keys (ends: one-sided). */
  double p0 = c->v[i > 0 ? i - 1 : i], p1 = c->v[i], p2 = c->v[i + 1];
  double p3 = c->v[i + 2 < n ? i + 2 : i + 1];
  double t2 = t * t, t3 = t2 * t;
  return 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 +
                (-p0 + 3 * p1 - 3 * p2 + p3) * t3);
}

void reel_pval_clear(reel_pval_t *v) {
  for (int i = 0; i < REEL_PMAXCOMP; i++) curve_free(v->curve[i]);
  free(v->str);
  free(v->list);
  memset(v, 0, sizeof *v);
}

int reel_pval_default(const reel_param_desc_t *d, reel_pval_t *v) {
  reel_pval_clear(v);
  for (int i = 0; i < d->count && i < REEL_PMAXCOMP; i++) v->num[i] = d->def[i];
  if (d->type == REEL_P_ENUM) {
    int k = 0;
    for (; d->enums[k]; k++)
      if (d->sdef && !strcmp(d->enums[k], d->sdef)) break;
    if (!d->enums[k]) {
      reel_error(REEL_EINTERNAL, "parameter '%s': default '%s' is not one of its values",
                 d->name, d->sdef ? d->sdef : "(null)");
      return -1;
    }
    v->num[0] = k;
  }
  if (d->type == REEL_P_STRING && d->sdef && !(v->str = strdup(d->sdef))) return -1;
  return 0;
}

static int bounded(const reel_param_desc_t *d) { return d->min <= d->max; }

static int check_value(const reel_param_desc_t *d, double x) {
  if (!isfinite(x)) {
    reel_error(REEL_EUSER, "parameter '%s' must be a finite number", d->name);
    return -1;
  }
  if ((d->type == REEL_P_INT || d->type == REEL_P_BOOL) && x != floor(x)) {
    reel_error(REEL_EUSER, "parameter '%s' takes whole numbers, not %g", d->name, x);
    return -1;
  }
  if (bounded(d) && (x < d->min || x > d->max)) {
    reel_error(REEL_EUSER, "parameter '%s' = %g is out of range: allowed %g to %g", d->name, x,
               d->min, d->max);
    return -1;
  }
  return 0;
}

static int check_comp(const reel_param_desc_t *d, int comp) {
  if (!is_numeric(d->type)) {
    reel_error(REEL_EUSER, "parameter '%s' takes a %s, not a number", d->name,
               reel_ptype_name(d->type));
    return -1;
  }
  if (comp < 0 || comp >= d->count) {
    reel_error(REEL_EUSER, "parameter '%s' has %d component%s; got component %d", d->name,
               d->count, d->count == 1 ? "" : "s", comp + 1);
    return -1;
  }
  return 0;
}

int reel_pval_set_number(const reel_param_desc_t *d, reel_pval_t *v, int comp, double x) {
  if (check_comp(d, comp)) return -1;
  if (d->type == REEL_P_ENUM) {
    reel_error(REEL_EUSER, "parameter '%s' takes one of its names (%s%s...), not a number",
               d->name, d->enums[0], d->enums[1] ? ", " : "");
    return -1;
  }
  if (check_value(d, x)) return -1;
  curve_free(v->curve[comp]);
  v->curve[comp] = NULL;
  v->num[comp] = x;
  v->set = 1;
  return 0;
}

int reel_pval_set_string(const reel_param_desc_t *d, reel_pval_t *v, const char *s) {
  if (d->type == REEL_P_ENUM) {
    for (int k = 0; d->enums[k]; k++)
      if (!strcmp(d->enums[k], s)) {
        v->num[0] = k;
        v->set = 1;
        return 0;
      }
    char list[512] = "";
    for (int k = 0; d->enums[k]; k++)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", k ? ", " : "",
               d->enums[k]);
    reel_error(REEL_EUSER, "parameter '%s' = \"%s\" is not one of %s", d->name, s, list);
    return -1;
  }
  if (d->type != REEL_P_STRING) {
    reel_error(REEL_EUSER, "parameter '%s' takes a %s, not a string", d->name,
               reel_ptype_name(d->type));
    return -1;
  }
  char *c = strdup(s);
  if (!c) return -1;
  free(v->str);
  v->str = c;
  v->set = 1;
  return 0;
}

int reel_pval_set_list(const reel_param_desc_t *d, reel_pval_t *v, int n, const double *x) {
  if (d->type != REEL_P_LIST) {
    reel_error(REEL_EUSER, "parameter '%s' takes a %s, not a list", d->name,
               reel_ptype_name(d->type));
    return -1;
  }
  for (int i = 0; i < n; i++)
    if (check_value(d, x[i])) return -1;
  double *c = malloc(sizeof *c * (size_t)(n ? n : 1));
  if (!c) return -1;
  if (n) memcpy(c, x, sizeof *c * (size_t)n);
  free(v->list);
  v->list = c;
  v->nlist = n;
  v->set = 1;
  return 0;
}

int reel_pval_set_curve(const reel_param_desc_t *d, reel_pval_t *v, int comp, int nk,
                        const double *f, const double *x, const char *interp) {
  if (check_comp(d, comp)) return -1;
  if (d->flags & REEL_PF_STATIC || d->type == REEL_P_ENUM) {
    reel_error(REEL_EUSER, "parameter '%s' cannot be keyframed", d->name);
    return -1;
  }
  if (nk < 1) {
    reel_error(REEL_EUSER, "parameter '%s': a keyframed value needs at least one key", d->name);
    return -1;
  }
  reel_interp_t ip;
  if (!interp || !strcmp(interp, "linear"))
    ip = REEL_INTERP_LINEAR;
  else if (!strcmp(interp, "step"))
    ip = REEL_INTERP_STEP;
  else if (!strcmp(interp, "smooth"))
    ip = REEL_INTERP_SMOOTH;
  else {
    reel_error(REEL_EUSER,
               "parameter '%s': interpolation \"%s\" is not one of \"step\", \"linear\", "
               "\"smooth\"",
               d->name, interp);
    return -1;
  }
  for (int i = 0; i < nk; i++) {
    if (check_value(d, x[i])) return -1;
    if (!isfinite(f[i]) || (i && f[i] <= f[i - 1])) {
      reel_error(REEL_EUSER, "parameter '%s': key frames must be finite and increasing", d->name);
      return -1;
    }
  }
  reel_curve_t *c = calloc(1, sizeof *c);
  if (!c || !(c->f = malloc(sizeof(double) * (size_t)nk)) ||
      !(c->v = malloc(sizeof(double) * (size_t)nk))) {
    curve_free(c);
    reel_error(REEL_EIO, "out of memory");
    return -1;
  }
  memcpy(c->f, f, sizeof(double) * (size_t)nk);
  memcpy(c->v, x, sizeof(double) * (size_t)nk);
  c->n = nk;
  c->interp = ip;
  curve_free(v->curve[comp]);
  v->curve[comp] = c;
  v->num[comp] = x[0];
  v->set = 1;
  return 0;
}

int reel_pval_animated(const reel_param_desc_t *d, const reel_pval_t *v) {
  for (int i = 0; i < d->count && i < REEL_PMAXCOMP; i++) {
    const reel_curve_t *c = v->curve[i];
    if (!c) continue;
    for (int k = 1; k < c->n; k++)
      if (c->v[k] != c->v[0]) return 1;
  }
  return 0;
}

int reel_params_resolve(const reel_param_desc_t *d, int np, const reel_pval_t *v, double frame,
                        void *out) {
  char *base = out;
  for (int i = 0; i < np; i++) {
    const reel_param_desc_t *p = &d[i];
    void *at = base + p->offset;
    double x[REEL_PMAXCOMP];
    if (is_numeric(p->type))
      for (int c = 0; c < p->count; c++) {
        x[c] = v[i].curve[c] ? reel_curve_eval(v[i].curve[c], frame) : v[i].num[c];
        if (v[i].curve[c]) {
          if (p->type == REEL_P_INT || p->type == REEL_P_BOOL) x[c] = floor(x[c] + 0.5);
          if (check_value(p, x[c])) {
            reel_error_prefix("at frame %g:", frame);
            return -1;
          }
        }
      }
    switch (p->type) {
    case REEL_P_NUMBER: *(double *)at = x[0]; break;
    case REEL_P_INT:
    case REEL_P_BOOL:
    case REEL_P_ENUM: *(int *)at = (int)x[0]; break;
    case REEL_P_BOX:
    case REEL_P_VECTOR: memcpy(at, x, sizeof(double) * (size_t)p->count); break;
    case REEL_P_STRING: *(const char **)at = v[i].str; break;
    case REEL_P_LIST: *(reel_list_t *)at = (reel_list_t){v[i].nlist, v[i].list}; break;
    }
  }
  return 0;
}

static void hash1(const reel_param_desc_t *p, const void *at, reel_hasher_t *h) {
  reel_hash_str(h, p->name);
  reel_hash_i64(h, p->type);
  switch (p->type) {
  case REEL_P_NUMBER: reel_hash_f64(h, *(const double *)at); break;
  case REEL_P_INT:
  case REEL_P_BOOL: reel_hash_i64(h, *(const int *)at); break;
  case REEL_P_ENUM: reel_hash_str(h, p->enums[*(const int *)at]); break;
  case REEL_P_BOX:
  case REEL_P_VECTOR:
    for (int c = 0; c < p->count; c++) reel_hash_f64(h, ((const double *)at)[c]);
    break;
  case REEL_P_STRING: reel_hash_str(h, *(const char *const *)at); break;
  case REEL_P_LIST: {
    const reel_list_t *l = at;
    reel_hash_i64(h, l->n);
    for (int k = 0; k < l->n; k++) reel_hash_f64(h, l->v[k]);
    break;
  }
  }
}

void reel_params_hash(const reel_param_desc_t *d, int np, const void *resolved, reel_hasher_t *h) {
  for (int i = 0; i < np; i++)
    if (!(d[i].flags & REEL_PF_NOKEY)) hash1(&d[i], (const char *)resolved + d[i].offset, h);
}

uint64_t reel_param_hash1(const reel_param_desc_t *d, const void *resolved) {
  reel_hasher_t *h = reel_hasher_new();
  if (!h) return 0;
  hash1(d, (const char *)resolved + d->offset, h);
  reel_key_t k = reel_hasher_digest(h);
  reel_hasher_free(h);
  return k.lo;
}

int reel_param_format(const reel_param_desc_t *p, const void *resolved, char *out, size_t cap) {
  const void *at = (const char *)resolved + p->offset;
  size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__))
  switch (p->type) {
  case REEL_P_NUMBER: PUT("%g", *(const double *)at); break;
  case REEL_P_INT: PUT("%d", *(const int *)at); break;
  case REEL_P_BOOL: PUT("%s", *(const int *)at ? "true" : "false"); break;
  case REEL_P_ENUM: PUT("\"%s\"", p->enums[*(const int *)at]); break;
  case REEL_P_BOX:
  case REEL_P_VECTOR:
    PUT("{");
    for (int c = 0; c < p->count; c++) PUT("%s%g", c ? ", " : "", ((const double *)at)[c]);
    PUT("}");
    break;
  case REEL_P_STRING: {
    const char *s = *(const char *const *)at;
    if (s)
      PUT("\"%s\"", s);
    else
      PUT("nil");
    break;
  }
  case REEL_P_LIST: {
    const reel_list_t *l = at;
    PUT("{");
    for (int k = 0; k < l->n; k++) PUT("%s%g", k ? ", " : "", l->v[k]);
    PUT("}");
    break;
  }
  }
#undef PUT
  return n < cap ? 0 : -1;
}
