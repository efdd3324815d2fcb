/* searchrun.h - run a sweep's asha search ([search] method = asha,
 * search.h) on the scheduler: the job source between asha.h's decisions
 * and runner.h's placement.
 *
 * The search is one ASHA per task section (bitcount and mnist errors are
 * not comparable), over units: a configuration with all its seeds
 * (seeds = mean), or each job (seeds = each).  Every unit's jobs start
 * with `until` = the first rung; a job that reaches its `until` ends
 * "paused" with a checkpoint (train.h), its row in the results file.  When
 * a unit's jobs all have their row at the rung, the unit's value (the mean
 * of their validation errors; NaN if one diverged or failed) goes to the
 * decisions; a promoted unit's jobs are fed back to the runner with the
 * next rung as `until`, ahead of rung-0 work (each rung weighs 1000x the
 * one below in the runner's fair share), and resume from their
 * checkpoints; a unit stopped for good gets a "stopped" row per job: its
 * paused row's numbers, with the rung, rank and cutoff in the message.
 *
 * Crash safety, determinism: the decisions are made from durable rows
 * only (the runner's `recorded` hook), so the results file holds, in
 * order, everything they depend on.  At start the driver reads it and
 * replays every rung result through the same code, then runs what is left:
 * units not started, promoted units' missing rungs, stopped rows not yet
 * written.  So a search killed at any moment and rerun makes the same
 * decisions and trains no epoch twice beyond the last checkpoint; a search
 * already finished runs nothing.  The audit file (the sweep's search_log,
 * "-search.csv") is written anew from the replay, then appended to: one
 * line per rung result and per decision (LS_SEARCH_LOG_COLUMNS).
 *
 * Shards (--shard i/n, Slurm arrays): the units, not the jobs, are split
 * (ls_shard_assign, by their job count), and each shard searches its own.
 *
 * Identity: the jobs are the sweep's with the search's tag (search.h,
 * ls_search_tag: a hash of the settings and of the shard's jobs), so their
 * ids, rows and checkpoints are the search's own: a grid over the same
 * configurations, in the same file or the same server, is other jobs.
 *
 * The record: `run` reads and writes the results file (ls_search_run);
 * the server its store (jobsource.c), through ls_search_io and the
 * driver object below, which is the same code.
 *
 * Threading: ls_search_run blocks like ls_runner_run; every ls_search_*
 * call takes the driver's lock, so the runner's threads may call them.
 * Errors: those of ls_runner_run, of reading the record, LS_EIO for the
 * audit file or a stopped row that cannot be written (the run then stops
 * starting jobs).
 */
#ifndef LSTMSWEEP_SEARCHRUN_H
#define LSTMSWEEP_SEARCHRUN_H

#include <stdio.h>

#include "lstmsweep/error.h"
#include "lstmsweep/runner.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/topo.h"

#define LS_SEARCH_LOG_COLUMNS \
    "seq,task,config,jobs,rung,epoch,event,value,train_loss,rank,rung_size,cutoff"

typedef struct ls_search_summary {
    size_t units;          /* configurations (or jobs) searched */
    size_t done;           /* units that reached the last rung */
    size_t stopped;        /* units stopped at a rung */
    size_t stopped_rows;   /* "stopped" rows written by this run */
    int finished;          /* every task's search ended */
} ls_search_summary;

/* ---- the driver, for a front end of its own (the server) ---- */

typedef struct ls_search_drv ls_search_drv;

/* One row of the record as fields of the results schema. */
typedef int (*ls_search_row_fn)(void *rctx, int nf, char **f, ls_err *err);

typedef struct ls_search_io {
    void *ctx;
    /* Every durable row of the search so far, oldest first, through row
     * (rows of other jobs are skipped by the driver). */
    int (*replay)(void *ctx, const ls_sweep *sw, ls_search_row_fn row, void *rctx,
                  ls_err *err);
    /* Make job's "stopped" row r durable (its job is not running). */
    int (*stopped)(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                   const ls_result *r, ls_err *err);
} ls_search_io;

/* Set up sw's search (shard i of n), replay the record through io, and
 * write the audit log at log_path anew.  On an error after the search
 * was set up, *out is set all the same (ls_search_close prints its rung
 * tables); otherwise NULL. */
int ls_search_open(ls_search_drv **out, const ls_sweep *sw, int shard_index, int shard_count,
                   const ls_search_io *io, const char *log_path, ls_err *err);
/* The next segment to run (a sweep of sw's name holding the jobs due, with
 * their until and rung) and its weight (1000^rung), or NULL.  It stays
 * valid until ls_search_segment_done. */
const ls_sweep *ls_search_next(ls_search_drv *d, double *weight);
/* Segments waiting (0 also once the driver failed). */
int ls_search_pending(ls_search_drv *d);
/* The run holds nothing of seg any more: its jobs that ended without
 * their rung's result (drained) are queued again.  why: as sweep_done's. */
void ls_search_segment_done(ls_search_drv *d, const ls_sweep *seg, const ls_err *why);
/* A durable row of job id (the runner's recorded hook). */
void ls_search_recorded(ls_search_drv *d, const char *id, const ls_result *r);
/* Non-zero (the error in *err, may be NULL) once the driver failed. */
int ls_search_failed(ls_search_drv *d, ls_err *err);
/* Every task's search has ended. */
int ls_search_finished(ls_search_drv *d);
/* Print the rung tables and choices to log (may be NULL), fill *ss (may
 * be NULL), free d (NULL: nothing). */
void ls_search_close(ls_search_drv *d, FILE *log, ls_search_summary *ss);

/* Run sw's asha search (sw->search.method == LS_SEARCH_ASHA) with the
 * runner; o as for ls_runner_run (o->hooks must be NULL: the driver is
 * the front end).  The chosen configuration of each task and the rung
 * tables are printed to o->log at the end. */
int ls_search_run(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                  ls_run_summary *sum, ls_search_summary *ss, ls_err *err);

#endif
