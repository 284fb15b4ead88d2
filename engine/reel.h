/* Reel's public C API: build a graph, set parameters, render, query the node
 * registry. The Lua layer loads this header into LuaJIT's FFI at run time
 * (preprocessor lines are dropped), so it holds plain declarations only.
 * Ownership: nodes belong to their graph and die with it; strings returned
 * are owned by the library and valid until the next call on the same object. */
#ifndef REEL_H
#define REEL_H

typedef struct reel_graph reel_graph_t;
typedef struct reel_node reel_node_t;

/* ---- errors (thread-local; see error.h) ---- */
const char *reel_error_get(void);
int reel_error_class(void); /* 0 none, 2 user/graph, 3 I/O or device, 4 internal */
void reel_error_clear(void);

const char *reel_version(void);

/* ---- registry: node descriptors, for constructors and docs ---- */
int reel_desc_count(void);
int reel_desc_find(const char *type); /* index or -1 */
const char *reel_desc_name(int d);
const char *reel_desc_summary(int d);
int reel_desc_ninputs(int d);
const char *reel_desc_input_name(int d, int i);
int reel_desc_nparams(int d);
const char *reel_desc_param_name(int d, int p);
/* "number", "integer", "boolean", "enum", "string", "box", "vector", "list" */
const char *reel_desc_param_type(int d, int p);
int reel_desc_param_count(int d, int p); /* components of box/vector */
/* Markdown (md=1) or plain-text documentation of one node (d >= 0) or all. */
const char *reel_desc_doc(int d, int md);

/* ---- graphs ---- */
reel_graph_t *reel_graph_new(void);
void reel_graph_free(reel_graph_t *g);
/* The process-wide graph that Lua scene files build into. */
reel_graph_t *reel_graph_default(void);

/* Creates a node. file/line: where the Lua call was made (for errors); the
 * node is not usable until reel_node_finish succeeds. NULL with error. */
reel_node_t *reel_node_new(reel_graph_t *g, const char *type, const char *file, int line);
int reel_node_set_name(reel_node_t *n, const char *name);
/* Connects src's output to the input port `port` (a name, or "#N" for the
 * N-th port, 1-based). 0 / -1. */
int reel_node_set_input(reel_node_t *n, const char *port, reel_node_t *src);
/* Parameters. comp: component index (0 for scalars). 0 / -1 with error. */
int reel_node_set_number(reel_node_t *n, const char *param, int comp, double v);
int reel_node_set_string(reel_node_t *n, const char *param, const char *s);
int reel_node_set_list(reel_node_t *n, const char *param, int count, const double *v);
/* Keyframes for one component: nk (frame, value) pairs sorted by frame;
 * interp "step", "linear" or "smooth". */
int reel_node_set_curve(reel_node_t *n, const char *param, int comp, int nk,
                        const double *frames, const double *values, const char *interp);
int reel_node_reset_param(reel_node_t *n, const char *param); /* back to default */
/* Checks inputs, ranges and types, computes the node's clip info. 0 / -1. */
int reel_node_finish(reel_node_t *n);
const char *reel_node_type(const reel_node_t *n);
const char *reel_node_label(const reel_node_t *n); /* "Crop 'name' (file:line)" */
int reel_node_first(const reel_node_t *n);
int reel_node_last(const reel_node_t *n);
int reel_node_id(const reel_node_t *n);
/* Walking a graph (a report's picture of it, tools): its nodes in creation
 * order, finished or not; a node's graph, given name (NULL when unnamed),
 * whether it is finished, and the node on input port `port` (NULL when
 * unconnected or out of range; port names from reel_desc_input_name). */
int reel_graph_nnodes(const reel_graph_t *g);
reel_node_t *reel_graph_node(const reel_graph_t *g, int i); /* NULL out of range */
reel_graph_t *reel_node_graph(const reel_node_t *n);
const char *reel_node_name(const reel_node_t *n);
int reel_node_finished(const reel_node_t *n);
reel_node_t *reel_node_input(const reel_node_t *n, int port);
/* Marks n as an output the renderer evaluates (name may be NULL). */
int reel_graph_add_output(reel_graph_t *g, reel_node_t *n, const char *name);
int reel_graph_noutputs(reel_graph_t *g);
/* Graphviz text of the graph (nodes with type, name, file:line and the
 * parameters that differ from their defaults; edges labelled by port). */
const char *reel_graph_dot(reel_graph_t *g);

/* ---- rendering ---- */
typedef struct reel_render_opts {
  int first, last;        /* frame range; first > last: each output's own range */
  const char *output;     /* only the output (or node) of this name; NULL: all */
  const char *cache_dir;  /* NULL: default (REEL_CACHE, XDG_CACHE_HOME/reel) */
  int no_disk_cache;      /* 1: memory only */
  double mem_bytes;       /* memory cache bound; 0: default */
  const char *device;     /* NULL: REEL_DEVICE or the default */
  int explain;            /* print per node-frame decisions to stdout */
  int verify;             /* recompute cache hits and compare */
  int progress;           /* progress line on stderr */
  const char *stats_json; /* path, or NULL */
  const char *type;       /* only the nodes of this type (reel report: "Report"), with
                             output the one of that name among them; NULL: any */
} reel_render_opts_t;

typedef struct reel_render_stats {
  long long computed, memory_hits, disk_hits, frames;
  long long verified, verify_mismatches;
  double seconds, key_seconds;
  double peak_rss_mb;
} reel_render_stats_t;

/* Renders the graph's outputs (or every sink when none was added). Keeps the
 * process-wide context (device, caches) between calls, so a second render in
 * the same process hits the memory cache. 0 / -1 with error. */
int reel_render(reel_graph_t *g, const reel_render_opts_t *o, reel_render_stats_t *st);
/* Evaluates node n at `frame` with the process-wide context (o may be NULL:
 * memory cache only, default device). fresh = 1 drops n's own cached result
 * first (its inputs stay cached), for timing a node. If n gives an image and
 * px is not NULL, *px receives a malloc'd planar float32 copy of its data
 * window (free with free()), nch its channel count, data and display its
 * windows as {x0, y0, x1, y1}. Waits for the device. 0 / -1 with error. */
int reel_eval_image(reel_graph_t *g, reel_node_t *n, int frame, const reel_render_opts_t *o,
                    int fresh, float **px, int *nch, int *data, int *display);

/* Evaluates node n at `frame` as reel_eval_image does (fresh = 0, no
 * pixels) and copies the value of its image's metadata entry `key` into out
 * (cap bytes, truncated). Returns 1 when found, 0 when the result has no
 * such entry (out is ""), -1 with error. Repeated calls hit the memory
 * cache, so reading several keys costs one evaluation. */
int reel_eval_meta(reel_graph_t *g, reel_node_t *n, int frame, const reel_render_opts_t *o,
                   const char *key, char *out, int cap);

/* Releases the device and caches kept by reel_render. */
void reel_shutdown(void);

#endif
