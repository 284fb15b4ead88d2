/* Parameters: declared once per node type in a table (name, type, count,
 * offset into the node's param struct, default, range, doc). From the table
 * the engine derives defaults, validation, keyframe curves, canonical hashing,
 * Lua access and documentation. Every numeric component can be keyframed;
 * resolving a node's parameters at a frame fills its C struct. */
#ifndef REEL_PARAM_H
#define REEL_PARAM_H

#include "hash.h"

#include <stddef.h>

typedef enum {
  REEL_P_NUMBER,  /* double */
  REEL_P_INT,     /* int */
  REEL_P_BOOL,    /* int 0/1 */
  REEL_P_ENUM,    /* int index into .enums */
  REEL_P_STRING,  /* const char * (engine-owned; NULL when unset and no default) */
  REEL_P_BOX,     /* double[4]: x0, y0, x1, y1 */
  REEL_P_VECTOR,  /* double[count] */
  REEL_P_LIST,    /* reel_list_t: any number of doubles, not keyframable */
} reel_ptype_t;

typedef struct {
  int n;
  const double *v;
} reel_list_t;

#define REEL_PMAXCOMP 16

enum {
  REEL_PF_STATIC = 1 << 0, /* not keyframable */
  REEL_PF_NOKEY = 1 << 1,  /* does not change the result (e.g. a log path): not hashed */
  REEL_PF_REQUIRED = 1 << 2,
};

typedef struct reel_param_desc {
  const char *name;
  reel_ptype_t type;
  int count;      /* components for BOX (4) and VECTOR; 1 otherwise */
  size_t offset;  /* into the node's param struct */
  double def[REEL_PMAXCOMP]; /* numeric default per component */
  const char *sdef;          /* string default, or the enum default's name */
  double min, max;           /* inclusive; min > max: unbounded */
  const char *const *enums;  /* NULL-terminated names for REEL_P_ENUM */
  const char *doc;
  unsigned flags;
} reel_param_desc_t;

/* Declaration helpers for parameter tables (S: the node's param struct). */
#define REEL_PNUM(S, f, d, lo, hi, doc_)                                                    \
  { #f, REEL_P_NUMBER, 1, offsetof(S, f), {d}, NULL, lo, hi, NULL, doc_, 0 }
#define REEL_PINT(S, f, d, lo, hi, doc_)                                                    \
  { #f, REEL_P_INT, 1, offsetof(S, f), {d}, NULL, lo, hi, NULL, doc_, 0 }
#define REEL_PBOOL(S, f, d, doc_)                                                           \
  { #f, REEL_P_BOOL, 1, offsetof(S, f), {d}, NULL, 0, 1, NULL, doc_, 0 }
#define REEL_PENUM(S, f, names, d, doc_)                                                    \
  { #f, REEL_P_ENUM, 1, offsetof(S, f), {0}, d, 0, 0, names, doc_, REEL_PF_STATIC }
#define REEL_PSTR(S, f, d, doc_)                                                            \
  { #f, REEL_P_STRING, 1, offsetof(S, f), {0}, d, 1, 0, NULL, doc_, REEL_PF_STATIC }
#define REEL_PBOX(S, f, doc_, ...)                                                          \
  { #f, REEL_P_BOX, 4, offsetof(S, f), {__VA_ARGS__}, NULL, 1, 0, NULL, doc_, 0 }
#define REEL_PVEC(S, f, n, lo, hi, doc_, ...)                                               \
  { #f, REEL_P_VECTOR, n, offsetof(S, f), {__VA_ARGS__}, NULL, lo, hi, NULL, doc_, 0 }
#define REEL_PLIST(S, f, doc_)                                                              \
  { #f, REEL_P_LIST, 1, offsetof(S, f), {0}, NULL, 1, 0, NULL, doc_, REEL_PF_STATIC }

/* Keyframe curve of one component. */
typedef enum { REEL_INTERP_STEP, REEL_INTERP_LINEAR, REEL_INTERP_SMOOTH } reel_interp_t;
typedef struct {
  int n;
  double *f, *v;
  reel_interp_t interp;
} reel_curve_t;

double reel_curve_eval(const reel_curve_t *c, double frame);

/* The value of one parameter on one node instance. */
typedef struct {
  int set;                        /* given by the user (else default) */
  double num[REEL_PMAXCOMP];      /* constant components */
  reel_curve_t *curve[REEL_PMAXCOMP]; /* NULL: constant */
  char *str;
  int nlist;
  double *list;
} reel_pval_t;

const char *reel_ptype_name(reel_ptype_t t);
/* Sets defaults in v from d. 0 / -1 (bad enum default: programmer error). */
int reel_pval_default(const reel_param_desc_t *d, reel_pval_t *v);
void reel_pval_clear(reel_pval_t *v);
/* Setters validate against the descriptor and report with reel_error
 * (REEL_EUSER) naming the parameter; the caller prefixes the node. */
int reel_pval_set_number(const reel_param_desc_t *d, reel_pval_t *v, int comp, double x);
int reel_pval_set_string(const reel_param_desc_t *d, reel_pval_t *v, const char *s);
int reel_pval_set_list(const reel_param_desc_t *d, reel_pval_t *v, int n, const double *x);
int reel_pval_set_curve(const reel_param_desc_t *d, reel_pval_t *v, int comp, int nk,
                        const double *f, const double *x, const char *interp);
/* 1 if any component is keyframed with more than one distinct value. */
int reel_pval_animated(const reel_param_desc_t *d, const reel_pval_t *v);

/* Fills the param struct at `frame`: numbers, ints, enums, strings, boxes,
 * vectors, lists. Keyframed values are evaluated and range-checked (-1 with
 * reel_error when a curve leaves the allowed range at that frame). */
int reel_params_resolve(const reel_param_desc_t *d, int np, const reel_pval_t *v,
                        double frame, void *out);
/* Canonical hash of the resolved struct, in table order (never raw bytes). */
void reel_params_hash(const reel_param_desc_t *d, int np, const void *resolved,
                      reel_hasher_t *h);
/* Hash of one resolved parameter, for --explain's "what changed". */
uint64_t reel_param_hash1(const reel_param_desc_t *d, const void *resolved);
/* Human text of one resolved parameter ("{0, 0, 100, 50}", "\"linear\""). */
int reel_param_format(const reel_param_desc_t *d, const void *resolved, char *out, size_t cap);

#endif
