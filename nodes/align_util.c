/* The per-frame side of Align and AlignSolve (align_util.h): lumas on the
 * device, key frames, the estimate cache and the residual policy. An
 * estimate is cached by the content of what it depends on (the two lumas
 * and the solver's parameters), not by graph keys, so Align and AlignSolve
 * on the same pictures share it, and so do the frames of a key-frame solve
 * that interpolate between the same two keys: in this process (a small
 * memo) and in the disk cache's aux/align namespace. */
#include "align_util.h"
#include "cache.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALGO_VERSION 1 /* bump when estimates change for equal inputs */
#define NONE INT_MAX   /* no key (INT_MIN is REEL_FRAME_CONST) */

static const reel_param_desc_t solve_params[] = {REEL_ALIGN_SOLVE_PARAMS};

/* ---- lumas ---- */

void reel_align_luma_clear(reel_align_luma_t *l) {
  free(l->px);
  memset(l, 0, sizeof *l);
}

int reel_align_luma(reel_job_t *j, const reel_image_t *im, reel_align_luma_t *out) {
  memset(out, 0, sizeof *out);
  out->display = im->display;
  out->w = reel_box_w(im->display);
  out->h = reel_box_h(im->display);
  size_t n = (size_t)out->w * out->h;
  if (!(out->px = malloc(sizeof(float) * (n ? n : 1)))) {
    reel_node_error(j->node, REEL_EIO, "out of memory");
    return -1;
  }
  if (!im->mem || !n) {
    for (size_t i = 0; i < n; i++) out->px[i] = NAN;
    return 0;
  }
  int c0 = reel_image_find_channel(im, "R"), c1 = reel_image_find_channel(im, "G"),
      c2 = reel_image_find_channel(im, "B");
  cl_float4 wt = {{0.2126f, 0.7152f, 0.0722f, 0}};
  if (c0 < 0 || c1 < 0 || c2 < 0) { /* Y, else the first channel */
    c0 = reel_image_find_channel(im, "Y");
    c0 = c1 = c2 = c0 < 0 ? 0 : c0;
    wt = (cl_float4){{1, 0, 0, 0}};
  }
  reel_cl_t *cl = im->cl;
  cl_kernel k = reel_cl_kernel(cl, "align", "align_luma");
  cl_mem buf = k ? reel_cl_alloc(cl, sizeof(float) * n) : NULL;
  int sw = reel_image_w(im), sh = reel_image_h(im), dw = out->w, dh = out->h;
  int ox = im->display.x0 - im->data.x0, oy = im->display.y0 - im->data.y0;
  size_t g[2] = {(size_t)dw, (size_t)dh}, l[2] = {256, 1};
  int rc = !buf ||
                   reel_cl_args(k, 12, REEL_ARG(im->mem), REEL_ARG(sw), REEL_ARG(sh), REEL_ARG(c0),
                                REEL_ARG(c1), REEL_ARG(c2), REEL_ARG(wt), REEL_ARG(buf),
                                REEL_ARG(dw), REEL_ARG(dh), REEL_ARG(ox), REEL_ARG(oy)) ||
                   reel_cl_run(cl, k, 2, g, l) ||
                   reel_cl_download(cl, buf, 0, out->px, sizeof(float) * n)
               ? -1
               : 0;
  reel_cl_release(cl, buf);
  if (rc) reel_align_luma_clear(out);
  return rc;
}

/* ---- the estimate cache ---- */

static int content_key(const reel_align_params_t *p, const reel_align_luma_t *l[2],
                       reel_key_t *out) {
  reel_key_t src;
  reel_hasher_t *h = reel_hasher_new();
  if (!h || reel_cl_source_key("align", &src)) {
    reel_hasher_free(h);
    return -1;
  }
  reel_hash_str(h, "reel-align-estimate");
  reel_hash_i64(h, ALGO_VERSION);
  reel_hash_key(h, &src);
  reel_params_hash(solve_params, REEL_ALIGN_SOLVE_NPARAMS, p, h);
  for (int i = 0; i < 2; i++) {
    reel_hash_bytes(h, &l[i]->display, sizeof l[i]->display);
    reel_hash_bytes(h, l[i]->px, sizeof(float) * (size_t)l[i]->w * l[i]->h);
  }
  *out = reel_hasher_digest(h);
  reel_hasher_free(h);
  return 0;
}

static int encode(const reel_align_result_t *r, reel_buf_t *b) {
  for (int i = 0; i < 9; i++)
    if (reel_buf_f64(b, r->m.m[i])) return -1;
  return reel_buf_f64(b, r->residual) || reel_buf_f64(b, r->coverage) ||
         reel_buf_u32(b, (uint32_t)r->iterations) || reel_buf_u32(b, (uint32_t)r->ok) ||
         reel_buf_str(b, r->why);
}

static int decode(const reel_buf_t *b, reel_align_result_t *r) {
  reel_rd_t rd = {b->p, b->n, 0, 0};
  for (int i = 0; i < 9; i++) r->m.m[i] = reel_rd_f64(&rd);
  r->residual = reel_rd_f64(&rd);
  r->coverage = reel_rd_f64(&rd);
  r->iterations = (int)reel_rd_u32(&rd);
  r->ok = (int)reel_rd_u32(&rd);
  reel_rd_str(&rd, r->why, sizeof r->why);
  return rd.bad || rd.at != rd.n ? -1 : 0;
}

#define MEMO 64
static struct {
  reel_key_t k;
  reel_align_result_t r;
} memo[MEMO];
static int memo_n, memo_next;
static pthread_mutex_t memo_mu = PTHREAD_MUTEX_INITIALIZER;

static int memo_get(const reel_key_t *k, reel_align_result_t *r) {
  int hit = 0;
  pthread_mutex_lock(&memo_mu);
  for (int i = 0; i < memo_n && !hit; i++)
    if (reel_key_eq(&memo[i].k, k)) *r = memo[i].r, hit = 1;
  pthread_mutex_unlock(&memo_mu);
  return hit;
}

static void memo_put(const reel_key_t *k, const reel_align_result_t *r) {
  pthread_mutex_lock(&memo_mu);
  memo[memo_next].k = *k;
  memo[memo_next].r = *r;
  memo_next = (memo_next + 1) % MEMO;
  if (memo_n < MEMO) memo_n++;
  pthread_mutex_unlock(&memo_mu);
}

/* The estimate for one pair of pictures, from a cache or solved. */
static int estimate(reel_job_t *j, const reel_align_params_t *p, const reel_image_t *mv,
                    const reel_image_t *fx, int frame, reel_align_result_t *r) {
  reel_align_luma_t lm, lf;
  const reel_align_luma_t *pair[2] = {&lm, &lf};
  reel_diskcache_t *dc = NULL;
  reel_buf_t b = {0};
  reel_key_t k;
  char name[REEL_KEY_HEX];
  int rc = -1;
  if (reel_align_luma(j, mv, &lm)) return -1;
  if (reel_align_luma(j, fx, &lf)) goto out_m;
  if (content_key(p, pair, &k)) goto out;
  reel_key_hex(&k, name);
  if (memo_get(&k, r)) {
    rc = 0;
    goto out;
  }
  const char *dir = reel_job_cache_dir(j);
  if (dir && (dc = reel_diskcache_open(dir))) {
    if (reel_diskcache_aux_get(dc, "align", name, &b) == 1 && !decode(&b, r)) {
      memo_put(&k, r);
      rc = 0;
      goto out;
    }
  }
  reel_error_clear(); /* a cache that cannot be read is only a miss */
  if (reel_align_solve(mv->cl, p, &lm, &lf, r)) {
    reel_error_prefix("%s:", reel_node_label(j->node));
    goto out;
  }
  memo_put(&k, r);
  /* a line per solve, as it happens (cached estimates stay quiet) */
  if (r->ok)
    fprintf(stderr, "reel: %s: frame %d: residual %.4f (%d iterations)\n", reel_node_label(j->node),
            frame, r->residual, r->iterations);
  b.n = 0;
  if (dc && (encode(r, &b) || reel_diskcache_aux_put(dc, "align", name, b.p, b.n)))
    reel_error_clear(); /* the estimate stands; only its cache entry is missing */
  rc = 0;
out:
  reel_align_luma_clear(&lf);
out_m:
  reel_align_luma_clear(&lm);
  reel_diskcache_close(dc);
  reel_buf_free(&b);
  return rc;
}

static int measure(reel_job_t *j, const reel_align_params_t *p, const reel_image_t *mv,
                   const reel_image_t *fx, const reel_mat3_t *m, double *residual) {
  reel_align_luma_t lm, lf;
  int rc = -1;
  if (reel_align_luma(j, mv, &lm)) return -1;
  if (!reel_align_luma(j, fx, &lf)) {
    rc = reel_align_measure(mv->cl, p, &lm, &lf, m, residual);
    if (rc) reel_error_prefix("%s:", reel_node_label(j->node));
    reel_align_luma_clear(&lf);
  }
  reel_align_luma_clear(&lm);
  return rc;
}

/* ---- key frames ---- */

/* k0: the key at or before frame (else the first key); k1: the key after
 * frame when frame lies between two keys and is none itself, else NONE. */
static void keys_around(const reel_align_params_t *p, int frame, int *k0, int *k1) {
  int lo = NONE, hi = NONE;
  for (int i = 0; i < p->keys.n; i++) {
    int k = (int)lround(p->keys.v[i]);
    if (k <= frame && (lo == NONE || k > lo)) lo = k;
    if (k > frame && (hi == NONE || k < hi)) hi = k;
  }
  *k0 = lo != NONE ? lo : hi;
  *k1 = lo != NONE && lo != frame ? hi : NONE;
}

static int keyed(const reel_align_params_t *p, int frame) {
  return p->keys.n > 0 && frame != REEL_FRAME_CONST;
}

int reel_align_frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *out) {
  const reel_align_params_t *p = pv;
  int k0 = frame, k1 = NONE;
  if (keyed(p, frame)) keys_around(p, frame, &k0, &k1);
  int f[3] = {k0, k1, k0 != frame ? frame : NONE};
  for (int i = 0; i < 3; i++)
    if (f[i] != NONE && (reel_reqs_add(out, 0, f[i]) || reel_reqs_add(out, 1, f[i]))) return -1;
  return 0;
}

int reel_align_check(reel_node_t *n, const void *pv) {
  const reel_align_params_t *p = pv;
  const double *b = p->box;
  if ((b[0] || b[1] || b[2] || b[3]) && (b[2] - b[0] < 8 || b[3] - b[1] < 8)) {
    reel_node_error(n, REEL_EUSER,
                    "box {%g, %g, %g, %g} is under 8x8 pixels: give {x0, y0, x1, y1} in the "
                    "fixed picture's pixels, x1 > x0 and y1 > y0, or all 0 for the whole frame",
                    b[0], b[1], b[2], b[3]);
    return -1;
  }
  for (int i = 0; i < p->keys.n; i++)
    if (p->keys.v[i] != floor(p->keys.v[i])) {
      reel_node_error(n, REEL_EUSER, "keys: %g is not a frame number", p->keys.v[i]);
      return -1;
    }
  return 0;
}

int reel_align_clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const reel_align_params_t *p = pv;
  const reel_clip_t *mv = &in[0], *fx = &in[1];
  *out = *fx;
  out->nch = mv->nch;
  memcpy(out->ch, mv->ch, sizeof out->ch);
  if (mv->constant && fx->constant) return 0;
  out->constant = 0;
  out->first = mv->constant            ? fx->first
               : fx->constant          ? mv->first
               : fx->first > mv->first ? fx->first
                                       : mv->first;
  out->last = mv->constant          ? fx->last
              : fx->constant        ? mv->last
              : fx->last < mv->last ? fx->last
                                    : mv->last;
  if (out->first > out->last) {
    reel_node_error(n, REEL_EUSER,
                    "inputs 'moving' (frames %d-%d) and 'fixed' (frames %d-%d) share no frame: "
                    "line them up with TimeOffset (reel sync finds the offset)",
                    mv->first, mv->last, fx->first, fx->last);
    return -1;
  }
  for (int i = 0; i < p->keys.n; i++) {
    int k = (int)p->keys.v[i];
    if (k < out->first || k > out->last) {
      reel_node_error(n, REEL_EUSER, "key frame %d is outside the frames both inputs have (%d-%d)",
                      k, out->first, out->last);
      return -1;
    }
  }
  return 0;
}

/* ---- one frame ---- */

static reel_image_t *input(reel_job_t *j, int port, int frame) {
  for (int i = 0; i < j->nin; i++)
    if (j->req[i].port == port && j->req[i].frame == frame) return reel_job_image(j, i);
  reel_node_error(j->node, REEL_EINTERNAL, "input %d at frame %d was not requested", port, frame);
  return NULL;
}

/* A frame's answer against max_residual and strict: 0 to go on, -1. */
static int judge(reel_job_t *j, const reel_align_params_t *p, const reel_xf_entry_t *e,
                 const reel_align_result_t *r) {
  char what[400], res[48] = "";
  const char *fix = "try a larger analysis region (box), search_rotate / search_scale for a "
                    "larger misalignment, or the manual path (Transform or CornerPin)";
  if (r && !r->ok) {
    if (isfinite(r->residual)) snprintf(res, sizeof res, " (residual %.3f)", r->residual);
    snprintf(what, sizeof what, "did not converge: %s%s; %s", r->why, res, fix);
  } else if (!(e->residual <= p->max_residual)) {
    snprintf(what, sizeof what, "residual %.3f is above max_residual %.3f%s; %s", e->residual,
             p->max_residual,
             e->status == REEL_XF_SOLVED ? "" : " between key frames (add a key frame here)", fix);
  } else {
    return 0;
  }
  int frame = j->frame == REEL_FRAME_CONST ? 0 : j->frame;
  if (p->strict) {
    reel_node_error(j->node, REEL_EUSER, "frame %d: %s (or strict = false to go on)", frame, what);
    return -1;
  }
  fprintf(stderr, "reel: warning: %s: frame %d: %s\n", reel_node_label(j->node), frame, what);
  return 0;
}

int reel_align_frame(reel_job_t *j, const reel_align_params_t *p, reel_xf_entry_t *e,
                     reel_image_t **moving, reel_image_t **fixed) {
  int f = j->frame, k0 = f, k1 = NONE;
  if (keyed(p, f)) keys_around(p, f, &k0, &k1);
  memset(e, 0, sizeof *e);
  e->frame = f == REEL_FRAME_CONST ? 0 : f;
  if (!(*moving = input(j, 0, f)) || !(*fixed = input(j, 1, f))) return -1;
  reel_align_result_t r0, r1;
  reel_image_t *m0 = input(j, 0, k0), *f0 = input(j, 1, k0);
  if (!m0 || !f0 || estimate(j, p, m0, f0, k0 == REEL_FRAME_CONST ? 0 : k0, &r0)) return -1;
  /* an estimate without an answer keeps the format-to-format map */
  reel_box_t md = m0->display, fd = f0->display;
  reel_mat3_t fmt = {{(double)reel_box_w(fd) / reel_box_w(md), 0, 0, 0,
                      (double)reel_box_h(fd) / reel_box_h(md), 0, 0, 0, 1}};
  fmt = reel_mat3_mul(reel_mat3_mul(reel_mat3_translate(fd.x0, fd.y0), fmt),
                      reel_mat3_translate(-md.x0, -md.y0));
  if (!r0.ok) r0.m = fmt;
  e->m = r0.m;
  e->residual = r0.residual;
  e->iterations = k0 == f ? r0.iterations : 0; /* iterations of this frame's own solve */
  e->status = k0 == f ? REEL_XF_SOLVED : REEL_XF_HELD;
  if (k0 == f || !r0.ok) return judge(j, p, e, &r0);
  e->iterations = 0;
  if (k1 != NONE) {
    reel_image_t *m1 = input(j, 0, k1), *f1 = input(j, 1, k1);
    if (!m1 || !f1 || estimate(j, p, m1, f1, k1, &r1)) return -1;
    if (!r1.ok) return judge(j, p, e, &r1);
    e->status = REEL_XF_INTERPOLATED;
    if (reel_xf_lerp(&r0.m, &r1.m, (double)(f - k0) / (k1 - k0), md, &e->m)) {
      reel_node_error(j->node, REEL_EUSER,
                      "frame %d: the key frames %d and %d disagree so much that their "
                      "corners cannot be interpolated; add key frames between them",
                      f, k0, k1);
      return -1;
    }
  }
  if (measure(j, p, *moving, *fixed, &e->m, &e->residual)) return -1;
  return judge(j, p, e, NULL);
}
