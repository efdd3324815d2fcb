/* results.h - the results CSV (one row per job), shared by `train
 * --results` and the sweep runner; the append primitive it shares with the
 * per-epoch curves CSV (curves.h).
 *
 * Owns the meaning of a results row: the job statuses, ls_result, and the
 * row writer and reader, both generated from the column table in schema.h
 * (which also gives readers each column's index and type).  The CSV format
 * itself (quoting, the crash-safe append, the reader) is csv.h's: a row is
 * formatted in memory and handed to ls_csv_append_line, so rows are whole
 * lines after any crash and concurrent writers never interleave; a file
 * with another header is refused (LS_EFORMAT).
 *
 * Threading: no shared state; any function may run in several threads.
 * Errors: as csv.h's (LS_EIO, LS_EFORMAT, LS_ENOMEM, with the file named).
 *
 * Columns (stable; documented in README.md):
 */
#ifndef LSTMSWEEP_RESULTS_H
#define LSTMSWEEP_RESULTS_H

#include <stddef.h>

#include "lstmsweep/csv.h"
#include "lstmsweep/error.h"
#include "lstmsweep/job.h"
#include "lstmsweep/schema.h"

/* One string literal, generated from the table in schema.h. */
#define LS_RESULTS_COLUMNS LS_SCHEMA_HEADER

typedef enum {
    LS_STATUS_OK = 0,        /* ran all epochs or reached target_error */
    LS_STATUS_DIVERGED,      /* loss became NaN or infinite */
    LS_STATUS_FAILED,        /* an error (message says which) */
    LS_STATUS_INTERRUPTED,   /* stopped by a signal; checkpoint kept */
    LS_STATUS_PAUSED,        /* an adaptive search's pause at a rung (the
                                job's `until`); checkpoint kept */
    LS_STATUS_STOPPED,       /* an adaptive search stopped it at a rung for
                                good (search.h); the row is its last rung's */
    LS_NSTATUS
} ls_status;

const char *ls_status_name(ls_status s);
/* LS_EINVAL for anything but the LS_NSTATUS names. */
int ls_status_parse(const char *name, ls_status *s);
/* Whether a row of this status ends its job for good, so a rerun skips it:
 * all but interrupted and paused (those resume from their checkpoints),
 * and failed when retry_failed asks to rerun failed jobs. */
int ls_status_final(ls_status s, int retry_failed);

typedef struct ls_result {
    ls_status status;
    int epochs_run;
    int rung;                        /* an adaptive search's rung reached
                                        (1 first); < 0: not a search's */
    double train_loss, train_error;  /* last epoch, over training batches */
    double val_error;                /* last evaluation, validation split;
                                        < 0 if none */
    double test_error;               /* last evaluation; < 0 if none */
    double wall_s;                   /* whole job, data to last row */
    double train_s;                  /* training steps only */
    double eval_s;                   /* test evaluations only */
    double samples_per_s;            /* training samples / train_s */
    double gflops;                   /* 3 x forward FLOPs / train_s */
    int threads;                     /* OpenMP team size */
    ls_precision precision;          /* what ran: f32 or bf16 (a job
                                        failed before it knew: as asked) */
    char cpus[256];                  /* CPU list, e.g. "0-1" */
    int numa_node;                   /* -1 if unknown or several */
    char host[64];
    char start_time[32], end_time[32]; /* ISO 8601 UTC */
    char message[512];               /* error or note, "" if none */
} ls_result;

/* Zero a result, with val_error = test_error = -1, numa_node = -1. */
void ls_result_init(ls_result *r);

/* One job row's text, without its newline, into buf (capacity len;
 * truncated to fit).  Returns its length. */
size_t ls_results_format(const ls_job *job, const ls_result *r, char *buf, size_t len);

/* Append one job row to the results CSV at path (created if missing),
 * fsync'ed: the row is the job's commit point. */
int ls_results_append(const char *path, const ls_job *job,
                      const ls_result *r, ls_err *err);

/* The reverse: one row's fields (LS_NCOLUMNS of them, as ls_csv_read gives
 * them under LS_RESULTS_COLUMNS) into job and r (ls_result_init'ed
 * first).  Start job from ls_job_defaults: a column left empty because it
 * is another task's (bits, data) keeps job's value; other empty numbers
 * read as none (-1).  The generated columns (job_id, onednn, isa,
 * version) are not read: job_id is ls_job_id(job) when the numbers were
 * exact in the row's formats.  LS_EFORMAT with "NAME: 'TEXT' is not ..." in
 * err for a field that does not parse. */
int ls_results_parse(int nfields, char **fields, ls_job *job, ls_result *r,
                     ls_err *err);

/* ---- rows of earlier versions ----
 * Layouts are numbered: 1 before the cell column, 2 before precision,
 * search and rung, LS_RESULTS_LAYOUT (3) today; each added columns and
 * nothing else, so a row's field count tells its layout.  The server's stored rows are
 * upgraded with these when its database is opened, results files by
 * `lstmsweep merge`. */
#define LS_RESULTS_LAYOUT 3

/* The header of layout k (1 <= k <= LS_RESULTS_LAYOUT) into buf; 0, or -1
 * for no such layout. */
int ls_results_layout_header(int k, char *buf, size_t len);

/* A row of nf fields in an earlier layout (or today's) as today's:
 * out[LS_NCOLUMNS] point into fields or at the added columns' values for
 * old rows (cell lstm, precision f32, the others empty).  The layout, or
 * -1 if no layout has nf fields. */
int ls_results_upgrade(int nf, char **fields, const char *out[LS_NCOLUMNS]);

#endif
