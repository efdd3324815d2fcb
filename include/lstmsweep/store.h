/* store.h - the experiment server's durable state: sweeps, their jobs and
 * the jobs' results rows, in one SQLite database.
 *
 * Durability: WAL journal with synchronous=FULL, so a committed transaction
 * survives a crash or a power loss, and every write is one BEGIN IMMEDIATE
 * transaction (writers queue up front instead of failing on a lock
 * upgrade).
 *
 * A job's life: queued -> running (ls_store_claim: attempt + 1) -> done
 * (ls_store_finish: its final row) | queued again (ls_store_requeue: drained
 * to a checkpoint) | cancelled.  The attempt number is a fence: finish and
 * requeue name the attempt they ran, and are refused (LS_ECONFLICT, nothing
 * changed) unless it is the job's current one and the job is running.  So
 * a stale worker can never record twice.  ls_store_open() puts every job an
 * earlier process left running back in the queue (it resumes from its
 * checkpoint; its next claim is a new attempt).
 *
 * Results: a final row (ok, diverged, failed) belongs to the job id, not to
 * the sweep: a job whose id already has one, in any sweep, enters a new
 * sweep as done and is not run again.  ls_store_export() writes a sweep's
 * rows, in the sweep's order, as the CSV `run` writes: same header, one row
 * per job (a job satisfied by another sweep's row shows that row, whose
 * `sweep` column names the sweep that ran it).
 *
 * Sweeps are named; submitting a name again with the same INI text is a
 * no-op (idempotent), with another text it is refused (LS_EINVAL).
 *
 * Threading: an ls_store is one SQLite connection behind a mutex: any
 * thread may call any function.  Errors: LS_EIO (SQLite failed; the message
 * has its text), LS_EINVAL, LS_ECONFLICT, LS_ENOMEM.
 */
#ifndef LSTMSWEEP_STORE_H
#define LSTMSWEEP_STORE_H

#include <stddef.h>
#include <stdio.h>

#include "lstmsweep/error.h"
#include "lstmsweep/results.h"
#include "lstmsweep/job.h"

typedef struct ls_store ls_store;

typedef enum {
    LS_SWEEP_ACTIVE = 0,   /* has queued or running jobs, takes its share */
    LS_SWEEP_PAUSED,       /* starts no job; the server drains running ones */
    LS_SWEEP_CANCELLED,    /* starts no job; running ones drain */
    LS_SWEEP_DONE          /* every job done or cancelled */
} ls_sweep_state;

typedef enum { LS_JOB_QUEUED = 0, LS_JOB_RUNNING, LS_JOB_DONE, LS_JOB_CANCELLED } ls_job_state;

const char *ls_sweep_state_name(ls_sweep_state s);
const char *ls_job_state_name(ls_job_state s);

/* Open (creating if needed) the database at path, and requeue the jobs an
 * earlier process left running (*requeued, may be NULL, says how many). */
int ls_store_open(ls_store **out, const char *path, size_t *requeued, ls_err *err);
void ls_store_close(ls_store *s);

/* One job of a sweep being added: its id and single-core estimate (the
 * order inside a sweep is largest estimate first). */
typedef struct ls_store_job {
    char id[LS_JOB_ID_LEN];
    double est_s;
} ls_store_job;

/* Add a sweep and its jobs, or recognise a resubmission (same name, same
 * text: nothing changes, *new_jobs = 0).  *new_jobs (may be NULL): jobs
 * entered queued, i.e. without a final row in any sweep. */
int ls_store_add_sweep(ls_store *s, const char *name, const char *ini, int priority,
                       const ls_store_job *jobs, size_t n, size_t *new_jobs,
                       ls_err *err);
/* The same, keeping params[i] (the ls_job of jobs[i]; params may be NULL)
 * as jobs[i]'s row before it ran: the listings' hyperparameters while it
 * has no row of its own (ls_store_jobs_query). */
int ls_store_add_sweep_params(ls_store *s, const char *name, const char *ini, int priority,
                              const ls_store_job *jobs, const ls_job *params, size_t n,
                              size_t *new_jobs, ls_err *err);

typedef struct ls_sweep_info {
    char name[64];
    int priority;
    ls_sweep_state state;
    double submitted, core_s;  /* epoch seconds; core-seconds used */
    size_t by_state[4];        /* jobs per ls_job_state */
    size_t by_status[LS_NSTATUS];       /* done jobs per ls_status (results.h);
                                           for interrupted and paused, the
                                           queued jobs with such a row */
    char error[256];           /* why the scheduler paused it, "" if it did not */
} ls_sweep_info;

/* The sweep's INI text (ls_alloc'ed, the caller ls_frees it) and facts. */
int ls_store_sweep(ls_store *s, const char *name, ls_sweep_info *info,
                   char **ini, ls_err *err);
/* Every sweep, in submission order; *out ls_alloc'ed (ls_free). */
int ls_store_sweeps(ls_store *s, ls_sweep_info **out, size_t *n, ls_err *err);

/* Pause (ACTIVE -> PAUSED), resume (PAUSED -> ACTIVE) or cancel (queued
 * jobs become cancelled at once, running ones when they drain). */
int ls_store_set_state(ls_store *s, const char *name, ls_sweep_state to, ls_err *err);
int ls_store_set_priority(ls_store *s, const char *name, int priority, ls_err *err);
/* The scheduler could not run an active sweep (its data or results file
 * unreadable): pause it with the reason (ls_sweep_info.error), which any
 * later change of state clears. */
int ls_store_fail_sweep(ls_store *s, const char *name, const char *why, ls_err *err);

/* The queued job ids of an active sweep, largest estimate first (at most
 * max; *n set); for the scheduler's job source. */
int ls_store_queued(ls_store *s, const char *sweep, ls_store_job *out, size_t max,
                    size_t *n, ls_err *err);

/* queued -> running; *attempt receives the attempt this run is.  Refused
 * (LS_ECONFLICT) if the job is not queued or its sweep not active. */
int ls_store_claim(ls_store *s, const char *sweep, const char *id, int *attempt,
                   ls_err *err);

/* Record a run's end, fenced on attempt.  status is a results status name
 * and row its CSV line (no newline).  Final statuses make the row the job
 * id's result; "interrupted" and "paused" (an adaptive search's rung)
 * requeue the job (or cancel it, if its sweep was cancelled meanwhile),
 * keeping the row; core_s is charged to the sweep either way.  A row with
 * its rung column set (a search's job) is also kept in the sweep's rung
 * record, below. */
int ls_store_finish(ls_store *s, const char *sweep, const char *id, int attempt,
                    const char *status, const char *row, double core_s, ls_err *err);

/* An adaptive search stops queued job id of sweep for good: row (status
 * "stopped") is its final row, and goes into the rung record.
 * LS_ECONFLICT if the job is not queued in that sweep. */
int ls_store_stop_job(ls_store *s, const char *sweep, const char *id, const char *row,
                      ls_err *err);

/* The sweep's rung record: every row of its search's jobs, in the order
 * they were recorded (what searchrun.h replays), each given to fn (no
 * store lock held: fn may call the store); fn's non-zero ends the walk
 * and is returned. */
int ls_store_rung_rows(ls_store *s, const char *sweep,
                       int (*fn)(void *ctx, const char *row, ls_err *err), void *ctx,
                       ls_err *err);

/* Write the sweep's rows as a results CSV (header first) to f. */
int ls_store_export(ls_store *s, const char *sweep, FILE *f, ls_err *err);

/* ---- reading jobs (for the HTTP API) ---- */

typedef struct ls_store_job_info {
    char sweep[64];
    char id[LS_JOB_ID_LEN];
    size_t pos;                /* place in the sweep's order, from 0 */
    double est_s;              /* single-core estimate */
    ls_job_state state;
    int attempt;               /* runs started so far */
    char status[16];           /* its row's status ("ok", "interrupted"...),
                                  "" if it has none yet */
} ls_store_job_info;

/* Up to max of the sweep's jobs in its order, skipping the first offset;
 * filter is NULL or "" (all), a job state name (queued, running, done,
 * cancelled) or a row status (ok, diverged, failed, stopped, interrupted,
 * paused).  *n:
 * how many were written; *total (may be NULL): how many match.  LS_EINVAL
 * for an unknown sweep or filter.  Indexed: a page costs its size plus
 * the offset, not the sweep's size. */
int ls_store_jobs(ls_store *s, const char *sweep, const char *filter, size_t offset,
                  size_t max, ls_store_job_info *out, size_t *n, size_t *total,
                  ls_err *err);

/* A listing of a sweep's jobs sorted and filtered in SQL on the fields of
 * their rows (schema.h): a job's row is its final row, else its
 * interrupted run's, else (for the hyperparameter columns: from KEY, JOB,
 * RES_KEY, and job_id) the params it was submitted with. */
typedef struct ls_store_where {
    int column;                /* LS_COLUMN_* */
    const char *value;         /* equal to it (as a number for a number
                                  column: "64" matches 64.0) */
} ls_store_where;

typedef struct ls_store_query {
    const char *sweep;
    const char *filter;        /* as ls_store_jobs's, or NULL */
    int sort;                  /* LS_COLUMN_* or one of LS_SORT_* */
    int desc;                  /* 1: descending (ties: by pos) */
    const ls_store_where *where;
    size_t nwhere;
    size_t offset, max;
} ls_store_query;

#define LS_SORT_POS (-1)
#define LS_SORT_ID (-2)
#define LS_SORT_STATE (-3)
#define LS_SORT_STATUS (-4)

/* Like ls_store_jobs; rows (may be NULL) gets for each job its row
 * (final or interrupted) or NULL, params its submitted params or NULL:
 * each ls_alloc'ed, the caller ls_frees them.  A job without a value in
 * the sort column comes last either way.  Costs one pass over the
 * sweep's jobs (10,000: milliseconds), then the page. */
int ls_store_jobs_query(ls_store *s, const ls_store_query *q, ls_store_job_info *out,
                        char **rows, char **params, size_t *n, size_t *total, ls_err *err);

/* The distinct values (as text, sorted; at most max) of column in the
 * sweep's jobs (from their rows or params, as above) into *values
 * (ls_alloc'ed array of ls_alloc'ed strings; ls_store_free_values). */
int ls_store_distinct(ls_store *s, const char *sweep, int column, size_t max,
                      char ***values, size_t *n, ls_err *err);
void ls_store_free_values(char **values, size_t n);

/* Job id's entry in every sweep that lists it (up to max, submission
 * order; *n set, 0 if none) and its row (*row ls_alloc'ed, the caller ls_frees;
 * NULL if it has none; row may be NULL). */
int ls_store_job_of(ls_store *s, const char *id, ls_store_job_info *out, size_t max,
                 size_t *n, char **row, ls_err *err);

/* Estimated single-core seconds of the sweep's queued and running jobs. */
int ls_store_left(ls_store *s, const char *sweep, double *est_s, ls_err *err);

/* Final rows of all jobs by status (by_status[ls_status]), for counters:
 * they only grow, as rows are never deleted. */
int ls_store_finished(ls_store *s, size_t by_status[LS_NSTATUS], ls_err *err);

#endif
