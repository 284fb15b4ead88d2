/* Shared by the warp nodes (Transform, CornerPin, Reformat, Pad): running
 * the warp and resampling kernels of opencl/warp.cl, and the filter names
 * their parameters offer. Geometry itself is in engine/geom.h. */
#ifndef REEL_WARP_UTIL_H
#define REEL_WARP_UTIL_H

#include "geom.h"
#include "node.h"

/* Filter choices of Transform and CornerPin, as enum names and filters. */
extern const char *const reel_warp_filter_names[];
extern const reel_filter_t reel_warp_filters[];

/* The widening cap of bicubic and Lanczos-3 warps: beyond 16x minification
 * they alias again (use Reformat for big downscales). */
#define REEL_WARP_MAXW 16.0

/* Warps src by the forward map fwd (input to output continuous pixel
 * coordinates) with filter f (a: the cubic parameter) into a new image with
 * display window `display`. The data window is the bounding box of the
 * warped input data window (grown by the filter's support), clipped to
 * reel_geom_bound(display); a whole-pixel translation is an exact copy.
 * *out: a new reference. 0 / -1 with an error naming j's node. */
int reel_warp_image(reel_job_t *j, const reel_image_t *src, const reel_mat3_t *fwd, reel_filter_t f,
                    double a, reel_box_t display, reel_image_t **out);

/* Separable resampling: output pixel (x, y) samples the input at
 * ((x + 0.5 - tx) / sx, (y + 0.5 - ty) / sy), filter widened by 1/s when
 * s < 1 (see reel_geom_taps). data: the output data window (the caller
 * decides it), display its format. *out: a new reference. 0 / -1. */
int reel_warp_resample(reel_job_t *j, const reel_image_t *src, double sx, double sy, double tx,
                       double ty, reel_filter_t f, double a, reel_box_t data, reel_box_t display,
                       reel_image_t **out);

#endif
