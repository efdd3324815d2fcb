/* results.h - the results CSV (one row per job), shared by `train
 * --results` and the sweep runner; the append primitive it shares with the
 * per-epoch curves CSV (curves.h).
 *
 * Appends are crash-safe: each row is formatted in memory and written with
 * one write(2) on an O_APPEND descriptor under an exclusive flock, then
 * fsync'ed, so a kill at any moment leaves whole lines only, and concurrent
 * writers (threads or processes) never interleave.  A new (empty) file gets
 * the header first (missing parent directories are created); an existing
 * file must carry exactly the same header, or the append is refused
 * (LS_EFORMAT) rather than mixing formats.  A short
 * write (disk full) is undone by truncating back to the old length.
 *
 * Columns (stable; documented in README.md):
 */
#ifndef LSTMSWEEP_RESULTS_H
#define LSTMSWEEP_RESULTS_H

#include <stddef.h>

#include "lstmsweep/error.h"
#include "lstmsweep/job.h"

#define LS_RESULTS_COLUMNS                                                   \
    "job_id,sweep,task,hidden,batch,layers,epochs,lr,dropout,seed,bits,"     \
    "train_size,data,target_error,eval_every,status,epochs_run,train_loss,"  \
    "train_error,test_error,wall_s,train_s,eval_s,samples_per_s,gflops,"     \
    "threads,cpus,numa_node,host,start_time,end_time,onednn,isa,version,"    \
    "message"

typedef enum {
    LS_STATUS_OK = 0,        /* ran all epochs or reached target_error */
    LS_STATUS_DIVERGED,      /* loss became NaN or infinite */
    LS_STATUS_FAILED,        /* an error (message says which) */
    LS_STATUS_INTERRUPTED    /* stopped by a signal; checkpoint kept */
} ls_status;

const char *ls_status_name(ls_status s);
/* LS_EINVAL for anything but the four names. */
int ls_status_parse(const char *name, ls_status *s);

typedef struct ls_result {
    ls_status status;
    int epochs_run;
    double train_loss, train_error;  /* last epoch, over training batches */
    double test_error;               /* last evaluation; < 0 if none */
    double wall_s;                   /* whole job, data to last row */
    double train_s;                  /* training steps only */
    double eval_s;                   /* test evaluations only */
    double samples_per_s;            /* training samples / train_s */
    double gflops;                   /* 3 x forward FLOPs / train_s */
    int threads;                     /* OpenMP team size */
    char cpus[256];                  /* CPU list, e.g. "0-1" */
    int numa_node;                   /* -1 if unknown or several */
    char host[64];
    char start_time[32], end_time[32]; /* ISO 8601 UTC */
    char message[512];               /* error or note, "" if none */
} ls_result;

/* Zero a result, with test_error = -1, numa_node = -1. */
void ls_result_init(ls_result *r);

/* Append one job row to the results CSV at path (created if missing). */
int ls_results_append(const char *path, const ls_job *job,
                      const ls_result *r, ls_err *err);

/* The append primitive (results and curves): header check, one write, optional fsync. */
int ls_csv_append_line(const char *path, const char *header,
                       const char *line, int sync, ls_err *err);

/* Write field into out (capacity cap) quoted as CSV requires (quotes
 * doubled, field quoted if it holds , " or newline).  Returns the length
 * written, or -1 if it does not fit. */
int ls_csv_quote(const char *field, char *out, size_t cap);

#endif
