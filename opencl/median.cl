/* Median: the helpers of the selection networks that nodes/median.c
 * generates per radius (see there for the algorithm). A generated kernel
 * median_rN takes a zero-padded planar copy (rows of pw floats, planes of
 * pplane floats; pixel (x, y) of the output reads padded (x..x+2r, y..y+2r))
 * and writes a w x h plane per channel. Each work-item computes a tile of T
 * rows of 16 adjacent pixels as float16 vectors. */

/* One compare-exchange is MN + MX. `a < b ? a : b` maps to one vminps and
 * keeps the pair a permutation of its inputs. */
#define MN(a, b) ((a) < (b) ? (a) : (b))
#define MX(a, b) ((a) < (b) ? (b) : (a))
/* Row y, column x of the work-item's padded window. */
#define LD(y, x) vload16(0, s + (y) * pw + (x))
/* Output row t of the work-item's tile. */
#define ST(t, v) if ((t) < rows) median_store(d + (t) * w, (v), n)

static inline void median_store(__global float *d, float16 v, int n) {
  if (n >= 16) {
    vstore16(v, 0, d);
    return;
  }
  float t[16];
  vstore16(v, 0, t);
  for (int i = 0; i < n; i++) d[i] = t[i];
}

/* Start of every generated kernel: this work-item's window and tile of T rows. */
#define MEDIAN_BEGIN(T)                                                               \
  int x = get_global_id(0) * 16, y0 = get_global_id(1) * (T), c = get_global_id(2);   \
  if (x >= w || y0 >= h) return;                                                      \
  __global const float *s = src + (size_t)c * pplane + (size_t)y0 * pw + x;            \
  __global float *d = dst + ((size_t)c * h + y0) * w + x;                             \
  int n = w - x, rows = h - y0;
