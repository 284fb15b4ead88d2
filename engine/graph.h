/* Graph internals shared by graph.c (construction) and eval.c (evaluation).
 * Node code sees only node.h. */
#ifndef REEL_GRAPH_H
#define REEL_GRAPH_H

#include "node.h"

struct reel_node {
  reel_graph_t *g;
  int id;
  const reel_node_desc_t *d;
  char *name;
  char *file;
  int line;
  reel_node_t *in[REEL_MAXIN];
  reel_pval_t *pv; /* d->nparams */
  int finished;
  int animated;    /* some parameter is keyframed with varying values */
  reel_clip_t clip;
  char label[512];
  /* per-render scratch used by eval.c */
  long long st_computed, st_mem, st_disk;
};

struct reel_graph {
  reel_node_t **nodes;
  int n, cap;
  struct {
    reel_node_t *node;
    char *name;
  } *outs;
  int nouts, capouts;
  unsigned generation; /* bumped on every change, so eval memos know */
};

#endif
