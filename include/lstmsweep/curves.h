/* curves.h - the per-epoch curves CSV: one row per job and epoch, written
 * by every training job beside its results file, read by `report` for the
 * learning curves and by `merge --curves`.
 *
 * Columns (stable; documented in README.md): LS_CURVE_COLUMNS below.
 * val_error and test_error are empty for epochs without an evaluation
 * (val_error also for jobs without a validation split).  A job resumed
 * from a checkpoint older than its last row trains those epochs again, so
 * a (job_id, epoch) may appear more than once: the later row is the one
 * that counts (the readers below hand every row over in file order).
 */
#ifndef LSTMSWEEP_CURVES_H
#define LSTMSWEEP_CURVES_H

#include <stddef.h>

#include "lstmsweep/error.h"

#define LS_CURVE_COLUMNS \
    "job_id,epoch,train_loss,train_error,val_error,test_error,elapsed_s"

/* Append one epoch row to the curves CSV at path (created with its header
 * if missing, refused with LS_EFORMAT if it has another header; see
 * ls_csv_append_line); an error < 0 is left empty.  Not fsync'ed per row:
 * the job's results row is the commit point. */
int ls_curve_append(const char *path, const char *job_id, int epoch,
                    double train_loss, double train_error, double val_error,
                    double test_error, double elapsed_s, ls_err *err);

/* One row, parsed.  job_id is valid only during the callback. */
typedef struct ls_curve_row {
    const char *job_id;
    int epoch;
    double train_loss, train_error;
    double val_error;           /* fraction; NAN when empty */
    double test_error;          /* fraction; NAN when empty */
    double elapsed_s;
} ls_curve_row;

/* Called for each row; 0 to go on, or a negative code (err set) to stop. */
typedef int (*ls_curve_row_fn)(void *ctx, const ls_curve_row *row, ls_err *err);

/* Read a curves CSV with ls_csv_read (header checked; a torn last line is
 * skipped and *torn, which may be NULL, set to 1), checking every row with
 * ls_curve_check before fn sees it. */
int ls_curve_read(const char *path, ls_curve_row_fn fn, void *ctx, int *torn,
                  ls_err *err);

/* Check the number fields of one row of the curves CSV (fields f[0..7), as
 * ls_csv_read hands them over): epoch an integer, val_error and test_error
 * numbers or empty, the others numbers.  LS_EFORMAT "FILE:LINE: epoch: 'x' is not an
 * integer" otherwise. */
int ls_curve_check(const char *path, long line, char **f, ls_err *err);

/* The curves file beside a results file: "results/x.csv" ->
 * "results/x-curves.csv" (a name without ".csv" gets "-curves.csv"
 * appended), truncated to len. */
void ls_curve_path(const char *results, char *out, size_t len);


#endif
