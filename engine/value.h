/* Values that travel on graph edges. Every value starts with reel_value_t and
 * is reference counted; a class table says how to free, size, save and load
 * it, so caches and the evaluator handle images, models, grades, transforms
 * and write records alike without knowing which they hold. */
#ifndef REEL_VALUE_H
#define REEL_VALUE_H

#include "buf.h"

#include <stddef.h>

typedef enum {
  REEL_V_NONE = 0,
  REEL_V_IMAGE = 1,
  REEL_V_MODEL = 2,
  REEL_V_GRADE = 3,
  REEL_V_TRANSFORM = 4,
  REEL_V_RECORD = 5, /* what a sink did (files written), see record.h */
  REEL_V_COUNT
} reel_vtype_t;

typedef struct reel_value reel_value_t;

typedef struct reel_value_class {
  reel_vtype_t type;
  const char *name; /* "Image", "Model", ... as shown to users */
  void (*destroy)(reel_value_t *v);
  size_t (*bytes)(const reel_value_t *v); /* memory held, for the LRU bound */
  int (*save)(const reel_value_t *v, reel_buf_t *out);
  reel_value_t *(*load)(reel_rd_t *in);
} reel_value_class_t;

struct reel_value {
  const reel_value_class_t *cls;
  int refs;
};

void reel_value_init(reel_value_t *v, const reel_value_class_t *cls);
/* Takes a reference and returns v (NULL passes through). */
reel_value_t *reel_value_ref(reel_value_t *v);
void reel_value_unref(reel_value_t *v);
size_t reel_value_bytes(const reel_value_t *v);
const char *reel_vtype_name(reel_vtype_t t);

/* Serialises with a type tag; load returns a new reference or NULL with
 * reel_error (a foreign or truncated payload is an error, never a crash). */
int reel_value_save(const reel_value_t *v, reel_buf_t *out);
reel_value_t *reel_value_load(reel_rd_t *in);

/* Each value class registers itself here (value.c lists them). */
extern const reel_value_class_t reel_image_class;
extern const reel_value_class_t reel_record_class;
extern const reel_value_class_t reel_model_class; /* nn/model.h */

#endif
