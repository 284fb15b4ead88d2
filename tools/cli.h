/* What the reel subcommands share: the exit code of a failure and JSON
 * string output. Exit codes: 2 graph or user error, 3 I/O or device
 * failure (worth a retry), 4 internal error (docs/cli.md). */
#ifndef REEL_CLI_H
#define REEL_CLI_H

#include <stddef.h>

enum { EXIT_USER = 2, EXIT_IO = 3, EXIT_INTERNAL = 4 };

/* Prints the pending reel_error as "reel: error: ..." on stderr, clears it
 * and returns the exit code for its class. */
int reel_cli_fail(void);
/* Prints at most n bytes of s (stopping at a NUL) as a JSON string. */
void reel_cli_json_str(const char *s, size_t n);

int reel_cmd_compare(int argc, char **argv); /* tools/cmd_compare.c */
int reel_cmd_model(int argc, char **argv);   /* tools/cmd_model.c */
int reel_cmd_sync(int argc, char **argv);    /* tools/cmd_sync.c */

#endif
