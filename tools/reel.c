/* reel: the command line. Runs Lua graph files with LuaJIT (the scene
 * language lives in lua/reel.lua), renders them with the engine, and answers
 * questions about nodes, images, devices and the cache. Exit codes: 0 done,
 * 2 graph or user error (fix the input), 3 I/O or device failure (worth a
 * retry), 4 internal error (a bug). See docs/cli.md. */
#include "cache.h"
#include "cl.h"
#include "cli.h"
#include "error.h"
#include "imageio.h"
#include "reel.h"

#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>



static const char *usage_text =
    "usage: reel COMMAND ...\n"
    "  render FILE.lua [--frames A-B] [--output NAME] [--cache DIR] [--no-cache]\n"
    "                  [--mem SIZE] [--device N] [--explain] [--verify]\n"
    "                  [--stats-json PATH] [--quiet]\n"
    "  report FILE.lua [--cache DIR] [-o NAME] [render's other flags]\n"
    "                             render only the graph's Report nodes (QC pages),\n"
    "                             or with -o the one of that name\n"
    "  graph FILE.lua [--dot]     print the graph (Graphviz with --dot)\n"
    "  nodes [NAME] [--markdown]  document nodes, ports and parameters\n"
    "  info IMAGE...              size, windows, channels, format, metadata\n"
    "  compare A B [--region x0,y0,x1,y1] [--json]   PSNR, SSIM, CIEDE2000 of A against B\n"
    "  model info MODEL... [--json]   architecture, training, provenance of .reelnet files\n"
    "  model init --size S --mode rgb|chroma [--seed N] PATH   an untrained model (tests)\n"
    "  sync A B [--search LO,HI] [--json]   frame offset between two sources of the same footage\n"
    "  cache stats [--cache DIR]  entries and bytes in the disk cache\n"
    "  cache gc --max SIZE [--cache DIR]   trim the cache to SIZE (e.g. 50G)\n"
    "  devices                    list OpenCL platforms and devices\n"
    "  version\n"
    "exit codes: 0 ok, 2 graph/user error, 3 I/O or device failure (retry), 4 internal error\n";

static int usage(const char *why) {
  if (why) fprintf(stderr, "reel: %s\n", why);
  fputs(usage_text, stderr);
  return EXIT_USER;
}

static double parse_size(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  switch (*end) {
  case 'k': case 'K': v *= 1024.0; break;
  case 'm': case 'M': v *= 1048576.0; break;
  case 'g': case 'G': v *= 1073741824.0; break;
  case 't': case 'T': v *= 1099511627776.0; break;
  case 0: break;
  default: return -1;
  }
  return v;
}

/* Root of the installation or source tree: <root>/bin/reel. */
static int find_lua_dir(char *out, size_t cap) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return -1;
  exe[n] = 0;
  char *s = strrchr(exe, '/');
  if (!s) return -1;
  *s = 0;
  s = strrchr(exe, '/');
  if (!s) return -1;
  *s = 0;
  const char *cand[] = {"/lua", "/share/reel/lua"};
  for (int i = 0; i < 2; i++) {
    snprintf(out, cap, "%s%s", exe, cand[i]);
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/reel.lua", out);
    if (!access(probe, R_OK)) return 0;
  }
  return -1;
}

static int lua_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = "(error object is not a string)";
  /* errors raised by reel (reel._last_class set) name the node and the
   * graph file's line already; a plain Lua error gets a traceback */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_getfield(L, -1, "reel");
  int from_reel = 0;
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "_last_class");
    from_reel = lua_tointeger(L, -1) != 0;
    lua_pop(L, 1);
  }
  lua_pop(L, 3);
  if (from_reel)
    lua_pushstring(L, msg);
  else
    luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Runs the graph file and registers what it returns as outputs. */
static int run_script(lua_State **Lp, const char *path) {
  char luadir[PATH_MAX];
  if (find_lua_dir(luadir, sizeof luadir)) {
    fprintf(stderr, "reel: error: cannot find reel's Lua modules next to the executable\n");
    return EXIT_INTERNAL;
  }
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  *Lp = L;
  char pp[2 * PATH_MAX + 64];
  snprintf(pp, sizeof pp, "package.path = '%s/?.lua;%s/?/init.lua;' .. package.path", luadir,
           luadir);
  if (luaL_dostring(L, pp)) {
    fprintf(stderr, "reel: error: %s\n", lua_tostring(L, -1));
    return EXIT_INTERNAL;
  }
  lua_pushcfunction(L, lua_traceback);
  int tb = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushstring(L, "reel");
  if (lua_pcall(L, 1, 1, tb)) {
    fprintf(stderr, "reel: error: %s\n", lua_tostring(L, -1));
    return EXIT_INTERNAL;
  }
  int reel_mod = lua_gettop(L);
  if (luaL_loadfile(L, path)) {
    fprintf(stderr, "reel: error: %s\n", lua_tostring(L, -1));
    return access(path, R_OK) ? EXIT_USER : EXIT_USER;
  }
  if (lua_pcall(L, 0, 1, tb)) {
    const char *msg = lua_tostring(L, -1);
    lua_getfield(L, reel_mod, "_last_class");
    int cls = (int)lua_tointeger(L, -1);
    fprintf(stderr, "reel: error: %s\n", msg ? msg : "?");
    return cls == 3 ? EXIT_IO : cls == 4 ? EXIT_INTERNAL : EXIT_USER;
  }
  lua_getfield(L, reel_mod, "_collect");
  lua_pushvalue(L, -2);
  if (lua_pcall(L, 1, 0, tb)) {
    fprintf(stderr, "reel: error: %s\n", lua_tostring(L, -1));
    return EXIT_USER;
  }
  return 0;
}

/* report = render, restricted to the Report nodes (report: 1). */
static int cmd_render(int argc, char **argv, int report) {
  reel_render_opts_t o = {.first = 1, .last = 0, .type = report ? "Report" : NULL};
  const char *file = NULL;
  int quiet = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED()                                                                                 \
  do {                                                                                         \
    if (!v) return usage("missing value after an option");                                     \
    i++;                                                                                       \
  } while (0)
    if (!strcmp(a, "--frames")) {
      NEED();
      char *end;
      o.first = (int)strtol(v, &end, 10);
      if (end == v) return usage("--frames takes A-B or A");
      o.last = *end == '-' || *end == ':' ? (int)strtol(end + 1, &end, 10) : o.first;
      if (*end || o.first > o.last) return usage("--frames takes A-B with A <= B");
    } else if (!strcmp(a, "--output") || (report && !strcmp(a, "-o"))) {
      NEED();
      o.output = v;
    } else if (!strcmp(a, "--cache")) {
      NEED();
      o.cache_dir = v;
    } else if (!strcmp(a, "--no-cache")) {
      o.no_disk_cache = 1;
    } else if (!strcmp(a, "--mem")) {
      NEED();
      if ((o.mem_bytes = parse_size(v)) <= 0) return usage("--mem takes a size like 4G or 512M");
    } else if (!strcmp(a, "--device")) {
      NEED();
      o.device = v;
    } else if (!strcmp(a, "--explain")) {
      o.explain = 1;
    } else if (!strcmp(a, "--verify")) {
      o.verify = 1;
    } else if (!strcmp(a, "--stats-json")) {
      NEED();
      o.stats_json = v;
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
    } else if (a[0] == '-') {
      char m[256];
      snprintf(m, sizeof m, "unknown option %s", a);
      return usage(m);
    } else if (!file) {
      file = a;
    } else
      return usage(report ? "report takes one graph file" : "render takes one graph file");
#undef NEED
  }
  if (!file) return usage(report ? "report needs a graph file" : "render needs a graph file");
  o.progress = !quiet && isatty(2);
  lua_State *L = NULL;
  int rc = run_script(&L, file);
  if (!rc) {
    reel_render_stats_t st;
    if (reel_render(reel_graph_default(), &o, &st)) {
      rc = reel_cli_fail();
    }
    printf("reel: %lld frame%s: computed %lld node-frames, %lld from memory, %lld from disk "
           "cache (%.2f s, keys %.3f s, peak %.0f MB)\n",
           st.frames, st.frames == 1 ? "" : "s", st.computed, st.memory_hits, st.disk_hits,
           st.seconds, st.key_seconds, st.peak_rss_mb);
  }
  fflush(stdout);
  reel_shutdown();
  if (L) lua_close(L);
  return rc;
}

static int cmd_graph(int argc, char **argv) {
  const char *file = NULL;
  int dot = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--dot"))
      dot = 1;
    else if (argv[i][0] == '-')
      return usage("graph takes FILE.lua [--dot]");
    else
      file = argv[i];
  }
  if (!file) return usage("graph needs a graph file");
  lua_State *L = NULL;
  int rc = run_script(&L, file);
  if (!rc) {
    const char *d = reel_graph_dot(reel_graph_default());
    if (dot) {
      fputs(d, stdout);
    } else {
      /* plain listing: one line per node from the dot labels */
      for (const char *s = strstr(d, "label=\""); s; s = strstr(s, "label=\"")) {
        s += 7;
        const char *e = strchr(s, '"');
        if (!e) break;
        if (strstr(s, "fontsize=8") && strstr(s, "fontsize=8") < strchr(e, '\n')) {
          s = e;
          continue;
        }
        for (const char *c = s; c < e; c++) {
          if (c[0] == '\\' && c[1] == 'n') {
            fputs("\n    ", stdout);
            c++;
          } else
            putchar(*c);
        }
        putchar('\n');
        s = e;
      }
    }
  }
  if (L) lua_close(L);
  return rc;
}

static int cmd_nodes(int argc, char **argv) {
  int md = 0;
  const char *name = NULL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--markdown"))
      md = 1;
    else
      name = argv[i];
  }
  int d = -1;
  if (name && (d = reel_desc_find(name)) < 0) {
    fprintf(stderr, "reel: there is no node '%s'. Nodes:", name);
    for (int i = 0; i < reel_desc_count(); i++) fprintf(stderr, " %s", reel_desc_name(i));
    fputc('\n', stderr);
    return EXIT_USER;
  }
  fputs(reel_desc_doc(d, md), stdout);
  return 0;
}

static int cmd_info(int argc, char **argv) {
  if (!argc) return usage("info needs an image file");
  int rc = 0;
  for (int i = 0; i < argc; i++) {
    for (int part = 0;; part++) {
      reel_io_info_t info = {0};
      if (reel_io_probe(argv[i], part, &info)) {
        if (part) {
          reel_error_clear();
          break;
        }
        rc = reel_cli_fail();
        break;
      }
      if (!part) printf("%s\n", argv[i]);
      printf("  format      %s, %s%s", info.format, info.pixeltype,
             info.nparts > 1 ? "" : "\n");
      if (info.nparts > 1) printf(", part %d of %d\n", part, info.nparts);
      printf("  size        %d x %d\n", reel_box_w(info.display), reel_box_h(info.display));
      printf("  display     (%d, %d) - (%d, %d)\n", info.display.x0, info.display.y0,
             info.display.x1, info.display.y1);
      printf("  data        (%d, %d) - (%d, %d)  %d x %d\n", info.data.x0, info.data.y0,
             info.data.x1, info.data.y1, reel_box_w(info.data), reel_box_h(info.data));
      printf("  channels    %d:", info.nch);
      for (int c = 0; c < info.nch; c++) printf(" %s", info.chnames[c]);
      printf("\n");
      for (int m = 0; m < info.meta.n; m++) {
        const char *v = info.meta.v[m];
        printf("  %-30s %.*s%s\n", info.meta.k[m], 200, v, strlen(v) > 200 ? "..." : "");
      }
      int nparts = info.nparts;
      reel_io_info_clear(&info);
      if (part + 1 >= nparts) break;
    }
  }
  return rc;
}

static void print_size(const char *label, unsigned long long b) {
  printf("%-14s %llu bytes (%.1f MB)\n", label, b, (double)b / 1048576.0);
}

static int cmd_cache(int argc, char **argv) {
  const char *dir = NULL, *sub = argc ? argv[0] : NULL;
  double max = -1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--cache") && i + 1 < argc)
      dir = argv[++i];
    else if (!strcmp(argv[i], "--max") && i + 1 < argc) {
      if ((max = parse_size(argv[++i])) < 0) return usage("--max takes a size like 50G");
    } else
      return usage("cache stats|gc [--max SIZE] [--cache DIR]");
  }
  if (!dir) dir = reel_diskcache_default_dir();
  if (!sub || (strcmp(sub, "stats") && strcmp(sub, "gc")))
    return usage("cache stats|gc [--max SIZE] [--cache DIR]");
  if (!strcmp(sub, "gc") && max < 0) return usage("cache gc needs --max SIZE");
  reel_diskcache_t *dc = reel_diskcache_open(dir);
  if (!dc) return reel_cli_fail();
  reel_diskcache_stats_t s;
  int rc = 0;
  if (!strcmp(sub, "gc")) {
    if (reel_diskcache_gc(dc, (uint64_t)max, &s))
      rc = reel_cli_fail();
    else {
      printf("cache %s\n", dir);
      printf("removed        %llu entries\n", (unsigned long long)s.removed);
      print_size("freed", s.removed_bytes);
    }
  }
  if (!rc && !reel_diskcache_stats(dc, &s)) {
    printf("cache %s\n", dir);
    printf("entries        %llu\n", (unsigned long long)s.entries);
    print_size("size", s.bytes);
    printf("records        %llu (%.1f MB: file index, explain records, kernel binaries)\n",
           (unsigned long long)s.aux_entries, (double)s.aux_bytes / 1048576.0);
  } else if (!rc)
    rc = reel_cli_fail();
  reel_diskcache_close(dc);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(NULL);
  const char *cmd = argv[1];
  if (!strcmp(cmd, "render")) return cmd_render(argc - 2, argv + 2, 0);
  if (!strcmp(cmd, "report")) return cmd_render(argc - 2, argv + 2, 1);
  if (!strcmp(cmd, "graph")) return cmd_graph(argc - 2, argv + 2);
  if (!strcmp(cmd, "nodes")) return cmd_nodes(argc - 2, argv + 2);
  if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2);
  if (!strcmp(cmd, "compare")) return reel_cmd_compare(argc - 2, argv + 2);
  if (!strcmp(cmd, "model")) return reel_cmd_model(argc - 2, argv + 2);
  if (!strcmp(cmd, "sync")) return reel_cmd_sync(argc - 2, argv + 2);
  if (!strcmp(cmd, "cache")) return cmd_cache(argc - 2, argv + 2);
  if (!strcmp(cmd, "devices")) return reel_cl_list(stdout) ? reel_cli_fail() : 0;
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
    printf("reel %s\n", reel_version());
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    fputs(usage_text, stdout);
    return 0;
  }
  char m[256];
  snprintf(m, sizeof m, "unknown command '%s'", cmd);
  return usage(m);
}
