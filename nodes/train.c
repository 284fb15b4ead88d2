/* Train: fits a U-Net (engine/nn) that maps `input` to `target` on random
 * patches of the dataset frames, the way CopyCat does inside NukeX. The
 * result is a Model value, kept in the disk cache: an unchanged graph never
 * retrains. Progress goes to stderr and the run directory (loss.csv,
 * contact sheets, checkpoints); a killed run resumes from its last
 * checkpoint and ends with the same weights as an uninterrupted one, since
 * every random choice is a function of (seed, step) and every kernel
 * reduces in a fixed order. */
#include "color.h"
#include "framepath.h"
#include "imageio.h"
#include "nn/model.h"
#include "nn/nn.h"
#include "node.h"
#include "pool.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  reel_list_t frames;
  int steps, batch, patch, size, mode, loss;
  double lr, eps;
  int seed, checkpoint_every, contact_every, multires, augment;
  const char *run_dir;
} train_t;

static const char *const sizes[] = {"small", "medium", "large", NULL};
static const char *const modes[] = {"rgb", "chroma", NULL};
static const char *const losses[] = {"charbonnier", "l1", "l2", NULL};
static const int loss_ids[] = {REEL_LOSS_CHARBONNIER, REEL_LOSS_L1, REEL_LOSS_L2};

static const reel_param_desc_t params[] = {
    {"frames", REEL_P_LIST, 1, offsetof(train_t, frames), {0}, NULL, 1, 0, NULL,
     "dataset frames: pairs of input and target at these frames are trained on",
     REEL_PF_STATIC | REEL_PF_REQUIRED},
    {"steps", REEL_P_INT, 1, offsetof(train_t, steps), {30000}, NULL, 1, 1e9, NULL,
     "training steps (30000-80000 for a shot; a few hundred to try a setup)", REEL_PF_STATIC},
    {"batch", REEL_P_INT, 1, offsetof(train_t, batch), {3}, NULL, 1, 64, NULL,
     "patches per step", REEL_PF_STATIC},
    {"patch", REEL_P_INT, 1, offsetof(train_t, patch), {256}, NULL, 32, 2048, NULL,
     "patch side in pixels (a multiple of 32; 64 for large networks)", REEL_PF_STATIC},
    REEL_PENUM(train_t, size, sizes, "medium",
               "network size: small (29.8k parameters), medium (118k), large (1.1M)"),
    REEL_PENUM(train_t, mode, modes, "rgb",
               "rgb: predicts R, G, B; chroma: predicts only Cb and Cr and keeps the input's "
               "luma bit for bit (Y, Cb, Cr images; R, G, B images are converted to Rec.709 "
               "Y'CbCr inside)"),
    REEL_PENUM(train_t, loss, losses, "charbonnier",
               "charbonnier: sqrt(e^2 + eps^2), robust like L1 and smooth at 0; l1; l2"),
    {"lr", REEL_P_NUMBER, 1, offsetof(train_t, lr), {1e-3}, NULL, 1e-7, 1, NULL,
     "Adam learning rate at the start; it follows a cosine to 1% of this at the last step",
     REEL_PF_STATIC},
    {"eps", REEL_P_NUMBER, 1, offsetof(train_t, eps), {1e-3}, NULL, 1e-9, 1, NULL,
     "Charbonnier epsilon", REEL_PF_STATIC},
    {"seed", REEL_P_INT, 1, offsetof(train_t, seed), {1}, NULL, 0, 2147483647, NULL,
     "seeds initialisation, patch positions and augmentation: same seed, same device, same "
     "weights",
     REEL_PF_STATIC},
    {"checkpoint_every", REEL_P_INT, 1, offsetof(train_t, checkpoint_every), {10000}, NULL, 0,
     1e9, NULL,
     "steps between checkpoints in the run directory (0: none); a killed render resumes from "
     "the last one. Not part of the key: it does not change the weights",
     REEL_PF_STATIC | REEL_PF_NOKEY},
    {"contact_every", REEL_P_INT, 1, offsetof(train_t, contact_every), {100}, NULL, 0, 1e9,
     NULL,
     "steps between contact sheets (input | output | target | preview) in the run directory "
     "(0: none). Not part of the key",
     REEL_PF_STATIC | REEL_PF_NOKEY},
    {"multires", REEL_P_BOOL, 1, offsetof(train_t, multires), {0}, NULL, 0, 1, NULL,
     "train the first third of the steps on frames downscaled 4x, the second third at 2x, "
     "the rest at full resolution (levels whose frames are smaller than a patch are skipped)",
     REEL_PF_STATIC},
    {"augment", REEL_P_BOOL, 1, offsetof(train_t, augment), {0}, NULL, 0, 1, NULL,
     "random flips and 90-degree rotations of the patches", REEL_PF_STATIC},
    {"run_dir", REEL_P_STRING, 1, offsetof(train_t, run_dir), {0}, NULL, 1, 0, NULL,
     "directory for loss.csv, contact sheets, checkpoints and model.reelnet (default: "
     "runs/KEY in the cache directory, or reel-runs/KEY without a cache). Not part of the key",
     REEL_PF_STATIC | REEL_PF_NOKEY},
};

static const reel_port_desc_t inputs[] = {
    {"input", REEL_V_IMAGE, 0, "what the network sees (the faded or soft source)"},
    {"target", REEL_V_IMAGE, 0, "what it should output at the same frames (the ground truth)"},
    {"preview", REEL_V_IMAGE, 1,
     "optional: an image shown in the contact sheets through the network, never trained on "
     "(its first frame)"},
};

static int arch_of(reel_node_t *n, const train_t *p, reel_nn_arch_t *a) {
  if (reel_nn_arch_named(a, sizes[p->size], p->mode)) {
    reel_node_error(n, REEL_EUSER, "%s", reel_error_get());
    return -1;
  }
  return 0;
}

static int check(reel_node_t *n, const void *pv) {
  const train_t *p = pv;
  reel_nn_arch_t a;
  if (arch_of(n, p, &a)) return -1;
  int al = reel_nn_align(&a);
  if (p->patch % al) {
    reel_node_error(n, REEL_EUSER, "patch %d is not a multiple of %d (the %s network halves it %d "
                    "times and needs 8 pixels at the bottom): use %d or %d",
                    p->patch, al, sizes[p->size], a.levels, p->patch / al * al,
                    (p->patch / al + 1) * al);
    return -1;
  }
  if (p->patch / al * al == 0) return -1;
  for (int i = 0; i < p->frames.n; i++)
    if (p->frames.v[i] != (int)p->frames.v[i]) {
      reel_node_error(n, REEL_EUSER, "frames: %g is not a whole frame number", p->frames.v[i]);
      return -1;
    }
  return 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  const train_t *p = pv;
  if (reel_check_frame_list(n, &p->frames, in, 2)) return -1;
  memset(out, 0, sizeof *out);
  out->type = REEL_V_MODEL;
  out->constant = 1;
  return 0;
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  const train_t *p = pv;
  for (int i = 0; i < p->frames.n; i++)
    if (reel_reqs_add(q, 0, (int)p->frames.v[i]) || reel_reqs_add(q, 1, (int)p->frames.v[i]))
      return -1;
  const reel_clip_t *pc = reel_node_input_clip(n, 2);
  if (pc && reel_reqs_add(q, 2, pc->constant ? REEL_FRAME_CONST : pc->first)) return -1;
  return 0;
}

/* Channels a model reads from an image: Y, Cb, Cr in chroma mode when
 * present, else R, G, B. ycc is set when chroma mode converts R, G, B. */
static int find_channels(reel_node_t *n, const char *port, const reel_image_t *im, int mode,
                         int ch[3], int *ycc, char names[3][REEL_CHNAME]) {
  static const char *rgb[3] = {"R", "G", "B"}, *yc[3] = {"Y", "Cb", "Cr"};
  *ycc = 0;
  const char **want = rgb;
  if (mode == REEL_NN_CHROMA) {
    want = yc;
    for (int c = 0; c < 3; c++)
      if (reel_image_find_channel(im, yc[c]) < 0) want = rgb;
    *ycc = want == rgb;
  }
  char hint[160];
  snprintf(hint, sizeof hint,
           "'%s' needs %s: put a Shuffle or Colorspace before it", port,
           mode == REEL_NN_CHROMA ? "Y,Cb,Cr or R,G,B" : "R,G,B");
  for (int c = 0; c < 3; c++) {
    ch[c] = reel_color_find(n, im->nch, (const char(*)[REEL_CHNAME])im->ch, want[c], hint);
    if (ch[c] < 0) return -1;
    if (names) snprintf(names[c], REEL_CHNAME, "%s", want[c]);
  }
  return 0;
}

typedef struct {
  reel_node_t *n;
  const train_t *p;
  reel_nn_arch_t a;
  reel_nn_t *nn;
  int nf;
  reel_image_t **in, **tg, *preview;
  int ch_in[3], ch_tg[3], ch_pv[3], ycc, ycc_pv;
  char names[3][REEL_CHNAME]; /* the channels the model reads */
  reel_box_t *box; /* per frame: where patches may come from */
  char dir[4096];
  float *sheet, *tile;
} run_t;

/* The resolution level (1, 2 or 4) of step t (1-based). */
static int scale_at(const run_t *r, int64_t t) {
  if (!r->p->multires) return 1;
  int s = t <= r->p->steps / 3 ? 4 : t <= 2 * (int64_t)r->p->steps / 3 ? 2 : 1;
  /* skip levels whose frames cannot hold a patch */
  while (s > 1) {
    int ok = 1;
    for (int i = 0; i < r->nf; i++)
      ok &= reel_box_w(r->box[i]) >= r->p->patch * s && reel_box_h(r->box[i]) >= r->p->patch * s;
    if (ok) break;
    s /= 2;
  }
  return s;
}

static double lr_at(const train_t *p, int64_t t) {
  double x = p->steps > 1 ? (double)(t - 1) / (double)(p->steps - 1) : 1.0;
  return p->lr * (0.01 + 0.99 * 0.5 * (1.0 + cos(M_PI * x)));
}

/* Packs the batch of step t: frame, position and orientation of each patch
 * are functions of (seed, t, slot) alone. */
static int pack_step(run_t *r, int64_t t) {
  int s = scale_at(r, t), T = r->p->patch;
  for (int b = 0; b < r->p->batch; b++) {
    uint64_t c = (uint64_t)t * 64 + (uint64_t)b;
    uint64_t seed = (uint64_t)r->p->seed;
    int f = (int)(reel_rng_u64(seed, 1, c) % (uint64_t)r->nf);
    reel_box_t bx = r->box[f];
    int rw = reel_box_w(bx) - T * s, rh = reel_box_h(bx) - T * s;
    int x0 = bx.x0 + (int)(reel_rng_u64(seed, 2, c) % (uint64_t)(rw + 1));
    int y0 = bx.y0 + (int)(reel_rng_u64(seed, 3, c) % (uint64_t)(rh + 1));
    int orient = r->p->augment ? (int)(reel_rng_u64(seed, 4, c) % 8) : 0;
    if (reel_nn_pack_patch(r->nn, 0, b, r->in[f], r->ch_in, x0, y0, s, orient, r->ycc) ||
        reel_nn_pack_patch(r->nn, 1, b, r->tg[f], r->ch_tg, x0, y0, s, orient, r->ycc))
      return -1;
  }
  return 0;
}

/* Y'CbCr (Rec.709, full range) to R, G, B for display. */
static void ycc_rgb(float *p, size_t pl) {
  for (size_t i = 0; i < pl; i++) {
    float y = p[i], cb = p[pl + i], cr = p[2 * pl + i];
    float rr = y + 1.5748f * cr, bb = y + 1.8556f * cb;
    p[i] = rr;
    p[pl + i] = (y - 0.2126f * rr - 0.0722f * bb) / 0.7152f;
    p[2 * pl + i] = bb;
  }
}

/* Copies sample 0's tensor (3 planes T x T) into panel k of the sheet. */
static void panel(run_t *r, const float *src, int k, int npanels, int ycc) {
  int T = r->p->patch;
  size_t pl = (size_t)T * T, spl = pl * npanels;
  memcpy(r->tile, src, 3 * pl * sizeof(float));
  if (ycc) ycc_rgb(r->tile, pl);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < T; y++)
      for (int x = 0; x < T; x++) {
        float v = r->tile[c * pl + (size_t)y * T + x];
        r->sheet[c * spl + (size_t)y * T * npanels + (size_t)k * T + x] =
            v < 0 ? 0 : v > 1 ? 1 : v;
      }
}

/* Contact sheet at step t: a fixed patch of the first dataset frame
 * (input | output | target) and, with a preview, its centre (input | output). */
static int contact(run_t *r, int64_t t) {
  int T = r->p->patch, np = r->preview ? 5 : 3;
  size_t pl = (size_t)T * T, all = (size_t)r->p->batch * 3 * pl;
  float *buf = malloc(all * sizeof(float));
  if (!buf) return reel_error(REEL_EINTERNAL, "out of memory"), -1;
  int rc = -1;
  /* sample 0 = centre of the first frame's region, at full resolution */
  reel_box_t bx = r->box[0];
  int x0 = bx.x0 + (reel_box_w(bx) - T) / 2, y0 = bx.y0 + (reel_box_h(bx) - T) / 2;
  int disp = r->ycc || r->p->mode == REEL_NN_CHROMA; /* tensors hold Y'CbCr */
  if (reel_nn_pack_patch(r->nn, 0, 0, r->in[0], r->ch_in, x0, y0, 1, 0, r->ycc) ||
      reel_nn_pack_patch(r->nn, 1, 0, r->tg[0], r->ch_tg, x0, y0, 1, 0, r->ycc) ||
      reel_nn_forward(r->nn))
    goto out;
  if (reel_nn_get_input(r->nn, buf)) goto out;
  panel(r, buf, 0, np, disp);
  if (reel_nn_get_output(r->nn, buf)) goto out;
  panel(r, buf, 1, np, disp);
  if (reel_nn_get_target(r->nn, buf)) goto out;
  panel(r, buf, 2, np, disp);
  if (r->preview) {
    reel_box_t pb = r->preview->data;
    int px = pb.x0 + (reel_box_w(pb) - T) / 2, py = pb.y0 + (reel_box_h(pb) - T) / 2;
    if (reel_nn_pack_patch(r->nn, 0, 0, r->preview, r->ch_pv, px, py, 1, 0, r->ycc_pv) ||
        reel_nn_forward(r->nn))
      goto out;
    if (reel_nn_get_input(r->nn, buf)) goto out;
    panel(r, buf, 3, np, disp);
    if (reel_nn_get_output(r->nn, buf)) goto out;
    panel(r, buf, 4, np, disp);
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/contact", r->dir);
  if (reel_mkdirs(path)) {
    reel_node_error(r->n, REEL_EIO, "cannot create '%s': %s", path, strerror(errno));
    goto out;
  }
  snprintf(path, sizeof path, "%s/contact/step-%08lld.png", r->dir, (long long)t);
  reel_hostimg_t h;
  memset(&h, 0, sizeof h);
  h.nch = 3;
  strcpy(h.ch[0], "R");
  strcpy(h.ch[1], "G");
  strcpy(h.ch[2], "B");
  h.data = h.display = (reel_box_t){0, 0, T * np, T};
  h.px = r->sheet;
  reel_io_write_opts_t wo = {.format = NULL};
  if (reel_io_write(path, &wo, &h)) goto out;
  rc = 0;
out:
  free(buf);
  return rc;
}

/* The newest checkpoint in the run directory made by this same training
 * (same key), or NULL. */
static reel_model_t *find_checkpoint(run_t *r, const reel_key_t *key) {
  DIR *d = opendir(r->dir);
  if (!d) return NULL;
  reel_model_t *best = NULL;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "checkpoint-", 11) || !strstr(e->d_name, ".reelnet")) continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", r->dir, e->d_name);
    reel_model_t *m = reel_model_load_file(path);
    if (!m) { /* a damaged checkpoint is skipped, not fatal */
      fprintf(stderr, "reel: %s: skipping checkpoint %s: %s\n", reel_node_label(r->n), path,
              reel_error_get());
      reel_error_clear();
      continue;
    }
    if (m->adam_m && reel_key_eq(&m->train_key, key) && m->nparams == reel_nn_nparams(&r->a) &&
        m->steps <= r->p->steps && (!best || m->steps > best->steps)) {
      reel_model_unref(best);
      best = m;
    } else {
      reel_model_unref(m);
    }
  }
  closedir(d);
  return best;
}

static int save_checkpoint(run_t *r, reel_model_t *m, int64_t t) {
  if (reel_nn_get_params(r->nn, m->params) || reel_nn_get_adam(r->nn, m->adam_m, m->adam_v))
    return -1;
  m->steps = t;
  char path[4200];
  snprintf(path, sizeof path, "%s/checkpoint-%08lld.reelnet", r->dir, (long long)t);
  return reel_model_save_file(m, path);
}

/* loss.csv up to step `upto` (earlier lines kept on resume; a killed run's
 * lines past its last checkpoint are dropped). Returns an open append handle. */
static FILE *open_log(run_t *r, int64_t upto, double *hist) {
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/loss.csv", r->dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *old = upto > 0 ? fopen(path, "r") : NULL, *out = fopen(tmp, "w");
  if (!out) {
    if (old) fclose(old);
    reel_node_error(r->n, REEL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    return NULL;
  }
  fprintf(out, "step,loss,lr,scale,seconds\n");
  char line[256];
  if (old) {
    while (fgets(line, sizeof line, old)) {
      long long s = atoll(line);
      const char *c = strchr(line, ',');
      if (s >= 1 && s <= upto && c) {
        fputs(line, out);
        hist[s % 100] = atof(c + 1); /* the final loss covers resumed steps too */
      }
    }
    fclose(old);
  }
  if (fclose(out) || rename(tmp, path)) {
    reel_node_error(r->n, REEL_EIO, "cannot write '%s': %s", path, strerror(errno));
    return NULL;
  }
  return fopen(path, "a");
}

static void fmt_time(double s, char *out, size_t cap) {
  if (s < 60) snprintf(out, cap, "%.0fs", s);
  else if (s < 3600) snprintf(out, cap, "%dm%02ds", (int)s / 60, (int)s % 60);
  else snprintf(out, cap, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const train_t *p = pv;
  reel_node_t *n = j->node;
  run_t r;
  memset(&r, 0, sizeof r);
  r.n = n;
  r.p = p;
  r.nf = p->frames.n;
  if (arch_of(n, p, &r.a)) return -1;
  reel_model_t *m = NULL, *ck = NULL;
  FILE *log = NULL;
  int rc = -1, T = p->patch;
  r.in = calloc((size_t)r.nf, sizeof *r.in);
  r.tg = calloc((size_t)r.nf, sizeof *r.tg);
  r.box = calloc((size_t)r.nf, sizeof *r.box);
  r.sheet = malloc((size_t)3 * T * T * 5 * sizeof(float));
  r.tile = malloc((size_t)3 * T * T * sizeof(float));
  if (!r.in || !r.tg || !r.box || !r.sheet || !r.tile) {
    reel_error(REEL_EINTERNAL, "out of memory");
    goto out;
  }
  for (int i = 0; i < r.nf; i++) {
    r.in[i] = reel_image_cast(j->in[2 * i]);
    r.tg[i] = reel_image_cast(j->in[2 * i + 1]);
    if (!r.in[i] || !r.tg[i]) {
      reel_node_error(n, REEL_EINTERNAL, "dataset frame %d is not an image", i);
      goto out;
    }
    int ycc_t;
    if (find_channels(n, "input", r.in[i], p->mode, r.ch_in, &r.ycc, r.names) ||
        find_channels(n, "target", r.tg[i], p->mode, r.ch_tg, &ycc_t, NULL))
      goto out;
    if (ycc_t != r.ycc) {
      reel_node_error(n, REEL_EUSER, "'input' and 'target' must both be Y,Cb,Cr or both R,G,B");
      goto out;
    }
    r.box[i] = reel_box_intersect(r.in[i]->data, r.tg[i]->data);
    if (reel_box_w(r.box[i]) < T || reel_box_h(r.box[i]) < T) {
      reel_node_error(n, REEL_EUSER,
                      "frame %d: the data windows of input and target overlap in %dx%d pixels, "
                      "less than one %dx%d patch: lower `patch` or check the crop/alignment",
                      (int)p->frames.v[i], reel_box_w(r.box[i]), reel_box_h(r.box[i]), T, T);
      goto out;
    }
  }
  if (j->nin > 2 * r.nf && j->in[2 * r.nf]) {
    r.preview = reel_image_cast(j->in[2 * r.nf]);
    if (r.preview && find_channels(n, "preview", r.preview, p->mode, r.ch_pv, &r.ycc_pv, NULL))
      goto out;
  }

  /* the run directory */
  char hex[REEL_KEY_HEX];
  reel_key_hex(&j->key, hex);
  const char *cd = reel_job_cache_dir(j);
  if (p->run_dir && *p->run_dir) snprintf(r.dir, sizeof r.dir, "%s", p->run_dir);
  else if (cd) snprintf(r.dir, sizeof r.dir, "%s/runs/%s", cd, hex);
  else snprintf(r.dir, sizeof r.dir, "reel-runs/%s", hex);
  if (reel_mkdirs(r.dir)) {
    reel_node_error(n, REEL_EIO, "cannot create the run directory '%s': %s", r.dir,
                    strerror(errno));
    goto out;
  }

  reel_cl_t *cl = reel_job_cl(j);
  if (!cl) goto out;
  r.nn = reel_nn_new(cl, &r.a, p->batch, T, T, 1);
  if (!r.nn) goto out;
  m = reel_model_new(&r.a);
  if (!m || reel_model_alloc_adam(m)) goto out;
  m->train_key = j->key;
  m->rgb_to_ycc = r.ycc;
  memcpy(m->ch, r.names, sizeof m->ch);

  int64_t start = 0;
  ck = find_checkpoint(&r, &j->key);
  if (ck) {
    start = ck->steps;
    fprintf(stderr, "reel: %s: resuming from step %lld (%s)\n", reel_node_label(n),
            (long long)start, r.dir);
    if (reel_nn_set_params(r.nn, ck->params) || reel_nn_set_adam(r.nn, ck->adam_m, ck->adam_v))
      goto out;
  } else {
    reel_nn_init_params(&r.a, (uint64_t)p->seed, m->params);
    if (reel_nn_set_params(r.nn, m->params)) goto out;
  }
  double *hist = calloc(100, sizeof(double));
  if (!hist) goto out;
  if (!(log = open_log(&r, start, hist))) {
    free(hist);
    goto out;
  }

  reel_adam_t opt = {0, 0.9f, 0.999f, 1e-8f};
  double t0 = now(), last_report = t0, recent = 0;
  int nrecent = 0;
  for (int64_t t = start + 1; t <= p->steps; t++) {
    double loss;
    opt.lr = (float)lr_at(p, t);
    if (pack_step(&r, t) || reel_nn_forward(r.nn) ||
        reel_nn_loss(r.nn, loss_ids[p->loss], (float)p->eps, &loss) ||
        reel_nn_backward(r.nn) || reel_nn_adam(r.nn, &opt, t)) {
      free(hist);
      reel_error_prefix("%s: step %lld:", reel_node_label(n), (long long)t);
      goto out;
    }
    if (!isfinite(loss)) {
      free(hist);
      reel_node_error(n, REEL_EUSER,
                      "the loss became %g at step %lld: lower `lr` (now %g) or check the inputs "
                      "for NaN or huge values",
                      loss, (long long)t, p->lr);
      goto out;
    }
    hist[t % 100] = loss;
    recent += loss;
    nrecent++;
    double el = now() - t0;
    fprintf(log, "%lld,%.17g,%.6g,%d,%.3f\n", (long long)t, loss, (double)opt.lr, scale_at(&r, t),
            el);
    if (p->contact_every && t % p->contact_every == 0 && contact(&r, t)) {
      free(hist);
      goto out;
    }
    if (p->checkpoint_every && t % p->checkpoint_every == 0 && t < p->steps) {
      fflush(log);
      if (save_checkpoint(&r, m, t)) {
        free(hist);
        goto out;
      }
    }
    double tn = now();
    if (tn - last_report >= 5.0 || t == p->steps) {
      double rate = (double)(t - start) / (tn - t0);
      char eta[32];
      fmt_time((double)(p->steps - t) / rate, eta, sizeof eta);
      fprintf(stderr, "reel: %s: step %lld/%d  %.2f steps/s  loss %.6f  lr %.3g  ETA %s\n",
              reel_node_label(n), (long long)t, p->steps, rate, recent / nrecent,
              (double)opt.lr, eta);
      last_report = tn;
      recent = 0;
      nrecent = 0;
    }
  }
  int nh = p->steps < 100 ? p->steps : 100;
  double lm = 0;
  for (int i = 0; i < nh; i++) lm += hist[(p->steps - i) % 100];
  free(hist);
  fclose(log);
  log = NULL;

  /* the finished model: no optimiser state */
  if (reel_nn_get_params(r.nn, m->params)) goto out;
  free(m->adam_m);
  free(m->adam_v);
  m->adam_m = m->adam_v = NULL;
  m->steps = p->steps;
  m->loss = nh ? lm / nh : 0;
  char lineage[1024] = "", info[4096];
  reel_node_lineage(n, lineage, sizeof lineage);
  int at = snprintf(info, sizeof info,
                    "reel_version: %s\ngraph: %s:%d\nnode: %s\nkey: %s\nlineage: "
                    "%s\nsize: %s\nmode: %s\nloss: %s\nsteps: %d\nbatch: %d\npatch: %d\nlr: "
                    "%g\nseed: %d\nmultires: %d\naugment: %d\ndevice: %s\nrun_dir: %s\nframes:",
                    reel_version(), reel_node_file(n) ? reel_node_file(n) : "?",
                    reel_node_line(n), reel_node_label(n), hex, lineage, sizes[p->size],
                    modes[p->mode], losses[p->loss], p->steps, p->batch, p->patch, p->lr,
                    p->seed, p->multires, p->augment, reel_cl_device_name(cl), r.dir);
  for (int i = 0; i < r.nf && at < (int)sizeof info - 16; i++)
    at += snprintf(info + at, sizeof info - (size_t)at, " %d", (int)p->frames.v[i]);
  free(m->info);
  m->info = strdup(info);
  char path[4200];
  snprintf(path, sizeof path, "%s/model.reelnet", r.dir);
  if (reel_model_save_file(m, path)) goto out;
  fprintf(stderr, "reel: %s: trained %d steps, loss %.6f; model in %s\n", reel_node_label(n),
          p->steps, m->loss, path);
  *out = &m->v;
  m = NULL;
  rc = 0;
out:
  if (log) fclose(log);
  reel_model_unref(ck);
  reel_model_unref(m);
  reel_nn_free(r.nn);
  free(r.in);
  free(r.tg);
  free(r.box);
  free(r.sheet);
  free(r.tile);
  return rc;
}

const reel_node_desc_t reel_node_train = {
    .name = "Train",
    .version = 1,
    .summary = "Train a per-shot CNN on input/target frame pairs (a Model)",
    .doc = "Samples random patches from the dataset frames (inside both data windows), batches "
           "them and trains a U-Net with Adam, predicting a residual over the input. The key "
           "covers the dataset frames and every parameter that changes the weights: an "
           "unchanged graph never retrains, and the finished Model is kept in the disk cache. "
           "Only one process trains a given key at a time (others wait and reuse the result). "
           "Progress (step, steps/s, loss, ETA) goes to stderr every 5 s. The run directory "
           "gets loss.csv (step,loss,lr,scale,seconds), contact/step-N.png (input | output | "
           "target [| preview in | preview out]), checkpoint-N.reelnet every "
           "`checkpoint_every` steps and model.reelnet at the end. Killed at any step, the "
           "next render resumes from the newest checkpoint of the same key and reaches the "
           "same weights as an uninterrupted run (same seed, same device). "
           "Write { model, path = \"shot.reelnet\" } saves the model; Infer applies it.",
    .inputs = inputs,
    .ninputs = 3,
    .output = REEL_V_MODEL,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(train_t),
    .flags = REEL_NF_CONSTANT | REEL_NF_DISK | REEL_NF_LOCKED,
    .kernels = "nn",
    .check = check,
    .clip = clip,
    .frames = frames,
    .eval = eval,
};
