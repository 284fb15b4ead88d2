/* Parameters: defaults, ranges, keyframe curves, canonical hashing. The
 * per-node checks are generated from every registered descriptor: changing
 * any parameter changes the hash, equal values hash equal, and out-of-range
 * values are refused with a message naming the parameter. */
#include "node.h"
#include "test.h"

static reel_key_t hash_of(const reel_node_desc_t *d, const reel_pval_t *pv, double frame) {
  void *p = calloc(1, d->psize ? d->psize : 1);
  reel_hasher_t *h = reel_hasher_new();
  if (reel_params_resolve(d->params, d->nparams, pv, frame, p)) {
    fprintf(stderr, "resolve failed: %s\n", reel_error_get());
    reel_error_clear();
  }
  reel_params_hash(d->params, d->nparams, p, h);
  reel_key_t k = reel_hasher_digest(h);
  reel_hasher_free(h);
  free(p);
  return k;
}

static reel_pval_t *defaults(const reel_node_desc_t *d) {
  reel_pval_t *pv = calloc((size_t)d->nparams + 1, sizeof *pv);
  for (int i = 0; i < d->nparams; i++) CHECK(reel_pval_default(&d->params[i], &pv[i]) == 0);
  return pv;
}

static void free_pv(const reel_node_desc_t *d, reel_pval_t *pv) {
  for (int i = 0; i < d->nparams; i++) reel_pval_clear(&pv[i]);
  free(pv);
}

/* A value for parameter p different from its default, inside its range. */
static int perturb(const reel_param_desc_t *p, reel_pval_t *v) {
  switch (p->type) {
  case REEL_P_STRING: return reel_pval_set_string(p, v, v->str && !strcmp(v->str, "x") ? "y" : "x");
  case REEL_P_ENUM:
    if (!p->enums[1]) return 1; /* single-valued enum */
    return reel_pval_set_string(p, v, p->enums[(int)v->num[0] == 0 ? 1 : 0]);
  case REEL_P_LIST: {
    double x[2] = {3, 5};
    return reel_pval_set_list(p, v, 2, x);
  }
  default: {
    double x = v->num[0];
    double nx = x + 1;
    if (p->min <= p->max && nx > p->max) nx = x - 1;
    if (p->type == REEL_P_NUMBER && p->min <= p->max && nx < p->min) nx = (p->min + p->max) / 2;
    if (nx == x) return 1;
    return reel_pval_set_number(p, v, 0, nx);
  }
  }
}

static void every_param_changes_key(void) {
  int checked = 0;
  for (int i = 0; i < reel_registry_count(); i++) {
    const reel_node_desc_t *d = reel_registry_get(i);
    reel_pval_t *pv = defaults(d);
    reel_key_t base = hash_of(d, pv, 1);
    reel_pval_t *again = defaults(d);
    reel_key_t same = hash_of(d, again, 1);
    CHECK(reel_key_eq(&base, &same));
    for (int k = 0; k < d->nparams; k++) {
      const reel_param_desc_t *p = &d->params[k];
      reel_pval_t *pv2 = defaults(d);
      int rc = perturb(p, &pv2[k]);
      if (rc == 1) {
        free_pv(d, pv2);
        continue;
      }
      CHECK(rc == 0);
      reel_key_t changed = hash_of(d, pv2, 1);
      if (p->flags & REEL_PF_NOKEY) {
        if (!reel_key_eq(&base, &changed))
          fprintf(stderr, "  %s.%s is NOKEY but changed the key\n", d->name, p->name);
        CHECK(reel_key_eq(&base, &changed));
      } else {
        if (reel_key_eq(&base, &changed))
          fprintf(stderr, "  %s.%s did not change the key\n", d->name, p->name);
        CHECK(!reel_key_eq(&base, &changed));
      }
      checked++;
      free_pv(d, pv2);
    }
    free_pv(d, pv);
    free_pv(d, again);
  }
  CHECK(checked >= 10);
  reel_error_clear();
}

static void out_of_range_is_refused(void) {
  int checked = 0;
  for (int i = 0; i < reel_registry_count(); i++) {
    const reel_node_desc_t *d = reel_registry_get(i);
    for (int k = 0; k < d->nparams; k++) {
      const reel_param_desc_t *p = &d->params[k];
      if (p->type == REEL_P_STRING || p->type == REEL_P_LIST || p->type == REEL_P_ENUM ||
          p->min > p->max)
        continue;
      reel_pval_t v = {0};
      reel_pval_default(p, &v);
      reel_error_clear();
      CHECK(reel_pval_set_number(p, &v, 0, p->max + 1) == -1);
      CHECK(strstr(reel_error_get(), p->name) != NULL);
      reel_error_clear();
      CHECK(reel_pval_set_number(p, &v, 0, p->min - 1) == -1);
      reel_error_clear();
      CHECK(reel_pval_set_number(p, &v, p->count, p->min) == -1); /* no such component */
      reel_error_clear();
      reel_pval_clear(&v);
      checked++;
    }
  }
  CHECK(checked >= 3);
}

static const char *const modes[] = {"a", "b", NULL};
typedef struct {
  double x;
  int n;
  int mode;
  double box[4];
  reel_list_t l;
} tp_t;
static const reel_param_desc_t tparams[] = {
    REEL_PNUM(tp_t, x, 0.5, 0, 10, "x"),
    REEL_PINT(tp_t, n, 3, 1, 8, "n"),
    REEL_PENUM(tp_t, mode, modes, "b", "mode"),
    REEL_PBOX(tp_t, box, "box", 1, 2, 3, 4),
    REEL_PLIST(tp_t, l, "list"),
};

static void defaults_resolve(void) {
  reel_pval_t v[5] = {{0}};
  for (int i = 0; i < 5; i++) CHECK(reel_pval_default(&tparams[i], &v[i]) == 0);
  tp_t p;
  CHECK(reel_params_resolve(tparams, 5, v, 1, &p) == 0);
  CHECK(p.x == 0.5 && p.n == 3 && p.mode == 1);
  CHECK(p.box[0] == 1 && p.box[3] == 4 && p.l.n == 0);
  CHECK(reel_pval_set_number(&tparams[1], &v[1], 0, 2.5) == -1); /* integer */
  reel_error_clear();
  CHECK(reel_pval_set_string(&tparams[2], &v[2], "c") == -1);
  CHECK(strstr(reel_error_get(), "\"a\", \"b\"") != NULL);
  reel_error_clear();
  CHECK(reel_pval_set_string(&tparams[2], &v[2], "a") == 0);
  CHECK(reel_params_resolve(tparams, 5, v, 1, &p) == 0 && p.mode == 0);
  for (int i = 0; i < 5; i++) reel_pval_clear(&v[i]);
}

static void curves(void) {
  reel_pval_t v = {0};
  const reel_param_desc_t *bx = &tparams[3];
  reel_pval_default(bx, &v);
  double f[3] = {10, 20, 40}, x[3] = {0, 100, 100};
  CHECK(reel_pval_set_curve(bx, &v, 1, 3, f, x, "linear") == 0);
  tp_t p;
  reel_pval_t all[5] = {{0}};
  for (int i = 0; i < 5; i++) reel_pval_default(&tparams[i], &all[i]);
  reel_pval_clear(&all[3]);
  all[3] = v;
  CHECK(reel_params_resolve(tparams, 5, all, 5, &p) == 0);
  CHECK_NEAR(p.box[1], 0, 0); /* before the first key: held */
  CHECK(reel_params_resolve(tparams, 5, all, 15, &p) == 0);
  CHECK_NEAR(p.box[1], 50, 1e-12);
  CHECK(reel_params_resolve(tparams, 5, all, 30, &p) == 0);
  CHECK_NEAR(p.box[1], 100, 1e-12);
  CHECK(p.box[0] == 1 && p.box[2] == 3); /* other components untouched */
  CHECK(reel_pval_animated(bx, &all[3]) == 1);
  /* equal values at two frames hash equal; different values differ */
  reel_key_t k30 = {0}, k40, k15;
  {
    reel_hasher_t *h = reel_hasher_new();
    reel_params_resolve(tparams, 5, all, 30, &p);
    reel_params_hash(tparams, 5, &p, h);
    k30 = reel_hasher_digest(h);
    reel_hasher_reset(h);
    reel_params_resolve(tparams, 5, all, 40, &p);
    reel_params_hash(tparams, 5, &p, h);
    k40 = reel_hasher_digest(h);
    reel_hasher_reset(h);
    reel_params_resolve(tparams, 5, all, 15, &p);
    reel_params_hash(tparams, 5, &p, h);
    k15 = reel_hasher_digest(h);
    reel_hasher_free(h);
  }
  CHECK(reel_key_eq(&k30, &k40));
  CHECK(!reel_key_eq(&k30, &k15));
  /* step holds the previous key */
  double xs[3] = {0, 100, 7};
  CHECK(reel_pval_set_curve(bx, &all[3], 2, 3, f, xs, "step") == 0);
  CHECK(reel_params_resolve(tparams, 5, all, 39.9, &p) == 0 && p.box[2] == 100);
  CHECK(reel_params_resolve(tparams, 5, all, 40, &p) == 0 && p.box[2] == 7);
  /* smooth passes through keys */
  CHECK(reel_pval_set_curve(bx, &all[3], 0, 3, f, xs, "smooth") == 0);
  CHECK(reel_params_resolve(tparams, 5, all, 20, &p) == 0);
  CHECK_NEAR(p.box[0], 100, 1e-9);
  /* keys must increase, values stay in range, curve on an enum refused */
  double bad_f[2] = {5, 5};
  CHECK(reel_pval_set_curve(bx, &all[3], 0, 2, bad_f, xs, "linear") == -1);
  reel_error_clear();
  double big[2] = {1, 11};
  CHECK(reel_pval_set_curve(&tparams[0], &all[0], 0, 2, f, big, "linear") == -1);
  reel_error_clear();
  CHECK(reel_pval_set_curve(&tparams[2], &all[2], 0, 2, f, x, "linear") == -1);
  reel_error_clear();
  CHECK(reel_pval_set_curve(bx, &all[3], 0, 3, f, xs, "cubic") == -1);
  reel_error_clear();
  for (int i = 0; i < 5; i++) reel_pval_clear(&all[i]);
}

static void negative_zero_and_hex(void) {
  reel_hasher_t *a = reel_hasher_new(), *b = reel_hasher_new();
  reel_hash_f64(a, 0.0);
  reel_hash_f64(b, -0.0);
  reel_key_t ka = reel_hasher_digest(a), kb = reel_hasher_digest(b);
  CHECK(reel_key_eq(&ka, &kb));
  /* string fields are length-prefixed: ("ab","c") != ("a","bc") */
  reel_hasher_reset(a);
  reel_hasher_reset(b);
  reel_hash_str(a, "ab");
  reel_hash_str(a, "c");
  reel_hash_str(b, "a");
  reel_hash_str(b, "bc");
  ka = reel_hasher_digest(a);
  kb = reel_hasher_digest(b);
  CHECK(!reel_key_eq(&ka, &kb));
  char hex[REEL_KEY_HEX];
  reel_key_hex(&ka, hex);
  reel_key_t back;
  CHECK(reel_key_parse(hex, &back) == 0 && reel_key_eq(&back, &ka));
  CHECK(reel_key_parse("zz", &back) == -1);
  reel_hasher_free(a);
  reel_hasher_free(b);
}

int main(void) {
  RUN(defaults_resolve);
  RUN(curves);
  RUN(every_param_changes_key);
  RUN(out_of_range_is_refused);
  RUN(negative_zero_and_hex);
  TEST_END();
}
