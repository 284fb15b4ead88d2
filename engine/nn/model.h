/* Model values (what Train produces and Infer consumes) and the .reelnet
 * file format (docs/formats.md): a versioned, checksummed binary with the
 * architecture, the channel names the model reads, the parameters in the
 * canonical order of nn.h, provenance text and, in checkpoints, the
 * optimiser state needed to resume training exactly. */
#ifndef REEL_MODEL_H
#define REEL_MODEL_H

#include "buf.h"
#include "hash.h"
#include "image.h"
#include "nn/nn.h"
#include "value.h"

#include <stdint.h>

typedef struct reel_model {
  reel_value_t v;
  reel_nn_arch_t arch;
  size_t nparams;
  float *params;                /* nparams floats, canonical order */
  char ch[3][REEL_CHNAME];      /* channels read: R,G,B or Y,Cb,Cr */
  int rgb_to_ycc;               /* chroma mode on R,G,B: converted inside */
  int64_t steps;                /* training steps done */
  double loss;                  /* last training loss (mean of the last 100 steps) */
  char *info;                   /* provenance, "key: value" lines (may be NULL) */
  /* checkpoints only (NULL otherwise): Adam moments and the training key */
  float *adam_m, *adam_v;
  reel_key_t train_key;
} reel_model_t;

extern const reel_value_class_t reel_model_class;

/* New model with zeroed parameters (nparams from arch), reading channels
 * R, G, B (converted to Y'CbCr inside in chroma mode); a new reference, or
 * NULL + reel_error (an invalid architecture). */
reel_model_t *reel_model_new(const reel_nn_arch_t *arch);
reel_model_t *reel_model_cast(reel_value_t *v); /* NULL unless a model */
static inline void reel_model_unref(reel_model_t *m) {
  if (m) reel_value_unref(&m->v);
}
/* Allocates adam_m / adam_v (zeroed). 0 / -1. */
int reel_model_alloc_adam(reel_model_t *m);

/* "small", "medium" or "large" when the architecture is that named size,
 * else NULL (a custom architecture). */
const char *reel_model_size(const reel_model_t *m);

/* Sets the provenance line "key: value" in m->info, replacing a line of
 * that key and dropping empty lines (newlines in value become spaces). 0 / -1. */
int reel_model_info_set(reel_model_t *m, const char *key, const char *value);

/* The .reelnet encoding (the same bytes the disk cache stores), appended to
 * out. 0 / -1. */
int reel_model_encode(const reel_model_t *m, reel_buf_t *out);
/* what: the file name for errors. A new reference, or NULL + reel_error on a
 * corrupt, truncated, foreign or newer-version file, saying which. The
 * content errors are REEL_EUSER (a bad input file: exit 2), not REEL_EIO:
 * reading again would not help. */
reel_model_t *reel_model_decode(const void *p, size_t n, const char *what);
/* Atomic write: a temporary file in the same directory, fsync, rename; on
 * failure no file is left under either name. 0 / -1 + reel_error. */
int reel_model_save_file(const reel_model_t *m, const char *path);
/* A new reference, or NULL + reel_error: REEL_EIO when the file cannot be
 * read, REEL_EUSER when it is missing or its content is bad. */
reel_model_t *reel_model_load_file(const char *path);
/* Reads a whole file into out (empty on entry) with load_file's error
 * classes. 0 / -1. */
int reel_model_read_file(const char *path, reel_buf_t *out);

/* Envelope facts of an encoding, for reel model info. */
typedef struct {
  unsigned major, minor; /* format version */
  uint64_t bytes;        /* total length the header states */
  uint64_t checksum;     /* XXH3-64 stored at the end */
  int checksum_ok;       /* the stored checksum matches the bytes */
} reel_model_stamp_t;
/* 0, or -1 + reel_error if p is not a .reelnet encoding at all. */
int reel_model_stamp(const void *p, size_t n, reel_model_stamp_t *out);
/* Human-readable summary (reel model info): arch, parameter count, channels,
 * steps, loss, provenance. */
int reel_model_describe(const reel_model_t *m, FILE *out);

#endif
