/* Evaluation: pull-based and lazy. For each output frame, a node's key is
 * computed top-down first (XXH3-128 over type, version, kernel sources,
 * resolved parameters, the keys of the input frames it reads, and extra
 * material such as a file's content key); pixels are computed only for keys
 * found in neither the memory cache nor (for nodes that keep results on disk)
 * the disk cache. One computation per key: a result is stored under its key
 * before anything else asks for it. --explain prints, per node-frame, the
 * decision and, for recomputations, what changed since the last render. */
#include "cache.h"
#include "graph.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  const reel_node_t *n;
  int frame;
  int used;
  reel_key_t key;
} kmemo_t;

typedef struct reel_ctx {
  reel_cl_t *cl;
  char device[256];
  reel_memcache_t *mc;
  reel_diskcache_t *dc;
  char cache_dir[4096];
  const reel_render_opts_t *o;
  reel_render_stats_t *st;
  const reel_graph_t *g;
  unsigned gen;
  kmemo_t *km;
  size_t kcap, kn;
  double key_time;
} reel_ctx_t;

static reel_ctx_t ctx0;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- key memo: open addressing on (node, frame) ---- */

static size_t kslot(const reel_node_t *n, int frame, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)n * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uint32_t)frame * 0xC2B2AE3D27D4EB4Full;
  return (size_t)(h ^ h >> 29) & (cap - 1);
}

static kmemo_t *kfind(reel_ctx_t *c, const reel_node_t *n, int frame) {
  if (!c->kcap) return NULL;
  for (size_t i = kslot(n, frame, c->kcap);; i = (i + 1) & (c->kcap - 1)) {
    kmemo_t *e = &c->km[i];
    if (!e->used) return NULL;
    if (e->n == n && e->frame == frame) return e;
  }
}

static int kput(reel_ctx_t *c, const reel_node_t *n, int frame, const reel_key_t *k) {
  if ((c->kn + 1) * 2 > c->kcap) {
    size_t cap = c->kcap ? c->kcap * 2 : 1024;
    kmemo_t *km = calloc(cap, sizeof *km);
    if (!km) return -1;
    for (size_t i = 0; i < c->kcap; i++)
      if (c->km[i].used) {
        size_t j = kslot(c->km[i].n, c->km[i].frame, cap);
        while (km[j].used) j = (j + 1) & (cap - 1);
        km[j] = c->km[i];
      }
    free(c->km);
    c->km = km;
    c->kcap = cap;
  }
  size_t i = kslot(n, frame, c->kcap);
  while (c->km[i].used) i = (i + 1) & (c->kcap - 1);
  c->km[i] = (kmemo_t){n, frame, 1, *k};
  c->kn++;
  return 0;
}

static void kclear(reel_ctx_t *c) {
  if (c->km) memset(c->km, 0, sizeof *c->km * c->kcap);
  c->kn = 0;
}

/* ---- job helpers for node code ---- */

reel_cl_t *reel_job_cl(reel_job_t *j) {
  reel_ctx_t *c = j->ctx;
  if (!c->cl) {
    const char *bins = c->dc ? reel_diskcache_aux_dir(c->dc, "kernels") : NULL;
    c->cl = reel_cl_new(c->device[0] ? c->device : NULL, bins);
    if (!c->cl) return NULL;
    reel_image_set_loader_cl(c->cl);
  }
  return c->cl;
}

const char *reel_job_cache_dir(reel_job_t *j) { return j->ctx->dc ? j->ctx->cache_dir : NULL; }

int reel_job_file_key(reel_job_t *j, const char *path, reel_key_t *out) {
  return reel_fileindex_key(j->ctx->dc, path, out, NULL);
}

int reel_job_hash_file(reel_job_t *j, const char *path, reel_hasher_t *h) {
  if (!path || !*path) return 0;
  reel_key_t k;
  if (reel_job_file_key(j, path, &k)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    return -1;
  }
  reel_hash_key(h, &k);
  return 0;
}

reel_image_t *reel_job_image(reel_job_t *j, int i) {
  reel_image_t *im = i < j->nin ? reel_image_cast(j->in[i]) : NULL;
  if (!im) {
    int port = i < j->nin ? j->req[i].port : i;
    reel_node_error(j->node, REEL_EINTERNAL, "input '%s' did not give an image",
                    port < j->node->d->ninputs ? j->node->d->inputs[port].name : "?");
  }
  return im;
}

/* ---- parameters and requests at a frame ---- */

typedef struct {
  void *p;
  reel_reqs_t q;
  int frame;
} frame_t;

static void frame_clear(frame_t *f) {
  free(f->p);
  free(f->q.r);
  memset(f, 0, sizeof *f);
}

static int eff_frame(const reel_node_t *n, int frame) {
  return n->clip.constant ? REEL_FRAME_CONST : frame;
}

static int frame_setup(reel_node_t *n, int frame, frame_t *f) {
  const reel_node_desc_t *d = n->d;
  memset(f, 0, sizeof *f);
  f->frame = frame;
  if (!(f->p = calloc(1, d->psize ? d->psize : 1))) return -1;
  double pf = frame == REEL_FRAME_CONST ? 0 : frame;
  if (reel_params_resolve(d->params, d->nparams, n->pv, pf, f->p)) {
    reel_error_prefix("%s:", n->label);
    return -1;
  }
  if (d->frames) return d->frames(n, f->p, frame, &f->q);
  for (int i = 0; i < d->ninputs; i++)
    if (n->in[i] && reel_reqs_add(&f->q, i, frame)) return -1;
  return 0;
}

/* ---- keys ---- */

static int node_key(reel_ctx_t *c, reel_node_t *n, int frame, reel_key_t *out);

static int key_with(reel_ctx_t *c, reel_node_t *n, frame_t *f, reel_key_t *out,
                    reel_key_t *inkeys) {
  const reel_node_desc_t *d = n->d;
  reel_hasher_t *h = reel_hasher_new();
  if (!h) return -1;
  int rc = -1;
  reel_hash_str(h, "reel-node-1");
  reel_hash_str(h, d->name);
  reel_hash_i64(h, d->version);
  if (d->kernels) {
    char fam[64];
    const char *s = d->kernels;
    while (*s) {
      size_t len = strcspn(s, " ");
      if (len && len < sizeof fam) {
        memcpy(fam, s, len);
        fam[len] = 0;
        reel_key_t kk;
        if (reel_cl_source_key(fam, &kk)) {
          reel_node_error(n, REEL_EINTERNAL, "kernel family '%s' is not built in", fam);
          goto out;
        }
        reel_hash_key(h, &kk);
      }
      s += len + (s[len] == ' ');
    }
  }
  reel_params_hash(d->params, d->nparams, f->p, h);
  for (int i = 0; i < f->q.n; i++) {
    reel_node_t *src = n->in[f->q.r[i].port];
    reel_hash_i64(h, f->q.r[i].port);
    if (!src) {
      reel_hash_str(h, NULL);
      inkeys[i] = (reel_key_t){0, 0};
      continue;
    }
    if (node_key(c, src, f->q.r[i].frame, &inkeys[i])) goto out;
    reel_hash_key(h, &inkeys[i]);
  }
  if (d->flags & REEL_NF_USES_FRAME) reel_hash_i64(h, f->frame);
  if (d->key) {
    reel_job_t j = {.ctx = c, .node = n, .frame = f->frame};
    if (d->key(&j, f->p, h)) goto out;
  }
  *out = reel_hasher_digest(h);
  rc = 0;
out:
  reel_hasher_free(h);
  return rc;
}

static int node_key(reel_ctx_t *c, reel_node_t *n, int frame, reel_key_t *out) {
  frame = eff_frame(n, frame);
  kmemo_t *e = kfind(c, n, frame);
  if (e) {
    *out = e->key;
    return 0;
  }
  frame_t f;
  int rc = frame_setup(n, frame, &f);
  reel_key_t *ik = NULL;
  if (!rc) {
    ik = calloc((size_t)(f.q.n ? f.q.n : 1), sizeof *ik);
    rc = ik ? key_with(c, n, &f, out, ik) : -1;
  }
  free(ik);
  frame_clear(&f);
  if (!rc) kput(c, n, frame, out);
  return rc;
}

/* ---- explain records: what each computed node-frame was made of ---- */

static void explain_name(const reel_node_t *n, int frame, char out[40]) {
  char id[1200];
  int len = snprintf(id, sizeof id, "%s\n%s\n%s\n%d\n%d", n->d->name, n->name ? n->name : "",
                     n->file, n->line, frame);
  snprintf(out, 40, "%016llx", (unsigned long long)reel_hash64(id, (size_t)len));
}

static void explain_save(reel_ctx_t *c, reel_node_t *n, frame_t *f, const reel_key_t *k,
                         const reel_key_t *ik) {
  if (!c->dc) return;
  reel_buf_t b = {0};
  char name[40];
  reel_buf_u64(&b, k->hi);
  reel_buf_u64(&b, k->lo);
  reel_buf_u32(&b, (uint32_t)n->d->nparams);
  for (int i = 0; i < n->d->nparams; i++) {
    reel_buf_str(&b, n->d->params[i].name);
    reel_buf_u64(&b, reel_param_hash1(&n->d->params[i], f->p));
  }
  reel_buf_u32(&b, (uint32_t)f->q.n);
  for (int i = 0; i < f->q.n; i++) {
    reel_buf_u32(&b, (uint32_t)f->q.r[i].port);
    reel_buf_u64(&b, ik[i].hi);
    reel_buf_u64(&b, ik[i].lo);
  }
  explain_name(n, f->frame, name);
  if (reel_diskcache_aux_put(c->dc, "explain", name, b.p, b.n)) reel_error_clear();
  reel_buf_free(&b);
}

static void explain_why(reel_ctx_t *c, reel_node_t *n, frame_t *f, const reel_key_t *k,
                        const reel_key_t *ik, char *why, size_t cap) {
  reel_buf_t b = {0};
  char name[40];
  explain_name(n, f->frame, name);
  int got = c->dc ? reel_diskcache_aux_get(c->dc, "explain", name, &b) : 0;
  if (got != 1) {
    reel_error_clear();
    snprintf(why, cap, "first render of this node at this frame");
    reel_buf_free(&b);
    return;
  }
  reel_rd_t r = {b.p, b.n, 0, 0};
  reel_key_t old = {reel_rd_u64(&r), 0};
  old.lo = reel_rd_u64(&r);
  if (reel_key_eq(&old, k)) {
    snprintf(why, cap, "%s",
             n->d->flags & REEL_NF_DISK ? "unchanged, but its disk cache entry is gone"
                                        : "unchanged; kept in memory only, so computed again "
                                          "in a new process");
    reel_buf_free(&b);
    return;
  }
  size_t at = 0;
  why[0] = 0;
  uint32_t np = reel_rd_u32(&r);
  for (uint32_t i = 0; i < np && !r.bad; i++) {
    char pname[128];
    reel_rd_str(&r, pname, sizeof pname);
    uint64_t hv = reel_rd_u64(&r);
    for (int j = 0; j < n->d->nparams; j++)
      if (!strcmp(n->d->params[j].name, pname) &&
          reel_param_hash1(&n->d->params[j], f->p) != hv && at < cap) {
        char val[256];
        reel_param_format(&n->d->params[j], f->p, val, sizeof val);
        at += (size_t)snprintf(why + at, cap - at, "%sparameter '%s' changed (now %s)",
                               at ? ", " : "", pname, val);
      }
  }
  uint32_t nq = reel_rd_u32(&r);
  for (uint32_t i = 0; i < nq && !r.bad; i++) {
    uint32_t port = reel_rd_u32(&r);
    reel_key_t ok = {reel_rd_u64(&r), 0};
    ok.lo = reel_rd_u64(&r);
    if ((int)i < f->q.n && !reel_key_eq(&ok, &ik[i]) && at < cap && port < REEL_MAXIN)
      at += (size_t)snprintf(why + at, cap - at, "%sinput '%s' changed", at ? ", " : "",
                             n->d->inputs[port].name);
  }
  if (nq != (uint32_t)f->q.n && at < cap)
    at += (size_t)snprintf(why + at, cap - at, "%sthe frames it reads changed", at ? ", " : "");
  if (!at) snprintf(why, cap, "node version, kernel source or file content changed");
  reel_buf_free(&b);
}

static void explain_line(reel_ctx_t *c, reel_node_t *n, int frame, const reel_key_t *k,
                         const char *what) {
  if (!c->o->explain) return;
  char hex[REEL_KEY_HEX];
  reel_key_hex(k, hex);
  if (frame == REEL_FRAME_CONST)
    printf("explain  all    %-48s %.16s  %s\n", n->label, hex, what);
  else
    printf("explain  %-6d %-48s %.16s  %s\n", frame, n->label, hex, what);
}

/* ---- evaluation ---- */

static int node_value(reel_ctx_t *c, reel_node_t *n, int frame, reel_value_t **out);

static int compute_pointwise(reel_ctx_t *c, reel_node_t *n, frame_t *f, reel_value_t **out);

static int compute(reel_ctx_t *c, reel_node_t *n, frame_t *f, const reel_key_t *k,
                   const reel_key_t *ik, reel_value_t **out) {
  if ((n->d->flags & REEL_NF_POINTWISE) && n->d->pw_pack) return compute_pointwise(c, n, f, out);
  int rc = -1;
  reel_value_t **in = calloc((size_t)(f->q.n ? f->q.n : 1), sizeof *in);
  if (!in) return -1;
  for (int i = 0; i < f->q.n; i++) {
    reel_node_t *src = n->in[f->q.r[i].port];
    if (src && node_value(c, src, f->q.r[i].frame, &in[i])) goto out;
  }
  reel_job_t j = {c, n, f->frame, *k, f->q.n, in, f->q.r};
  if (n->d->eval(&j, f->p, out)) goto out;
  if (!*out) {
    reel_node_error(n, REEL_EINTERNAL, "gave no result");
    goto out;
  }
  rc = 0;
out:
  for (int i = 0; i < f->q.n; i++) reel_value_unref(in[i]);
  free(in);
  return rc;
}

static reel_cl_t *base_cl_of(reel_value_t *v) {
  reel_image_t *im = reel_image_cast(v);
  return im ? im->cl : NULL;
}

/* ---- pointwise fusion ----
 * A pointwise node pulls up the chain of pointwise nodes above it whose
 * results are not already in memory, and runs the whole chain as one
 * generated kernel: one read and one write per pixel for the chain. */

#define MAXCHAIN 32

typedef struct {
  reel_node_t *n;
  frame_t f;
  int off, np;
  const char *func;
  unsigned char konst[REEL_PW_MAXP];
} link_t;

static int compute_pointwise(reel_ctx_t *c, reel_node_t *n, frame_t *f, reel_value_t **out) {
  link_t chain[MAXCHAIN];
  int len = 0, rc = -1;
  reel_value_t *basev = NULL;
  reel_image_t *im = NULL;
  float *P = NULL;
  char *src = NULL;
  cl_mem pbuf = NULL;
  memset(&chain[0], 0, sizeof chain[0]);
  chain[len++].n = n;
  memset(&chain[0].f, 0, sizeof chain[0].f); /* f stays owned by the caller */
  chain[0].f.p = f->p;
  reel_node_t *top = n;
  while (len < MAXCHAIN) {
    reel_node_t *m = top->in[0];
    if (!m || !(m->d->flags & REEL_NF_POINTWISE) || m->d->frames || (m->d->flags & REEL_NF_DISK))
      break;
    reel_key_t mk;
    if (node_key(c, m, f->frame, &mk)) goto out;
    reel_value_t *hit = reel_memcache_get(c->mc, &mk);
    if (hit) {
      reel_value_unref(hit);
      break;
    }
    memset(&chain[len], 0, sizeof chain[len]);
    if (frame_setup(m, f->frame, &chain[len].f)) goto out;
    chain[len].n = m;
    len++;
    top = m;
  }
  if (!top->in[0]) {
    reel_node_error(top, REEL_EINTERNAL, "pointwise node without an input");
    goto out;
  }
  if (node_value(c, top->in[0], f->frame, &basev)) goto out;
  reel_image_t *base = reel_image_cast(basev);
  if (!base) {
    reel_node_error(top, REEL_EINTERNAL, "input is not an image");
    goto out;
  }
  /* pack parameters from the top of the chain down, tracking channels */
  reel_image_t stage = *base;
  memset(&stage.meta, 0, sizeof stage.meta);
  stage.mem = NULL;
  if (!(P = malloc(sizeof(float) * REEL_PW_MAXP * (size_t)len))) goto out;
  int np = 0;
  char names[REEL_MAXCH][REEL_CHNAME];
  for (int i = len - 1; i >= 0; i--) {
    reel_node_t *m = chain[i].n;
    memcpy(names, stage.ch, sizeof names);
    reel_pw_t pw = {P + np, 0, stage.nch, names, NULL, chain[i].konst};
    if (m->d->pw_pack(m, chain[i].f.p, &stage, &pw)) goto out;
    if (pw.np < 0 || pw.np > REEL_PW_MAXP || pw.nch_out < 1 || pw.nch_out > REEL_MAXCH) {
      reel_node_error(m, REEL_EINTERNAL, "bad pointwise packing (%d floats, %d channels)", pw.np,
                      pw.nch_out);
      goto out;
    }
    chain[i].off = np;
    chain[i].np = pw.np;
    chain[i].func = pw.func ? pw.func : m->d->pw_func;
    np += pw.np;
    stage.nch = pw.nch_out;
    memcpy(stage.ch, names, sizeof stage.ch);
  }
  reel_cl_t *cl = base->cl;
  const char *np_[REEL_MAXCH];
  for (int ch = 0; ch < stage.nch; ch++) np_[ch] = stage.ch[ch];
  if (!(im = reel_image_new(cl, stage.nch, np_, base->data, base->display))) goto out;
  if (reel_meta_copy(&im->meta, &base->meta)) goto out;
  if (im->mem) {
    /* source: the families of the chain's nodes (each once), then the kernel */
    reel_buf_t b = {0};
    const char *fams[MAXCHAIN];
    int nf = 0;
    for (int i = len - 1; i >= 0; i--) {
      const char *fam = chain[i].n->d->kernels;
      int seen = 0;
      for (int k = 0; k < nf; k++) seen |= !strcmp(fams[k], fam);
      if (seen) continue;
      fams[nf++] = fam;
      const char *fs = reel_cl_family_source(fam);
      if (!fs) {
        reel_node_error(chain[i].n, REEL_EINTERNAL, "kernel family '%s' not built in", fam);
        goto out;
      }
      reel_buf_put(&b, fs, strlen(fs));
      reel_buf_put(&b, "\n", 1);
    }
    char line[512];
    int k = snprintf(line, sizeof line,
                     "__kernel void pw_chain(__global const float *src, __global float *dst, "
                     "int plane, int nin, int nout, __constant const float *P) {\n"
                     "  int i = get_global_id(0);\n  if (i >= plane) return;\n"
                     "  float px[16];\n");
    reel_buf_put(&b, line, (size_t)k);
    /* channel counts written in as constants, with the loads and stores
     * unrolled: px then lives in registers, and PoCL vectorizes the loop over
     * pixels (with run-time loops it stays scalar, ~4x slower on a chain) */
    for (int ch = 0; ch < 16; ch++) {
      k = ch < base->nch
              ? snprintf(line, sizeof line, "  px[%d] = src[(size_t)%d * plane + i];\n", ch, ch)
              : snprintf(line, sizeof line, "  px[%d] = 0.0f;\n", ch);
      reel_buf_put(&b, line, (size_t)k);
    }
    /* each node's floats: structural ones as literals (the compiler folds
     * the channel selects and mode branches they drive), the rest loaded */
    for (int i = len - 1; i >= 0; i--) {
      k = snprintf(line, sizeof line, "  {\n    const float Q[%d] = {", chain[i].np ? chain[i].np : 1);
      reel_buf_put(&b, line, (size_t)k);
      for (int q = 0; q < chain[i].np; q++) {
        float v = P[chain[i].off + q];
        if (chain[i].konst[q] && isfinite(v))
          k = snprintf(line, sizeof line, "%s%af", q ? ", " : "", (double)v);
        else
          k = snprintf(line, sizeof line, "%sP[%d]", q ? ", " : "", chain[i].off + q);
        reel_buf_put(&b, line, (size_t)k);
      }
      if (!chain[i].np) reel_buf_put(&b, "0.0f", 4);
      k = snprintf(line, sizeof line, "};\n    %s(px, Q);\n  }\n", chain[i].func);
      reel_buf_put(&b, line, (size_t)k);
    }
    for (int ch = 0; ch < im->nch; ch++) {
      k = snprintf(line, sizeof line, "  dst[(size_t)%d * plane + i] = px[%d];\n", ch, ch);
      reel_buf_put(&b, line, (size_t)k);
    }
    reel_buf_put(&b, "}\n", 2);
    reel_buf_put(&b, "", 1);
    src = (char *)b.p;
    cl_kernel kern = reel_cl_kernel_gen(cl, src, "pw_chain");
    if (!kern) goto out;
    if (!(pbuf = reel_cl_alloc(cl, sizeof(float) * (size_t)(np ? np : 1)))) goto out;
    if (np && reel_cl_upload(cl, pbuf, 0, P, sizeof(float) * (size_t)np)) goto out;
    int plane = (int)im->plane, nin = base->nch, nout = im->nch;
    size_t g = im->plane;
    if (reel_cl_args(kern, 6, REEL_ARG(base->mem), REEL_ARG(im->mem), REEL_ARG(plane),
                     REEL_ARG(nin), REEL_ARG(nout), REEL_ARG(pbuf)) ||
        reel_cl_run(cl, kern, 1, &g, NULL))
      goto out;
  }
  for (int i = 1; i < len; i++) {
    chain[i].n->st_computed++;
    c->st->computed++;
    if (c->o->explain) {
      reel_key_t mk;
      node_key(c, chain[i].n, f->frame, &mk);
      char what[600];
      snprintf(what, sizeof what, "computed: fused into %s", n->label);
      explain_line(c, chain[i].n, f->frame, &mk, what);
    }
  }
  *out = &im->v;
  im = NULL;
  rc = 0;
out:
  if (pbuf) reel_cl_release(base_cl_of(basev), pbuf);
  for (int i = 1; i < len; i++) frame_clear(&chain[i].f);
  reel_image_unref(im);
  reel_value_unref(basev);
  free(P);
  free(src);
  return rc;
}

static int verify(reel_ctx_t *c, reel_node_t *n, frame_t *f, const reel_key_t *k,
                  const reel_key_t *ik, reel_value_t *cached) {
  c->st->verified++;
  if (n->d->verify) {
    /* side-effect nodes: check the record against freshly computed inputs */
    int rc = -1;
    reel_value_t **in = calloc((size_t)(f->q.n ? f->q.n : 1), sizeof *in);
    if (!in) return -1;
    for (int i = 0; i < f->q.n; i++) {
      reel_node_t *src = n->in[f->q.r[i].port];
      if (src && node_value(c, src, f->q.r[i].frame, &in[i])) goto vout;
    }
    reel_job_t j = {c, n, f->frame, *k, f->q.n, in, f->q.r};
    rc = n->d->verify(&j, f->p, cached);
    if (rc) c->st->verify_mismatches++;
  vout:
    for (int i = 0; i < f->q.n; i++) reel_value_unref(in[i]);
    free(in);
    return rc;
  }
  reel_value_t *fresh = NULL;
  if (compute(c, n, f, k, ik, &fresh)) return -1;
  reel_buf_t a = {0}, b = {0};
  int rc = reel_value_save(cached, &a) || reel_value_save(fresh, &b) ? -1 : 0;
  if (!rc && (a.n != b.n || memcmp(a.p, b.p, a.n))) {
    c->st->verify_mismatches++;
    reel_node_error(n, REEL_EINTERNAL,
                    "--verify: at frame %d the cached result differs from a fresh computation. "
                    "The node's key misses something its result depends on; please report this "
                    "with the graph file",
                    f->frame);
    rc = -1;
  }
  reel_buf_free(&a);
  reel_buf_free(&b);
  reel_value_unref(fresh);
  return rc;
}

static int node_value(reel_ctx_t *c, reel_node_t *n, int frame, reel_value_t **out) {
  const reel_node_desc_t *d = n->d;
  frame = eff_frame(n, frame);
  *out = NULL;
  frame_t f;
  reel_key_t k, *ik = NULL;
  int rc = -1, lock = -1;
  reel_value_t *v = NULL;
  if (frame_setup(n, frame, &f)) goto out;
  if (!(ik = calloc((size_t)(f.q.n ? f.q.n : 1), sizeof *ik))) goto out;
  double t0 = now();
  if (key_with(c, n, &f, &k, ik)) goto out;
  c->key_time += now() - t0;
  reel_job_t j = {c, n, frame, k, 0, NULL, NULL};
  if ((v = reel_memcache_get(c->mc, &k))) {
    if (!d->valid || d->valid(&j, f.p, v) == 1) {
      n->st_mem++;
      c->st->memory_hits++;
      explain_line(c, n, frame, &k, "memory cache");
      if (c->o->verify && verify(c, n, &f, &k, ik, v)) goto out;
      goto done;
    }
    reel_value_unref(v);
    v = NULL;
    reel_memcache_remove(c->mc, &k);
  }
  if (c->dc && (d->flags & REEL_NF_DISK)) {
    /* a cached image is loaded onto the device: open it first */
    if (d->output == REEL_V_IMAGE && !reel_job_cl(&j)) goto out;
    int hit = reel_diskcache_get_value(c->dc, &k, &v);
    if (hit < 0) goto out;
    if (!hit && (d->flags & REEL_NF_LOCKED)) {
      /* another process may be computing it: wait for its lock, look again */
      if ((lock = reel_diskcache_lock(c->dc, &k)) < 0) goto out;
      if ((hit = reel_diskcache_get_value(c->dc, &k, &v)) < 0) goto out;
    }
    if (hit == 1 && (!d->valid || d->valid(&j, f.p, v) == 1)) {
      n->st_disk++;
      c->st->disk_hits++;
      explain_line(c, n, frame, &k, "disk cache");
      if (c->o->verify && verify(c, n, &f, &k, ik, v)) goto out;
      if (!(d->flags & REEL_NF_NO_MEMCACHE)) reel_memcache_put(c->mc, &k, v);
      goto done;
    }
    reel_value_unref(v);
    v = NULL;
  }
  if (c->o->explain) {
    char why[2048];
    explain_why(c, n, &f, &k, ik, why, sizeof why);
    char what[2100];
    snprintf(what, sizeof what, "computed: %s", why);
    explain_line(c, n, frame, &k, what);
  }
  if (compute(c, n, &f, &k, ik, &v)) goto out;
  n->st_computed++;
  c->st->computed++;
  if (c->dc && (d->flags & REEL_NF_DISK) && reel_diskcache_put_value(c->dc, &k, v)) goto out;
  if (!(d->flags & REEL_NF_NO_MEMCACHE)) reel_memcache_put(c->mc, &k, v);
  explain_save(c, n, &f, &k, ik);
done:
  *out = v;
  v = NULL;
  rc = 0;
out:
  if (lock >= 0) reel_diskcache_unlock(c->dc, lock);
  reel_value_unref(v);
  free(ik);
  frame_clear(&f);
  return rc;
}

/* ---- render ---- */

static int ctx_open(reel_ctx_t *c, const reel_render_opts_t *o) {
  size_t mem = o->mem_bytes > 0 ? (size_t)o->mem_bytes : (size_t)2 << 30;
  if (!c->mc) {
    if (!(c->mc = reel_memcache_new(mem))) return -1;
  } else
    reel_memcache_set_max(c->mc, mem);
  const char *dir = o->no_disk_cache ? NULL
                    : o->cache_dir && o->cache_dir[0] ? o->cache_dir
                                                      : reel_diskcache_default_dir();
  if (dir && (!c->dc || strcmp(dir, c->cache_dir))) {
    reel_diskcache_close(c->dc);
    c->dc = NULL;
    if (!(c->dc = reel_diskcache_open(dir))) return -1;
    snprintf(c->cache_dir, sizeof c->cache_dir, "%s", dir);
  } else if (!dir && c->dc) {
    reel_diskcache_close(c->dc);
    c->dc = NULL;
  }
  const char *dev = o->device ? o->device : "";
  if (c->cl && strcmp(dev, c->device)) {
    reel_memcache_free(c->mc); /* images live on the old device */
    if (!(c->mc = reel_memcache_new(mem))) return -1;
    reel_cl_free(c->cl);
    c->cl = NULL;
  }
  snprintf(c->device, sizeof c->device, "%s", dev);
  return 0;
}

void reel_shutdown(void) {
  reel_ctx_t *c = &ctx0;
  reel_memcache_free(c->mc);
  reel_diskcache_close(c->dc);
  reel_image_set_loader_cl(NULL);
  reel_cl_free(c->cl);
  free(c->km);
  memset(c, 0, sizeof *c);
}

static void progress(const reel_render_opts_t *o, int done, int total, double t0) {
  if (!o->progress) return;
  double el = now() - t0;
  double eta = done ? el / done * (total - done) : 0;
  fprintf(stderr, "\rreel: frame %d/%d  %.1f s elapsed  eta %.0f s   ", done, total, el, eta);
  if (done == total) fputc('\n', stderr);
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", *s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

static int write_stats(const reel_graph_t *g, const reel_render_opts_t *o,
                       const reel_render_stats_t *st) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", o->stats_json, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) {
    reel_error(REEL_EIO, "cannot write --stats-json '%s'", o->stats_json);
    return -1;
  }
  fprintf(f,
          "{\n  \"computed\": %lld,\n  \"memory_hits\": %lld,\n  \"disk_hits\": %lld,\n"
          "  \"frames\": %lld,\n  \"seconds\": %.6f,\n  \"key_seconds\": %.6f,\n"
          "  \"peak_rss_mb\": %.1f,\n  \"verified\": %lld,\n  \"nodes\": [",
          st->computed, st->memory_hits, st->disk_hits, st->frames, st->seconds, st->key_seconds,
          st->peak_rss_mb, st->verified);
  int first = 1;
  for (int i = 0; i < g->n; i++) {
    const reel_node_t *n = g->nodes[i];
    if (!n->st_computed && !n->st_mem && !n->st_disk) continue;
    fprintf(f, "%s\n    {\"id\": %d, \"type\": ", first ? "" : ",", n->id);
    json_str(f, n->d->name);
    fprintf(f, ", \"name\": ");
    json_str(f, n->name ? n->name : "");
    fprintf(f, ", \"file\": ");
    json_str(f, n->file);
    fprintf(f, ", \"line\": %d, \"computed\": %lld, \"memory_hits\": %lld, \"disk_hits\": %lld}",
            n->line, n->st_computed, n->st_mem, n->st_disk);
    first = 0;
  }
  fprintf(f, "\n  ]\n}\n");
  if (fclose(f) || rename(tmp, o->stats_json)) {
    reel_error(REEL_EIO, "cannot write --stats-json '%s'", o->stats_json);
    return -1;
  }
  return 0;
}

typedef struct {
  reel_node_t *n;
  int first, last;
} target_t;

/* 1 if n carries `name`: its own, or that of a graph output it is. */
static int named(const reel_graph_t *g, const reel_node_t *n, const char *name) {
  if (n->name && !strcmp(n->name, name)) return 1;
  for (int i = 0; i < g->nouts; i++)
    if (g->outs[i].node == n && g->outs[i].name && !strcmp(g->outs[i].name, name)) return 1;
  return 0;
}

static int pick_targets(reel_graph_t *g, const reel_render_opts_t *o, target_t **out, int *nt) {
  target_t *t = calloc((size_t)(g->n + g->nouts + 1), sizeof *t);
  int k = 0;
  if (!t) return -1;
  if (o->type) {
    for (int i = 0; i < g->n; i++) {
      reel_node_t *n = g->nodes[i];
      if (!n->finished || strcmp(n->d->name, o->type) || (o->output && !named(g, n, o->output)))
        continue;
      t[k++].n = n;
    }
    if (!k) {
      if (o->output)
        reel_error(REEL_EUSER, "no %s node is named %s", o->type, o->output);
      else
        reel_error(REEL_EUSER, "the graph has no %s node", o->type);
      free(t);
      return -1;
    }
  } else if (o->output) {
    for (int i = 0; i < g->nouts; i++)
      if (g->outs[i].name && !strcmp(g->outs[i].name, o->output)) t[k++].n = g->outs[i].node;
    for (int i = 0; !k && i < g->n; i++)
      if (g->nodes[i]->name && !strcmp(g->nodes[i]->name, o->output)) t[k++].n = g->nodes[i];
    if (!k) {
      reel_error(REEL_EUSER, "--output %s: no output or node has that name", o->output);
      free(t);
      return -1;
    }
  } else if (g->nouts) {
    for (int i = 0; i < g->nouts; i++) t[k++].n = g->outs[i].node;
  } else {
    for (int i = 0; i < g->n; i++)
      if (g->nodes[i]->finished && g->nodes[i]->d->flags & REEL_NF_SINK) t[k++].n = g->nodes[i];
  }
  if (!k) {
    reel_error(REEL_EUSER, "the graph has nothing to render: add a Write, or return the nodes "
                           "to render from the graph file");
    free(t);
    return -1;
  }
  for (int i = 0; i < k; i++) {
    reel_node_t *n = t[i].n;
    if (n->clip.constant) {
      t[i].first = t[i].last = REEL_FRAME_CONST;
      continue;
    }
    t[i].first = n->clip.first;
    t[i].last = n->clip.last;
    if (o->first <= o->last) {
      if (o->first > t[i].last || o->last < t[i].first) {
        reel_node_error(n, REEL_EUSER, "--frames %d-%d is outside its frames %d-%d", o->first,
                        o->last, t[i].first, t[i].last);
        free(t);
        return -1;
      }
      if (o->first > t[i].first) t[i].first = o->first;
      if (o->last < t[i].last) t[i].last = o->last;
    }
  }
  *out = t;
  *nt = k;
  return 0;
}

int reel_render(reel_graph_t *g, const reel_render_opts_t *o, reel_render_stats_t *st) {
  reel_ctx_t *c = &ctx0;
  reel_render_stats_t local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  double t0 = now();
  target_t *t = NULL;
  int nt = 0, rc = -1;
  if (ctx_open(c, o)) return -1;
  c->o = o;
  c->st = st;
  kclear(c); /* keys are per render: a file may have changed on disk since the last one */
  c->g = g;
  c->gen = g->generation;
  c->key_time = 0;
  for (int i = 0; i < g->n; i++) g->nodes[i]->st_computed = g->nodes[i]->st_mem = g->nodes[i]->st_disk = 0;
  if (pick_targets(g, o, &t, &nt)) goto out;

  int lo = INT_MAX, hi = INT_MIN, any_const = 0;
  for (int i = 0; i < nt; i++) {
    if (t[i].first == REEL_FRAME_CONST) {
      any_const = 1;
      continue;
    }
    if (t[i].first < lo) lo = t[i].first;
    if (t[i].last > hi) hi = t[i].last;
  }
  int total = (lo <= hi ? hi - lo + 1 : 0) + any_const;
  int done = 0;
  for (int i = 0; i < nt && any_const; i++)
    if (t[i].first == REEL_FRAME_CONST) {
      reel_value_t *v;
      if (node_value(c, t[i].n, REEL_FRAME_CONST, &v)) goto out;
      reel_value_unref(v);
    }
  if (any_const) {
    if (lo > hi) st->frames++; /* only constant outputs: one frame's worth */
    progress(o, ++done, total, t0);
  }
  for (int f = lo; lo <= hi && f <= hi; f++) {
    for (int i = 0; i < nt; i++) {
      if (t[i].first == REEL_FRAME_CONST || f < t[i].first || f > t[i].last) continue;
      reel_value_t *v;
      if (node_value(c, t[i].n, f, &v)) {
        reel_error_prefix("frame %d:", f);
        goto out;
      }
      reel_value_unref(v);
    }
    st->frames++;
    progress(o, ++done, total, t0);
  }
  if (c->cl && reel_cl_finish(c->cl)) goto out;
  rc = 0;
out:
  st->seconds = now() - t0;
  st->key_seconds = c->key_time;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  st->peak_rss_mb = (double)ru.ru_maxrss / 1024.0;
  if (o->stats_json && write_stats(g, o, st)) rc = -1;
  free(t);
  fflush(stdout);
  return rc;
}

/* The value of node n at `frame` with the process-wide context, for
 * reel_eval_image and reel_eval_meta: a new reference in *v. */
static int eval_value(reel_graph_t *g, reel_node_t *n, int frame, const reel_render_opts_t *o,
                      int fresh, reel_render_stats_t *st, reel_value_t **v) {
  reel_ctx_t *c = &ctx0;
  reel_render_opts_t def = {.first = 1, .last = 0, .no_disk_cache = 1};
  memset(st, 0, sizeof *st);
  if (!o) o = &def;
  *v = NULL;
  if (!n->finished) {
    reel_node_error(n, REEL_EUSER, "is not complete");
    return -1;
  }
  if (ctx_open(c, o)) return -1;
  c->o = o;
  c->st = st;
  kclear(c);
  c->g = g;
  c->gen = g->generation;
  reel_key_t k;
  if (fresh) {
    if (node_key(c, n, frame, &k)) return -1;
    reel_memcache_remove(c->mc, &k);
  }
  return node_value(c, n, frame, v);
}

int reel_eval_image(reel_graph_t *g, reel_node_t *n, int frame, const reel_render_opts_t *o,
                    int fresh, float **px, int *nch, int *data, int *display) {
  reel_ctx_t *c = &ctx0;
  reel_render_stats_t st;
  reel_value_t *v = NULL;
  if (px) *px = NULL;
  if (eval_value(g, n, frame, o, fresh, &st, &v)) return -1;
  int rc = -1;
  reel_image_t *im = reel_image_cast(v);
  if (im) {
    if (nch) *nch = im->nch;
    if (data) memcpy(data, &im->data, sizeof(int) * 4);
    if (display) memcpy(display, &im->display, sizeof(int) * 4);
    if (px) {
      size_t bytes = reel_image_bytes(im);
      if (!(*px = malloc(bytes ? bytes : 1))) {
        reel_error(REEL_EIO, "out of memory");
        goto out;
      }
      if (reel_image_download(im, *px)) goto out;
    }
  }
  if (c->cl && reel_cl_finish(c->cl)) goto out;
  rc = 0;
out:
  if (rc && px && *px) {
    free(*px);
    *px = NULL;
  }
  reel_value_unref(v);
  return rc;
}

int reel_eval_meta(reel_graph_t *g, reel_node_t *n, int frame, const reel_render_opts_t *o,
                   const char *key, char *out, int cap) {
  reel_render_stats_t st;
  reel_value_t *v = NULL;
  if (cap > 0) out[0] = 0;
  if (eval_value(g, n, frame, o, 0, &st, &v)) return -1;
  reel_image_t *im = reel_image_cast(v);
  const char *val = im ? reel_meta_get(&im->meta, key) : NULL;
  if (val && cap > 0) snprintf(out, (size_t)cap, "%s", val);
  reel_value_unref(v);
  return val ? 1 : 0;
}
