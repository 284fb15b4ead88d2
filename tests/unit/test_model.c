/* Unit tests for Model values and the .reelnet format: bit-exact round trips
 * (memory, files, the value class, with and without optimiser state), every
 * corruption and truncation refused with a specific message and never a
 * crash, foreign and newer-version files, skipped unknown sections, and
 * Write writing a Model through a graph (atomic, skipped while unchanged). */
#include "error.h"
#include "graph.h"
#include "nn/model.h"
#include "reel.h"
#include "test.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static reel_model_t *make(const char *size, int mode, int adam) {
  reel_nn_arch_t a;
  if (reel_nn_arch_named(&a, size, mode)) return NULL;
  reel_model_t *m = reel_model_new(&a);
  if (!m) return NULL;
  for (size_t i = 0; i < m->nparams; i++)
    m->params[i] = (float)((double)(i % 9973) / 9973.0 - 0.5) * (float)(1 + i % 7);
  /* values whose bits must survive: -0, a subnormal, infinity, a NaN payload */
  uint32_t nan = 0x7fc01234u;
  m->params[0] = -0.0f;
  m->params[1] = 1e-40f;
  m->params[2] = INFINITY;
  memcpy(&m->params[3], &nan, 4);
  m->steps = 12345;
  m->loss = 0.0123456789;
  m->info = strdup("source: test_model.c\ndataset: synthetic");
  if (adam) {
    reel_model_alloc_adam(m);
    for (size_t i = 0; i < m->nparams; i++) {
      m->adam_m[i] = (float)i * 1e-6f;
      m->adam_v[i] = (float)(m->nparams - i) * 1e-9f;
    }
    m->train_key = (reel_key_t){0x0123456789abcdefull, 0xfedcba9876543210ull};
  }
  return m;
}

/* A tiny custom network: small files for exhaustive loops. */
static reel_model_t *tiny(int adam) {
  reel_nn_arch_t a = {REEL_NN_RGB, 3, 3, 1, {8, 8}, 0.2f};
  reel_model_t *m = reel_model_new(&a);
  for (size_t i = 0; m && i < m->nparams; i++) m->params[i] = (float)i * 0.25f;
  if (m && adam) reel_model_alloc_adam(m);
  return m;
}

static int same(const reel_model_t *a, const reel_model_t *b) {
  if (!a || !b || memcmp(&a->arch, &b->arch, sizeof a->arch) || a->nparams != b->nparams ||
      memcmp(a->params, b->params, a->nparams * 4) || memcmp(a->ch, b->ch, sizeof a->ch) ||
      a->rgb_to_ycc != b->rgb_to_ycc || a->steps != b->steps || memcmp(&a->loss, &b->loss, 8) ||
      !a->info != !b->info || (a->info && strcmp(a->info, b->info)) || !a->adam_m != !b->adam_m)
    return 0;
  if (a->adam_m &&
      (memcmp(a->adam_m, b->adam_m, a->nparams * 4) ||
       memcmp(a->adam_v, b->adam_v, a->nparams * 4) || !reel_key_eq(&a->train_key, &b->train_key)))
    return 0;
  return 1;
}

static int has_error(const char *what) {
  int ok = strstr(reel_error_get(), what) != NULL;
  if (!ok) fprintf(stderr, "  expected '%s' in: %s\n", what, reel_error_get());
  return ok;
}

/* Fixes the checksum after an edit, so that only the edit is tested. */
static void reseal(reel_buf_t *b) {
  uint64_t h = reel_hash64(b->p, b->n - 8);
  for (int i = 0; i < 8; i++) b->p[b->n - 8 + i] = (unsigned char)(h >> (8 * i));
}

static void round_trip(int adam) {
  reel_model_t *m = make("small", REEL_NN_CHROMA, adam), *d = NULL;
  reel_buf_t b = {0}, b2 = {0};
  CHECK(m && !reel_model_encode(m, &b));
  CHECK((d = reel_model_decode(b.p, b.n, "mem")) != NULL);
  CHECK(same(m, d));
  CHECK(d && d->rgb_to_ycc == 1 && !strcmp(d->ch[1], "G"));
  CHECK(d && !reel_model_encode(d, &b2) && b.n == b2.n && !memcmp(b.p, b2.p, b.n));
  reel_model_stamp_t st;
  CHECK(!reel_model_stamp(b.p, b.n, &st) && st.major == 1 && st.bytes == b.n && st.checksum_ok);
  reel_model_unref(d);
  reel_model_unref(m);
  reel_buf_free(&b);
  reel_buf_free(&b2);
}

static void test_round_trip(void) { round_trip(0); }
static void test_round_trip_adam(void) { round_trip(1); }

/* Entries in a directory, hidden ones (temporaries) included. */
static int count_entries(const char *path) {
  DIR *d = opendir(path);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  if (d) closedir(d);
  return n;
}

static void test_files(void) {
  char sub[512], path[600];
  snprintf(sub, sizeof sub, "%s/files", dir);
  mkdir(sub, 0777);
  for (int adam = 0; adam < 2; adam++) {
    reel_model_t *m = make("small", REEL_NN_RGB, adam), *d;
    snprintf(path, sizeof path, "%s/m%d.reelnet", sub, adam);
    CHECK(!reel_model_save_file(m, path));
    CHECK((d = reel_model_load_file(path)) != NULL);
    CHECK(same(m, d));
    reel_model_unref(d);
    /* saving again over it replaces it whole */
    m->steps++;
    CHECK(!reel_model_save_file(m, path));
    CHECK((d = reel_model_load_file(path)) && d->steps == m->steps);
    reel_model_unref(d);
    reel_model_unref(m);
  }
  CHECK(count_entries(sub) == 2); /* no temporary left behind */
}

static void test_save_errors(void) {
  reel_model_t *m = tiny(0);
  char path[600], sub[512];
  reel_error_clear();
  snprintf(path, sizeof path, "%s/no/such/dir/m.reelnet", dir);
  CHECK(reel_model_save_file(m, path) == -1 && reel_error_class() == REEL_EUSER);
  CHECK(has_error("does not exist"));
  reel_error_clear();
  /* a directory where the file should go: rename fails, no temporary left */
  snprintf(sub, sizeof sub, "%s/errs", dir);
  mkdir(sub, 0777);
  snprintf(path, sizeof path, "%s/errs/taken.reelnet", dir);
  mkdir(path, 0777);
  CHECK(reel_model_save_file(m, path) == -1 && has_error("taken.reelnet"));
  reel_error_clear();
  CHECK(count_entries(sub) == 1);
  reel_model_unref(m);
}

/* Every edit of one byte, at ~50 places spread over the file (header,
 * section headers, parameters, optimiser state, checksum), is refused. */
static void test_corruption(void) {
  reel_model_t *m = make("small", REEL_NN_CHROMA, 1);
  reel_buf_t b = {0};
  CHECK(m && !reel_model_encode(m, &b));
  int refused = 0, tries = 0;
  size_t at[64];
  int np = 0;
  for (size_t i = 0; i < 40; i++) at[np++] = i * 3; /* header and first sections */
  for (size_t i = 1; i < 24; i++) at[np++] = b.n / 24 * i;
  at[np++] = b.n - 1;
  for (int i = 0; i < np; i++) {
    for (int x = 0; x < 2; x++) {
      unsigned char was = b.p[at[i]];
      b.p[at[i]] = x ? (unsigned char)(was + 1) : (unsigned char)~was;
      reel_error_clear();
      reel_model_t *d = reel_model_decode(b.p, b.n, "c.reelnet");
      tries++;
      if (!d && reel_error_class() == REEL_EUSER && strstr(reel_error_get(), "c.reelnet"))
        refused++;
      else
        fprintf(stderr, "  byte %zu: %s\n", at[i], d ? "accepted" : reel_error_get());
      reel_model_unref(d);
      b.p[at[i]] = was;
    }
  }
  CHECK(refused == tries && tries >= 100);
  /* a parameter byte: the checksum is what notices */
  b.p[b.n / 2] ^= 1;
  reel_error_clear();
  CHECK(!reel_model_decode(b.p, b.n, "c.reelnet") &&
        has_error("checksum mismatch: the file is corrupt"));
  reel_error_clear();
  reel_model_unref(m);
  reel_buf_free(&b);
}

static void test_truncation(void) {
  reel_model_t *m = tiny(1);
  reel_buf_t b = {0};
  CHECK(m && !reel_model_encode(m, &b));
  int refused = 0;
  for (size_t n = 0; n < b.n; n++) {
    reel_error_clear();
    reel_model_t *d = reel_model_decode(b.p, n, "t.reelnet");
    int ok = !d && (n == 0 ? has_error("empty file") : has_error("truncated ("));
    refused += ok;
    reel_model_unref(d);
  }
  CHECK(refused == (int)b.n);
  char want[64];
  snprintf(want, sizeof want, "truncated (100 of %zu bytes)", b.n);
  reel_error_clear();
  CHECK(!reel_model_decode(b.p, 100, "t.reelnet") && has_error(want));
  /* and trailing bytes */
  reel_buf_u32(&b, 0);
  reel_error_clear();
  CHECK(!reel_model_decode(b.p, b.n, "t.reelnet") && has_error("after the model's end"));
  reel_error_clear();
  /* a truncated file on disk, through load_file */
  char path[512];
  snprintf(path, sizeof path, "%s/short.reelnet", dir);
  FILE *f = fopen(path, "wb");
  fwrite(b.p, 1, b.n / 2, f);
  fclose(f);
  CHECK(!reel_model_load_file(path) && has_error("short.reelnet") && has_error("truncated ("));
  reel_error_clear();
  reel_model_unref(m);
  reel_buf_free(&b);
}

/* Edits with the checksum fixed up exercise the section parser itself: any
 * result is fine except a crash or an invalid model. */
static void test_structure_fuzz(void) {
  reel_model_t *m = tiny(1);
  reel_buf_t b = {0}, c = {0};
  CHECK(m && !reel_model_encode(m, &b));
  int accepted = 0, refused = 0;
  uint64_t s = 12345;
  for (int it = 0; it < 20000; it++) {
    c.n = 0;
    reel_buf_put(&c, b.p, b.n);
    int k = 1 + it % 4;
    for (int e = 0; e < k; e++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      /* mostly the structure at the start (sections before the parameters) */
      size_t span = e % 3 ? 180 : b.n - 28;
      size_t at = 20 + (size_t)(s >> 33) % span;
      c.p[at] =
          it % 3 ? (unsigned char)(s >> 20) : (unsigned char)(c.p[at] ^ (1u << (s >> 60 & 7)));
    }
    reseal(&c);
    reel_error_clear();
    reel_model_t *d = reel_model_decode(c.p, c.n, "f");
    if (d) {
      accepted++;
      CHECK(d->params && !reel_nn_arch_check(&d->arch) && d->nparams == reel_nn_nparams(&d->arch));
    } else
      refused += reel_error_get()[0] != 0;
    reel_model_unref(d);
  }
  fprintf(stderr, "  %d accepted, %d refused\n", accepted, refused);
  CHECK(accepted + refused == 20000 && refused > 5000);
  reel_error_clear();
  reel_model_unref(m);
  reel_buf_free(&b);
  reel_buf_free(&c);
}

static void foreign_file(const char *path, const char *kind) {
  if (access(path, R_OK)) {
    fprintf(stderr, "  skip: no %s\n", path);
    return;
  }
  char want[128];
  snprintf(want, sizeof want, "not a Reel model file (starts with %s signature)", kind);
  reel_error_clear();
  CHECK(!reel_model_load_file(path) && reel_error_class() == REEL_EUSER && has_error(path) &&
        has_error(want));
  reel_error_clear();
}

static void test_foreign(void) {
  const char *conf =
      getenv("REEL_CONFORMANCE") ? getenv("REEL_CONFORMANCE") : "../shared/conformance";
  char p[512];
  snprintf(p, sizeof p, "%s/images/Tree.exr", conf);
  foreign_file(p, "OpenEXR");
  snprintf(p, sizeof p, "%s/bad-images/bomb.png", conf);
  foreign_file(p, "PNG");
  foreign_file("data/vtest/vtest.0001.png", "PNG");
  snprintf(p, sizeof p, "%s/images/dpx_nuke_10bits_rgb.dpx", conf);
  foreign_file(p, "DPX");
  /* the same from memory, whatever files exist */
  static const struct {
    const char *bytes, *kind;
  } sigs[] = {{"\x89PNG\r\n\x1a\n....", "PNG"},
              {"\x76\x2f\x31\x01....", "OpenEXR"},
              {"\xff\xd8\xff\xe0....", "JPEG"},
              {"II*\0....", "TIFF"},
              {"SDPX....", "DPX"}};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    char want[128];
    snprintf(want, sizeof want, "(starts with %s signature)", sigs[i].kind);
    reel_error_clear();
    CHECK(!reel_model_decode(sigs[i].bytes, 12, "x") && has_error(want));
  }
  reel_error_clear();
  CHECK(!reel_model_decode("-- lua file\n", 12, "g.lua") &&
        has_error("not a Reel model file (unknown"));
  reel_error_clear();
}

static void test_versions(void) {
  reel_model_t *m = tiny(0), *d;
  reel_buf_t b = {0};
  CHECK(m && !reel_model_encode(m, &b));
  /* a newer major version: refused, saying both versions */
  b.p[8] = 2;
  b.p[10] = 3;
  reseal(&b);
  reel_error_clear();
  CHECK(!reel_model_decode(b.p, b.n, "new.reelnet") && has_error("new.reelnet") &&
        has_error("format version 2.3") && has_error("reads version 1") &&
        has_error("update Reel"));
  reel_error_clear();
  /* a newer minor revision with a section this build does not know: read,
   * the section skipped */
  b.p[8] = 1;
  b.p[10] = 7;
  b.n -= 8;
  reel_buf_u32(&b, 0x5a5a5a5a);
  reel_buf_u64(&b, 5);
  reel_buf_put(&b, "extra", 5);
  reel_buf_u64(&b, 0);
  for (int i = 0; i < 8; i++) b.p[12 + i] = (unsigned char)((uint64_t)b.n >> (8 * i));
  reseal(&b);
  CHECK((d = reel_model_decode(b.p, b.n, "minor.reelnet")) != NULL && same(m, d));
  reel_model_unref(d);
  reel_error_clear();
  reel_model_unref(m);
  reel_buf_free(&b);
}

static void test_param_count(void) {
  reel_model_t *m = tiny(0);
  reel_buf_t b = {0};
  size_t real = m->nparams;
  m->nparams = real - 1; /* an encoder bug, or a hand-made file */
  CHECK(!reel_model_encode(m, &b));
  m->nparams = real;
  char want[128];
  snprintf(want, sizeof want, "parameter count %zu does not match the architecture (%zu)", real - 1,
           real);
  reel_error_clear();
  CHECK(!reel_model_decode(b.p, b.n, "p.reelnet") && has_error(want));
  reel_error_clear();
  /* an invalid architecture makes no model */
  CHECK(reel_model_new(&(reel_nn_arch_t){REEL_NN_RGB, 3, 2, 1, {2, 3}, 0.2f}) == NULL);
  reel_error_clear();
  reel_model_unref(m);
  reel_buf_free(&b);
}

static void test_value_class(void) {
  reel_model_t *m = tiny(1), *d;
  reel_buf_t b = {0};
  CHECK(!reel_value_save(&m->v, &b));
  size_t n = b.n;
  reel_buf_u32(&b, 0xdeadbeef); /* what follows the value in a larger entry */
  reel_rd_t r = {b.p, b.n, 0, 0};
  reel_value_t *v = reel_value_load(&r);
  CHECK((d = reel_model_cast(v)) != NULL && same(m, d));
  CHECK(r.at == n && reel_rd_u32(&r) == 0xdeadbeef);
  CHECK(reel_value_bytes(&m->v) >= m->nparams * 12);
  CHECK(!strcmp(reel_vtype_name(REEL_V_MODEL), "Model") && reel_model_class.type == REEL_V_MODEL);
  reel_value_unref(v);
  /* a damaged cached model is refused, not loaded */
  b.p[n / 2] ^= 0x40;
  r = (reel_rd_t){b.p, b.n, 0, 0};
  reel_error_clear();
  CHECK(reel_value_load(&r) == NULL && has_error("checksum"));
  reel_error_clear();
  reel_model_unref(m);
  reel_buf_free(&b);
}

static void test_info_set(void) {
  reel_model_t *m = tiny(0);
  CHECK(!reel_model_info_set(m, "a", "1") && !strcmp(m->info, "a: 1\n"));
  CHECK(!reel_model_info_set(m, "b", "two\nlines") && !strcmp(m->info, "a: 1\nb: two lines\n"));
  CHECK(!reel_model_info_set(m, "a", "3") && !strcmp(m->info, "b: two lines\na: 3\n"));
  CHECK(!reel_model_info_set(m, "ab", "4") && strstr(m->info, "a: 3\n"));
  reel_model_unref(m);
}

/* ---- Write with a Model input, through a graph ---- */

static reel_model_t *the_model;

static int src_eval(reel_job_t *j, const void *p, reel_value_t **out) {
  *out = reel_value_ref(&the_model->v);
  return 0;
}

static const reel_node_desc_t model_source = {
    .name = "TestModel",
    .version = 1,
    .summary = "a constant Model (test)",
    .output = REEL_V_MODEL,
    .flags = REEL_NF_CONSTANT,
    .eval = src_eval,
};

/* A node of the test's own type: made as a Crop, its parameters released,
 * then given the test descriptor (the registry is fixed at build time). */
static reel_node_t *model_node(reel_graph_t *g) {
  reel_node_t *n = reel_node_new(g, "Crop", "test.lua", 1);
  if (!n) return NULL;
  for (int i = 0; i < n->d->nparams; i++) reel_pval_clear(&n->pv[i]);
  n->d = &model_source;
  return reel_node_set_name(n, "m") || reel_node_finish(n) ? NULL : n;
}

static reel_node_t *writer(reel_graph_t *g, reel_node_t *src, const char *path, int line) {
  reel_node_t *w = reel_node_new(g, "Write", "test.lua", line);
  if (!w || reel_node_set_input(w, "img", src) || reel_node_set_string(w, "path", path) ||
      reel_node_finish(w))
    return NULL;
  return w;
}

static void test_write_node(void) {
  char path[512], cache[512];
  snprintf(path, sizeof path, "%s/out/shot12.reelnet", dir);
  snprintf(cache, sizeof cache, "%s/cache", dir);
  the_model = make("small", REEL_NN_CHROMA, 0);
  reel_graph_t *g = reel_graph_new();
  reel_node_t *src = model_node(g), *w = src ? writer(g, src, path, 2) : NULL;
  CHECK(w != NULL);
  if (!w) fprintf(stderr, "  %s\n", reel_error_get());
  reel_render_opts_t o = {.first = 1, .last = 0, .cache_dir = cache};
  reel_render_stats_t st;
  CHECK(w && !reel_render(g, &o, &st) && st.computed == 2);
  reel_model_t *d = reel_model_load_file(path);
  CHECK(d && !memcmp(d->params, the_model->params, d->nparams * 4));
  CHECK(d && strstr(d->info, "source: test_model.c\n") && strstr(d->info, "reel:key: ") &&
        strstr(d->info, "reel:lineage: ") && strstr(d->info, "reel:graph: test.lua"));
  reel_model_unref(d);
  struct stat s1, s2;
  stat(path, &s1);
  /* unchanged: skipped (the record still stands); deleted: written again */
  CHECK(w && !reel_render(g, &o, &st) && st.computed == 0);
  stat(path, &s2);
  CHECK(s1.st_ino == s2.st_ino && s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec);
  unlink(path);
  CHECK(w && !reel_render(g, &o, &st) && access(path, R_OK) == 0);
  o.verify = 1;
  CHECK(w && !reel_render(g, &o, &st));
  if (reel_error_get()[0]) fprintf(stderr, "  %s\n", reel_error_get());
  reel_error_clear();

  /* a Model with an image path, a frame pattern or an image option */
  reel_error_clear();
  CHECK(!writer(g, src, "out.exr", 7) && has_error("Write (test.lua:7)") &&
        has_error("written as a .reelnet file"));
  reel_error_clear();
  CHECK(!writer(g, src, "m.####.reelnet", 8) && has_error("frame pattern"));
  reel_error_clear();
  reel_node_t *x = reel_node_new(g, "Write", "test.lua", 9);
  CHECK(x && !reel_node_set_input(x, "img", src) && !reel_node_set_string(x, "path", "m.reelnet") &&
        !reel_node_set_string(x, "compression", "zip") && reel_node_finish(x) &&
        has_error("compression does not apply to a Model"));
  reel_error_clear();
  /* other nodes keep their types */
  reel_node_t *c = reel_node_new(g, "Crop", "test.lua", 10);
  CHECK(c && reel_node_set_input(c, "img", src) && has_error("Crop (test.lua:10)") &&
        has_error("takes Image values, but"));
  reel_error_clear();
  reel_graph_free(g);

  /* an Image with a .reelnet path */
  const char *conf =
      getenv("REEL_CONFORMANCE") ? getenv("REEL_CONFORMANCE") : "../shared/conformance";
  char img[512];
  snprintf(img, sizeof img, "%s/images/Tree.exr", conf);
  if (!access(img, R_OK)) {
    g = reel_graph_new();
    reel_node_t *r = reel_node_new(g, "Read", "test.lua", 11);
    CHECK(r && !reel_node_set_string(r, "path", img) && !reel_node_finish(r));
    CHECK(!writer(g, r, "x.reelnet", 12) && has_error("Write (test.lua:12)") &&
          has_error("is a model file (.reelnet), but input 'img' gives an Image"));
    reel_error_clear();
    reel_graph_free(g);
  } else
    fprintf(stderr, "  skip: no %s\n", img);
  reel_model_unref(the_model);
  reel_shutdown();
}

static void rm_rf(const char *path) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd)) fprintf(stderr, "  could not remove %s\n", path);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/reel-model.XXXXXX");
  if (!mkdtemp(dir)) return 1;
  RUN(test_round_trip);
  RUN(test_round_trip_adam);
  RUN(test_files);
  RUN(test_save_errors);
  RUN(test_corruption);
  RUN(test_truncation);
  RUN(test_structure_fuzz);
  RUN(test_foreign);
  RUN(test_versions);
  RUN(test_param_count);
  RUN(test_value_class);
  RUN(test_info_set);
  RUN(test_write_node);
  rm_rf(dir);
  TEST_END();
}
