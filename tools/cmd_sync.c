/* reel sync A B: the frame offset between two sources of the same footage,
 * through the C API: Read A and B (frame patterns), each reduced to a 96x72
 * thumbnail (Reformat, box filter), a Sync node evaluated once, its
 * metadata read back. Prints the offset (B's frame f shows A's frame
 * f + offset), a confidence, the per-frame segments (a change of offset is
 * a dropped or doubled frame) and the TimeOffset that lines A up with B;
 * JSON with --json. Exit codes as the rest of the CLI. */
#include "cli.h"
#include "error.h"
#include "reel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *usage_text =
    "usage: reel sync A B [--search LO,HI] [--penalty P] [--json] [--device N]\n"
    "  the frame offset between two sources of the same footage (frame patterns such as\n"
    "  ref.####.png): B's frame f shows A's frame f + offset; searched over LO..HI\n"
    "  (default -48,48) from the two first frames lined up; P: how much a change of\n"
    "  offset (a dropped frame) must win by\n";

static int usage(const char *why) {
  if (why) fprintf(stderr, "reel sync: %s\n", why);
  fputs(usage_text, stderr);
  return 2;
}

/* Read path, reduced to a thumbnail. NULL with an error. */
static reel_node_t *thumb(reel_graph_t *g, const char *name, const char *path, reel_node_t **rd) {
  reel_node_t *r = reel_node_new(g, "Read", "reel sync", 0), *t;
  if (!r || reel_node_set_name(r, name) || reel_node_set_string(r, "path", path) ||
      reel_node_finish(r) || !(t = reel_node_new(g, "Reformat", "reel sync", 0)) ||
      reel_node_set_input(t, "img", r) || reel_node_set_number(t, "width", 0, 96) ||
      reel_node_set_number(t, "height", 0, 72) || reel_node_set_string(t, "resize", "distort") ||
      reel_node_set_string(t, "filter", "box") || reel_node_finish(t))
    return NULL;
  *rd = r;
  return t;
}

int reel_cmd_sync(int argc, char **argv) {
  const char *files[2] = {NULL, NULL}, *device = NULL;
  double search[2] = {-48, 48}, penalty = -1;
  int json = 0, nfiles = 0, rc = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    char tail;
    if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--search") || !strcmp(a, "--device") || !strcmp(a, "--penalty")) {
      if (i + 1 >= argc) return usage("missing value after an option");
      const char *v = argv[++i];
      if (a[2] == 'd')
        device = v;
      else if (a[2] == 'p' && (sscanf(v, "%lf%c", &penalty, &tail) != 1 || penalty < 0))
        return usage("--penalty takes a number >= 0");
      else if (a[2] == 's' && (sscanf(v, "%lf,%lf%c", &search[0], &search[1], &tail) != 2 ||
                               search[1] < search[0]))
        return usage("--search takes LO,HI (frames, LO <= HI), e.g. --search -100,100");
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "reel sync: unknown option %s\n", a);
      return usage(NULL);
    } else if (nfiles < 2) {
      files[nfiles++] = a;
    } else
      return usage("takes two frame patterns");
  }
  if (nfiles != 2) return usage("needs two frame patterns, A and B");

  reel_graph_t *g = reel_graph_new();
  reel_node_t *ra, *rb, *ta, *tb, *s = NULL;
  if (!g || !(ta = thumb(g, "A", files[0], &ra)) || !(tb = thumb(g, "B", files[1], &rb)) ||
      !(s = reel_node_new(g, "Sync", "reel sync", 0)) || reel_node_set_input(s, "a", ta) ||
      reel_node_set_input(s, "b", tb) || reel_node_set_number(s, "search", 0, search[0]) ||
      reel_node_set_number(s, "search", 1, search[1]) ||
      (penalty >= 0 && reel_node_set_number(s, "penalty", 0, penalty)) || reel_node_finish(s))
    goto err;

  reel_render_opts_t o = {.first = 1, .last = 0, .no_disk_cache = 1, .device = device};
  static const char *const keys[4] = {"reel:sync_offset", "reel:sync_confidence", "reel:sync_score",
                                      "reel:sync_segments"};
  char val[4][4096];
  for (int k = 0; k < 4; k++)
    if (reel_eval_meta(g, s, 0, &o, keys[k], val[k], sizeof val[k]) != 1) goto err;
  int off = atoi(val[0]);
  if (json) {
    printf("{\n  \"a\": ");
    reel_cli_json_str(files[0], (size_t)-1);
    printf(",\n  \"a_frames\": [%d, %d],\n  \"b\": ", reel_node_first(ra), reel_node_last(ra));
    reel_cli_json_str(files[1], (size_t)-1);
    printf(",\n  \"b_frames\": [%d, %d],\n  \"offset\": %d,\n  \"confidence\": %s,\n"
           "  \"score\": %s,\n  \"segments\": [",
           reel_node_first(rb), reel_node_last(rb), off, val[1], val[2]);
  } else {
    printf("a           %s (frames %d-%d)\n", files[0], reel_node_first(ra), reel_node_last(ra));
    printf("b           %s (frames %d-%d)\n", files[1], reel_node_first(rb), reel_node_last(rb));
    printf("offset      %+d (b's frame f shows a's frame f %+d)\n", off, off);
    printf("confidence  %s\nscore       %s\n", val[1], val[2]);
  }
  /* segments: "first-last:+offset,..." */
  int n = 0, prev = 0;
  for (char *seg = strtok(val[3], ","); seg; seg = strtok(NULL, ","), n++) {
    int f0, f1, d;
    if (sscanf(seg, "%d-%d:%d", &f0, &f1, &d) != 3) continue;
    if (json)
      printf("%s{\"first\": %d, \"last\": %d, \"offset\": %d}", n ? ", " : "", f0, f1, d);
    else if (!n)
      printf("segments    b %d-%d: %+d\n", f0, f1, d);
    else
      printf("            b %d-%d: %+d (%s at b's frame %d)\n", f0, f1, d,
             d > prev ? "a frame dropped in b, or doubled in a,"
                      : "a frame doubled in b, or dropped in a,",
             f0);
    prev = d;
  }
  if (json)
    printf("],\n  \"timeoffset\": %d\n}\n", -off);
  else
    printf("line a up with b: reel.TimeOffset { a, offset = %d }\n", -off);
  goto out;
err:
  if (!reel_error_class()) reel_error(REEL_EINTERNAL, "Sync gave no answer");
  rc = reel_cli_fail();
out:
  reel_graph_free(g);
  reel_shutdown();
  return rc;
}
