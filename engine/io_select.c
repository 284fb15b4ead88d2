/* Channel selection for image reads (imageio.h, reel_io_select): a comma list
 * of exact names, or an EXR layer whose "layer.X" channels are taken as X,
 * ordered R, G, B, A first; without either, all channels (at most 16). */
#include "error.h"
#include "imageio.h"

#include <stdio.h>
#include <string.h>

static int rank(const char *n) {
  static const char *order[] = {"R", "G", "B", "A", "Y", "Z"};
  for (int i = 0; i < 6; i++)
    if (!strcmp(n, order[i])) return i;
  return 6;
}

static void list(const reel_io_info_t *info, char *out, size_t cap) {
  out[0] = 0;
  for (int i = 0; i < info->nch && strlen(out) < cap - 40; i++)
    snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? ", " : "", info->chnames[i]);
  if (info->nch && strlen(out) >= cap - 40) snprintf(out + strlen(out), cap - strlen(out), ", ...");
}

int reel_io_select(const char *path, const reel_io_info_t *info, const reel_io_read_opts_t *o,
                   int *idx, char (*names)[REEL_CHNAME]) {
  char have[1024];
  int n = 0;
  if (o && o->channels && o->channels[0]) {
    const char *s = o->channels;
    while (*s) {
      size_t len = strcspn(s, ",");
      char want[REEL_CHNAME];
      if (len >= sizeof want) len = sizeof want - 1;
      memcpy(want, s, len);
      want[len] = 0;
      int found = -1;
      for (int i = 0; i < info->nch && found < 0; i++)
        if (!strcmp(info->chnames[i], want)) found = i;
      if (found < 0 || n == REEL_MAXCH) {
        list(info, have, sizeof have);
        reel_error(REEL_EUSER, "'%s' has no channel '%s'%s (it has: %s)", path, want,
                   n == REEL_MAXCH ? " or too many were asked for" : "", have);
        return -1;
      }
      idx[n] = found;
      const char *dot = strrchr(want, '.');
      snprintf(names[n], REEL_CHNAME, "%s", dot && !(o->layer && o->layer[0]) ? want : dot ? dot + 1 : want);
      n++;
      s += len + (s[len] == ',');
    }
    return n;
  }
  if (o && o->layer && o->layer[0]) {
    size_t ll = strlen(o->layer);
    for (int i = 0; i < info->nch; i++) {
      const char *c = info->chnames[i];
      if (strncmp(c, o->layer, ll) || c[ll] != '.' || strchr(c + ll + 1, '.')) continue;
      if (n == REEL_MAXCH) {
        reel_error(REEL_EUSER, "'%s': layer '%s' has more than %d channels", path, o->layer,
                   REEL_MAXCH);
        return -1;
      }
      idx[n++] = i;
    }
    if (!n) {
      list(info, have, sizeof have);
      reel_error(REEL_EUSER, "'%s' has no layer '%s' (its channels: %s)", path, o->layer, have);
      return -1;
    }
    /* insertion sort by R, G, B, A rank, stable otherwise */
    for (int i = 1; i < n; i++)
      for (int j = i; j > 0 && rank(info->chnames[idx[j]] + ll + 1) <
                                   rank(info->chnames[idx[j - 1]] + ll + 1); j--) {
        int t = idx[j];
        idx[j] = idx[j - 1];
        idx[j - 1] = t;
      }
    for (int i = 0; i < n; i++) snprintf(names[i], REEL_CHNAME, "%s", info->chnames[idx[i]] + ll + 1);
    return n;
  }
  if (info->nch > REEL_MAXCH) {
    list(info, have, sizeof have);
    reel_error(REEL_EUSER,
               "'%s' has %d channels (%s); pick at most %d with layer = \"...\" or channels = "
               "\"R,G,B\"",
               path, info->nch, have, REEL_MAXCH);
    return -1;
  }
  for (int i = 0; i < info->nch; i++) {
    idx[n] = i;
    snprintf(names[n], REEL_CHNAME, "%s", info->chnames[i]);
    n++;
  }
  if (!n) reel_error(REEL_EUSER, "'%s' has no channels", path);
  return n ? n : -1;
}
