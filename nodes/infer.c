/* Infer: applies a trained Model to every frame, in tiles. The tiles overlap
 * by the network's halo (its receptive field rounded up to the pooling
 * grid) and each keeps only its inner part, so a tiled frame equals the
 * whole frame run at once: no seams, no blending needed. Frames of any
 * size; the data window is kept; channels the model does not read pass
 * through. */
#include "color.h"
#include "nn/model.h"
#include "nn/nn.h"
#include "node.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *file;
  int tile;
} infer_t;

static const reel_param_desc_t params[] = {
    {"model_file", REEL_P_STRING, 1, offsetof(infer_t, file), {0}, NULL, 1, 0, NULL,
     "a saved model (.reelnet) to use instead of the `model` input; `model = \"path\"` in a graph file sets it", REEL_PF_STATIC},
    {"tile", REEL_P_INT, 1, offsetof(infer_t, tile), {1024}, NULL, 64, 16384, NULL,
     "tile side in pixels (rounded up to the network's alignment); bounds device memory. "
     "Results do not depend on it, so it is not part of the key",
     REEL_PF_STATIC | REEL_PF_NOKEY},
};

static const reel_port_desc_t inputs[] = {
    {"img", REEL_V_IMAGE, 0, "frames to process"},
    {"model", REEL_V_MODEL, 1, "the Model from Train, or a path to a .reelnet file (sets `model_file`)"},
};

static int check(reel_node_t *n, const void *pv) {
  const infer_t *p = pv;
  int has_in = reel_node_input_clip(n, 1) != NULL, has_file = p->file && *p->file;
  if (has_in == has_file) {
    reel_node_error(n, REEL_EUSER, "%s",
                    has_in ? "give either the `model` input or `model_file`, not both"
                           : "no model: connect a Train node to `model` or name a saved model "
                             "(model = \"shot.reelnet\")");
    return -1;
  }
  return 0;
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  *out = in[0];
  return 0;
}

static int frames(reel_node_t *n, const void *pv, int frame, reel_reqs_t *q) {
  if (reel_reqs_add(q, 0, frame)) return -1;
  if (reel_node_input_clip(n, 1)) return reel_reqs_add(q, 1, REEL_FRAME_CONST);
  return 0;
}

static int key(reel_job_t *j, const void *pv, reel_hasher_t *h) {
  return reel_job_hash_file(j, ((const infer_t *)pv)->file, h);
}

/* Tile origins along one side of length `len` (a multiple of al) for tiles
 * of T with halo hl: o[0] = 0, then steps of T - 2 hl, the last one clamped
 * to len - T. Tile i keeps [b[i], b[i + 1]) with b[0] = 0, b[i] = o[i] + hl,
 * b[n] = len: every kept pixel is at least hl from an inner tile edge. */
static int tiles(int len, int T, int hl, int *o, int *b, int cap) {
  int n = 0, step = T - 2 * hl;
  for (int x = 0;; x += step) {
    if (n >= cap) return -1;
    if (x + T >= len) {
      o[n++] = len - T;
      break;
    }
    o[n++] = x;
  }
  b[0] = 0;
  for (int i = 1; i < n; i++) b[i] = o[i] + hl;
  b[n] = len;
  return n;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  const infer_t *p = pv;
  reel_node_t *n = j->node;
  reel_image_t *src = reel_job_image(j, 0);
  if (!src) return -1;
  reel_model_t *m = NULL;
  int own = 0;
  if (j->nin > 1 && j->in[1]) {
    m = reel_model_cast(j->in[1]);
    if (!m) {
      reel_node_error(n, REEL_EINTERNAL, "input 'model' is not a Model");
      return -1;
    }
  } else {
    m = reel_model_load_file(p->file);
    if (!m) {
      reel_error_prefix("%s:", reel_node_label(n));
      return -1;
    }
    own = 1;
  }
  int rc = -1;
  reel_image_t *dst = NULL;
  reel_nn_t *nn = NULL;
  int ch[3];
  for (int c = 0; c < 3; c++) {
    ch[c] = reel_color_find(n, src->nch, (const char(*)[REEL_CHNAME])src->ch, m->ch[c],
                            "the model reads the channels its training input had: convert "
                            "the image the same way (Colorspace, Shuffle)");
    if (ch[c] < 0) goto out;
  }
  dst = reel_image_new_like(src);
  if (!dst) goto out;
  if (!src->mem) {
    rc = 0;
    goto out;
  }
  if (reel_cl_copy(src->cl, src->mem, 0, dst->mem, 0, reel_image_bytes(src))) goto out;
  int al = reel_nn_align(&m->arch), hl = reel_nn_halo(&m->arch);
  int w = reel_image_w(src), h = reel_image_h(src);
  int cw = (w + al - 1) / al * al, chh = (h + al - 1) / al * al;
  int T = (p->tile + al - 1) / al * al;
  if (T < 2 * hl + al) T = 2 * hl + al;
  int tw = T < cw ? T : cw, th = T < chh ? T : chh;
  int ox[512], bx[513], oy[512], by[513];
  int nx = tiles(cw, tw, hl, ox, bx, 512), ny = tiles(chh, th, hl, oy, by, 512);
  if (nx < 0 || ny < 0) {
    reel_node_error(n, REEL_EUSER, "frame %dx%d needs too many tiles of %d: raise `tile`", w, h,
                    T);
    goto out;
  }
  nn = reel_nn_new(src->cl, &m->arch, 1, th, tw, 0);
  if (!nn || reel_nn_set_params(nn, m->params)) goto out;
  int x0 = src->data.x0, y0 = src->data.y0;
  for (int ty = 0; ty < ny; ty++)
    for (int tx = 0; tx < nx; tx++) {
      int X = x0 + ox[tx], Y = y0 + oy[ty];
      if (reel_nn_pack_image(nn, 0, src, ch, X, Y, m->rgb_to_ycc) || reel_nn_forward(nn) ||
          reel_nn_unpack_image(nn, 0, dst, ch, X, Y, bx[tx] - ox[tx], by[ty] - oy[ty],
                               bx[tx + 1] - bx[tx], by[ty + 1] - by[ty], m->rgb_to_ycc))
        goto out;
    }
  *out = &dst->v;
  dst = NULL;
  rc = 0;
out:
  if (rc == 0 && dst) { /* empty data window */
    *out = &dst->v;
    dst = NULL;
  }
  reel_image_unref(dst);
  reel_nn_free(nn);
  if (own) reel_model_unref(m);
  return rc;
}

const reel_node_desc_t reel_node_infer = {
    .name = "Infer",
    .version = 1,
    .summary = "Apply a trained Model to every frame, tiled without seams",
    .doc = "Runs the network over the image's data window in tiles of `tile` pixels that "
           "overlap by the network's halo (its receptive field: 32 pixels for small and medium, "
           "128 for large); each tile keeps only its inner part, so the result equals running "
           "the whole frame at once (to float rounding) and no seam can show. Outside the data "
           "window the network sees the edge pixels repeated. The model's channels (R,G,B or "
           "Y,Cb,Cr) are replaced; other channels and the metadata pass through. In chroma mode "
           "Y is copied bit for bit.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(infer_t),
    .flags = REEL_NF_DISK,
    .kernels = "nn",
    .check = check,
    .clip = clip,
    .frames = frames,
    .key = key,
    .eval = eval,
};
