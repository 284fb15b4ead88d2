/* Kernels used only by the unit tests of engine/cl.c (tests/unit/test_cl.c):
 * y = a * x + y over n floats, and a gain over a planar w x h x nch image. */

kernel void test_axpy(global float *y, global const float *x, float a, int n) {
  int i = get_global_id(0);
  if (i >= n) return;
  y[i] = a * x[i] + y[i];
}

kernel void test_gain(global float *dst, global const float *src, int w, int h, int nch,
                      float gain) {
  int x = GID_X, y = GID_Y;
  if (x >= w || y >= h) return;
  for (int c = 0; c < nch; c++) dst[pix(x, y, c, w, h)] = gain * src[pix(x, y, c, w, h)];
}
