/* Reference counting and tagged serialisation of edge values (value.h). */
#include "value.h"
#include "error.h"


static const reel_value_class_t *classes[REEL_V_COUNT] = {
    [REEL_V_IMAGE] = &reel_image_class,
    [REEL_V_MODEL] = &reel_model_class,
    [REEL_V_RECORD] = &reel_record_class,
};

/* Later value types (models, grades, transforms) add themselves here. */
void reel_value_register(const reel_value_class_t *cls);
void reel_value_register(const reel_value_class_t *cls) {
  if (cls->type > 0 && cls->type < REEL_V_COUNT) classes[cls->type] = cls;
}

void reel_value_init(reel_value_t *v, const reel_value_class_t *cls) {
  v->cls = cls;
  v->refs = 1;
}

reel_value_t *reel_value_ref(reel_value_t *v) {
  if (v) __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
  return v;
}

void reel_value_unref(reel_value_t *v) {
  if (v && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0) v->cls->destroy(v);
}

size_t reel_value_bytes(const reel_value_t *v) { return v && v->cls->bytes ? v->cls->bytes(v) : 64; }

const char *reel_vtype_name(reel_vtype_t t) {
  static const char *names[REEL_V_COUNT] = {"None", "Image", "Model", "Grade", "Transform", "Record"};
  return t < REEL_V_COUNT ? names[t] : "?";
}

#define VALUE_MAGIC 0x4c565256u /* "VRVL" */

int reel_value_save(const reel_value_t *v, reel_buf_t *out) {
  if (!v->cls->save) {
    reel_error(REEL_EINTERNAL, "%s values cannot be saved", v->cls->name);
    return -1;
  }
  if (reel_buf_u32(out, VALUE_MAGIC) || reel_buf_u32(out, (uint32_t)v->cls->type)) return -1;
  return v->cls->save(v, out);
}

reel_value_t *reel_value_load(reel_rd_t *in) {
  uint32_t magic = reel_rd_u32(in), type = reel_rd_u32(in);
  if (in->bad || magic != VALUE_MAGIC || type >= REEL_V_COUNT || !classes[type] ||
      !classes[type]->load) {
    reel_error(REEL_EIO, "not a reel value (bad header)");
    return NULL;
  }
  reel_value_t *v = classes[type]->load(in);
  if (v && in->bad) {
    reel_value_unref(v);
    v = NULL;
  }
  if (!v) reel_error(REEL_EIO, "truncated or corrupt %s value", classes[type]->name);
  return v;
}
