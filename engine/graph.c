/* Graph construction: nodes, their inputs and parameters, validation at
 * finish time (types, required inputs, cycles, frame ranges) and the output
 * list. Messages name the node and the Lua file:line that created it. */
#include "graph.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *reel_version(void) { return REEL_VERSION; }

reel_graph_t *reel_graph_new(void) {
  reel_graph_t *g = calloc(1, sizeof *g);
  if (!g) reel_error(REEL_EIO, "out of memory");
  return g;
}

static void node_free(reel_node_t *n) {
  for (int i = 0; i < n->d->nparams; i++) reel_pval_clear(&n->pv[i]);
  free(n->pv);
  free(n->name);
  free(n->file);
  free(n);
}

void reel_graph_free(reel_graph_t *g) {
  if (!g) return;
  for (int i = 0; i < g->n; i++) node_free(g->nodes[i]);
  for (int i = 0; i < g->nouts; i++) free(g->outs[i].name);
  free(g->nodes);
  free(g->outs);
  free(g);
}

static reel_graph_t *default_graph;
reel_graph_t *reel_graph_default(void) {
  if (!default_graph) default_graph = reel_graph_new();
  return default_graph;
}

static void make_label(reel_node_t *n) {
  if (n->name)
    snprintf(n->label, sizeof n->label, "%s '%s' (%s:%d)", n->d->name, n->name, n->file, n->line);
  else
    snprintf(n->label, sizeof n->label, "%s (%s:%d)", n->d->name, n->file, n->line);
}

void reel_node_error(const reel_node_t *n, reel_errclass_t cls, const char *fmt, ...) {
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  reel_error(cls, "%s: %s", n->label, msg);
}

reel_node_t *reel_node_new(reel_graph_t *g, const char *type, const char *file, int line) {
  const reel_node_desc_t *d = reel_registry_find(type);
  if (!d) {
    reel_error(REEL_EUSER, "%s:%d: there is no node type '%s' (reel nodes lists them)",
               file ? file : "?", line, type);
    return NULL;
  }
  if (g->n == g->cap) {
    int cap = g->cap ? g->cap * 2 : 64;
    reel_node_t **nn = realloc(g->nodes, sizeof *nn * (size_t)cap);
    if (!nn) goto oom;
    g->nodes = nn;
    g->cap = cap;
  }
  reel_node_t *n = calloc(1, sizeof *n);
  if (!n) goto oom;
  n->g = g;
  n->d = d;
  n->line = line;
  n->file = strdup(file ? file : "?");
  n->pv = calloc((size_t)(d->nparams ? d->nparams : 1), sizeof *n->pv);
  if (!n->file || !n->pv) {
    free(n->file);
    free(n->pv);
    free(n);
    goto oom;
  }
  for (int i = 0; i < d->nparams; i++)
    if (reel_pval_default(&d->params[i], &n->pv[i])) {
      node_free(n);
      return NULL;
    }
  make_label(n);
  n->id = g->n;
  g->nodes[g->n++] = n;
  g->generation++;
  return n;
oom:
  reel_error(REEL_EIO, "out of memory");
  return NULL;
}

int reel_node_set_name(reel_node_t *n, const char *name) {
  char *c = strdup(name);
  if (!c) return -1;
  free(n->name);
  n->name = c;
  make_label(n);
  return 0;
}

static int find_port(reel_node_t *n, const char *port) {
  if (port[0] == '#') {
    int i = atoi(port + 1) - 1;
    if (i >= 0 && i < n->d->ninputs) return i;
    reel_node_error(n, REEL_EUSER, "takes %d input%s; input %s is one too many", n->d->ninputs,
                    n->d->ninputs == 1 ? "" : "s", port + 1);
    return -1;
  }
  for (int i = 0; i < n->d->ninputs; i++)
    if (!strcmp(n->d->inputs[i].name, port)) return i;
  reel_node_error(n, REEL_EUSER, "has no input '%s'", port);
  return -1;
}

static int reaches(const reel_node_t *from, const reel_node_t *to, int depth) {
  if (from == to) return 1;
  if (depth > 100000) return 1;
  for (int i = 0; i < from->d->ninputs; i++)
    if (from->in[i] && reaches(from->in[i], to, depth + 1)) return 1;
  return 0;
}

int reel_node_set_input(reel_node_t *n, const char *port, reel_node_t *src) {
  int i = find_port(n, port);
  if (i < 0) return -1;
  if (src && src->g != n->g) {
    reel_node_error(n, REEL_EUSER, "input '%s' comes from another graph", n->d->inputs[i].name);
    return -1;
  }
  if (src && !src->finished) {
    reel_node_error(n, REEL_EUSER, "input '%s' is connected to %s, which is not complete",
                    n->d->inputs[i].name, src->label);
    return -1;
  }
  if (src && reaches(src, n, 0)) {
    reel_node_error(n, REEL_EUSER, "connecting input '%s' to %s would make a cycle",
                    n->d->inputs[i].name, src->label);
    return -1;
  }
  if (src && n->d->inputs[i].type != REEL_V_NONE && src->d->output != n->d->inputs[i].type) {
    reel_node_error(n, REEL_EUSER, "input '%s' takes %s values, but %s gives %s",
                    n->d->inputs[i].name, reel_port_type_name(&n->d->inputs[i]), src->label,
                    reel_vtype_name(src->d->output));
    return -1;
  }
  n->in[i] = src;
  n->g->generation++;
  return 0;
}

static int find_param(reel_node_t *n, const char *param) {
  for (int i = 0; i < n->d->nparams; i++)
    if (!strcmp(n->d->params[i].name, param)) return i;
  char list[1024] = "";
  for (int i = 0; i < n->d->nparams && strlen(list) < sizeof list - 40; i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
             n->d->params[i].name);
  if (n->d->nparams)
    reel_node_error(n, REEL_EUSER, "has no parameter '%s' (it has: %s)", param, list);
  else
    reel_node_error(n, REEL_EUSER, "has no parameter '%s' (it takes none)", param);
  return -1;
}

/* Runs a setter and, on failure, puts the node's label in front. */
#define SETTER(call)                                                                           \
  do {                                                                                         \
    if (call) {                                                                                \
      reel_error_prefix("%s:", n->label);                                                      \
      return -1;                                                                               \
    }                                                                                          \
    n->g->generation++;                                                                        \
    return 0;                                                                                  \
  } while (0)

int reel_node_set_number(reel_node_t *n, const char *param, int comp, double v) {
  int i = find_param(n, param);
  if (i < 0) return -1;
  SETTER(reel_pval_set_number(&n->d->params[i], &n->pv[i], comp, v));
}

int reel_node_set_string(reel_node_t *n, const char *param, const char *s) {
  int i = find_param(n, param);
  if (i < 0) return -1;
  SETTER(reel_pval_set_string(&n->d->params[i], &n->pv[i], s));
}

int reel_node_set_list(reel_node_t *n, const char *param, int count, const double *v) {
  int i = find_param(n, param);
  if (i < 0) return -1;
  SETTER(reel_pval_set_list(&n->d->params[i], &n->pv[i], count, v));
}

int reel_node_set_curve(reel_node_t *n, const char *param, int comp, int nk, const double *frames,
                        const double *values, const char *interp) {
  int i = find_param(n, param);
  if (i < 0) return -1;
  SETTER(reel_pval_set_curve(&n->d->params[i], &n->pv[i], comp, nk, frames, values, interp));
}

int reel_node_reset_param(reel_node_t *n, const char *param) {
  int i = find_param(n, param);
  if (i < 0) return -1;
  SETTER(reel_pval_default(&n->d->params[i], &n->pv[i]));
}

static void clip_of_default(const reel_clip_t *in, int nin, reel_clip_t *out, reel_vtype_t t) {
  memset(out, 0, sizeof *out);
  /* the first input that varies over time, preferring the output's type;
   * else the first constant one; a node without inputs is constant */
  for (int pass = 0; pass < 3; pass++)
    for (int i = 0; i < nin; i++) {
      if (in[i].type == REEL_V_NONE) continue;
      if ((pass == 0 && in[i].type == t && !in[i].constant) || (pass == 1 && !in[i].constant) ||
          pass == 2) {
        *out = in[i];
        out->type = t;
        return;
      }
    }
  out->type = t;
  out->constant = 1;
}

int reel_node_finish(reel_node_t *n) {
  const reel_node_desc_t *d = n->d;
  reel_clip_t in[REEL_MAXIN];
  memset(in, 0, sizeof in);
  for (int i = 0; i < d->ninputs; i++) {
    if (!n->in[i]) {
      if (!d->inputs[i].optional) {
        reel_node_error(n, REEL_EUSER, "input '%s' (%s) is not connected: give it as %s",
                        d->inputs[i].name, reel_port_type_name(&d->inputs[i]),
                        i == 0 ? "the first entry of the table" : "a named entry");
        return -1;
      }
      continue;
    }
    in[i] = n->in[i]->clip;
  }
  for (int i = 0; i < d->nparams; i++)
    if (d->params[i].flags & REEL_PF_REQUIRED && !n->pv[i].set) {
      reel_node_error(n, REEL_EUSER, "parameter '%s' is required: %s", d->params[i].name,
                      d->params[i].doc);
      return -1;
    }
  /* Image inputs that vary over time must cover the same frames, unless the
   * node maps frames itself (its frames callback) */
  if (!d->frames) {
    int ref = -1;
    for (int i = 0; i < d->ninputs; i++) {
      if (in[i].type == REEL_V_NONE || in[i].constant) continue;
      if (ref < 0) {
        ref = i;
        continue;
      }
      if (in[i].first != in[ref].first || in[i].last != in[ref].last) {
        reel_node_error(n, REEL_EUSER,
                        "inputs '%s' (frames %d-%d) and '%s' (frames %d-%d) cover different "
                        "frames; use FrameRange or TimeOffset to line them up",
                        d->inputs[ref].name, in[ref].first, in[ref].last, d->inputs[i].name,
                        in[i].first, in[i].last);
        return -1;
      }
    }
  }
  n->animated = 0;
  for (int i = 0; i < d->nparams; i++)
    n->animated |= reel_pval_animated(&d->params[i], &n->pv[i]);

  void *p = calloc(1, d->psize ? d->psize : 1);
  if (!p) return -1;
  int rc = -1;
  reel_clip_t first_clip;
  clip_of_default(in, d->ninputs, &first_clip, d->output);
  double f0 = first_clip.constant ? 0 : first_clip.first;
  if (reel_params_resolve(d->params, d->nparams, n->pv, f0, p)) {
    reel_error_prefix("%s:", n->label);
    goto out;
  }
  if (d->check && d->check(n, p)) goto out;
  if (d->clip) {
    memset(&n->clip, 0, sizeof n->clip);
    n->clip.type = d->output;
    if (d->clip(n, p, in, &n->clip)) goto out;
    n->clip.type = d->output;
  } else {
    n->clip = first_clip;
  }
  if (d->flags & REEL_NF_CONSTANT) n->clip.constant = 1;
  /* keyframes on a node fed by a still make it vary: its clip spans the keys */
  if (n->clip.constant && n->animated && !(d->flags & REEL_NF_CONSTANT)) {
    double lo = 1e300, hi = -1e300;
    for (int i = 0; i < d->nparams; i++)
      for (int c = 0; c < REEL_PMAXCOMP; c++) {
        const reel_curve_t *cv = n->pv[i].curve[c];
        if (!cv) continue;
        if (cv->f[0] < lo) lo = cv->f[0];
        if (cv->f[cv->n - 1] > hi) hi = cv->f[cv->n - 1];
      }
    n->clip.constant = 0;
    n->clip.first = (int)ceil(lo);
    n->clip.last = (int)floor(hi);
  }
  if (!n->clip.constant && n->clip.first > n->clip.last) {
    reel_node_error(n, REEL_EUSER, "covers no frames (%d-%d)", n->clip.first, n->clip.last);
    goto out;
  }
  n->finished = 1;
  rc = 0;
out:
  free(p);
  n->g->generation++;
  return rc;
}

const char *reel_node_type(const reel_node_t *n) { return n->d->name; }
const char *reel_node_label(const reel_node_t *n) { return n->label; }
int reel_node_first(const reel_node_t *n) { return n->clip.constant ? INT_MIN : n->clip.first; }
int reel_node_last(const reel_node_t *n) { return n->clip.constant ? INT_MAX : n->clip.last; }
int reel_node_id(const reel_node_t *n) { return n->id; }
const reel_node_desc_t *reel_node_desc(const reel_node_t *n) { return n->d; }
const reel_clip_t *reel_node_clip(const reel_node_t *n) { return &n->clip; }
const reel_clip_t *reel_node_input_clip(const reel_node_t *n, int port) {
  return port >= 0 && port < n->d->ninputs && n->in[port] ? &n->in[port]->clip : NULL;
}
const char *reel_node_file(const reel_node_t *n) { return n->file; }
int reel_graph_nnodes(const reel_graph_t *g) { return g->n; }
reel_node_t *reel_graph_node(const reel_graph_t *g, int i) {
  return i >= 0 && i < g->n ? g->nodes[i] : NULL;
}
reel_graph_t *reel_node_graph(const reel_node_t *n) { return n->g; }
const char *reel_node_name(const reel_node_t *n) { return n->name; }
int reel_node_finished(const reel_node_t *n) { return n->finished; }
reel_node_t *reel_node_input(const reel_node_t *n, int port) {
  return port >= 0 && port < n->d->ninputs ? n->in[port] : NULL;
}
int reel_node_line(const reel_node_t *n) { return n->line; }

int reel_graph_add_output(reel_graph_t *g, reel_node_t *n, const char *name) {
  if (!n->finished) {
    reel_node_error(n, REEL_EUSER, "is not complete and cannot be an output");
    return -1;
  }
  for (int i = 0; i < g->nouts; i++)
    if (g->outs[i].node == n) return 0;
  if (g->nouts == g->capouts) {
    int cap = g->capouts ? g->capouts * 2 : 8;
    void *o = realloc(g->outs, sizeof *g->outs * (size_t)cap);
    if (!o) return -1;
    g->outs = o;
    g->capouts = cap;
  }
  g->outs[g->nouts].node = n;
  g->outs[g->nouts].name = name ? strdup(name) : NULL;
  g->nouts++;
  return 0;
}

int reel_graph_noutputs(reel_graph_t *g) { return g->nouts; }

int reel_reqs_add(reel_reqs_t *q, int port, int frame) {
  if (q->n == q->cap) {
    int cap = q->cap ? q->cap * 2 : 8;
    reel_req_t *r = realloc(q->r, sizeof *r * (size_t)cap);
    if (!r) {
      reel_error(REEL_EIO, "out of memory");
      return -1;
    }
    q->r = r;
    q->cap = cap;
  }
  q->r[q->n++] = (reel_req_t){port, frame};
  return 0;
}

int reel_check_same_size(const reel_node_t *n, const reel_image_t *a, const reel_image_t *b) {
  if (reel_box_w(a->display) == reel_box_w(b->display) &&
      reel_box_h(a->display) == reel_box_h(b->display))
    return 0;
  reel_node_error(n, REEL_EUSER,
                  "inputs have different formats (%dx%d and %dx%d); add a Reformat to one",
                  reel_box_w(a->display), reel_box_h(a->display), reel_box_w(b->display),
                  reel_box_h(b->display));
  return -1;
}

int reel_check_channels(const reel_node_t *n, const reel_image_t *im, int min, int max) {
  if (im->nch >= min && im->nch <= max) return 0;
  reel_node_error(n, REEL_EUSER, "needs %d to %d channels, the input has %d; use Shuffle", min,
                  max, im->nch);
  return -1;
}

int reel_check_frame_list(const reel_node_t *n, const reel_list_t *frames, const reel_clip_t *in,
                          int nports) {
  for (int port = 0; port < nports && port < n->d->ninputs; port++) {
    if (in[port].type == REEL_V_NONE || in[port].constant) continue;
    for (int i = 0; i < frames->n; i++) {
      int f = (int)frames->v[i];
      if (f < in[port].first || f > in[port].last) {
        reel_node_error(n, REEL_EUSER, "frames: %d is not a frame of '%s' (%d-%d)", f,
                        n->d->inputs[port].name, in[port].first, in[port].last);
        return -1;
      }
    }
  }
  return 0;
}

static void lineage(const reel_node_t *n, char *out, size_t cap, unsigned char *seen) {
  if (seen[n->id]) return;
  seen[n->id] = 1;
  for (int i = 0; i < n->d->ninputs; i++)
    if (n->in[i]) lineage(n->in[i], out, cap, seen);
  char item[96];
  snprintf(item, sizeof item, "%s/%d", n->d->name, n->d->version);
  size_t l = strlen(out);
  const char *s = out;
  while ((s = strstr(s, item))) {
    size_t il = strlen(item);
    if ((s == out || s[-1] == ' ') && (s[il] == 0 || s[il] == ' ')) return;
    s += il;
  }
  snprintf(out + l, cap - l, "%s%s", l ? " " : "", item);
}

int reel_node_lineage(const reel_node_t *n, char *out, size_t cap) {
  unsigned char *seen = calloc((size_t)n->g->n, 1);
  if (!seen) return -1;
  out[0] = 0;
  lineage(n, out, cap, seen);
  free(seen);
  return strlen(out) + 1 < cap ? 0 : -1;
}

const char *reel_graph_dot(reel_graph_t *g) {
  static char *buf;
  static size_t cap;
  size_t n = 0;
#define PUT(...)                                                                               \
  do {                                                                                         \
    int k_ = snprintf(buf ? buf + n : NULL, buf ? cap - n : 0, __VA_ARGS__);                   \
    if (k_ < 0) break;                                                                         \
    if (!buf || n + (size_t)k_ >= cap) {                                                       \
      size_t nc = cap ? cap : 4096;                                                            \
      while (nc <= n + (size_t)k_) nc *= 2;                                                    \
      char *nb = realloc(buf, nc);                                                             \
      if (!nb) return "";                                                                      \
      buf = nb;                                                                                \
      cap = nc;                                                                                \
      snprintf(buf + n, cap - n, __VA_ARGS__);                                                 \
    }                                                                                          \
    n += (size_t)k_;                                                                           \
  } while (0)
  PUT("digraph reel {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n");
  for (int i = 0; i < g->n; i++) {
    reel_node_t *x = g->nodes[i];
    if (!x->finished) continue;
    PUT("  n%d [label=\"%s%s%s\\n%s:%d", x->id, x->d->name, x->name ? " " : "",
        x->name ? x->name : "", x->file, x->line);
    void *p = calloc(1, x->d->psize ? x->d->psize : 1);
    double f0 = x->clip.constant ? 0 : x->clip.first;
    if (p && !reel_params_resolve(x->d->params, x->d->nparams, x->pv, f0, p)) {
      for (int k = 0; k < x->d->nparams; k++) {
        const reel_param_desc_t *pd = &x->d->params[k];
        if (!x->pv[k].set) continue;
        char val[256];
        reel_param_format(pd, p, val, sizeof val);
        for (char *c = val; *c; c++)
          if (*c == '"') *c = '\'';
        PUT("\\n%s = %s%s", pd->name, val, reel_pval_animated(pd, &x->pv[k]) ? " (keyed)" : "");
      }
    }
    reel_error_clear();
    free(p);
    PUT("\"%s];\n", x->d->flags & REEL_NF_SINK ? ", style=bold" : "");
  }
  for (int i = 0; i < g->n; i++) {
    reel_node_t *x = g->nodes[i];
    for (int k = 0; k < x->d->ninputs; k++)
      if (x->in[k]) PUT("  n%d -> n%d [label=\"%s\", fontsize=8];\n", x->in[k]->id, x->id, x->d->inputs[k].name);
  }
  PUT("}\n");
#undef PUT
  return buf;
}
