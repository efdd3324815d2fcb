/* merge.h - combine results files (e.g. the shards of a Slurm array) into
 * one, with one row per job id.
 *
 * A final row (ok, diverged, failed) beats an interrupted one; between rows
 * of the same kind the later one wins (later in its file, or in a later
 * file).  Every input must carry the results header of this version
 * (LS_EFORMAT "FILE:1: ..." otherwise); a malformed row is LS_EFORMAT with
 * FILE:LINE; a torn last line (a crash while writing) is skipped and
 * counted.  The output is written to a temporary file and renamed over
 * `out`, so `out` may also be one of the inputs.
 */
#ifndef LSTMSWEEP_MERGE_H
#define LSTMSWEEP_MERGE_H

#include <stddef.h>

#include "lstmsweep/error.h"

typedef struct ls_merge_stats {
    size_t rows;        /* data rows read */
    size_t jobs;        /* rows written: distinct job ids */
    size_t replaced;    /* rows dropped for a better row of the same job */
    size_t torn;        /* torn last lines skipped */
    size_t interrupted; /* jobs whose best row is still "interrupted" */
} ls_merge_stats;

int ls_results_merge(const char *out, const char *const *inputs, int ninputs,
                     ls_merge_stats *stats, ls_err *err);

#endif
