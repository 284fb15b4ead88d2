/* Helpers shared by the colour nodes (colorspace.c, grade.c, cdl.c,
 * saturation.c, clamp.c, invert.c, shuffle.c): finding channels by name,
 * with errors that name the node, the channel and what the input has. */
#ifndef REEL_NODES_COLOR_H
#define REEL_NODES_COLOR_H

#include "node.h"

/* Index of channel `name` among nch names, or -1 with reel_node_error
 * saying which channels the input has and `hint` (what to do). */
int reel_color_find(const reel_node_t *n, int nch, const char (*ch)[REEL_CHNAME],
                    const char *name, const char *hint);

/* Indices of the channels in a comma-separated list ("R,G,B"; spaces
 * allowed), at most max of them, each once. Returns the count (>= 1) or -1
 * with reel_node_error naming the parameter `what`. */
int reel_color_list(const reel_node_t *n, int nch, const char (*ch)[REEL_CHNAME],
                    const char *list, const char *what, int max, int *idx);

/* Indices of R, G and B: 0 / -1 with an error suggesting Shuffle. */
int reel_color_rgb(const reel_node_t *n, int nch, const char (*ch)[REEL_CHNAME], int idx[3]);

#endif
