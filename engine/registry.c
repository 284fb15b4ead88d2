/* The node registry: every descriptor listed in nodes/nodes.def, looked up by
 * name, and the documentation generated from the descriptors (reel nodes,
 * docs/nodes.md). */
#include "node.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REEL_NODE(sym) extern const reel_node_desc_t sym;
#include "../nodes/nodes.def"
#undef REEL_NODE

static const reel_node_desc_t *const table[] = {
#define REEL_NODE(sym) &sym,
#include "../nodes/nodes.def"
#undef REEL_NODE
};

#define NDESC ((int)(sizeof table / sizeof table[0]))

int reel_registry_count(void) { return NDESC; }
const reel_node_desc_t *reel_registry_get(int i) { return i >= 0 && i < NDESC ? table[i] : NULL; }

const reel_node_desc_t *reel_registry_find(const char *name) {
  for (int i = 0; i < NDESC; i++)
    if (!strcmp(table[i]->name, name)) return table[i];
  return NULL;
}

int reel_desc_count(void) { return NDESC; }
int reel_desc_find(const char *type) {
  for (int i = 0; i < NDESC; i++)
    if (!strcmp(table[i]->name, type)) return i;
  return -1;
}
const char *reel_desc_name(int d) { return table[d]->name; }
const char *reel_desc_summary(int d) { return table[d]->summary; }
int reel_desc_ninputs(int d) { return table[d]->ninputs; }
const char *reel_desc_input_name(int d, int i) { return table[d]->inputs[i].name; }
int reel_desc_nparams(int d) { return table[d]->nparams; }
const char *reel_desc_param_name(int d, int p) { return table[d]->params[p].name; }
const char *reel_desc_param_type(int d, int p) { return reel_ptype_name(table[d]->params[p].type); }
int reel_desc_param_count(int d, int p) { return table[d]->params[p].count; }

/* ---- documentation ---- */

typedef struct {
  char *p;
  size_t n, cap;
} sbuf_t;

static void put(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf_t *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if (b->p && b->n + (size_t)k < b->cap) {
      b->n += (size_t)k;
      return;
    }
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->n + (size_t)k + 1) cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) return;
    b->p = np;
    b->cap = cap;
  }
}

static void fmt_default(const reel_param_desc_t *p, char *out, size_t cap) {
  size_t n = 0;
  switch (p->type) {
  case REEL_P_NUMBER:
  case REEL_P_INT: snprintf(out, cap, "%g", p->def[0]); break;
  case REEL_P_BOOL: snprintf(out, cap, "%s", p->def[0] ? "true" : "false"); break;
  case REEL_P_ENUM: snprintf(out, cap, "\"%s\"", p->sdef); break;
  case REEL_P_STRING:
    if (p->sdef)
      snprintf(out, cap, "\"%s\"", p->sdef);
    else
      snprintf(out, cap, "%s", p->flags & REEL_PF_REQUIRED ? "(required)" : "nil");
    break;
  case REEL_P_BOX:
  case REEL_P_VECTOR:
    n += (size_t)snprintf(out + n, cap - n, "{");
    for (int c = 0; c < p->count && n < cap; c++)
      n += (size_t)snprintf(out + n, cap - n, "%s%g", c ? ", " : "", p->def[c]);
    if (n < cap) snprintf(out + n, cap - n, "}");
    break;
  case REEL_P_LIST: snprintf(out, cap, "{}"); break;
  }
}

static const char *flag_words(unsigned f, char *out, size_t cap) {
  out[0] = 0;
  const struct {
    unsigned bit;
    const char *w;
  } words[] = {{REEL_NF_SINK, "sink (rendered by default)"},
               {REEL_NF_DISK, "results kept in the disk cache"},
               {REEL_NF_CONSTANT, "one result for all frames"},
               {REEL_NF_LOCKED, "computed once across processes sharing a cache"}};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (f & words[i].bit)
      snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? "; " : "", words[i].w);
  return out;
}

static void doc1(sbuf_t *b, const reel_node_desc_t *d, int md) {
  char flags[256], def[256], range[96];
  if (md) {
    put(b, "## %s\n\n%s\n\n", d->name, d->summary);
    if (d->doc) put(b, "%s\n\n", d->doc);
    put(b, "Output: %s. Version %d.", reel_vtype_name(d->output), d->version);
    if (flag_words(d->flags, flags, sizeof flags)[0]) put(b, " %s.", flags);
    put(b, "\n\n");
    if (d->ninputs) {
      put(b, "| input | type | |\n|---|---|---|\n");
      for (int i = 0; i < d->ninputs; i++)
        put(b, "| `%s` | %s%s | %s |\n", d->inputs[i].name, reel_port_type_name(&d->inputs[i]),
            d->inputs[i].optional ? ", optional" : "", d->inputs[i].doc ? d->inputs[i].doc : "");
      put(b, "\n");
    }
    if (d->nparams) {
      put(b, "| parameter | type | default | range | |\n|---|---|---|---|---|\n");
      for (int i = 0; i < d->nparams; i++) {
        const reel_param_desc_t *p = &d->params[i];
        fmt_default(p, def, sizeof def);
        range[0] = 0;
        if (p->type == REEL_P_ENUM) {
          for (int k = 0; p->enums[k]; k++)
            snprintf(range + strlen(range), sizeof range - strlen(range), "%s`%s`",
                     k ? ", " : "", p->enums[k]);
        } else if (p->min <= p->max && p->type != REEL_P_BOOL)
          snprintf(range, sizeof range, "%g to %g", p->min, p->max);
        put(b, "| `%s` | %s%s | `%s` | %s | %s |\n", p->name, reel_ptype_name(p->type),
            p->flags & REEL_PF_STATIC ? "" : ", keyframable", def, range, p->doc);
      }
      put(b, "\n");
    }
  } else {
    put(b, "%s — %s\n", d->name, d->summary);
    if (d->doc) put(b, "  %s\n", d->doc);
    put(b, "  output: %s", reel_vtype_name(d->output));
    if (flag_words(d->flags, flags, sizeof flags)[0]) put(b, "; %s", flags);
    put(b, "\n");
    for (int i = 0; i < d->ninputs; i++)
      put(b, "  input  %-12s %s%s  %s\n", d->inputs[i].name, reel_port_type_name(&d->inputs[i]),
          d->inputs[i].optional ? " (optional)" : "", d->inputs[i].doc ? d->inputs[i].doc : "");
    for (int i = 0; i < d->nparams; i++) {
      const reel_param_desc_t *p = &d->params[i];
      fmt_default(p, def, sizeof def);
      put(b, "  param  %-12s %s = %s  %s\n", p->name, reel_ptype_name(p->type), def, p->doc);
      if (p->type == REEL_P_ENUM) {
        put(b, "         %-12s one of:", "");
        for (int k = 0; p->enums[k]; k++) put(b, " %s", p->enums[k]);
        put(b, "\n");
      } else if (p->min <= p->max && p->type != REEL_P_BOOL)
        put(b, "         %-12s range %g to %g\n", "", p->min, p->max);
    }
  }
}

const char *reel_desc_doc(int d, int md) {
  static sbuf_t b;
  b.n = 0;
  if (b.p) b.p[0] = 0;
  if (d >= 0 && d < NDESC) {
    doc1(&b, table[d], md);
    return b.p ? b.p : "";
  }
  if (md) {
    put(&b, "# Node reference\n\nGenerated by `reel nodes --markdown` from the node "
            "descriptors in nodes/*.c; do not edit by hand.\n\n");
    put(&b, "Parameters marked keyframable accept `reel.keys{...}` curves (see "
            "docs/guide.md). Boxes are `{x0, y0, x1, y1}` in pixels, y down, x1/y1 "
            "exclusive, as OpenEXR data windows.\n\n");
    for (int i = 0; i < NDESC; i++) put(&b, "- [%s](#%s): %s\n", table[i]->name,
                                       table[i]->name, table[i]->summary);
    put(&b, "\n");
  }
  for (int i = 0; i < NDESC; i++) {
    doc1(&b, table[i], md);
    if (!md) put(&b, "\n");
  }
  return b.p ? b.p : "";
}
