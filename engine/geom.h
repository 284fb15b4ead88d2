/* Geometry for the warp nodes, on the host in double precision: 3x3
 * projective matrices, affine transforms from translate/rotate/scale/skew,
 * homographies from four point pairs (DLT, 8x8 solve), data-window bounds of
 * warped images, reconstruction filters and separable resampling weights,
 * and the table of named formats. Coordinates are continuous pixel
 * coordinates, y down: pixel (i, j) covers [i, i+1) x [j, j+1), its centre
 * is at (i + 0.5, j + 0.5) (OpenEXR/Nuke convention). No device code here. */
#ifndef REEL_GEOM_H
#define REEL_GEOM_H

#include "image.h"

/* Row-major 3x3 matrix acting on column vectors (x, y, 1). */
typedef struct {
  double m[9];
} reel_mat3_t;

reel_mat3_t reel_mat3_identity(void);
reel_mat3_t reel_mat3_translate(double tx, double ty);
reel_mat3_t reel_mat3_mul(reel_mat3_t a, reel_mat3_t b); /* a * b: b applies first */
/* Inverse scaled so that m[8] = 1 when possible. 0, or -1 when singular (no
 * error is reported: callers word the message for their parameters). */
int reel_mat3_invert(reel_mat3_t a, reel_mat3_t *out);
/* Maps (x, y); returns the homogeneous w (the point is behind the horizon
 * when w <= 0, and *ox, *oy are then left unset). */
double reel_mat3_apply(const reel_mat3_t *a, double x, double y, double *ox, double *oy);
/* 1 if a is a translation by whole pixels (within 1e-9), with it in *tx, *ty. */
int reel_mat3_int_translation(const reel_mat3_t *a, int *tx, int *ty);

/* The forward affine map of a Transform node:
 *   T(translate) * T(center) * R(rotate) * K(skew) * S(scale) * T(-center)
 * rotate in degrees, counter-clockwise on screen (y down, as OpenCV's
 * getRotationMatrix2D); K = [1 skew.x; skew.y 1]. */
reel_mat3_t reel_geom_affine(const double translate[2], double rotate_deg, const double scale[2],
                             const double skew[2], const double center[2]);

/* Homography H with H * src[i] ~ dst[i] for four points given as
 * {x0, y0, x1, y1, x2, y2, x3, y3}: the 8x8 DLT system (h33 = 1) on
 * Hartley-normalised points, Gaussian elimination with partial pivoting.
 * 0, or -1 when three points are collinear or the system is singular. */
int reel_geom_homography(const double src[8], const double dst[8], reel_mat3_t *out);

/* How much an output pixel's footprint spans in the input at output point
 * (x, y) under the inverse map inv: the row norms of the Jacobian of inv,
 * i.e. input pixels per output pixel along input x and y. A filter is
 * widened by max(1, s) on each axis to antialias a minification. */
void reel_geom_footprint(const reel_mat3_t *inv, double x, double y, double *sx, double *sy);

/* Bounding box of fwd(box grown by pad on every side), rounded outwards to
 * whole pixels and clipped to bound; bound itself when a corner maps behind
 * the horizon (w <= 0). */
reel_box_t reel_geom_bbox(const reel_mat3_t *fwd, reel_box_t box, double pad, reel_box_t bound);
/* The bound that warped data windows are clipped to: the display window
 * grown by half its width and height on each side. */
reel_box_t reel_geom_bound(reel_box_t display);

/* Reconstruction filters. Radii in pixels: nearest 0 (pixel containing the
 * point), box 0.5, bilinear (tent) 1, bicubic 2, Lanczos-3 3. */
typedef enum {
  REEL_FILTER_NEAREST,
  REEL_FILTER_BOX,
  REEL_FILTER_BILINEAR,
  REEL_FILTER_BICUBIC,  /* Keys' cubic convolution with parameter a (-0.5: Catmull-Rom) */
  REEL_FILTER_LANCZOS3, /* sinc(x) sinc(x/3), |x| < 3 */
} reel_filter_t;

double reel_filter_radius(reel_filter_t f);
/* How far outside a data window edge a sample point still gets non-zero
 * weight, in input pixels, with the filter widened by s: radius * s - 0.5
 * for point-sampled filters (the edge pixel's centre is 0.5 inside), s / 2
 * for the box (an area overlap). For reel_geom_bbox's pad. */
double reel_filter_reach(reel_filter_t f, double s);
/* The filter's weight at distance x (in pixels at scale 1). */
double reel_filter_eval(reel_filter_t f, double x, double a);

/* Separable resampling along one axis: output pixel o (absolute, in
 * [o0, o0 + no)) samples the input at u = (o + 0.5 - shift) / scale
 * (absolute continuous coordinates). Input pixels i0 .. i0 + n - 1 exist;
 * others are 0. When scale < 1 the filter is widened by 1 / scale
 * (antialiasing); box weights are exact area overlaps. Weights are
 * normalised over the whole support (inside and outside the input), then
 * taps outside the input are dropped. Result: ntaps weights per output
 * pixel, w[o * ntaps + k] for input index start[o] + k (0-based within the
 * input range); start[o] + ntaps <= n, so kernels need no bound checks.
 * ntaps is rounded up to a multiple of align (zero weights) where n allows.
 * 0 / -1 (out of memory, reported). */
typedef struct {
  int ntaps, no;
  int *start;
  float *w;
} reel_taps_t;
int reel_geom_taps(reel_filter_t f, double a, double scale, double shift, int i0, int n, int o0,
                   int no, int align, reel_taps_t *out);
void reel_taps_clear(reel_taps_t *t);

/* Named formats (square pixels; pixel aspect is not modelled). Index 0 of
 * reel_format_names is "custom" (no named format); the list ends with NULL
 * so it serves as a parameter's enum names. */
#define REEL_FORMAT_LIST(X)                                                                        \
  X("PAL", 720, 576)                                                                               \
  X("HD", 1920, 1080)                                                                              \
  X("2K_DCP", 2048, 1080)                                                                          \
  X("2K_FULL", 2048, 1556)                                                                         \
  X("UHD", 3840, 2160)                                                                             \
  X("4K_DCP", 4096, 2160)                                                                          \
  X("4K_FULL", 4096, 3112)
extern const char *const reel_format_names[];
/* Size of format index i (into reel_format_names). 0, or -1 for "custom". */
int reel_format_size(int i, int *w, int *h);

#endif
