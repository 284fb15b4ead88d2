/* Drives the network library (engine/nn/nn.h) for test_nn_torch.py: one
 * forward pass, loss, backward pass and Adam step (t = 1) on PoCL, from a
 * request file to an answer file, so that PyTorch can check every number.
 *   nn_probe arch SIZE MODE    prints the named architecture and its layout
 *   nn_probe run REQ ANS       one training step; formats below (native
 *                              endianness, no padding between fields)
 *   nn_probe model SIZE MODE PARAMS OUT   writes a .reelnet model (reading
 *                              R,G,B) with the parameters of file PARAMS
 *                              (raw float32, canonical order) */
#include "cl.h"
#include "nn/model.h"
#include "nn/nn.h"
#include "reel.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Request: "RNQ1", int32 mode, levels, width[REEL_NN_MAXLEV + 1], batch, h,
 * w, loss; float32 slope, loss_eps, lr, beta1, beta2, adam_eps; int32
 * nparams; float32 params[nparams], input[batch][3][h][w], target (same).
 * Answer: "RNA1", int32 nparams, batch, h, w; float64 loss; float32
 * output[batch][3][h][w], grads[nparams], params after the step[nparams],
 * Adam m[nparams], v[nparams]. */
typedef struct {
  int32_t mode, levels, width[REEL_NN_MAXLEV + 1], batch, h, w, loss;
  float slope, loss_eps, lr, beta1, beta2, adam_eps;
  int32_t nparams;
} request_t;
_Static_assert(sizeof(request_t) == 18 * 4, "the request header has no padding");

static int fail(const char *what) {
  fprintf(stderr, "nn_probe: %s: %s\n", what, reel_error_get());
  return 1;
}

static int parse_mode(const char *s) {
  return !strcmp(s, "rgb") ? REEL_NN_RGB : !strcmp(s, "chroma") ? REEL_NN_CHROMA : -1;
}

static int cmd_arch(const char *size, const char *mode) {
  reel_nn_arch_t a;
  int m = parse_mode(mode);
  if (m < 0) return fprintf(stderr, "nn_probe: mode is rgb or chroma\n"), 2;
  if (reel_nn_arch_named(&a, size, m)) return fail(size);
  printf("mode %d\nin_ch %d\nout_ch %d\nlevels %d\nwidth", a.mode, a.in_ch, a.out_ch, a.levels);
  for (int l = 0; l <= a.levels; l++) printf(" %d", a.width[l]);
  printf("\nslope %.9g\nnparams %zu\nmacs %.17g\nalign %d\nhalo %d\n", (double)a.slope,
         reel_nn_nparams(&a), reel_nn_macs_per_pixel(&a), reel_nn_align(&a), reel_nn_halo(&a));
  for (int i = 0; i < reel_nn_nconv(&a); i++) {
    reel_nn_conv_t c;
    reel_nn_conv_info(&a, i, &c);
    printf("conv %d %d %d %d %zu %zu\n", i, c.cin, c.cout, c.k, c.w_off, c.b_off);
  }
  return 0;
}

static int readf(FILE *f, void *p, size_t size, size_t n) { return fread(p, size, n, f) != n; }
static int writef(FILE *f, const void *p, size_t size, size_t n) {
  return fwrite(p, size, n, f) != n;
}

static int cmd_run(const char *req_path, const char *ans_path) {
  int rc = 1;
  request_t q;
  char magic[4];
  float *params = NULL, *x = NULL, *t = NULL, *y = NULL, *g = NULL, *p1 = NULL, *m = NULL,
        *v = NULL;
  reel_cl_t *cl = NULL;
  reel_nn_t *nn = NULL;
  reel_nn_arch_t a = {0};
  size_t np, nx;
  double loss = 0;
  FILE *f = fopen(req_path, "rb"), *out = NULL;
  if (!f) {
    perror(req_path);
    return 1;
  }
  if (readf(f, magic, 1, 4) || memcmp(magic, "RNQ1", 4) || readf(f, &q, sizeof q, 1)) {
    fprintf(stderr, "nn_probe: %s: not a request\n", req_path);
    goto out;
  }
  a.mode = q.mode;
  a.in_ch = 3;
  a.out_ch = q.mode == REEL_NN_CHROMA ? 2 : 3;
  a.levels = q.levels;
  a.slope = q.slope;
  memcpy(a.width, q.width, sizeof a.width);
  if (reel_nn_arch_check(&a)) {
    rc = fail("architecture");
    goto out;
  }
  np = reel_nn_nparams(&a);
  nx = (size_t)q.batch * 3 * (size_t)q.h * (size_t)q.w;
  if ((size_t)q.nparams != np || q.batch < 1 || q.h < 1 || q.w < 1) {
    fprintf(stderr, "nn_probe: request has %d parameters for an architecture of %zu\n",
            (int)q.nparams, np);
    goto out;
  }
  params = malloc(np * sizeof *params);
  g = malloc(np * sizeof *g);
  p1 = malloc(np * sizeof *p1);
  m = malloc(np * sizeof *m);
  v = malloc(np * sizeof *v);
  x = malloc(nx * sizeof *x);
  t = malloc(nx * sizeof *t);
  y = malloc(nx * sizeof *y);
  if (!params || !g || !p1 || !m || !v || !x || !t || !y) {
    fprintf(stderr, "nn_probe: out of memory\n");
    goto out;
  }
  if (readf(f, params, sizeof *params, np) || readf(f, x, sizeof *x, nx) ||
      readf(f, t, sizeof *t, nx)) {
    fprintf(stderr, "nn_probe: %s: truncated\n", req_path);
    goto out;
  }

  reel_adam_t opt = {q.lr, q.beta1, q.beta2, q.adam_eps};
  if (!(cl = reel_cl_new(NULL, NULL))) {
    rc = fail("OpenCL");
    goto out;
  }
  if (!(nn = reel_nn_new(cl, &a, q.batch, q.h, q.w, 1))) {
    rc = fail("reel_nn_new");
    goto out;
  }
  if (reel_nn_set_params(nn, params) || reel_nn_set_input(nn, x) || reel_nn_set_target(nn, t) ||
      reel_nn_forward(nn) || reel_nn_get_output(nn, y) ||
      reel_nn_loss(nn, q.loss, q.loss_eps, &loss) || reel_nn_backward(nn) ||
      reel_nn_get_grads(nn, g) || reel_nn_adam(nn, &opt, 1) || reel_nn_get_params(nn, p1) ||
      reel_nn_get_adam(nn, m, v)) {
    rc = fail("training step");
    goto out;
  }

  int bad = !(out = fopen(ans_path, "wb")) || writef(out, "RNA1", 1, 4) ||
            writef(out, &q.nparams, sizeof q.nparams, 1) ||
            writef(out, &q.batch, sizeof q.batch, 1) || writef(out, &q.h, sizeof q.h, 1) ||
            writef(out, &q.w, sizeof q.w, 1) || writef(out, &loss, sizeof loss, 1) ||
            writef(out, y, sizeof *y, nx) || writef(out, g, sizeof *g, np) ||
            writef(out, p1, sizeof *p1, np) || writef(out, m, sizeof *m, np) ||
            writef(out, v, sizeof *v, np);
  if (out && fclose(out)) bad = 1;
  out = NULL;
  if (bad) {
    perror(ans_path);
    goto out;
  }
  rc = 0;
out:
  if (out) fclose(out);
  fclose(f);
  if (nn) reel_nn_free(nn);
  if (cl) reel_cl_free(cl);
  free(params), free(x), free(t), free(y), free(g), free(p1), free(m), free(v);
  return rc;
}

static int cmd_model(const char *size, const char *mode, const char *params, const char *path) {
  reel_nn_arch_t a;
  int m = parse_mode(mode), rc = 1;
  if (m < 0) return fprintf(stderr, "nn_probe: mode is rgb or chroma\n"), 2;
  if (reel_nn_arch_named(&a, size, m)) return fail(size);
  reel_model_t *model = reel_model_new(&a);
  if (!model) return fail("model");
  FILE *f = fopen(params, "rb");
  if (!f || readf(f, model->params, sizeof(float), model->nparams) || fgetc(f) != EOF)
    fprintf(stderr, "nn_probe: %s: not %zu float32 parameters\n", params, model->nparams);
  else if (reel_model_save_file(model, path))
    rc = fail(path);
  else
    rc = 0;
  if (f) fclose(f);
  reel_model_unref(model);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "arch")) return cmd_arch(argv[2], argv[3]);
  if (argc == 4 && !strcmp(argv[1], "run")) return cmd_run(argv[2], argv[3]);
  if (argc == 6 && !strcmp(argv[1], "model")) return cmd_model(argv[2], argv[3], argv[4], argv[5]);
  fprintf(stderr, "usage: nn_probe arch SIZE rgb|chroma\n       nn_probe run REQUEST ANSWER\n"
                  "       nn_probe model SIZE rgb|chroma PARAMS OUT.reelnet\n");
  return 2;
}
