/* The Report page's pictures: images turned into display R'G'B' (sRGB-encoded
 * R, G, B as they are; Rec.709 full-range Y'CbCr of sRGB-encoded values
 * inverted with Kr 0.2126, Kb 0.0722; scene-linear Rec.709 through the sRGB
 * curve, odd-symmetric below 0), shrunk by area averaging to thumbnails and
 * encoded as 8-bit JPEG or PNG with the image writer (imageio.h). */
#include "error.h"
#include "imageio.h"
#include "node.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static float srgb_encode(float v) {
  float a = fabsf(v);
  float e = a <= 0.0031308f ? 12.92f * a : 1.055f * powf(a, 1 / 2.4f) - 0.055f;
  return v < 0 ? -e : e;
}

float *reel_report_display(const reel_node_t *n, const reel_image_t *im, int space,
                           const char *what, int *wp, int *hp) {
  static const char *const rgb[3] = {"R", "G", "B"}, *const ycc[3] = {"Y", "Cb", "Cr"};
  const char *const *want = space == REEL_REPORT_YCBCR ? ycc : rgb;
  int ch[3];
  for (int c = 0; c < 3; c++)
    if ((ch[c] = reel_image_find_channel(im, want[c])) < 0) {
      reel_node_error(n, REEL_EUSER,
                      "input '%s' has no channel %s: space = \"%s\" reads %s, %s, %s (set "
                      "space, or put a Shuffle or Colorspace before)",
                      what, want[c],
                      space == REEL_REPORT_YCBCR    ? "ycbcr"
                      : space == REEL_REPORT_LINEAR ? "linear"
                                                    : "srgb",
                      want[0], want[1], want[2]);
      return NULL;
    }
  int w = reel_box_w(im->display), h = reel_box_h(im->display);
  int dw = reel_image_w(im);
  size_t plane = (size_t)w * h;
  float *host = reel_image_bytes(im) ? malloc(reel_image_bytes(im)) : NULL;
  float *out = calloc(3 * (plane ? plane : 1), sizeof *out);
  if (!out || (reel_image_bytes(im) && !host)) {
    reel_node_error(n, REEL_EIO, "out of memory");
    goto fail;
  }
  if (host && reel_image_download(im, host)) goto fail;
  reel_box_t in = reel_box_intersect(im->data, im->display);
  for (int y = in.y0; y < in.y1; y++)
    for (int x = in.x0; x < in.x1; x++) {
      size_t s = (size_t)(y - im->data.y0) * dw + (size_t)(x - im->data.x0);
      size_t o = (size_t)(y - im->display.y0) * w + (size_t)(x - im->display.x0);
      float v[3];
      for (int c = 0; c < 3; c++) v[c] = host[(size_t)ch[c] * im->plane + s];
      if (space == REEL_REPORT_YCBCR) {
        float r = v[0] + 1.5748f * v[2], b = v[0] + 1.8556f * v[1];
        v[1] = (v[0] - 0.2126f * r - 0.0722f * b) / 0.7152f;
        v[0] = r;
        v[2] = b;
      } else if (space == REEL_REPORT_LINEAR) {
        for (int c = 0; c < 3; c++) v[c] = srgb_encode(v[c]);
      }
      for (int c = 0; c < 3; c++) out[c * plane + o] = v[c];
    }
  free(host);
  *wp = w;
  *hp = h;
  return out;
fail:
  free(host);
  free(out);
  return NULL;
}

/* Area average of `lines` lines of n samples (sample stride ds, line stride
 * dl) into m <= n samples (strides es, el). */
static void shrink(const float *in, size_t ds, size_t dl, int n, float *out, size_t es, size_t el,
                   int m, int lines) {
  double s = (double)n / m;
  for (int o = 0; o < m; o++) {
    double a = o * s, b = a + s;
    int i0 = (int)a, i1 = (int)ceil(b);
    if (i1 > n) i1 = n;
    for (int l = 0; l < lines; l++) {
      double acc = 0;
      for (int i = i0; i < i1; i++) acc += (fmin(b, i + 1) - fmax(a, i)) * in[l * dl + i * ds];
      out[l * el + o * es] = (float)(acc / s);
    }
  }
}

int reel_report_thumb(const float *rgb, int w, int h, int tw, const char *format, int quality,
                      const char *tmp_path, reel_buf_t *out, int *tw_out, int *th_out) {
  if (tw > w) tw = w;
  int th = (int)lround((double)h * tw / w);
  if (th < 1) th = 1;
  size_t plane = (size_t)w * h, tplane = (size_t)tw * th;
  float *mid = malloc(sizeof(float) * (size_t)tw * h), *px = malloc(sizeof(float) * 3 * tplane);
  int rc = -1;
  if (!mid || !px) {
    reel_error(REEL_EIO, "out of memory");
    goto out;
  }
  for (int c = 0; c < 3; c++) {
    shrink(rgb + c * plane, 1, (size_t)w, w, mid, 1, (size_t)tw, tw, h);
    shrink(mid, (size_t)tw, 1, h, px + c * tplane, (size_t)tw, 1, th, tw);
  }
  for (size_t i = 0; i < 3 * tplane; i++) px[i] = px[i] < 0 ? 0 : px[i] > 1 ? 1 : px[i];
  reel_hostimg_t im;
  memset(&im, 0, sizeof im);
  im.nch = 3;
  for (int c = 0; c < 3; c++) snprintf(im.ch[c], REEL_CHNAME, "%s", c ? c == 1 ? "G" : "B" : "R");
  im.data = im.display = (reel_box_t){0, 0, tw, th};
  im.px = px;
  reel_io_write_opts_t o = {format, "uint8", NULL, quality};
  if (reel_io_write(tmp_path, &o, &im)) goto out;
  rc = reel_report_read_file(tmp_path, (size_t)1 << 30, out);
  unlink(tmp_path);
  *tw_out = tw;
  *th_out = th;
out:
  free(mid);
  free(px);
  return rc;
}

int reel_report_read_file(const char *path, size_t max, reel_buf_t *out) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    reel_error(errno == ENOENT ? REEL_EUSER : REEL_EIO, "cannot read '%s': %s", path,
               strerror(errno));
    return -1;
  }
  int rc = 0;
  char buf[65536];
  size_t got, total = 0;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
    if ((total += got) > max) {
      reel_error(REEL_EUSER, "'%s' is larger than %zu bytes", path, max);
      rc = -1;
      break;
    }
    if (reel_buf_put(out, buf, got)) {
      rc = -1;
      break;
    }
  }
  if (!rc && ferror(f)) {
    reel_error(REEL_EIO, "cannot read '%s'", path);
    rc = -1;
  }
  fclose(f);
  return rc;
}
