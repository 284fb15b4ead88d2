/* The network library: a U-Net that predicts a residual over its input,
 * trained and run with OpenCL kernels (opencl/nn.cl). Tensors live on the
 * device as NCHW float32 with a zero halo (see nn.cl); parameters are one
 * flat float array in a canonical order (docs/model.md), so that a model
 * file, PyTorch and the device agree on every weight's place.
 *
 * Architecture (levels L, widths c[0..L], LeakyReLU slope s):
 *   h = x
 *   for l in 0..L-1:  h = act(conv3(h)) -> c[l]; h = act(conv3(h)); skip[l] = h; h = avgpool2(h)
 *   h = act(conv3(h)) -> c[L]; h = act(conv3(h))
 *   for l in L-1..0:  h = upsample2_bilinear(h); h = concat(h, skip[l]);
 *                     h = act(conv3(h)) -> c[l]; h = act(conv3(h))
 *   r = conv1(h) -> out_ch
 *   rgb:    y = x + r                        (3 channels)
 *   chroma: y = (x0, x1 + r0, x2 + r1)       (x is Y, Cb, Cr; Y is copied)
 * conv3: 3x3, zero padding 1, bias; conv1: 1x1 with bias, initialised to 0
 * so that an untrained network is the identity. */
#ifndef REEL_NN_H
#define REEL_NN_H

#include "cl.h"

#include <stddef.h>
#include <stdint.h>

#define REEL_NN_MAXLEV 4

enum { REEL_NN_RGB = 0, REEL_NN_CHROMA = 1 };
enum { REEL_LOSS_L1 = 0, REEL_LOSS_L2 = 1, REEL_LOSS_CHARBONNIER = 2 };

typedef struct {
  int mode;                      /* REEL_NN_RGB or REEL_NN_CHROMA */
  int in_ch, out_ch;             /* 3 and 3 (rgb) or 3 and 2 (chroma) */
  int levels;                    /* number of 2x downsamplings, 1..REEL_NN_MAXLEV */
  int width[REEL_NN_MAXLEV + 1]; /* channels per level; width[levels] is the bottleneck */
  float slope;                   /* LeakyReLU negative slope */
} reel_nn_arch_t;

/* size: "small", "medium" or "large"; mode as above. 0 / -1 (unknown size). */
int reel_nn_arch_named(reel_nn_arch_t *a, const char *size, int mode);
/* 0 if the fields describe a network this library builds, else -1 + reel_error. */
int reel_nn_arch_check(const reel_nn_arch_t *a); /* widths: multiples of 8, 8..512 */
/* "small", "medium", "large" or "custom". */
const char *reel_nn_arch_size_name(const reel_nn_arch_t *a);

/* The convolutions in canonical order: encoder l (a, b) for l = 0..L-1, the
 * bottleneck (a, b), decoder l (a, b) for l = L-1..0, then the 1x1 head.
 * Each has its weights [cout][cin][k][k] at w_off and its bias [cout] at
 * b_off (= w_off + cout*cin*k*k) in the flat parameter array. */
typedef struct {
  int cin, cout, k;
  size_t w_off, b_off;
} reel_nn_conv_t;
int reel_nn_nconv(const reel_nn_arch_t *a);
void reel_nn_conv_info(const reel_nn_arch_t *a, int i, reel_nn_conv_t *out);
size_t reel_nn_nparams(const reel_nn_arch_t *a);
/* Tile sizes must be multiples of this (8 << levels). */
int reel_nn_align(const reel_nn_arch_t *a);
/* Pixels of context each side that an output pixel depends on, rounded up
 * to reel_nn_align: the overlap that makes tiled inference exact. */
int reel_nn_halo(const reel_nn_arch_t *a);
/* Multiply-accumulates per output pixel of one forward pass. */
double reel_nn_macs_per_pixel(const reel_nn_arch_t *a);

/* He (Kaiming normal, fan-in, LeakyReLU gain) initialisation from a seed;
 * biases and the head are zero. Counter-based: the same on every machine. */
void reel_nn_init_params(const reel_nn_arch_t *a, uint64_t seed, float *params);

/* Counter-based RNG (splitmix64 finaliser over seed, stream, counter). */
uint64_t reel_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter);
double reel_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter); /* [0, 1) */
double reel_rng_normal(uint64_t seed, uint64_t stream, uint64_t counter);

/* A network instance on a device for a fixed batch and tile size (h and w
 * multiples of reel_nn_align). train = 0 allocates only what a forward pass
 * needs. Buffers are allocated once and reused for every step. */
typedef struct reel_nn reel_nn_t;
reel_nn_t *reel_nn_new(reel_cl_t *cl, const reel_nn_arch_t *a, int batch, int h, int w,
                       int train);
void reel_nn_free(reel_nn_t *nn);
const reel_nn_arch_t *reel_nn_arch(const reel_nn_t *nn);

int reel_nn_set_params(reel_nn_t *nn, const float *params);
int reel_nn_get_params(reel_nn_t *nn, float *params);
int reel_nn_get_grads(reel_nn_t *nn, float *grads);
/* Adam moments (for checkpoints); nparams floats each. */
int reel_nn_get_adam(reel_nn_t *nn, float *m, float *v);
int reel_nn_set_adam(reel_nn_t *nn, const float *m, const float *v);

/* Host planar floats [batch][in_ch][h][w]. */
int reel_nn_set_input(reel_nn_t *nn, const float *x);
int reel_nn_set_target(reel_nn_t *nn, const float *t);
/* The network's output y, [batch][in_ch][h][w] (the full image channels). */
int reel_nn_get_output(reel_nn_t *nn, float *y);
/* What the input and target tensors hold now (e.g. after packing). */
int reel_nn_get_input(reel_nn_t *nn, float *x);
int reel_nn_get_target(reel_nn_t *nn, float *t);

/* Device-side packing for inference and training on frames already on the
 * device: sample n of the input is planes[ch[c]] of src at (x0 + x, y0 + y),
 * with coordinates clamped into src's data window (edge pixels repeated),
 * so a tile reaching past the picture sees no black border. rgb_to_ycc: convert R,G,B to Y'CbCr
 * (Rec.709, full range) on the way in (chroma mode on an RGB image). */
struct reel_image;
int reel_nn_pack_image(reel_nn_t *nn, int n, const struct reel_image *src, const int ch[3],
                       int x0, int y0, int rgb_to_ycc);
int reel_nn_pack_target(reel_nn_t *nn, int n, const struct reel_image *src, const int ch[3],
                        int x0, int y0, int rgb_to_ycc);
/* Training patches: like pack_image into the input (target = 0) or the
 * target (1), averaging scale x scale source pixels per tensor pixel (the
 * multi-resolution schedule) and flipping/rotating by orient 0..7 (bit 0
 * mirrors x, bit 1 mirrors y, bit 2 transposes; needs a square tile). */
int reel_nn_pack_patch(reel_nn_t *nn, int target, int n, const struct reel_image *src,
                       const int ch[3], int x0, int y0, int scale, int orient, int rgb_to_ycc);
/* Writes output sample n's pixels (tx, ty) .. (tx + w, ty + h) of the tile
 * to dst channels ch[] at (x0 + tx, y0 + ty); ycc_to_rgb undoes rgb_to_ycc. */
int reel_nn_unpack_image(reel_nn_t *nn, int n, struct reel_image *dst, const int ch[3], int x0,
                         int y0, int tx, int ty, int w, int h, int ycc_to_rgb);

int reel_nn_forward(reel_nn_t *nn);
/* Loss between output and target, e = y - t: L1 |e|, L2 e^2, Charbonnier
 * sqrt(e^2 + eps^2); the mean over pixels and the trained channels (all in
 * rgb mode, Cb and Cr in chroma mode), and its gradient
 * with respect to the output. eps: Charbonnier's epsilon. */
int reel_nn_loss(reel_nn_t *nn, int loss, float eps, double *value);
int reel_nn_backward(reel_nn_t *nn);

typedef struct {
  float lr, beta1, beta2, eps;
} reel_adam_t;
/* One Adam step with bias correction; t is the 1-based step number. */
int reel_nn_adam(reel_nn_t *nn, const reel_adam_t *opt, int64_t t);

/* Copies the parameters of src (same architecture) on the device. */
int reel_nn_copy_params(reel_nn_t *dst, reel_nn_t *src);

/* FLOPs done by the last forward (+ backward) pass, for progress reports. */
double reel_nn_flops(const reel_nn_t *nn, int train);

#endif
