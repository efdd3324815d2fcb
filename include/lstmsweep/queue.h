/* queue.h - a sweep's jobs as the scheduler sees them, before any runs.
 *
 * ls_queue_prepare turns a sweep into the queue that the runner
 * (runner.h) and its dry run (ls_runner_plan) schedule:
 *   1. every job with its id and its cost from the job alone (cost.h:
 *      ls_cost_samples), no file read;
 *   2. only this process's shard (shard.h), split on those costs, so the
 *      split is a pure function of the job list, the same on every
 *      machine;
 *   3. jobs with a final row in the results file marked done (skipped;
 *      they keep the estimate of step 1, which the dry run shows);
 *   4. only then the data sets of the jobs left to run are loaded (each
 *      once), and those jobs get their estimate from the real sample
 *      counts, their exact memory and their eval interval;
 *   5. the order, largest estimate first (ties by id), and the placement
 *      policy (place.h) over the machine's cores, with the memory limit
 *      less the data sets' bytes.
 * So a Slurm array task reads only its own jobs' data, and a sweep whose
 * jobs are all done reads none.
 *
 * Ownership: the queue owns its entries, data sets and policy; free with
 * ls_queue_free (also after a failed prepare).  The sweep, topology and
 * options must outlive it.  Not thread-safe: the runner guards it with
 * its lock, except the per-data-set node copies (lock inside).
 */
#ifndef LSTMSWEEP_QUEUE_H
#define LSTMSWEEP_QUEUE_H

#include <pthread.h>
#include <stddef.h>

#include "lstmsweep/dataset.h"
#include "lstmsweep/error.h"
#include "lstmsweep/place.h"
#include "lstmsweep/results.h"
#include "lstmsweep/runner.h"

typedef struct ls_queue_entry {
    ls_job job;
    char id[LS_JOB_ID_LEN];
    int skipped;           /* a final row exists: not run */
    int data;              /* index into ls_queue.data; -1 if skipped */
    int eval_every;
    int attempt;           /* from ls_run_hooks.claim, else 0 */
    double end;            /* seconds since the run began (or simulated) */
    ls_result res;
} ls_queue_entry;

typedef struct ls_queue_data {
    char key[LS_JOB_PATH_MAX + 64];
    ls_dataset *main;      /* loaded by the main thread */
    ls_dataset **node;     /* [nnodes] node-local copies (several nodes only) */
    pthread_mutex_t lock;
} ls_queue_data;

typedef struct ls_queue {
    ls_queue_entry *e;     /* [n] */
    ls_place_job *pj;      /* [n] the policy's view of e[i] */
    size_t n;              /* jobs of this shard */
    size_t *order;         /* [n] indices, largest estimate first */
    size_t already_done;
    ls_queue_data *data;
    int ndata;
    size_t data_bytes;
    int *core_node;        /* [ncores] node index of each core */
    ls_place place;
} ls_queue;

/* Build the queue (see above).  0, or LS_ENOMEM, LS_EINVAL (shard, a job
 * oneDNN rejects), LS_EIO / LS_EFORMAT (data, results file) with a
 * message. */
int ls_queue_prepare(ls_queue *q, const ls_sweep *sw, const ls_topo *topo,
                     const ls_run_opts *o, ls_err *err);
void ls_queue_free(ls_queue *q);

/* One-line description of a job ("bitcount H24 B100 ..."). */
void ls_queue_describe(const ls_queue_entry *e, char *buf, size_t len);

#endif
