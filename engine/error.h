/* Thread-local error buffer. Library functions return 0 / -1 (or a pointer /
 * NULL) and describe the failure with reel_error(); the CLI and the Lua layer
 * read the message and its class, then clear it. The class decides the exit
 * code a render farm sees (docs/cli.md). */
#ifndef REEL_ERROR_H
#define REEL_ERROR_H

#include <stdarg.h>

typedef enum {
  REEL_EOK = 0,
  REEL_EUSER = 2,     /* bad graph, bad parameter, bad input file: fix and rerun */
  REEL_EIO = 3,       /* I/O or device failure worth retrying */
  REEL_EINTERNAL = 4, /* a bug in reel */
} reel_errclass_t;

/* Appends a formatted message to this thread's buffer (messages are joined
 * with "\n  "). The first class set sticks until reel_error_clear(). */
void reel_error(reel_errclass_t cls, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void reel_verror(reel_errclass_t cls, const char *fmt, va_list ap);
/* Puts a line in front of the current message (context from an outer layer). */
void reel_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
