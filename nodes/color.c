/* Channel lookups shared by the colour nodes (see color.h). */
#include "color.h"

#include <stdio.h>
#include <string.h>

static void names_of(int nch, const char (*ch)[REEL_CHNAME], char *out, size_t cap) {
  size_t at = 0;
  out[0] = 0;
  for (int c = 0; c < nch && at < cap; c++)
    at += (size_t)snprintf(out + at, cap - at, "%s%s", c ? ", " : "", ch[c]);
}

int reel_color_find(const reel_node_t *n, int nch, const char (*ch)[REEL_CHNAME],
                    const char *name, const char *hint) {
  for (int c = 0; c < nch; c++)
    if (!strcmp(ch[c], name)) return c;
  char have[REEL_MAXCH * (REEL_CHNAME + 2)];
  names_of(nch, ch, have, sizeof have);
  reel_node_error(n, REEL_EUSER, "the input has no channel '%s' (it has %s): %s", name, have,
                  hint);
  return -1;
}

int reel_color_list(const reel_node_t *n, int nch, const char (*ch)[REEL_CHNAME],
                    const char *list, const char *what, int max, int *idx) {
  int count = 0;
  const char *s = list ? list : "";
  for (;;) {
    while (*s == ' ') s++;
    size_t len = strcspn(s, ",");
    size_t end = len;
    while (end && s[end - 1] == ' ') end--;
    if (!end || end >= REEL_CHNAME) {
      reel_node_error(n, REEL_EUSER,
                      "%s '%s': give channel names separated by commas, e.g. \"R,G,B\"", what,
                      list ? list : "");
      return -1;
    }
    char name[REEL_CHNAME];
    memcpy(name, s, end);
    name[end] = 0;
    char hint[96];
    snprintf(hint, sizeof hint, "change '%s'", what);
    int c = reel_color_find(n, nch, ch, name, hint);
    if (c < 0) return -1;
    for (int k = 0; k < count; k++)
      if (idx[k] == c) {
        reel_node_error(n, REEL_EUSER, "%s names channel '%s' twice", what, name);
        return -1;
      }
    if (count == max) {
      reel_node_error(n, REEL_EUSER, "%s '%s': at most %d channels", what, list, max);
      return -1;
    }
    idx[count++] = c;
    if (!s[len]) break;
    s += len + 1;
  }
  return count;
}

int reel_color_rgb(const reel_node_t *n, int nch, const char (*ch)[REEL_CHNAME], int idx[3]) {
  static const char *const rgb[3] = {"R", "G", "B"};
  for (int k = 0; k < 3; k++)
    if ((idx[k] = reel_color_find(n, nch, ch, rgb[k],
                                  "this node works on R, G, B; rename channels with Shuffle")) < 0)
      return -1;
  return 0;
}
