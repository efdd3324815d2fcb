/* curves.h - reading the per-epoch curve CSVs that a sweep's runs append
 * to (results.h: LS_CURVE_COLUMNS, ls_curve_append): one job's points, or
 * the whole file.  The API uses them when it is given no curve hooks,
 * on the files its sweeps write, STATE/sweeps/NAME/curves.csv (submit.h).
 *
 * A missing file is no points, not an error (a sweep none of whose jobs
 * has started has none); a torn last line (a crash while appending) is
 * left out, as ls_csv_read does.  Threading: no shared state.  Errors:
 * LS_EIO, LS_EFORMAT (not a curve file: its header differs), LS_ENOMEM.
 */
#ifndef LSTMSWEEP_CURVES_H
#define LSTMSWEEP_CURVES_H

#include <stddef.h>
#include <stdio.h>

#include "lstmsweep/api.h"
#include "lstmsweep/error.h"

/* The job's points in file order into *pts (malloc'ed, the caller frees;
 * NULL if none), *n set.  test_error is -1 where the row leaves it empty. */
int ls_curves_of_job(const char *path, const char *job_id, ls_curve_point **pts, size_t *n,
                     ls_err *err);

/* The file's header and whole rows to out (just the header if missing). */
int ls_curves_copy(const char *path, FILE *out, ls_err *err);

#endif
