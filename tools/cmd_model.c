/* reel model: inspect .reelnet model files (info: architecture, parameter
 * count, channels, training summary, provenance, checkpoint state, file
 * size and checksum; --json for scripts) and write an untrained model (init,
 * He-initialised from a seed: a stand-in for Train when testing pipelines).
 * Exit codes as the rest of the CLI: 0 ok, 2 bad or foreign file or usage,
 * 3 unreadable file, 4 internal error. */
#include "cli.h"
#include "error.h"
#include "nn/model.h"
#include "reel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *usage_text =
    "usage: reel model info PATH... [--json]\n"
    "         architecture, parameters, channels, training summary, provenance,\n"
    "         optimiser state, file size and checksum of .reelnet model files\n"
    "       reel model init --size small|medium|large --mode rgb|chroma [--seed N] PATH\n"
    "         writes an untrained (He-initialised) model, for testing pipelines\n";

static int usage(const char *why) {
  if (why) fprintf(stderr, "reel model: %s\n", why);
  fputs(usage_text, stderr);
  return 2;
}

/* The shortest decimal that reads back as the same float. */
static void print_float(float v) {
  char b[32];
  for (int d = 6; d <= 9; d++) {
    snprintf(b, sizeof b, "%.*g", d, (double)v);
    if ((float)strtod(b, NULL) == v) break;
  }
  fputs(b, stdout);
}

static void print_json(const char *path, const reel_model_t *m, const reel_model_stamp_t *st) {
  const reel_nn_arch_t *a = &m->arch;
  const char *size = reel_model_size(m);
  printf("{\n  \"path\": ");
  reel_cli_json_str(path, strlen(path));
  printf(",\n  \"format_version\": \"%u.%u\",\n  \"bytes\": %llu,\n", st->major, st->minor,
         (unsigned long long)st->bytes);
  printf("  \"checksum\": \"%016llx\",\n  \"checksum_ok\": %s,\n", (unsigned long long)st->checksum,
         st->checksum_ok ? "true" : "false");
  printf("  \"size\": ");
  if (size)
    printf("\"%s\"", size);
  else
    printf("null");
  printf(",\n  \"mode\": \"%s\",\n  \"levels\": %d,\n  \"widths\": [",
         a->mode == REEL_NN_CHROMA ? "chroma" : "rgb", a->levels);
  for (int l = 0; l <= a->levels; l++) printf("%s%d", l ? ", " : "", a->width[l]);
  printf("],\n  \"slope\": ");
  print_float(a->slope);
  printf(",\n  \"in_channels\": %d,\n  \"out_channels\": %d,\n", a->in_ch, a->out_ch);
  printf("  \"parameters\": %zu,\n  \"channels\": [", m->nparams);
  for (int c = 0; c < 3; c++) {
    printf("%s", c ? ", " : "");
    reel_cli_json_str(m->ch[c], strlen(m->ch[c]));
  }
  printf("],\n  \"rgb_to_ycc\": %s,\n  \"steps\": %lld,\n  \"loss\": ",
         m->rgb_to_ycc ? "true" : "false", (long long)m->steps);
  if (isfinite(m->loss))
    printf("%.9g", m->loss);
  else
    printf("null");
  printf(",\n  \"checkpoint\": %s,\n  \"train_key\": ", m->adam_m ? "true" : "false");
  if (m->adam_m) {
    char hex[REEL_KEY_HEX];
    reel_key_hex(&m->train_key, hex);
    printf("\"%s\"", hex);
  } else
    printf("null");
  printf(",\n  \"provenance\": [");
  int first = 1;
  for (const char *s = m->info; s && *s;) {
    const char *e = strchr(s, '\n');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    if (len) {
      printf("%s\n    ", first ? "" : ",");
      reel_cli_json_str(s, len);
      first = 0;
    }
    s += len + (e != NULL);
  }
  printf("%s]\n}", first ? "" : "\n  ");
}

static int info(int argc, char **argv) {
  int json = 0, nfiles = 0, rc = 0, shown = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "reel model: unknown option %s\n", argv[i]);
      return usage(NULL);
    } else
      nfiles++;
  }
  if (!nfiles) return usage("info needs a model file");
  if (json && nfiles > 1) printf("[\n");
  for (int i = 0; i < argc; i++) {
    const char *path = argv[i];
    if (!strcmp(path, "--json")) continue;
    reel_buf_t b = {0};
    reel_model_t *m = NULL;
    reel_model_stamp_t st;
    if (reel_model_read_file(path, &b) || !(m = reel_model_decode(b.p, b.n, path)) ||
        reel_model_stamp(b.p, b.n, &st)) {
      int e = reel_cli_fail();
      if (!rc) rc = e;
    } else if (json) {
      if (shown++) printf(",\n");
      print_json(path, m, &st);
    } else {
      printf("%s\n", path);
      printf("  file          .reelnet %u.%u, %llu bytes, checksum %016llx %s\n", st.major,
             st.minor, (unsigned long long)st.bytes, (unsigned long long)st.checksum,
             st.checksum_ok ? "ok" : "MISMATCH");
      reel_model_describe(m, stdout);
    }
    reel_model_unref(m);
    reel_buf_free(&b);
  }
  if (json) printf(nfiles > 1 ? "\n]\n" : shown ? "\n" : "");
  return rc;
}

static int init(int argc, char **argv) {
  const char *size = NULL, *mode = NULL, *path = NULL;
  unsigned long long seed = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--size") || !strcmp(a, "--mode") || !strcmp(a, "--seed")) {
      if (i + 1 >= argc) return usage("missing value after an option");
      const char *v = argv[++i];
      if (a[2] == 's' && a[3] == 'i') {
        size = v;
      } else if (a[2] == 'm') {
        mode = v;
      } else {
        char *end;
        seed = strtoull(v, &end, 10);
        if (end == v || *end) return usage("--seed takes a non-negative integer");
      }
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "reel model: unknown option %s\n", a);
      return usage(NULL);
    } else if (!path) {
      path = a;
    } else
      return usage("init writes one file");
  }
  if (!path) return usage("init needs the path of the model file to write");
  if (!size) size = "small";
  if (!mode) mode = "rgb";
  if (strcmp(mode, "rgb") && strcmp(mode, "chroma")) return usage("--mode takes rgb or chroma");
  reel_nn_arch_t a;
  if (reel_nn_arch_named(&a, size, strcmp(mode, "rgb") ? REEL_NN_CHROMA : REEL_NN_RGB))
    return reel_cli_fail();
  reel_model_t *m = reel_model_new(&a);
  if (!m) return reel_cli_fail();
  reel_nn_init_params(&a, seed, m->params);
  char cmd[256], seed_s[32];
  snprintf(cmd, sizeof cmd, "reel model init --size %s --mode %s --seed %llu", size, mode, seed);
  snprintf(seed_s, sizeof seed_s, "%llu", seed);
  int rc = 0;
  if (reel_model_info_set(m, "created-by", cmd) ||
      reel_model_info_set(m, "reel:version", reel_version()) ||
      reel_model_info_set(m, "init", "He (Kaiming normal), untrained") ||
      reel_model_info_set(m, "seed", seed_s) || reel_model_save_file(m, path))
    rc = reel_cli_fail();
  else
    printf("wrote %s: %s %s, %zu parameters, seed %llu (untrained)\n", path, size, mode, m->nparams,
           seed);
  reel_model_unref(m);
  return rc;
}

int reel_cmd_model(int argc, char **argv) {
  if (!argc) return usage(NULL);
  if (!strcmp(argv[0], "info")) return info(argc - 1, argv + 1);
  if (!strcmp(argv[0], "init")) return init(argc - 1, argv + 1);
  if (!strcmp(argv[0], "help") || !strcmp(argv[0], "--help")) {
    fputs(usage_text, stdout);
    return 0;
  }
  char m[256];
  snprintf(m, sizeof m, "unknown subcommand '%s'", argv[0]);
  return usage(m);
}
