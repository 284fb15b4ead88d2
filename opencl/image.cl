/* Generic image moves: copying a window of planar float32 images (Crop,
 * Reformat to a box, padding). Coordinates in pixels of each buffer. */

/* dst(x, y, c) = src(x + dx, y + dy, c) where that lies inside src, else 0.
 * Planes of sw*sh (src) and dw*dh (dst) floats, nch channels. */
__kernel void image_copy_rect(__global const float *src, int sw, int sh,
                              __global float *dst, int dw, int dh, int dx,
                              int dy, int nch) {
  int x = get_global_id(0), y = get_global_id(1);
  if (x >= dw || y >= dh) return;
  int sx = x + dx, sy = y + dy;
  int inside = sx >= 0 && sy >= 0 && sx < sw && sy < sh;
  size_t sp = (size_t)sw * sh, dp = (size_t)dw * dh;
  size_t si = (size_t)sy * sw + sx, di = (size_t)y * dw + x;
  for (int c = 0; c < nch; c++)
    dst[c * dp + di] = inside ? src[c * sp + si] : 0.0f;
}
