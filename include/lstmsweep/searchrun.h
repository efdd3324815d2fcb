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
 * Threading: ls_search_run blocks like ls_runner_run; the hooks it gives
 * the runner take the driver's lock.  Errors: those of ls_runner_run, of
 * reading the results file, LS_EIO for the audit file or a stopped row
 * that cannot be written (the run then stops starting jobs).
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

/* Run sw's asha search (sw->search.method == LS_SEARCH_ASHA) with the
 * runner; o as for ls_runner_run (o->hooks must be NULL: the driver is
 * the front end).  The chosen configuration of each task and the rung
 * tables are printed to o->log at the end. */
int ls_search_run(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                  ls_run_summary *sum, ls_search_summary *ss, ls_err *err);

#endif
