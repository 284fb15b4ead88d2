/* Frame-number patterns in paths (framepath.h). */
#include "framepath.h"
#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Locates the token: [*at, *at + *len), padding in *pad. 0 if none. */
static int token(const char *p, size_t *at, size_t *len, int *pad) {
  const char *s = strrchr(p, '/');
  s = s ? s + 1 : p;
  for (const char *c = s; *c; c++) {
    if (*c == '#' || *c == '@') {
      const char *e = c;
      while (*e == *c) e++;
      *at = (size_t)(c - p);
      *len = (size_t)(e - c);
      *pad = (int)*len;
      return 1;
    }
    if (*c == '%') {
      const char *e = c + 1;
      int w = 0;
      if (*e == '0') e++;
      while (*e >= '0' && *e <= '9') w = w * 10 + (*e++ - '0');
      if (*e == 'd') {
        *at = (size_t)(c - p);
        *len = (size_t)(e + 1 - c);
        *pad = w ? w : 1;
        return 1;
      }
    }
  }
  return 0;
}

int reel_framepath_has(const char *pattern) {
  size_t at, len;
  int pad;
  return token(pattern, &at, &len, &pad);
}

int reel_framepath(const char *pattern, int frame, char *out, size_t cap) {
  size_t at, len;
  int pad, n;
  if (!token(pattern, &at, &len, &pad))
    n = snprintf(out, cap, "%s", pattern);
  else
    n = snprintf(out, cap, "%.*s%0*d%s", (int)at, pattern, frame < 0 ? pad + 1 : pad, frame,
                 pattern + at + len);
  if (n < 0 || (size_t)n >= cap) {
    reel_error(REEL_EUSER, "path too long: '%s'", pattern);
    return -1;
  }
  return 0;
}

int reel_framepath_scan(const char *pattern, int *first, int *last, int *count) {
  size_t at, len;
  int pad;
  *count = 0;
  *first = INT_MAX;
  *last = INT_MIN;
  if (!token(pattern, &at, &len, &pad)) return 0;
  const char *slash = strrchr(pattern, '/');
  char dir[4096];
  size_t dlen = slash ? (size_t)(slash - pattern) : 0;
  if (dlen >= sizeof dir) return 0;
  if (slash) {
    memcpy(dir, pattern, dlen);
    dir[dlen] = 0;
    if (!dlen) strcpy(dir, "/");
  } else
    strcpy(dir, ".");
  const char *pre = slash ? slash + 1 : pattern;
  size_t plen = at - (size_t)(pre - pattern);
  const char *post = pattern + at + len;
  size_t slen = strlen(post);
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *nm = e->d_name;
    size_t nl = strlen(nm);
    if (nl < plen + slen + 1 || strncmp(nm, pre, plen) || strcmp(nm + nl - slen, post)) continue;
    const char *num = nm + plen, *end = nm + nl - slen;
    const char *q = num + (*num == '-');
    if (q == end) continue;
    int ok = 1;
    for (const char *c = q; c < end; c++) ok &= *c >= '0' && *c <= '9';
    if (!ok || end - num > 10) continue;
    /* padding must match unless the number is wider than it */
    if ((int)(end - q) < pad && !(*num == '-')) continue;
    if ((int)(end - q) > pad && *q == '0') continue;
    long v = strtol(num, NULL, 10);
    if (v < INT_MIN / 2 || v > INT_MAX / 2) continue;
    if (v < *first) *first = (int)v;
    if (v > *last) *last = (int)v;
    (*count)++;
  }
  closedir(d);
  return 0;
}

static int mkdirs_upto(const char *path, int last) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, n + 1);
  for (char *s = buf + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    int bad = mkdir(buf, 0777) && errno != EEXIST;
    *s = '/';
    if (bad) return -1;
  }
  if (last && mkdir(buf, 0777) && errno != EEXIST) return -1;
  struct stat st;
  if (last && (stat(buf, &st) || !S_ISDIR(st.st_mode))) {
    if (!errno || errno == EEXIST) errno = ENOTDIR;
    return -1;
  }
  return 0;
}

int reel_mkdirs(const char *dir) { return mkdirs_upto(dir, 1); }
int reel_mkdirs_for(const char *path) { return mkdirs_upto(path, 0); }
