/* The Compare node's measurements as one function, so that other nodes
 * (Report) give the same numbers as Compare and `reel compare` from the same
 * code: PSNR and chroma PSNR (dB, peak 1), SSIM, and the mean and 95th
 * percentile of CIEDE2000, with R, G, B taken as sRGB-encoded (D65). */
#ifndef REEL_COMPARE_H
#define REEL_COMPARE_H

#include "image.h"

enum {
  REEL_CMP_PSNR,        /* PSNR over R'G'B', dB (inf when equal) */
  REEL_CMP_PSNR_CHROMA, /* PSNR over BT.709 Cb, Cr, dB */
  REEL_CMP_SSIM,        /* mean over R, G, B; nan for a region under 11x11 */
  REEL_CMP_DE_MEAN,     /* CIEDE2000 mean */
  REEL_CMP_DE_P95,      /* CIEDE2000 95th percentile (numpy's linear definition) */
  REEL_CMP_N
};

/* Measures image a against the reference b over region (pixels, x1 and y1
 * exclusive; outside an image's data window its pixels are 0), reading
 * their channels R, G, B, and fills out[REEL_CMP_N] in the order above.
 * Both images are borrowed and must live on the same device. 0, or -1 with
 * reel_error (a missing channel, an empty region, a device failure). */
int reel_compare_metrics(const reel_image_t *a, const reel_image_t *b, reel_box_t region,
                         double out[REEL_CMP_N]);

#endif
