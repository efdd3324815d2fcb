/* merge.h - combine results files (e.g. the shards of a Slurm array) into
 * one row per job id, and curves files into one row per (job id, epoch).
 *
 * Results: a final row (ok, diverged, failed) beats an interrupted one;
 * between rows of the same kind the later one wins (later in its file, or
 * in a later file).  Curves: the later row of a (job id, epoch) wins (a job
 * resumed from a checkpoint older than its last epoch trains those epochs
 * again).  Rows come out in the order their key first appears.
 *
 * Every input must carry the header of its kind, LS_RESULTS_COLUMNS or
 * LS_CURVE_COLUMNS (LS_EFORMAT "FILE:1: ..." otherwise); a malformed row
 * (field count, job id, status; a curves row's numbers) is LS_EFORMAT with
 * FILE:LINE; a torn last line (a crash while writing) is skipped and
 * counted.  A merge into a file replaces it with ls_file_replace (durable.h:
 * temporary file, fsync, rename, fsync of the directory), so a crash leaves
 * the old file or the new one; `out` may also be one of the inputs.
 */
#ifndef LSTMSWEEP_MERGE_H
#define LSTMSWEEP_MERGE_H

#include <stddef.h>

#include "lstmsweep/error.h"

typedef struct ls_merge_stats {
    size_t rows;        /* data rows read */
    size_t jobs;        /* rows kept: distinct job ids (curves: distinct
                           (job id, epoch) pairs) */
    size_t replaced;    /* rows dropped for a better row of the same key */
    size_t torn;        /* torn last lines skipped */
    size_t interrupted; /* jobs whose best row is still "interrupted" */
} ls_merge_stats;

/* Merged rows in memory: rows[i][0..nfields) are the NUL-terminated fields
 * of the i-th kept row.  Owned by the struct; free with ls_merged_free. */
typedef struct ls_merged {
    size_t nrows;
    int nfields;        /* the columns of the inputs' header */
    char ***rows;
} ls_merged;

/* Read the results files inputs[0..ninputs) and keep each job's best row
 * in *out.  On error *out is left empty (ls_merged_free on it is harmless).
 * stats (may be NULL) is filled either way. */
int ls_results_merge_load(ls_merged *out, const char *const *inputs, int ninputs,
                          ls_merge_stats *stats, ls_err *err);

/* Free the rows and leave m empty; an empty m is a no-op. */
void ls_merged_free(ls_merged *m);

/* Merge results files into the results file `out`. */
int ls_results_merge(const char *out, const char *const *inputs, int ninputs,
                     ls_merge_stats *stats, ls_err *err);

/* Merge curves files into the curves file `out`. */
int ls_curves_merge(const char *out, const char *const *inputs, int ninputs,
                    ls_merge_stats *stats, ls_err *err);

#endif
