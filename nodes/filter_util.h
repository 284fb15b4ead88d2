/* Shared by the filter nodes (Median, Blur, Sharpen, Convolve): zero-padded
 * scratch copies and the convolution passes of opencl/conv.cl. Data windows
 * follow OpenEXR/Nuke: 0 outside, and a filter's result grows by its reach. */
#ifndef REEL_NODES_FILTER_UTIL_H
#define REEL_NODES_FILTER_UTIL_H

#include "node.h"

/* n rounded up to a multiple of m. */
static inline int filter_round(int n, int m) { return (n + m - 1) / m * m; }

/* A scratch image covering box (src's coordinates): src's pixels inside its
 * data window, 0 elsewhere. New reference, or NULL with reel_error. */
reel_image_t *filter_pad(const reel_image_t *src, reel_box_t box);

/* The Gaussian of a Blur size, as Nuke's Blur: size is the filter's width in
 * pixels and the standard deviation is size / 2.4. Taps reach 3 sigma,
 * ceil(1.25 size) pixels each side (0 for size 0); the 2 * radius + 1
 * weights are the Gaussian at whole pixels, normalised to sum 1. */
int filter_gauss_radius(double size);
void filter_gauss_weights(double size, int radius, float *w);

/* a * src + b * (src blurred by the Gaussian of size), on src's data window
 * grown by the radius: (0, 1) blurs, (1 + s, -s) sharpens. New reference
 * (src itself when the radius is 0), or NULL with reel_error. */
reel_image_t *filter_gauss(reel_image_t *src, double size, float a, float b);

/* src filtered by a kw x kh kernel k (row-major, first row on top) laid over
 * the image as written, centred on (kw / 2, kh / 2): dst(x, y) = sum k[j][i]
 * src(x + i - kw/2, y + j - kh/2). The data window grows by the kernel's
 * reach on each side. New reference, or NULL with reel_error. */
reel_image_t *filter_conv2d(reel_image_t *src, const float *k, int kw, int kh);

#endif
