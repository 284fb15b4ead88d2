/* Transform values: what an alignment found, per frame. Each entry holds a
 * 3x3 matrix that maps the moving picture (the reference) onto the fixed one
 * (the source): column vectors (x, y, 1) in continuous pixel coordinates, y
 * down, pixel centres at +0.5, the convention of engine/geom.h. With it a
 * residual (1 - the zero-mean normalised correlation of the two lumas after
 * alignment: 0 is a perfect match) and how the entry was made. Exported as
 * JSON or as a Nuke CornerPin2D snippet (four corners, keyed per frame). */
#ifndef REEL_XFORM_H
#define REEL_XFORM_H

#include "buf.h"
#include "geom.h"
#include "meta.h"
#include "value.h"

typedef enum {
  REEL_XF_TRANSLATION,
  REEL_XF_SIMILARITY,
  REEL_XF_AFFINE,
  REEL_XF_HOMOGRAPHY,
} reel_xf_model_t;
extern const char *const reel_xf_model_names[]; /* NULL-terminated, in enum order */

typedef enum {
  REEL_XF_SOLVED,       /* estimated from the pictures at this frame */
  REEL_XF_INTERPOLATED, /* between two solved key frames */
  REEL_XF_HELD,         /* before the first or after the last key frame */
} reel_xf_status_t;

typedef struct {
  int frame;
  reel_mat3_t m;   /* moving -> fixed */
  double residual; /* 1 - ZNCC over the analysis region; NaN when unmeasured */
  int status;      /* reel_xf_status_t */
  int iterations;  /* ECC iterations over all levels (0 unless solved) */
} reel_xf_entry_t;

typedef struct {
  reel_value_t v;
  int model;                /* reel_xf_model_t */
  reel_box_t moving, fixed; /* the two formats (display windows) */
  int n;
  reel_xf_entry_t *e; /* n entries, sorted by frame */
} reel_xform_t;

extern const reel_value_class_t reel_xform_class;

/* A new Transform with n zeroed entries (matrices unset). Returns a new
 * reference or NULL with reel_error. */
reel_xform_t *reel_xform_new(int model, reel_box_t moving, reel_box_t fixed, int n);
/* Value cast: NULL unless v is a Transform. */
reel_xform_t *reel_xform_cast(reel_value_t *v);

/* The entry for `frame`: its own if present; between two entries, their
 * interpolation; outside them, the nearest one held. 0, or -1 with
 * reel_error when x has no entries. */
int reel_xform_at(const reel_xform_t *x, int frame, reel_xf_entry_t *out);

/* Where the four corners of box land under m: {x0, y0, ..., x3, y3} for
 * top-left, top-right, bottom-right, bottom-left. -1 when one maps behind
 * the horizon. */
int reel_xf_corners(const reel_mat3_t *m, reel_box_t box, double out[8]);
/* Interpolation at t in [0, 1] between a and b as a corner pin: the four
 * corners of `box` move linearly and the matrix is solved from them (so an
 * affine stays affine). 0, or -1 when the corners degenerate (no error is
 * reported: callers word it). */
int reel_xf_lerp(const reel_mat3_t *a, const reel_mat3_t *b, double t, reel_box_t box,
                 reel_mat3_t *out);

/* One entry as a line of JSON (no newline): frame, status, residual,
 * matrix, corners of the moving format. 0 / -1 (out of memory). */
int reel_xform_entry_json(const reel_xform_t *x, const reel_xf_entry_t *e, reel_buf_t *out);
/* The whole value as a JSON document (see docs/align.md), NUL-terminated. */
int reel_xform_json(const reel_xform_t *x, reel_buf_t *out);
/* A Nuke CornerPin2D node: from1..4 the moving format's corners, to1..4
 * where they land on the fixed format, keyed per frame; y up, as Nuke has
 * it. The entries are repeated as "# reel-transform" comment lines, so Reel
 * can merge more frames into the file. NUL-terminated. */
int reel_xform_nuke(const reel_xform_t *x, reel_buf_t *out);

/* Writes x's entries into the file at path (.json or .nk, told by the
 * extension) atomically. merge: entries already in the file for other
 * frames are kept (when it was written by Reel for the same two formats and
 * model), under an exclusive lock so that several renders can add frames
 * to one file. 0 / -1 with reel_error. */
int reel_xform_save_file(const reel_xform_t *x, const char *path, int merge);
/* Write's side (nodes/write.c): writes x's entry for `frame` (a value of
 * one entry: that entry, under its own frame number) into the file at path
 * (merged with the file's other frames, or alone), and records in rec what
 * valid and verify need: the path and the frame's line. 0 / -1. */
int reel_xform_write(const reel_xform_t *x, int frame, const char *path, int merge,
                     reel_meta_t *rec);
/* 1 when the file a record of reel_xform_write names still holds the
 * recorded line and, when x is not NULL, x gives that same line at frame;
 * 0 otherwise. */
int reel_xform_record_holds(const reel_meta_t *rec, const reel_xform_t *x, int frame);
/* The extension reel_xform_save_file understands: 1 .json, 2 .nk, 0 none. */
int reel_xform_file_kind(const char *path);

#endif
