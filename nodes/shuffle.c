/* Shuffle: builds an image from the channels of one or two inputs and
 * constants, by a spec such as "R=a.Y,G=b.Cb,B=b.Cr,A=1" (output channels
 * in order; sources a.<channel>, b.<channel> or a number). Renames, adds,
 * drops and reorders channels. Two inputs, so not pointwise: each output
 * plane is one copy (shuffle_copy) or fill (shuffle_fill) kernel. The data
 * window is the union of the used inputs' windows (a's if none is used). */
#include "color.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *out;
} shuffle_t;

static const reel_param_desc_t params[] = {
    {"out", REEL_P_STRING, 1, offsetof(shuffle_t, out), {0}, NULL, 1, 0, NULL,
     "output channels in order, NAME=SOURCE separated by commas; SOURCE is a.<channel>, "
     "b.<channel> or a number, e.g. \"R=a.R,G=a.G,B=a.B\" (drops alpha) or "
     "\"Y=a.Y,Cb=b.Cb,Cr=b.Cr\"",
     REEL_PF_STATIC | REEL_PF_REQUIRED},
};

static const reel_port_desc_t inputs[] = {
    {"a", REEL_V_IMAGE, 0, "first source"},
    {"b", REEL_V_IMAGE, 1, "second source (optional; same format as a)"},
};

typedef struct {
  char name[REEL_CHNAME];
  int port; /* 0: a, 1: b, -1: the constant */
  char ch[REEL_CHNAME];
  float value;
} route_t;

/* Parses the spec into r (at most REEL_MAXCH); count or -1 with an error. */
static int parse(const reel_node_t *n, const char *spec, route_t *r) {
  int nr = 0;
  const char *s = spec ? spec : "";
  for (;;) {
    size_t len = strcspn(s, ",");
    char item[2 * REEL_CHNAME + 8], *eq, *src;
    if (len >= sizeof item) goto bad;
    memcpy(item, s, len);
    item[len] = 0;
    char *name = item + strspn(item, " ");
    if (!(eq = strchr(name, '='))) goto bad;
    *eq = 0;
    src = eq + 1 + strspn(eq + 1, " ");
    for (char *e = eq; e > name && e[-1] == ' ';) *--e = 0;
    for (char *e = src + strlen(src); e > src && e[-1] == ' ';) *--e = 0;
    if (!*name || strlen(name) >= REEL_CHNAME || !*src) goto bad;
    if (nr == REEL_MAXCH) {
      reel_node_error(n, REEL_EUSER, "out '%s' has more than %d channels", spec, REEL_MAXCH);
      return -1;
    }
    route_t *x = &r[nr];
    snprintf(x->name, sizeof x->name, "%s", name);
    for (int k = 0; k < nr; k++)
      if (!strcmp(r[k].name, name)) {
        reel_node_error(n, REEL_EUSER, "out '%s' makes channel '%s' twice", spec, name);
        return -1;
      }
    if ((src[0] == 'a' || src[0] == 'b') && src[1] == '.') {
      if (!src[2] || strlen(src + 2) >= REEL_CHNAME) goto bad;
      x->port = src[0] - 'a';
      snprintf(x->ch, sizeof x->ch, "%s", src + 2);
    } else {
      char *end;
      x->port = -1;
      x->value = strtof(src, &end);
      if (end == src || *end) goto bad;
    }
    nr++;
    if (!s[len]) return nr;
    s += len + 1;
  }
bad:
  reel_node_error(n, REEL_EUSER,
                  "out '%s': write NAME=SOURCE items separated by commas, SOURCE being "
                  "a.<channel>, b.<channel> or a number, e.g. \"R=a.R,G=a.G,B=b.B,A=1\"",
                  spec ? spec : "");
  return -1;
}

static int check(reel_node_t *n, const void *pv) {
  route_t r[REEL_MAXCH];
  return parse(n, ((const shuffle_t *)pv)->out, r) < 0 ? -1 : 0;
}

/* Source channel index of route x given the inputs' channel names. */
static int source(const reel_node_t *n, const route_t *x, const int *nch,
                  const char (*const *ch)[REEL_CHNAME]) {
  if (!ch[x->port]) {
    reel_node_error(n, REEL_EUSER, "channel '%s' reads input b, which is not connected",
                    x->name);
    return -1;
  }
  return reel_color_find(n, nch[x->port], ch[x->port], x->ch,
                         x->port ? "change out or input b" : "change out or input a");
}

static int clip(reel_node_t *n, const void *pv, const reel_clip_t *in, reel_clip_t *out) {
  route_t r[REEL_MAXCH];
  int nr = parse(n, ((const shuffle_t *)pv)->out, r);
  if (nr < 0) return -1;
  int nch[2] = {in[0].nch, in[1].nch};
  const char(*ch[2])[REEL_CHNAME] = {in[0].ch, in[1].type == REEL_V_NONE ? NULL : in[1].ch};
  for (int k = 0; k < nr; k++)
    if (r[k].port >= 0 && source(n, &r[k], nch, ch) < 0) return -1;
  *out = in[0];
  out->nch = nr;
  memset(out->ch, 0, sizeof out->ch);
  for (int k = 0; k < nr; k++) memcpy(out->ch[k], r[k].name, REEL_CHNAME);
  return 0;
}

static int eval(reel_job_t *j, const void *pv, reel_value_t **out) {
  route_t r[REEL_MAXCH];
  reel_image_t *src[2] = {NULL, NULL}, *im = NULL;
  int nr = parse(j->node, ((const shuffle_t *)pv)->out, r);
  if (nr < 0) return -1;
  for (int i = 0; i < j->nin; i++)
    if (!(src[j->req[i].port] = reel_job_image(j, i))) return -1;
  if (!src[0] || (src[1] && reel_check_same_size(j->node, src[0], src[1]))) return -1;
  int nch[2] = {src[0]->nch, src[1] ? src[1]->nch : 0}, idx[REEL_MAXCH], used[2] = {0, 0};
  const char(*ch[2])[REEL_CHNAME] = {src[0]->ch, src[1] ? src[1]->ch : NULL};
  reel_box_t data = {0, 0, 0, 0};
  for (int k = 0; k < nr; k++) {
    if (r[k].port < 0) continue;
    if ((idx[k] = source(j->node, &r[k], nch, ch)) < 0) return -1;
    reel_box_t w = src[r[k].port]->data;
    data = used[0] || used[1] ? reel_box_union(data, w) : w;
    used[r[k].port] = 1;
  }
  if (!used[0] && !used[1]) data = src[0]->data;
  const char *names[REEL_MAXCH];
  for (int k = 0; k < nr; k++) names[k] = r[k].name;
  reel_cl_t *cl = src[0]->cl;
  if (!(im = reel_image_new(cl, nr, names, data, src[0]->display)) ||
      reel_meta_copy(&im->meta, &src[0]->meta))
    goto fail;
  int w = reel_image_w(im), h = reel_image_h(im), plane = (int)im->plane;
  for (int k = 0; im->mem && k < nr; k++) {
    int doff = k * plane;
    const reel_image_t *s = r[k].port >= 0 ? src[r[k].port] : NULL;
    if (s && s->mem) {
      cl_kernel kc = reel_cl_kernel(cl, "color", "shuffle_copy");
      int soff = idx[k] * (int)s->plane, sw = reel_image_w(s), sh = reel_image_h(s);
      size_t g[2] = {(size_t)w, (size_t)h}, l[2] = {256, 1};
      if (!kc || reel_cl_args(kc, 12, REEL_ARG(im->mem), REEL_ARG(doff), REEL_ARG(w),
                              REEL_ARG(h), REEL_ARG(data.x0), REEL_ARG(data.y0),
                              REEL_ARG(s->mem), REEL_ARG(soff), REEL_ARG(sw), REEL_ARG(sh),
                              REEL_ARG(s->data.x0), REEL_ARG(s->data.y0)) ||
          reel_cl_run(cl, kc, 2, g, l))
        goto fail;
    } else if (s || r[k].value == 0.0f) {
      if (reel_cl_fill0(cl, im->mem, (size_t)doff * sizeof(float), im->plane * sizeof(float)))
        goto fail;
    } else {
      cl_kernel kf = reel_cl_kernel(cl, "color", "shuffle_fill");
      size_t g = im->plane, l = 256;
      if (!kf || reel_cl_args(kf, 4, REEL_ARG(im->mem), REEL_ARG(doff), REEL_ARG(plane),
                              REEL_ARG(r[k].value)) ||
          reel_cl_run(cl, kf, 1, &g, &l))
        goto fail;
    }
  }
  *out = &im->v;
  return 0;
fail:
  reel_image_unref(im);
  return -1;
}

const reel_node_desc_t reel_node_shuffle = {
    .name = "Shuffle",
    .version = 1,
    .summary = "Route, rename, add or drop channels from two inputs and constants",
    .doc = "Example, chroma from a reference: `reel.Shuffle { a = ycc_src, b = ycc_ref, out = "
           "\"Y=a.Y,Cb=b.Cb,Cr=b.Cr\" }`. Inputs must have the same format; pixels outside an "
           "input's data window read 0, and a constant fills the whole output data window.",
    .inputs = inputs,
    .ninputs = 2,
    .output = REEL_V_IMAGE,
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .psize = sizeof(shuffle_t),
    .kernels = "color",
    .check = check,
    .clip = clip,
    .eval = eval,
};
