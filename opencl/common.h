/* Shared header, prepended by engine/cl.c to every kernel family. Images are
 * planar float32: channel c of a w x h image starts at c * w * h. Global sizes
 * are rounded up to the work-group size, so kernels return early outside the
 * image. Indices are int: frames stay below 2^31 floats. */
#define GID_X ((int)get_global_id(0))
#define GID_Y ((int)get_global_id(1))

/* Index of pixel (x, y) in channel c of a planar w x h image. */
static inline int pix(int x, int y, int c, int w, int h) { return (c * h + y) * w + x; }
static inline int clampi(int v, int lo, int hi) { return min(max(v, lo), hi); }
