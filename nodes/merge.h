/* Shared by Merge and Dissolve: the operations of opencl/merge.cl and the
 * host side of its kernel (channels matched by name, windows placed). */
#ifndef REEL_NODES_MERGE_H
#define REEL_NODES_MERGE_H

#include "node.h"

/* In the order of opencl/merge.cl's enum and Merge's `operation` names. */
enum { MERGE_OVER, MERGE_PLUS, MERGE_MINUS, MERGE_DIFFERENCE, MERGE_MULTIPLY,
       MERGE_SCREEN, MERGE_MIN, MERGE_MAX, MERGE_MIX };

/* The union by name of two channel lists: first's channels in order, then
 * second's that first lacks. Returns the count, or -1 with an error naming
 * node n when it exceeds REEL_MAXCH. */
int reel_merge_channels(const reel_node_t *n, int n1, const char (*first)[REEL_CHNAME], int n2,
                        const char (*second)[REEL_CHNAME], char (*out)[REEL_CHNAME]);

/* Fills dst's data window with op(a, b) blended with b by mix, channels by
 * name (a channel an input lacks reads 0; for over, an A without an "A"
 * channel is opaque inside its data window). a and b are borrowed and may
 * be NULL (all 0). Runs merge_apply on dst's device. 0 / -1 with error. */
int reel_merge_apply(reel_image_t *dst, const reel_image_t *a, const reel_image_t *b, int op,
                     double mix);

#endif
