/* runner.h - run a whole sweep in one process: the job scheduler.
 *
 * The machine (ls_topo: only the CPUs this process may use) is shared by
 * jobs that each get k cores inside one NUMA node; a pool of worker threads,
 * one per core, runs them, each job's OpenMP team bound one thread per core.
 *
 *  - Order: largest estimated job first (cost model, cost.h: FLOPs plus
 *    measured per-element and per-step overheads), so the sweep does not
 *    end waiting on one big job; smaller jobs backfill whatever cores and
 *    memory are free, but never so as to delay the largest job waiting
 *    for memory (the reservation of place.h).
 *  - Threads: a fixed k (threads_per_job) or auto: one core per job (the
 *    throughput optimum: a 2-thread oneDNN job is only ~1.4x faster than a
 *    1-thread one), except at the tail, when fewer jobs remain than free
 *    cores and a job is long enough to gain from more.
 *  - Memory: each job's bytes are computed exactly before it starts
 *    (ls_model_estimate_bytes) and concurrent jobs never exceed mem_limit;
 *    a job larger than the whole limit fails with a message.
 *  The placement rules are place.h's (pure, unit-tested); the dry run
 *  simulates them (plan.h).
 *  - Data: each data set is loaded once and shared read-only by all jobs;
 *    on a machine with several NUMA nodes each node gets its own copy, made
 *    by a thread bound to that node.
 *  - Results: each job's row is appended when it ends (crash-safe, see
 *    results.h); a rerun skips jobs whose final row exists (ok, diverged,
 *    and failed unless retry_failed), so a sweep killed at any moment and
 *    rerun ends with every job exactly once.  When *stop becomes set
 *    (drain.h), no job is started, running jobs checkpoint at their
 *    next epoch boundary and are recorded "interrupted"; the rerun resumes
 *    them from their checkpoints.  If the results file cannot be written,
 *    no further job is started and the call fails.
 *
 * Errors: LS_EIO (results file), LS_ENOMEM, LS_EINVAL; a failing job is not
 * an error of the call (it is a "failed" row).
 */
#ifndef LSTMSWEEP_RUNNER_H
#define LSTMSWEEP_RUNNER_H

#include <stdatomic.h>
#include <stdio.h>

#include "lstmsweep/error.h"
#include "lstmsweep/results.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/topo.h"
#include "lstmsweep/train.h"

/* What a front end other than the results file (the server's queue) says
 * about a run's jobs.  Every hook may be NULL; they are called from the
 * runner's threads, so they must be thread-safe.  `sw` is the sweep the
 * job belongs to (a run may hold several, see next_sweep).
 *  - wanted: 0 drops the job before anything is loaded for it (done in the
 *    queue already, or cancelled), like a final row in the results file;
 *  - claim: just before the job starts where `where` says (dispatcher
 *    thread, the runner's lock held: keep it short): 0 and its attempt
 *    number, or non-zero to leave it unstarted (counted in
 *    ls_run_summary.refused);
 *  - epoch: after each of its epochs (worker thread, no lock held);
 *  - ended: when the job has ended (worker thread), with its row's text (no
 *    newline), before the row is appended to the results file: the front
 *    end's record is the commit point.  Non-zero is like a failed append:
 *    no row, the checkpoint is kept, no further job starts.
 * A front end that feeds the run while it goes (the server) also sets:
 *  - next_sweep: called by the dispatcher (no lock held) at every turn of
 *    its loop: a sweep to add to the run now, or NULL; *used_s gets the
 *    core-seconds it has already used (its fair share starts there).  The
 *    sweep must stay valid until sweep_done is called for it.  With this
 *    hook the run does not end when it runs out of jobs; it waits for
 *    more, and ends only when *stop is set (all jobs drain);
 *  - share: for each sweep of the run, at every turn (no lock held): its
 *    weight (> 0; the dispatcher starts next the job of the sweep with the
 *    fewest core-seconds used per unit of weight, then the largest), and
 *    whether it must drain (paused, cancelled: its pending jobs are
 *    dropped, its running ones checkpoint at their next step and end
 *    "interrupted");
 *  - sweep_done: the run holds nothing of the sweep any more (its jobs all
 *    ended or were dropped, or the run ended): it may be freed, or returned
 *    by next_sweep again.  why is NULL, or the error that kept a sweep from
 *    next_sweep out of the run (its results file or data could not be
 *    read);
 *  - recorded: after the job's row is in the results file (worker thread,
 *    no lock held): what a front end decides from results (an adaptive
 *    search) it decides from durable rows only;
 *  - idle_end: with next_sweep, when the run holds no job (dispatcher, no
 *    lock): non-zero ends the run as if it had been fed a fixed set (the
 *    search has nothing more to give). */
/* Where a job is about to run, for a front end's view of the node. */
typedef struct ls_run_place {
    const char *cpus;      /* its PUs, "0-1,4" */
    int numa_node;         /* OS index of their NUMA node */
    size_t mem;            /* its memory estimate, bytes */
} ls_run_place;

typedef struct ls_run_hooks {
    void *ctx;
    int (*wanted)(void *ctx, const ls_sweep *sw, const char *id);
    int (*claim)(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                 const ls_run_place *where, int *attempt);
    void (*epoch)(void *ctx, const ls_sweep *sw, const char *id, const ls_epoch_info *e);
    int (*ended)(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                 int attempt, const ls_result *r, const char *row, ls_err *err);
    const ls_sweep *(*next_sweep)(void *ctx, double *used_s);
    void (*share)(void *ctx, const ls_sweep *sw, double *weight, int *drain);
    void (*sweep_done)(void *ctx, const ls_sweep *sw, const ls_err *why);
    void (*recorded)(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                     const ls_result *r);
    int (*idle_end)(void *ctx);
} ls_run_hooks;

typedef struct ls_run_opts {
    int threads_per_job;            /* 0 = auto */
    size_t mem_limit;               /* bytes; 0 = 90% of MemAvailable */
    int retry_failed;               /* rerun jobs whose row says failed */
    int shard_index, shard_count;   /* run shard i of n (0 of 1: all) */
    atomic_int *stop;    /* set => drain and stop */
    FILE *log;                      /* progress, or NULL */
    int live;                       /* one refreshed status line (a TTY) */
    double checkpoint_interval_s;   /* periodic checkpoints; 0 = off */
    const ls_run_hooks *hooks;      /* a front end's say, or NULL */
} ls_run_opts;

typedef struct ls_run_summary {
    size_t jobs;           /* in the sweep (this shard) */
    size_t already_done;   /* skipped: final row found */
    size_t ok, diverged, failed, interrupted;
    size_t paused;         /* ended at their `until` (an adaptive search) */
    size_t not_started;    /* left for a rerun (stop, or results error) */
    size_t refused;        /* not started: the claim hook said no */
    double wall_s;
} ls_run_summary;

/* Run sw (with the next_sweep hook, sw may be NULL: the run starts empty).
 * 0 when every job ended or the run was drained; the error of a failed
 * results append or a queue that could not be prepared otherwise. */
int ls_runner_run(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                  ls_run_summary *sum, ls_err *err);

/* Dry run: list every job, whether it is already done, its estimated time,
 * memory, threads, the cores it would run on and when (simulating the
 * scheduler with the estimates), then the estimated makespan and its lower
 * bound max(total work / cores, longest job at its widest), and per NUMA
 * node the peak memory of its jobs and its data copies. */
int ls_runner_plan(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                   FILE *out, ls_err *err);

#endif
