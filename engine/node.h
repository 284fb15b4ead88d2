/* Node descriptors and the API node files are written against. Each file in
 * nodes/ exports one constant reel_node_desc_t listed in nodes/nodes.def.
 * The engine never compares type names: behaviour that differs between node
 * types comes from the descriptor's flags and callbacks. */
#ifndef REEL_NODE_H
#define REEL_NODE_H

#include "error.h"
#include "hash.h"
#include "image.h"
#include "param.h"
#include "reel.h"
#include "value.h"

#define REEL_MAXIN 8
#define REEL_FRAME_CONST (-2147483647 - 1) /* the frame of a constant value */

/* What flows out of a node, known without pixels. */
typedef struct {
  reel_vtype_t type;
  int constant;       /* one value for every frame (a Model, a Grade) */
  int first, last;    /* inclusive frame range when !constant */
  reel_box_t display; /* images: the format at the first frame */
  int nch;            /* images: channels */
  char ch[REEL_MAXCH][REEL_CHNAME];
} reel_clip_t;

/* An input port. type REEL_V_NONE: the port takes a value of any type
 * (Write: an Image or a Model); the node's check callback then refuses what
 * it cannot use (reel_node_input_clip gives the connected type). */
typedef struct {
  const char *name;
  reel_vtype_t type;
  int optional;
  const char *doc;
} reel_port_desc_t;

/* The port's type as users see it: "Image", "Model", ... or "any". */
static inline const char *reel_port_type_name(const reel_port_desc_t *p) {
  return p->type == REEL_V_NONE ? "any" : reel_vtype_name(p->type);
}

typedef struct {
  int port, frame;
} reel_req_t;

typedef struct {
  int n, cap;
  reel_req_t *r;
} reel_reqs_t;

int reel_reqs_add(reel_reqs_t *q, int port, int frame);

struct reel_ctx;

/* One evaluation: a node at a frame, with the input values it asked for (in
 * the order of its frames callback, or one per connected port). */
typedef struct reel_job {
  struct reel_ctx *ctx;
  reel_node_t *node;
  int frame;
  reel_key_t key;
  int nin;
  reel_value_t **in;    /* borrowed; NULL for an unconnected optional port */
  const reel_req_t *req;
} reel_job_t;

enum {
  REEL_NF_SINK = 1 << 0,       /* rendered by default (Write) */
  REEL_NF_DISK = 1 << 1,       /* results are kept in the disk cache */
  REEL_NF_CONSTANT = 1 << 2,   /* one value for all frames (Train, MatchGrade) */
  REEL_NF_USES_FRAME = 1 << 3, /* the frame number itself enters the key */
  REEL_NF_LOCKED = 1 << 4,     /* compute once across processes (disk lock) */
  REEL_NF_NO_MEMCACHE = 1 << 5,/* do not keep results in memory */
  REEL_NF_POINTWISE = 1 << 6,  /* per-pixel colour op: pw_func/pw_pack; fused in chains */
};

/* Pointwise nodes: pw_pack packs the resolved parameters into floats for
 * the kernel function and says which channels come out. */
typedef struct {
  float *p;      /* parameter floats (max REEL_PW_MAXP per node) */
  int np;        /* filled by pw_pack */
  int nch_out;   /* channels out (default: the input's) */
  char (*names_out)[REEL_CHNAME]; /* their names (default: the input's) */
  const char *func; /* optional: a variant of pw_func specialised to these
                       parameters (same signature, same family) */
  unsigned char *konst; /* konst[i] = 1: p[i] is structural (a channel index,
                           a mode flag, a matrix fixed by a named space) and
                           is compiled into the kernel as a literal, so the
                           compiler folds what it selects; the rest are read
                           from a buffer and may change per frame without a
                           new compile. Set with reel_pw_const. */
} reel_pw_t;
#define REEL_PW_MAXP 256

/* Marks p[from .. from + count) of a pointwise packing as structural. */
static inline void reel_pw_const(reel_pw_t *o, int from, int count) {
  for (int i = from; i < from + count && i < REEL_PW_MAXP; i++) o->konst[i] = 1;
}

typedef struct reel_node_desc {
  const char *name;
  int version; /* bump when results change for equal parameters */
  const char *summary;
  const char *doc;
  const reel_port_desc_t *inputs;
  int ninputs;
  reel_vtype_t output;
  const reel_param_desc_t *params;
  int nparams;
  size_t psize; /* sizeof the param struct */
  unsigned flags;
  const char *kernels; /* space-separated kernel families whose source enters the key */

  /* Cross-parameter checks at construction (params at the first frame). */
  int (*check)(reel_node_t *n, const void *p);
  /* Output clip from input clips (in[i].type == REEL_V_NONE when an optional
   * port is unconnected). NULL: a copy of the first input's clip. */
  int (*clip)(reel_node_t *n, const void *p, const reel_clip_t *in, reel_clip_t *out);
  /* Input frames that output frame `frame` reads. NULL: each connected input
   * at the same frame. Constant nodes get REEL_FRAME_CONST. */
  int (*frames)(reel_node_t *n, const void *p, int frame, reel_reqs_t *out);
  /* Extra key material (Read: the file's content key). */
  int (*key)(reel_job_t *j, const void *p, reel_hasher_t *h);
  /* Computes *out (a new reference). 0 / -1 with reel_node_error. */
  int (*eval)(reel_job_t *j, const void *p, reel_value_t **out);
  /* For sinks: 1 if a cached result still stands (the file is unchanged). */
  int (*valid)(reel_job_t *j, const void *p, reel_value_t *cached);
  /* For --verify on nodes whose result is a record of a side effect (Write):
   * 0 if the cached result agrees with the freshly computed inputs in j,
   * -1 with an error otherwise. NULL: results are compared byte for byte. */
  int (*verify)(reel_job_t *j, const void *p, reel_value_t *cached);

  /* Pointwise nodes (REEL_NF_POINTWISE, one image input): the name of an
   * OpenCL function in one of the node's kernel families, with signature
   *   void NAME(float *px, __constant const float *p)
   * that maps one pixel (px[0..16), planes in channel order) in place using
   * the floats pw_pack wrote; and pw_pack itself, given the input image (for
   * its channel names). The engine builds one kernel per chain of pointwise
   * nodes, so a chain costs one pass over memory; a lone node is a chain of
   * one. Outside the data window pixels stay 0 (Nuke's bbox rule). */
  const char *pw_func;
  int (*pw_pack)(reel_node_t *n, const void *p, const reel_image_t *in, reel_pw_t *out);
} reel_node_desc_t;

/* Registry (registry.c, from nodes/nodes.def). */
int reel_registry_count(void);
const reel_node_desc_t *reel_registry_get(int i);
const reel_node_desc_t *reel_registry_find(const char *name);

/* Node accessors for node code. */
const reel_node_desc_t *reel_node_desc(const reel_node_t *n);
const reel_clip_t *reel_node_clip(const reel_node_t *n);
/* Clip of the node connected to input port i, or NULL if unconnected. */
const reel_clip_t *reel_node_input_clip(const reel_node_t *n, int port);
const char *reel_node_file(const reel_node_t *n);
int reel_node_line(const reel_node_t *n);

/* Reports an error about node n: "Type 'name' (file:line): message". */
void reel_node_error(const reel_node_t *n, reel_errclass_t cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The OpenCL runtime for this evaluation (opened on first use). */
reel_cl_t *reel_job_cl(reel_job_t *j);
/* The disk cache directory in use (NULL when disk caching is off). */
const char *reel_job_cache_dir(reel_job_t *j);
/* Memoised file content key (cache.h's file index, through the context). */
int reel_job_file_key(reel_job_t *j, const char *path, reel_key_t *out);
/* For nodes that read a value from a file named by a parameter (a model, a
 * LUT): hashes the file's content key into h; nothing when path is NULL or
 * empty. 0, or -1 with an error naming the node. */
int reel_job_hash_file(reel_job_t *j, const char *path, reel_hasher_t *h);
/* Input value i as an image, or NULL with an error naming the port. */
reel_image_t *reel_job_image(reel_job_t *j, int i);

/* Common checks that report alike for every node. */
int reel_check_same_size(const reel_node_t *n, const reel_image_t *a, const reel_image_t *b);
int reel_check_channels(const reel_node_t *n, const reel_image_t *im, int min, int max);
/* Every frame of the list lies in the clip of each connected, varying input
 * among the first nports (a clip callback's in[]); else an error naming the
 * frame and the port. */
int reel_check_frame_list(const reel_node_t *n, const reel_list_t *frames, const reel_clip_t *in,
                          int nports);



/* Provenance: the distinct node types (with versions) upstream of n,
 * including n, as "Read/1 Crop/1 Write/1". 0 / -1 if it does not fit. */
int reel_node_lineage(const reel_node_t *n, char *out, size_t cap);
#endif
