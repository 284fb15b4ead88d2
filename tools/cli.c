/* Shared helpers of the reel subcommands (cli.h). */
#include "cli.h"
#include "reel.h"

#include <stdio.h>

int reel_cli_fail(void) {
  int cls = reel_error_class();
  const char *msg = reel_error_get();
  fprintf(stderr, "reel: error: %s\n", msg[0] ? msg : "unknown error");
  reel_error_clear();
  return cls == 3 ? EXIT_IO : cls == 4 ? EXIT_INTERNAL : EXIT_USER;
}

void reel_cli_json_str(const char *s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n && s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}
