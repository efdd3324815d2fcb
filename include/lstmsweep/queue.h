/* queue.h - the jobs as the scheduler sees them, before and while they run.
 *
 * A queue holds the jobs of one sweep (`run`) or of several that come and
 * go (the server).  Adding a sweep is two steps, so that its files are
 * read without blocking the jobs already running:
 *   ls_queue_stage_sweep (no lock needed: only the dispatcher thread changes
 *   the queue's sweeps and data sets) builds the sweep's entries:
 *   1. every job with its id and its cost from the job alone (cost.h:
 *      ls_cost_samples), no file read;
 *   2. only this process's shard (shard.h), split on those costs, so the
 *      split is a pure function of the job list, the same on every
 *      machine;
 *   3. jobs with a final row in the sweep's results file, or that the
 *      front end does not want (ls_run_hooks.wanted), marked done
 *      (skipped; they keep the estimate of step 1, which the dry run
 *      shows);
 *   4. only then the data sets of the jobs left to run are loaded (each
 *      once, shared with the jobs of every sweep of the queue), and those
 *      jobs get their estimate from the real sample counts, their exact
 *      memory and their eval interval;
 *   ls_queue_commit (the runner's lock held) appends them as one group:
 *   5. the order (ls_queue_order): the group that has used the fewest
 *      core-seconds for its weight first (one group under `run`), inside
 *      it largest estimate first, ties by id; and the placement policy
 *      (place.h) over the machine's cores, with the memory limit less the
 *      data sets' bytes.
 * So a Slurm array task reads only its own jobs' data, and a sweep whose
 * jobs are all done reads none.
 *
 * Ownership: the queue owns its entries, groups, data sets and policy; free
 * with ls_queue_free (also after a failed prepare); a stage is freed by
 * its commit or by ls_queue_stage_free.  The sweeps, topology and options
 * must outlive their use.  Not thread-safe: the runner guards it with its
 * lock, except the per-data-set node copies (lock inside) and what is said
 * above of staging.
 */
#ifndef LSTMSWEEP_QUEUE_H
#define LSTMSWEEP_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "lstmsweep/dataset.h"
#include "lstmsweep/error.h"
#include "lstmsweep/place.h"
#include "lstmsweep/results.h"
#include "lstmsweep/runner.h"

/* A sweep of the queue.  Heap-allocated, so that its stop flag stays put
 * while jobs that watch it run. */
typedef struct ls_queue_group {
    const ls_sweep *sw;    /* borrowed */
    unsigned seq;          /* arrival order: the earlier wins a tie */
    double used_s;         /* core-seconds used: before the run, + ended jobs */
    double weight;         /* fair-share weight (> 0), 1 unless the front end says */
    atomic_int stop;       /* drains the group's running jobs */
    size_t live;           /* entries pending or running */
    double key;            /* scratch of ls_queue_order */
} ls_queue_group;

typedef struct ls_queue_entry {
    ls_job job;
    char id[LS_JOB_ID_LEN];
    ls_queue_group *g;     /* NULL once the group is gone (entry done) */
    int skipped;           /* a final row exists: not run */
    int data;              /* index into ls_queue.data; -1 if skipped */
    int eval_every;
    int attempt;           /* from ls_run_hooks.claim, else 0 */
    double end;            /* seconds since the run began (or simulated) */
    ls_result res;
} ls_queue_entry;

typedef struct ls_queue_data {
    char key[LS_JOB_PATH_MAX + 64];
    ls_dataset *main;      /* loaded by the dispatcher thread */
    ls_dataset **node;     /* [nnodes] node-local copies (several nodes only);
                              node[k] == main where main's pages are all on k */
    int nnodes;
    size_t users;          /* entries pending or running on it */
    size_t charged;        /* bytes of the memory limit it takes: one copy
                              per node that may need one */
    pthread_mutex_t lock;
} ls_queue_data;

typedef struct ls_queue {
    ls_queue_entry *e;     /* [n] */
    ls_place_job *pj;      /* [n] the policy's view of e[i] */
    size_t n, cap;         /* entries (this shard's jobs of every group) */
    size_t *order;         /* [n] indices in scheduling order */
    size_t already_done;
    ls_queue_group **groups;
    int ngroups;
    unsigned next_seq;
    ls_queue_data **data;  /* [ndata]; a slot is NULL once nobody uses it */
    int ndata;
    size_t data_bytes;
    size_t mem_base;       /* the memory limit before the data sets */
    int *core_node;        /* [ncores] node index of each core */
    int nnodes;
    const ls_topo *topo;
    const ls_run_opts *o;
    ls_place place;
} ls_queue;

/* One sweep's entries and the data sets they need that the queue lacks. */
typedef struct ls_queue_stage {
    const ls_sweep *sw;
    double used_s;
    ls_queue_entry *e;
    ls_place_job *pj;
    size_t n;
    ls_queue_data **data;  /* new ones: index ls_queue.ndata + i */
    int ndata;
    size_t already_done;
} ls_queue_stage;

/* An empty queue for the machine: 0, LS_ENOMEM, LS_EINVAL (no cores). */
int ls_queue_init(ls_queue *q, const ls_topo *topo, const ls_run_opts *o, ls_err *err);

/* Steps 1-4 for sw (see above) into *st.  0, or LS_ENOMEM, LS_EINVAL
 * (shard, a job oneDNN rejects), LS_EIO / LS_EFORMAT (data, results file)
 * with a message; *st is freed on failure. */
int ls_queue_stage_sweep(ls_queue *q, ls_queue_stage *st, const ls_sweep *sw, double used_s,
                   ls_err *err);
void ls_queue_stage_free(ls_queue_stage *st);

/* Step 5: append the stage as a new group (consumes *st).  The group, or
 * NULL (out of memory; *st freed). */
ls_queue_group *ls_queue_commit(ls_queue *q, ls_queue_stage *st);

/* init + stage + commit of one sweep: the queue `run` and the dry run use.
 * On failure, ls_queue_free still frees what was made. */
int ls_queue_prepare(ls_queue *q, const ls_sweep *sw, const ls_topo *topo,
                     const ls_run_opts *o, ls_err *err);

/* Sort q->order for the scheduler at time `now` (step 5). */
void ls_queue_order(ls_queue *q, double now);

/* Entry i leaves the pending or running jobs (ended, dropped, refused):
 * its group's and data set's counts go down. */
void ls_queue_release(ls_queue *q, size_t i);

/* Free the groups with no live entry and the data sets no entry uses;
 * each freed group's sweep is passed to done(ctx, sw) first.  Then, if no
 * job runs, drop the entries of gone groups.  Returns how many groups
 * remain. */
int ls_queue_reap(ls_queue *q, void (*done)(void *ctx, const ls_sweep *sw), void *ctx);

void ls_queue_free(ls_queue *q);

/* One-line description of a job ("bitcount H24 B100 ..."). */
void ls_queue_describe(const ls_queue_entry *e, char *buf, size_t len);

#endif
