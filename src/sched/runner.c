/* runner.c - the sweep scheduler; see include/lstmsweep/runner.h.
 *
 * Structure: prepare() turns the sweep into entries (resume filter, data
 * sets, estimates, order); pick() is the placement policy, shared by the
 * real run (dispatch loop + worker pool) and the dry run (a simulation on
 * estimated durations), so the plan shows exactly what the runner does. */
#include "lstmsweep/runner.h"
#include "lstmsweep/prefix.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/drain.h"
#include "lstmsweep/results.h"
#include "lstmsweep/shard.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/train.h"

#define MAX_K 256

typedef enum { E_PENDING, E_RUNNING, E_DONE, E_SKIPPED } estate;

typedef struct entry {
    ls_job job;
    char id[LS_JOB_ID_LEN];
    int data;              /* index into runner.data */
    int eval_every;
    double est_s;          /* single-core seconds (machine-independent model) */
    size_t mem;            /* bytes while running */
    estate state;
    int k, node, cores[MAX_K];
    double start, end;     /* seconds since the run began (or simulated) */
    ls_result res;
} entry;

typedef struct dataref {
    char key[LS_JOB_PATH_MAX + 64];
    ls_dataset *main;      /* loaded by the main thread */
    ls_dataset **node;     /* [nnodes] node-local copies (several nodes only) */
    pthread_mutex_t lock;
} dataref;

typedef struct runner runner;

typedef struct worker {
    runner *R;
    pthread_t thread;
    pthread_cond_t cv;
    entry *job;            /* assignment, NULL when idle */
    int quit;
} worker;

struct runner {
    const ls_sweep *sw;
    ls_topo *topo;
    const ls_run_opts *o;
    entry *e;
    size_t n;
    size_t *order;         /* indices of e, largest estimate first */
    dataref *data;
    int ndata;
    int ncores, nnodes, max_node_cores;
    int *core_busy;
    size_t mem_limit, mem_used, data_bytes;
    double calib_sum;      /* sum of actual/estimated over finished jobs */
    int calib_n;
    size_t pending, running;
    ls_run_summary sum;
    /* real runs only */
    pthread_mutex_t lock;
    pthread_cond_t cv_done;
    worker *workers;
    int results_failed;
    ls_err results_err;
    double t0;
};

/* ---- cost model ---------------------------------------------------------
 * Single-core seconds, machine-independent on purpose (shards computed on
 * different machines must agree).  Fitted on this project's reference VM
 * (oneDNN 2.6.3, AVX-512, sgemm ~74 GFLOP/s per core): a training step
 * costs its FLOPs at ~60 GFLOP/s plus ~56 ns per (sample, unit) per step and
 * layer (the element-wise gate work that dominates small H) plus ~20 us per
 * step and layer; inference costs ~0.4 of a training step per sample. */
#define COST_FLOPS 60e9
#define COST_ELEM 56e-9
#define COST_STEP 20e-6
#define COST_INFER 0.4

double ls_runner_estimate_seconds(const ls_job *j, size_t n_train,
                                  size_t n_test, int eval_every)
{
    int T = j->task == LS_TASK_BITCOUNT ? j->bits : 28;
    double per_sample = 3 * ls_job_flops_per_sample(j) / COST_FLOPS +
                        (double)T * j->layers *
                            (COST_ELEM * j->hidden + COST_STEP / j->batch);
    int evals = j->epochs / eval_every + (j->epochs % eval_every != 0);
    double infer = j->task == LS_TASK_BITCOUNT /* down the prefix tree */
                       ? COST_INFER * ls_prefix_eval_cost(j->bits) : COST_INFER;
    return per_sample * ((double)n_train * j->epochs +
                         infer * (double)n_test * evals);
}

/* Speed-up of a k-thread job over one thread (measured ~1.44 at k = 2). */
static double speedup(int k)
{
    return pow((double)k, 0.55);
}

/* ---- preparation -------------------------------------------------------- */

static void data_key(const ls_job *j, char *buf, size_t len)
{
    if (j->task == LS_TASK_BITCOUNT)
        snprintf(buf, len, "bitcount:%d:%ld:%llu", j->bits, j->train_size,
                 (unsigned long long)j->seed);
    else
        snprintf(buf, len, "mnist:%s", j->data);
}

/* Index of the job's data set, loading it the first time. */
static int data_index(runner *R, const ls_job *j, ls_err *err)
{
    char key[sizeof R->data[0].key];
    data_key(j, key, sizeof key);
    for (int i = 0; i < R->ndata; i++)
        if (!strcmp(R->data[i].key, key))
            return i;
    dataref *d = realloc(R->data, sizeof *d * (size_t)(R->ndata + 1));
    if (!d)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    R->data = d;
    d = &R->data[R->ndata];
    memset(d, 0, sizeof *d);
    snprintf(d->key, sizeof d->key, "%s", key);
    pthread_mutex_init(&d->lock, NULL);
    if (!(d->node = calloc((size_t)R->nnodes, sizeof *d->node)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    int rc = ls_train_load_data(j, &d->main, err);
    R->ndata++;
    if (rc)
        return rc;
    R->data_bytes += ls_dataset_bytes(d->main);
    return R->ndata - 1;
}

/* Job ids that already have a final row in the results file. */
typedef struct done_set {
    char (*ids)[LS_JOB_ID_LEN];
    size_t n, cap;
    int retry_failed, id_col, status_col;
} done_set;

static int done_row(void *ctx, const char *path, long line, int nf, char **f,
                    ls_err *err)
{
    done_set *d = ctx;
    ls_status st;
    (void)nf;
    if (ls_status_parse(f[d->status_col], &st) != 0)
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: unknown status '%s'", path,
                          line, f[d->status_col]);
    if (st == LS_STATUS_INTERRUPTED || (st == LS_STATUS_FAILED && d->retry_failed))
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 256;
        void *p = realloc(d->ids, cap * sizeof *d->ids);
        if (!p)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        d->ids = p;
        d->cap = cap;
    }
    snprintf(d->ids[d->n++], LS_JOB_ID_LEN, "%s", f[d->id_col]);
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* d->ids sorted (read_done sorts them), so a sweep of 100,000 jobs over a
 * results file as long resumes in O(n log n). */
static int is_done(const done_set *d, const char *id)
{
    return d->n && bsearch(id, d->ids, d->n, sizeof *d->ids, cmp_id) != NULL;
}

static int read_done(runner *R, done_set *d, ls_err *err)
{
    int torn = 0, rc;
    struct stat st;

    d->retry_failed = R->o->retry_failed;
    d->id_col = ls_csv_column(LS_RESULTS_COLUMNS, "job_id");
    d->status_col = ls_csv_column(LS_RESULTS_COLUMNS, "status");
    if (stat(R->sw->results, &st) != 0 || st.st_size == 0)
        return 0;                          /* nothing done yet */
    rc = ls_csv_read(R->sw->results, LS_RESULTS_COLUMNS, done_row, d, &torn, err);
    if (!rc && d->n)
        qsort(d->ids, d->n, sizeof *d->ids, cmp_id);
    if (!rc && torn && R->o->log)
        fprintf(R->o->log, "lstmsweep: note: %s ends in a torn line (a crash "
                "while writing); it is ignored and its job reruns\n", R->sw->results);
    return rc;
}

static int cmp_est_desc(const void *a, const void *b, void *ctx);

static size_t *sort_by_estimate(entry *e, size_t n)
{
    size_t *ord = malloc(sizeof *ord * (n ? n : 1));
    if (!ord)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    qsort_r(ord, n, sizeof *ord, cmp_est_desc, e);
    return ord;
}

static int cmp_est_desc(const void *a, const void *b, void *ctx)
{
    const entry *e = ctx;
    const entry *x = &e[*(const size_t *)a], *y = &e[*(const size_t *)b];
    if (x->est_s != y->est_s)
        return x->est_s > y->est_s ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Keep only this process's shard of the jobs (see shard.h). */
static int keep_shard(runner *R)
{
    int n = R->o->shard_count, rc;
    if (n <= 1)
        return 0;
    double *cost = malloc(sizeof *cost * (R->n ? R->n : 1));
    char (*ids)[LS_JOB_ID_LEN] = malloc(sizeof *ids * (R->n ? R->n : 1));
    int *shard = malloc(sizeof *shard * (R->n ? R->n : 1));
    if (!cost || !ids || !shard) {
        rc = LS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < R->n; i++) {
        cost[i] = R->e[i].est_s;
        memcpy(ids[i], R->e[i].id, LS_JOB_ID_LEN);
    }
    if ((rc = ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])ids, R->n, n, shard)))
        goto out;
    size_t w = 0;
    for (size_t i = 0; i < R->n; i++)
        if (shard[i] == R->o->shard_index)
            R->e[w++] = R->e[i];
    R->n = w;
out:
    free(cost);
    free(ids);
    free(shard);
    return rc;
}

static int make_entry(runner *R, entry *e, const ls_job *j, ls_err *err)
{
    int di = data_index(R, j, err);
    if (di < 0)
        return di;
    const ls_dataset *ds = R->data[di].main;
    size_t n_train = ds->n_train, n_test = ds->n_test;
    if (j->task == LS_TASK_MNIST && j->train_size > 0 && (size_t)j->train_size < n_train)
        n_train = (size_t)j->train_size;
    memset(e, 0, sizeof *e);
    e->job = *j;
    e->data = di;
    ls_job_id(j, e->id);
    e->eval_every = j->eval_every > 0 ? j->eval_every : ls_train_auto_eval_every(ds);
    e->est_s = ls_runner_estimate_seconds(j, n_train, n_test, e->eval_every);
    ls_model_config cfg = {.T = ds->T, .I = ds->I, .H = j->hidden, .L = j->layers,
                           .C = ds->classes, .batch = j->batch,
                           .dropout = (float)j->dropout, .seed = j->seed};
    cfg.eval_batch = ls_train_eval_batch(&cfg, n_test);
    e->mem = ls_train_estimate_bytes(&cfg, ds, n_train);
    if (e->mem == 0)
        return ls_err_set(err, LS_EINVAL, "job %s: oneDNN rejects its shape", e->id);
    ls_result_init(&e->res);
    return 0;
}

static int prepare(runner *R, ls_err *err)
{
    done_set done = {0};
    int rc;

    R->ncores = ls_topo_ncores(R->topo);
    R->nnodes = ls_topo_nnodes(R->topo);
    for (int nd = 0; nd < R->nnodes; nd++) {
        int c = 0;
        for (int i = 0; i < R->ncores; i++)
            c += ls_topo_core_node(R->topo, i) == nd;
        R->max_node_cores = c > R->max_node_cores ? c : R->max_node_cores;
    }
    R->core_busy = calloc((size_t)R->ncores, sizeof *R->core_busy);
    R->e = calloc(R->sw->njobs ? R->sw->njobs : 1, sizeof *R->e);
    if (!R->core_busy || !R->e)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    /* ls_sweep_load rejects a sweep that lists the same job twice, so the
     * job ids are distinct here. */
    for (size_t i = 0; i < R->sw->njobs; i++) {
        if ((rc = make_entry(R, &R->e[R->n], &R->sw->jobs[i], err)))
            return rc;
        R->n++;
    }
    if ((rc = keep_shard(R)))
        return ls_err_set(err, rc, "out of memory");
    if ((rc = read_done(R, &done, err))) {
        free(done.ids);
        return rc;
    }
    R->sum.jobs = R->n;
    for (size_t i = 0; i < R->n; i++) {
        R->e[i].state = is_done(&done, R->e[i].id) ? E_SKIPPED : E_PENDING;
        if (R->e[i].state == E_SKIPPED)
            R->sum.already_done++;
        else
            R->pending++;
    }
    free(done.ids);
    if (!(R->order = sort_by_estimate(R->e, R->n)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    R->mem_limit = R->o->mem_limit ? R->o->mem_limit
                                   : ls_sys_available_memory() / 10 * 9;
    R->mem_limit = R->mem_limit > R->data_bytes ? R->mem_limit - R->data_bytes : 0;
    return 0;
}

/* ---- placement policy ---------------------------------------------------- */

static int free_cores(const runner *R, int node)
{
    int c = 0;
    for (int i = 0; i < R->ncores; i++)
        c += !R->core_busy[i] && (node < 0 || ls_topo_core_node(R->topo, i) == node);
    return c;
}

/* Threads for a job about to start; see runner.h. */
static int choose_k(const runner *R, const entry *e)
{
    int k = 1;
    if (R->o->threads_per_job > 0) {
        k = R->o->threads_per_job;
    } else {
        int nfree = free_cores(R, -1);
        double calib = R->calib_n ? R->calib_sum / R->calib_n : 1;
        if (R->pending < (size_t)nfree && e->est_s * calib > 10)
            k = nfree / (int)R->pending;
        int useful = ls_job_useful_threads(&e->job);
        if (k > useful)
            k = useful; /* a small step runs slower on more threads */
    }
    if (k > R->max_node_cores)
        k = R->max_node_cores;
    return k < 1 ? 1 : k > MAX_K ? MAX_K : k;
}

/* The node with the fewest free cores that still has k (best fit keeps
 * whole nodes free for wide jobs); -1 if none. */
static int best_node(const runner *R, int k)
{
    int best = -1, best_free = 0;
    for (int nd = 0; nd < R->nnodes; nd++) {
        int f = free_cores(R, nd);
        if (f >= k && (best < 0 || f < best_free))
            best = nd, best_free = f;
    }
    return best;
}

/* Next job to start and its placement, or NULL.  A job that can never
 * fit in memory is returned with k = 0: the caller fails it. */
static entry *pick(runner *R)
{
    for (size_t i = 0; i < R->n; i++) {
        entry *e = &R->e[R->order[i]];
        if (e->state != E_PENDING)
            continue;
        if (e->mem > R->mem_limit) {
            e->k = 0;
            return e;
        }
        if (R->mem_used + e->mem > R->mem_limit)
            continue;                      /* a smaller job may fit */
        int k = choose_k(R, e), node = best_node(R, k);
        if (node < 0)
            continue;
        e->k = k;
        e->node = node;
        for (int c = 0, got = 0; c < R->ncores && got < k; c++)
            if (!R->core_busy[c] && ls_topo_core_node(R->topo, c) == node) {
                R->core_busy[c] = 1;
                e->cores[got++] = c;
            }
        R->mem_used += e->mem;
        R->pending--;
        R->running++;
        e->state = E_RUNNING;
        return e;
    }
    return NULL;
}

static void release(runner *R, entry *e)
{
    for (int i = 0; i < e->k; i++)
        R->core_busy[e->cores[i]] = 0;
    R->mem_used -= e->mem;
    R->running--;
    e->state = E_DONE;
}

static void fail_too_big(runner *R, entry *e)
{
    e->state = E_DONE;
    R->pending--;
    e->res.status = LS_STATUS_FAILED;
    snprintf(e->res.message, sizeof e->res.message,
             "needs %.2f GiB, more than the memory limit of %.2f GiB",
             e->mem / 1073741824.0, R->mem_limit / 1073741824.0);
}

static void runner_free(runner *R)
{
    for (int i = 0; i < R->ndata; i++) {
        ls_dataset_destroy(R->data[i].main);
        for (int nd = 0; R->data[i].node && nd < R->nnodes; nd++)
            ls_dataset_destroy(R->data[i].node[nd]);
        free(R->data[i].node);
        pthread_mutex_destroy(&R->data[i].lock);
    }
    free(R->data);
    free(R->e);
    free(R->order);
    free(R->core_busy);
}

/* ---- dry run --------------------------------------------------------------- */


static void describe(const entry *e, char *buf, size_t len)
{
    snprintf(buf, len, "%-8s H%-4d B%-5d L%d drop%-4g seed%-3llu %5d ep",
             ls_task_name(e->job.task), e->job.hidden, e->job.batch,
             e->job.layers, e->job.dropout, (unsigned long long)e->job.seed,
             e->job.epochs);
}

/* Simulate the dispatcher on estimated durations: start times, places and
 * the makespan. */
static double simulate(runner *R)
{
    double now = 0, makespan = 0;
    for (;;) {
        entry *e;
        while ((e = pick(R))) {
            if (e->k == 0) {
                fail_too_big(R, e);
                continue;
            }
            e->start = now;
            e->end = now + e->est_s / speedup(e->k);
        }
        if (R->running == 0)
            break;
        entry *next = NULL;            /* the running job that ends first */
        for (size_t i = 0; i < R->n; i++)
            if (R->e[i].state == E_RUNNING && (!next || R->e[i].end < next->end))
                next = &R->e[i];
        now = next->end;
        makespan = now > makespan ? now : makespan;
        release(R, next);
    }
    return makespan;
}

int ls_runner_plan(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                   FILE *out, ls_err *err)
{
    runner R = {.sw = sw, .topo = topo, .o = o};
    char desc[128], cpus[64], est[32], at[32];
    double work = 0, longest = 0;
    int rc = prepare(&R, err);

    if (!rc) {
        for (size_t i = 0; i < R.n; i++)
            if (R.e[i].state == E_PENDING) {
                work += R.e[i].est_s;
                longest = R.e[i].est_s > longest ? R.e[i].est_s : longest;
            }
        double makespan = simulate(&R);
        fprintf(out, "sweep %s: %zu job(s), %zu already done; results %s\n",
                sw->name, R.n, R.sum.already_done, sw->results);
        fprintf(out, "%-16s %-44s %9s %9s %3s %-8s %4s %9s\n", "job_id", "job",
                "est_1core", "memory", "thr", "cpus", "node", "starts_at");
        for (size_t i = 0; i < R.n; i++) {
            const entry *e = &R.e[R.order[i]];
            describe(e, desc, sizeof desc);
            ls_sys_format_duration(e->est_s, est, sizeof est);
            if (e->state == E_SKIPPED) {
                fprintf(out, "%-16s %-44s %9s %9s %3s %-8s %4s %9s\n", e->id, desc,
                        est, "-", "-", "-", "-", "done");
                continue;
            }
            if (e->k == 0) {
                fprintf(out, "%-16s %-44s %9s %8.2fG %3s %-8s %4s %9s\n", e->id,
                        desc, est, e->mem / 1073741824.0, "-", "-", "-",
                        "TOO BIG");
                continue;
            }
            ls_topo_cpulist(topo, e->cores, e->k, cpus, sizeof cpus);
            ls_sys_format_duration(e->start, at, sizeof at);
            fprintf(out, "%-16s %-44s %9s %8.1fM %3d %-8s %4d %9s\n", e->id, desc,
                    est, e->mem / 1048576.0, e->k, cpus,
                    ls_topo_node_os_index(topo, e->node), at);
        }
        double bound = fmax(work / R.ncores, longest);
        ls_sys_format_duration(makespan, est, sizeof est);
        ls_sys_format_duration(bound, at, sizeof at);
        fprintf(out, "estimated makespan %s on %d core(s) (lower bound %s); "
                "estimates are from a fixed cost model, real times vary by machine\n",
                est, R.ncores, at);
    }
    runner_free(&R);
    return rc;
}

/* ---- the real run ------------------------------------------------------ */

/* One progress line.  On a terminal the live status line is cleared first
 * (it is redrawn by the dispatcher); in a batch log every line carries a
 * UTC timestamp.  Called with R->lock held. */
static void log_line(runner *R, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void log_line(runner *R, const char *fmt, ...)
{
    FILE *f = R->o->log;
    char ts[32];
    va_list ap;

    if (!f)
        return;
    if (R->o->live)
        fputs("\r\033[K", f);
    else {
        ls_sys_now_iso(ts, sizeof ts);
        fprintf(f, "%s ", ts);
    }
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}

static double remaining_estimate(const runner *R, double now)
{
    double calib = R->calib_n ? R->calib_sum / R->calib_n : 1, work = 0;
    for (size_t i = 0; i < R->n; i++) {
        const entry *e = &R->e[i];
        if (e->state == E_PENDING)
            work += e->est_s * calib;
        else if (e->state == E_RUNNING)
            work += fmax(0, e->est_s * calib / speedup(e->k) - (now - e->start)) * e->k;
    }
    return work / R->ncores;
}

static void live_status(runner *R)
{
    char el[32], eta[32];
    double now = ls_sys_seconds() - R->t0;
    size_t done = R->sum.ok + R->sum.diverged + R->sum.failed + R->sum.interrupted;
    if (!R->o->log || !R->o->live)
        return;
    ls_sys_format_duration(now, el, sizeof el);
    ls_sys_format_duration(remaining_estimate(R, now), eta, sizeof eta);
    fprintf(R->o->log, "\r\033[K[%s] %zu/%zu done, %zu running, %zu queued, "
            "%zu failed, %zu diverged | elapsed %s, ETA %s", R->sw->name,
            done + R->sum.already_done, R->n, R->running, R->pending,
            R->sum.failed, R->sum.diverged, el, eta);
    fflush(R->o->log);
}

/* The data set for a job on its node: the shared copy on a one-node
 * machine, else a node-local copy made by this (node-bound) thread. */
static const ls_dataset *data_for(runner *R, const entry *e, ls_err *err)
{
    dataref *d = &R->data[e->data];
    const ls_dataset *ds = d->main;
    if (R->nnodes == 1)
        return ds;
    pthread_mutex_lock(&d->lock);
    if (!d->node[e->node] && ls_dataset_clone(&d->node[e->node], d->main, err) != 0)
        ds = NULL;
    else
        ds = d->node[e->node];
    pthread_mutex_unlock(&d->lock);
    return ds;
}

static void checkpoint_path(const runner *R, const entry *e, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.ckpt", R->sw->checkpoints, e->id);
}

/* Run one job on this worker's cores and record its row. */
static void run_entry(worker *w, entry *e)
{
    runner *R = w->R;
    ls_job job = e->job;
    ls_err err = {0}, werr = {0};
    char ckpt[LS_SWEEP_PATH_MAX + 32];
    const ls_dataset *ds = NULL;
    int rc;

    job.threads = e->k;
    checkpoint_path(R, e, ckpt, sizeof ckpt);
    ls_train_opts opts = {.curve_path = R->sw->curves, .stop = R->o->stop,
                          .checkpoint_path = ckpt,
                          .checkpoint_interval_s = R->o->checkpoint_interval_s};
    if ((rc = ls_topo_bind_team(R->topo, e->cores, e->k, &err)) ||
        !(ds = data_for(R, e, &err))) {
        ls_result_init(&e->res);
        e->res.status = LS_STATUS_FAILED;
        snprintf(e->res.message, sizeof e->res.message, "%s", err.msg);
    } else {
        ls_train(&job, ds, &opts, &e->res, NULL, &err);
    }
    ls_topo_cpulist(R->topo, e->cores, e->k, e->res.cpus, sizeof e->res.cpus);
    e->res.numa_node = ls_topo_node_os_index(R->topo, e->node);
    e->res.threads = e->k;
    rc = ls_results_append(R->sw->results, &e->job, &e->res, &werr);
    if (!rc && ds) /* the row is durable: a final job's checkpoint can go */
        ls_train_forget_checkpoint(ckpt, &e->res);

    pthread_mutex_lock(&R->lock);
    if (rc) {
        R->results_failed = 1;
        R->results_err = werr;
    }
    e->end = ls_sys_seconds() - R->t0;
    release(R, e);
    /* Idle again before the dispatcher hears of it: it may hand this
     * worker the next job at once (with one worker per core, it must). */
    w->job = NULL;
    switch (e->res.status) {
    case LS_STATUS_OK: R->sum.ok++; break;
    case LS_STATUS_DIVERGED: R->sum.diverged++; break;
    case LS_STATUS_FAILED: R->sum.failed++; break;
    case LS_STATUS_INTERRUPTED: R->sum.interrupted++; break;
    }
    if (e->res.status == LS_STATUS_OK && e->est_s > 0) {
        R->calib_sum += (e->end - e->start) * speedup(e->k) / e->est_s;
        R->calib_n++;
    }
    char desc[128], te[32] = "-";
    describe(e, desc, sizeof desc);
    if (e->res.test_error >= 0)
        snprintf(te, sizeof te, "%.4f%%", 100 * e->res.test_error);
    log_line(R, "end   %s %s: %s, %d epochs, test error %s, %.1fs%s%s", e->id, desc,
             ls_status_name(e->res.status), e->res.epochs_run, te, e->end - e->start,
             e->res.message[0] ? " - " : "", e->res.message);
    pthread_cond_signal(&R->cv_done);
    pthread_mutex_unlock(&R->lock);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    runner *R = w->R;
    /* Signals belong to the dispatcher (drain.h); the job's OpenMP team,
     * started from this thread, inherits the mask. */
    ls_drain_block_signals();
    pthread_mutex_lock(&R->lock);
    for (;;) {
        while (!w->job && !w->quit)
            pthread_cond_wait(&w->cv, &R->lock);
        if (!w->job)
            break;
        entry *e = w->job;
        pthread_mutex_unlock(&R->lock);
        run_entry(w, e);                 /* clears w->job under the lock */
        pthread_mutex_lock(&R->lock);
    }
    pthread_mutex_unlock(&R->lock);
    return NULL;
}

/* Hand e to an idle worker.  There is always one: each running job holds
 * at least one core and there is a worker per core.  Lock held. */
static void assign(runner *R, entry *e)
{
    char desc[128], cpus[64];
    e->start = ls_sys_seconds() - R->t0;
    describe(e, desc, sizeof desc);
    ls_topo_cpulist(R->topo, e->cores, e->k, cpus, sizeof cpus);
    if (!R->o->live)
        log_line(R, "start %s %s on cpus %s (node %d), %.0f MiB", e->id, desc, cpus,
                 ls_topo_node_os_index(R->topo, e->node), e->mem / 1048576.0);
    for (int i = 0; i < R->ncores; i++)
        if (!R->workers[i].job) {
            R->workers[i].job = e;
            pthread_cond_signal(&R->workers[i].cv);
            return;
        }
    abort(); /* unreachable: more running jobs than cores */
}

static int stopping(const runner *R)
{
    return (R->o->stop && atomic_load(R->o->stop)) || R->results_failed;
}

/* The dispatch loop: start what fits, wait for a job to end, repeat. */
static void dispatch(runner *R)
{
    pthread_mutex_lock(&R->lock);
    for (;;) {
        entry *e;
        while (!stopping(R) && (e = pick(R))) {
            if (e->k > 0) {
                assign(R, e);
                continue;
            }
            fail_too_big(R, e);
            R->sum.failed++;
            ls_err werr = {0};
            if (ls_results_append(R->sw->results, &e->job, &e->res, &werr)) {
                R->results_failed = 1;
                R->results_err = werr;
            }
            log_line(R, "fail  %s: %s", e->id, e->res.message);
        }
        if (R->running == 0 && (stopping(R) || R->pending == 0))
            break;
        live_status(R);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&R->cv_done, &R->lock, &until);
    }
    R->sum.not_started = R->pending;
    live_status(R);
    if (R->o->log && R->o->live)
        fputc('\n', R->o->log);
    pthread_mutex_unlock(&R->lock);
}

static int start_workers(runner *R, ls_err *err)
{
    R->workers = calloc((size_t)R->ncores, sizeof *R->workers);
    if (!R->workers)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (int i = 0; i < R->ncores; i++) {
        worker *w = &R->workers[i];
        w->R = R;
        pthread_cond_init(&w->cv, NULL);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            w->R = NULL;
            return ls_err_set(err, LS_ENOMEM, "cannot start worker thread %d", i);
        }
    }
    return 0;
}

static void stop_workers(runner *R)
{
    if (!R->workers)
        return;
    pthread_mutex_lock(&R->lock);
    for (int i = 0; i < R->ncores; i++) {
        R->workers[i].quit = 1;
        pthread_cond_signal(&R->workers[i].cv);
    }
    pthread_mutex_unlock(&R->lock);
    for (int i = 0; i < R->ncores; i++)
        if (R->workers[i].R) {
            pthread_join(R->workers[i].thread, NULL);
            pthread_cond_destroy(&R->workers[i].cv);
        }
    free(R->workers);
}

int ls_runner_run(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                  ls_run_summary *sum, ls_err *err)
{
    runner R = {.sw = sw, .topo = topo, .o = o};
    int rc;

    R.t0 = ls_sys_seconds();
    pthread_mutex_init(&R.lock, NULL);
    pthread_cond_init(&R.cv_done, NULL);
    /* The checkpoint directory exists before any job might need it. */
    if (ls_sys_mkdirs(sw->checkpoints) != 0)
        rc = ls_err_set(err, LS_EIO, "%s: cannot create: %s", sw->checkpoints,
                        strerror(errno));
    else if (!(rc = prepare(&R, err)) && !(rc = start_workers(&R, err))) {
        if (o->log)
            log_line(&R, "sweep %s: %zu job(s), %zu already done, %zu to run on "
                     "%d core(s); results -> %s", sw->name, R.n,
                     R.sum.already_done, R.pending, R.ncores, sw->results);
        dispatch(&R);
    }
    stop_workers(&R);
    if (!rc && R.results_failed) {
        *err = R.results_err;
        rc = err->code ? err->code : LS_EIO;
    }
    R.sum.wall_s = ls_sys_seconds() - R.t0;
    if (sum)
        *sum = R.sum;
    runner_free(&R);
    pthread_cond_destroy(&R.cv_done);
    pthread_mutex_destroy(&R.lock);
    return rc;
}
