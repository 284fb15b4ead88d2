/* Frame patterns in file names: "src.####.exr" (one '#' per digit, as in
 * Nuke), "src.@@@@.exr" (same with '@'), and printf style "src.%04d.exr".
 * Negative frames get a leading '-'; frames wider than the padding are
 * written in full. */
#ifndef REEL_FRAMEPATH_H
#define REEL_FRAMEPATH_H

#include <stddef.h>

/* 1 if the pattern has a frame token, else 0. */
int reel_framepath_has(const char *pattern);
/* Writes the path of `frame`. 0, or -1 with reel_error (bad pattern, too long). */
int reel_framepath(const char *pattern, int frame, char *out, size_t cap);
/* Finds the frames that exist on disk for the pattern (directory scan):
 * first and last get the lowest and highest, count how many. 0 (count may be 0)
 * or -1 with reel_error. */
int reel_framepath_scan(const char *pattern, int *first, int *last, int *count);

/* mkdir -p: creates dir and its missing parents; a directory that exists (or
 * that a concurrent process creates) is fine. 0, or -1 with errno set. */
int reel_mkdirs(const char *dir);
/* The same for the directory a file path lies in (nothing for a bare name). */
int reel_mkdirs_for(const char *path);

#endif
