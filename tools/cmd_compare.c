/* reel compare A B: image-quality numbers between two image files, through
 * the C API: a graph Read A, Read B, Compare, evaluated once, its metadata
 * read back (reel_eval_meta). Prints a table, or JSON with --json (where an
 * infinite PSNR or an undefined SSIM is null). Exit codes as the rest of the
 * CLI: 0 ok, 2 user error, 3 I/O or device failure, 4 internal error. */
#include "cli.h"
#include "error.h"
#include "reel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *usage_text =
    "usage: reel compare A B [--region x0,y0,x1,y1] [--json] [--device N]\n"
    "  PSNR and chroma PSNR (dB, peak 1), SSIM and CIEDE2000 (mean, 95th percentile) of\n"
    "  image A against reference B over the region (default: the whole frame)\n";

static const struct {
  const char *key, *name, *unit;
} rows[] = {
    {"reel:psnr", "psnr", "dB"},
    {"reel:psnr_chroma", "psnr_chroma", "dB"},
    {"reel:ssim", "ssim", ""},
    {"reel:de2000_mean", "de2000_mean", ""},
    {"reel:de2000_p95", "de2000_p95", ""},
};
#define NROWS ((int)(sizeof rows / sizeof rows[0]))

static int usage(const char *why) {
  if (why) fprintf(stderr, "reel compare: %s\n", why);
  fputs(usage_text, stderr);
  return 2;
}

static reel_node_t *reader(reel_graph_t *g, const char *name, const char *path) {
  reel_node_t *n = reel_node_new(g, "Read", "reel compare", 0);
  if (!n || reel_node_set_name(n, name) || reel_node_set_string(n, "path", path) ||
      reel_node_finish(n))
    return NULL;
  return n;
}

int reel_cmd_compare(int argc, char **argv) {
  const char *files[2] = {NULL, NULL}, *device = NULL;
  double region[4] = {0, 0, 0, 0};
  int json = 0, nfiles = 0, rc = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--region") || !strcmp(a, "--device")) {
      if (i + 1 >= argc) return usage("missing value after an option");
      const char *v = argv[++i];
      if (a[2] == 'd') {
        device = v;
        continue;
      }
      char tail;
      if (sscanf(v, "%lf,%lf,%lf,%lf%c", &region[0], &region[1], &region[2], &region[3],
                 &tail) != 4 ||
          region[2] <= region[0] || region[3] <= region[1])
        return usage("--region takes x0,y0,x1,y1 with x1 > x0 and y1 > y0 (x1, y1 exclusive)");
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "reel compare: unknown option %s\n", a);
      return usage(NULL);
    } else if (nfiles < 2) {
      files[nfiles++] = a;
    } else
      return usage("takes two image files");
  }
  if (nfiles != 2) return usage("needs two image files, A and the reference B");

  reel_graph_t *g = reel_graph_new();
  reel_node_t *ra, *rb, *cmp = NULL;
  if (!g || !(ra = reader(g, "A", files[0])) || !(rb = reader(g, "B", files[1])) ||
      !(cmp = reel_node_new(g, "Compare", "reel compare", 0)) ||
      reel_node_set_input(cmp, "A", ra) || reel_node_set_input(cmp, "B", rb))
    goto err;
  for (int c = 0; c < 4; c++)
    if (reel_node_set_number(cmp, "region", c, region[c])) goto err;
  if (reel_node_finish(cmp)) goto err;

  reel_render_opts_t o = {.first = 1, .last = 0, .no_disk_cache = 1, .device = device};
  int frame = reel_node_first(cmp);
  char val[NROWS][64], reg[64];
  for (int r = 0; r < NROWS; r++)
    if (reel_eval_meta(g, cmp, frame, &o, rows[r].key, val[r], sizeof val[r]) != 1) goto err;
  if (reel_eval_meta(g, cmp, frame, &o, "reel:compare_region", reg, sizeof reg) != 1) goto err;

  if (json) {
    printf("{\n  \"a\": ");
    reel_cli_json_str(files[0], (size_t)-1);
    printf(",\n  \"b\": ");
    reel_cli_json_str(files[1], (size_t)-1);
    printf(",\n  \"region\": [%s]", reg);
    for (int r = 0; r < NROWS; r++) {
      double v = strtod(val[r], NULL);
      printf(",\n  \"%s\": ", rows[r].name);
      if (isfinite(v))
        printf("%s", val[r]);
      else
        printf("null");
    }
    printf("\n}\n");
  } else {
    printf("region       %s\n", reg);
    for (int r = 0; r < NROWS; r++)
      printf("%-12s %s%s%s\n", rows[r].name, val[r], rows[r].unit[0] ? " " : "", rows[r].unit);
  }
  goto out;
err:
  if (!reel_error_class()) reel_error(REEL_EINTERNAL, "Compare gave no numbers");
  rc = reel_cli_fail();
out:
  reel_graph_free(g);
  reel_shutdown();
  return rc;
}
