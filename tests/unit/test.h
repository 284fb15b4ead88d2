/* Minimal unit-test helper: CHECK records a failure and goes on; each binary
 * ends with TEST_END, which prints "N passed, N failed" and sets the exit
 * status. Tests are plain functions run by RUN(fn). */
#ifndef REEL_TEST_H
#define REEL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail, t_cur_fail;
static const char *t_name;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "  FAIL %s: %s:%d: %s\n", t_name, __FILE__, __LINE__,    \
              #cond);                                                          \
      t_cur_fail++;                                                            \
    }                                                                          \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                  \
  do {                                                                         \
    double a_ = (a), b_ = (b);                                                 \
    if (!(fabs(a_ - b_) <= (tol))) {                                           \
      fprintf(stderr, "  FAIL %s: %s:%d: %s = %.9g, expected %.9g (tol %g)\n", \
              t_name, __FILE__, __LINE__, #a, a_, b_, (double)(tol));          \
      t_cur_fail++;                                                            \
    }                                                                          \
  } while (0)

#define RUN(fn)                                                                \
  do {                                                                         \
    t_name = #fn;                                                              \
    t_cur_fail = 0;                                                            \
    fn();                                                                      \
    if (t_cur_fail) t_fail++; else t_pass++;                                   \
    fprintf(stderr, "%s %s\n", t_cur_fail ? "not ok" : "ok", #fn);             \
  } while (0)

#define TEST_END()                                                             \
  do {                                                                         \
    printf("%d passed, %d failed\n", t_pass, t_fail);                          \
    return t_fail ? 1 : 0;                                                     \
  } while (0)

#endif
