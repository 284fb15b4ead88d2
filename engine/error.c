/* Thread-local error buffer: see error.h. */
#include "error.h"
#include "reel.h"

#include <stdio.h>
#include <string.h>

#define ERRMAX 8192

static __thread char buf[ERRMAX];
static __thread size_t len;
static __thread int cls_set;

void reel_verror(reel_errclass_t cls, const char *fmt, va_list ap) {
  if (!cls_set) cls_set = cls;
  if (len && len < ERRMAX - 4) len += (size_t)snprintf(buf + len, ERRMAX - len, "\n  ");
  if (len < ERRMAX) {
    int n = vsnprintf(buf + len, ERRMAX - len, fmt, ap);
    if (n > 0) len += (size_t)n;
    if (len >= ERRMAX) len = ERRMAX - 1;
  }
}

void reel_error(reel_errclass_t cls, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  reel_verror(cls, fmt, ap);
  va_end(ap);
}

void reel_error_prefix(const char *fmt, ...) {
  char pre[1024], old[ERRMAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  memcpy(old, buf, len + 1);
  len = (size_t)snprintf(buf, ERRMAX, "%s%s%s", pre, len ? "\n  " : "", old);
  if (len >= ERRMAX) len = ERRMAX - 1;
}

const char *reel_error_get(void) { return len ? buf : ""; }
int reel_error_class(void) { return cls_set; }
void reel_error_clear(void) {
  len = 0;
  buf[0] = 0;
  cls_set = 0;
}
