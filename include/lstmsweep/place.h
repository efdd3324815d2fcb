/* place.h - the placement policy of the scheduler: which pending job
 * starts next, with how many threads, on which cores of which NUMA node.
 *
 * Pure: no threads, no I/O, no hwloc.  The machine is plain arrays (core
 * c is on node core_node[c]); jobs are plain values.  The runner's
 * dispatch loop (runner.c) and the dry run's simulator (plan.c) both call
 * ls_place_next, so the plan shows what the runner does, and the unit tests
 * (tests/check_place.c) drive it through sequences of events by hand.
 *
 * The rules:
 *  - Order: the caller's (largest estimate first); the first pending job
 *    that fits starts.
 *  - Threads: the job's own fixed count (`threads`: its sweep's
 *    threads_per_job) if > 0, else threads_per_job if > 0, else one, or at the tail (fewer
 *    pending jobs than free cores, job over 10 calibrated seconds) an
 *    equal share of the free cores; never more than ls_job_useful_threads
 *    (the job's `useful`), never more than one node holds.  And on a big
 *    machine, the critical path: a pending job longer than the machine's
 *    share of the pending work (pending_work / ncores) would end the sweep
 *    alone on one core, so it gets the threads that bring it down to that
 *    share (est / speedup(k) <= share), but no more than the free cores
 *    split evenly between the pending jobs that long, so that widening
 *    them never leaves one of them waiting for cores.
 *  - Cores: all k on ONE node, the node with the fewest free cores that
 *    still has k (best fit keeps whole nodes free for wide jobs); a node
 *    with too few free cores is skipped.
 *  - Memory: running jobs' bytes never exceed mem_limit; a job larger than
 *    the whole limit is returned once with k = 0 ("too big").
 *  - Reservation (so that largest-first holds under memory pressure): the
 *    first job in order that does not fit in the free memory is the head.
 *    From the estimated ends of the running jobs (start + est_s * calib /
 *    speedup(k)) the policy computes the shadow time, when enough memory
 *    will be free for the head, and the spare bytes then left beside it.
 *    A later job may start only if it is estimated to end by the shadow
 *    time, or if its bytes fit in the spare.  So backfilling never delays
 *    the head (as far as estimates go), and a small job cannot overtake it
 *    forever.  Running jobs already past their estimated end count as
 *    ending now: when estimates are too short, only jobs that fit in the
 *    spare still start, and the head starts as soon as its memory is
 *    there.  Cores are not reserved: with a fixed threads_per_job every job
 *    needs the same k, and in auto mode a job asks for one core except at
 *    the tail.
 *
 * Ownership: ls_place_init allocates; ls_place_free frees (and may be
 * called after a failed ls_place_init).
 * core_node is borrowed and must outlive the ls_place.  Not thread-safe:
 * the runner calls it under its lock.
 */
#ifndef LSTMSWEEP_PLACE_H
#define LSTMSWEEP_PLACE_H

#include <stddef.h>

#include "lstmsweep/error.h"

#define LS_PLACE_MAX_K 256

typedef enum {
    LS_PLACE_PENDING = 0,
    LS_PLACE_RUNNING,
    LS_PLACE_DONE      /* ended, failed as too big, or never to run */
} ls_place_state;

typedef struct ls_place_job {
    double est_s;           /* single-core seconds (cost.h) */
    size_t mem;             /* bytes while running */
    int useful;             /* most threads that still help (>= 1) */
    int threads;            /* a fixed count for this job (its sweep's
                               threads_per_job), 0: the policy's */
    ls_place_state state;
    /* set by ls_place_next when it starts the job: */
    int k;                  /* threads; 0 = too big for the memory limit */
    int node;               /* node index of its cores */
    int cores[LS_PLACE_MAX_K];
    double start;           /* the `now` it started at, seconds */
} ls_place_job;

typedef struct ls_place {
    int ncores, nnodes, max_node_cores;
    const int *core_node;   /* [ncores] node index 0..nnodes-1, borrowed */
    int *core_busy;         /* [ncores] owned */
    size_t mem_limit;       /* bytes for all running jobs */
    size_t mem_used;
    int threads_per_job;    /* 0 = auto */
    int reserve;            /* reservation for the head: 1 (init), 0 = off */
    double calib;           /* actual / estimated seconds; 1 (init) */
    size_t pending, running;
    double pending_work;    /* est_s summed over the pending jobs */
    struct ls_place_end *ends; /* [ncores] scratch for the shadow time */
} ls_place;

/* Set up for a machine of ncores cores (core c on node core_node[c]) and
 * the jobs jobs[0..n) (counts the pending ones).  0, LS_ENOMEM or
 * LS_EINVAL (no cores, a node index out of range), with a message. */
int ls_place_init(ls_place *p, int ncores, int nnodes, const int *core_node,
                  size_t mem_limit, int threads_per_job,
                  const ls_place_job *jobs, size_t n, ls_err *err);
void ls_place_free(ls_place *p);

/* The next job to start at time `now`, scanning jobs[order[0..n)] (the
 * queue in priority order; jobs not pending are passed over): its index
 * in jobs, now RUNNING with k, node, cores and start set and its cores and
 * bytes taken; or a job too big for the limit, now DONE with k = 0; or -1
 * if nothing can start now.  Call until -1 after every event. */
long ls_place_next(ls_place *p, ls_place_job *jobs, const size_t *order,
                   size_t n, double now);

/* A job joins the pending ones (a sweep added to a running queue). */
void ls_place_add(ls_place *p, const ls_place_job *job);
/* A pending job leaves without running (its sweep drained); it becomes DONE. */
void ls_place_drop(ls_place *p, ls_place_job *job);

/* A running job ended: give back its cores and bytes; it becomes DONE. */
void ls_place_finish(ls_place *p, ls_place_job *job);

/* Its estimated end: start + est_s * calib / speedup(k). */
double ls_place_est_end(const ls_place *p, const ls_place_job *job);

#endif
