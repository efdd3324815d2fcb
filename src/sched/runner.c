/* runner.c - the sweep runner's worker pool and dispatch loop; see
 * include/lstmsweep/runner.h.
 *
 * The jobs come prepared (queue.h: shard, resume filter, data, estimates,
 * order); the placement policy (place.h) decides what starts where; this
 * file runs it: a dispatch loop on the calling thread and one worker
 * thread per core.  The dry run (plan.c) simulates the same policy. */
#include "lstmsweep/runner.h"
#include "lstmsweep/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lstmsweep/cost.h"
#include "lstmsweep/drain.h"
#include "lstmsweep/queue.h"
#include "lstmsweep/results.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/train.h"

typedef struct ls_queue_entry entry;
typedef struct runner runner;

typedef struct worker {
    runner *R;
    pthread_t thread;
    pthread_cond_t cv;
    long job;              /* index of its assignment in R->q, -1 when idle */
    int quit;
} worker;

struct runner {
    ls_topo *topo;
    const ls_run_opts *o;
    const ls_run_hooks *h; /* the front end's, or NULL */
    int feeding;           /* h->next_sweep: sweeps come and go */
    ls_queue q;
    double calib_sum;      /* sum of actual/estimated over finished jobs */
    int calib_n;
    ls_run_summary sum;
    pthread_mutex_t lock;
    pthread_cond_t cv_done;
    worker *workers;
    int results_failed;
    ls_err results_err;
    double t0;
};

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
    const ls_place *p = &R->q.place;
    double work = 0;
    for (size_t i = 0; i < R->q.n; i++) {
        const ls_place_job *j = &R->q.pj[i];
        if (j->state == LS_PLACE_PENDING)
            work += j->est_s * p->calib;
        else if (j->state == LS_PLACE_RUNNING)
            work += fmax(0, ls_place_est_end(p, j) - now) * j->k;
    }
    return work / p->ncores;
}

static void live_status(runner *R)
{
    char el[32], eta[32];
    double now = ls_sys_seconds() - R->t0;
    size_t done = R->sum.ok + R->sum.diverged + R->sum.failed + R->sum.interrupted +
                  R->sum.paused;
    if (!R->o->log || !R->o->live || !R->q.ngroups)
        return;
    ls_sys_format_duration(now, el, sizeof el);
    ls_sys_format_duration(remaining_estimate(R, now), eta, sizeof eta);
    fprintf(R->o->log, "\r\033[K[%s] %zu/%zu done, %zu running, %zu queued, "
            "%zu failed, %zu diverged | elapsed %s, ETA %s", R->q.groups[0]->sw->name,
            done + R->sum.already_done, R->q.n, R->q.place.running, R->q.place.pending,
            R->sum.failed, R->sum.diverged, el, eta);
    fflush(R->o->log);
}

/* The data set for a job on its node: the shared copy on a one-node
 * machine, else a node-local copy made by this (node-bound) thread. */
static const ls_dataset *data_for(runner *R, ls_queue_data *d, int node, ls_err *err)
{
    const ls_dataset *ds = d->main;
    if (R->q.place.nnodes == 1)
        return ds;
    pthread_mutex_lock(&d->lock);
    if (!d->node[node]) {
        if (ls_dataset_clone(&d->node[node], d->main, err) == 0) {
            ls_area ar[4];
            (void)ls_topo_bind_areas(R->topo, ar, ls_dataset_areas(d->node[node], ar, 4),
                                     node);
        }
    }
    ds = d->node[node];
    pthread_mutex_unlock(&d->lock);
    return ds;
}

/* Count a job that ended in the summary and the calibration of the
 * estimates, and log it.  Lock held. */
static void account(runner *R, const entry *e, const ls_place_job *pj)
{
    switch (e->res.status) {
    case LS_STATUS_OK: R->sum.ok++; break;
    case LS_STATUS_DIVERGED: R->sum.diverged++; break;
    case LS_STATUS_FAILED: R->sum.failed++; break;
    case LS_STATUS_INTERRUPTED: R->sum.interrupted++; break;
    case LS_STATUS_PAUSED: R->sum.paused++; break;
    default: break;
    }
    if (e->res.status == LS_STATUS_OK && pj->est_s > 0) {
        R->calib_sum += (e->end - pj->start) * ls_cost_speedup(pj->k) / pj->est_s;
        R->calib_n++;
        R->q.place.calib = R->calib_sum / R->calib_n;
    }
    char desc[128], te[32] = "-";
    ls_queue_describe(e, desc, sizeof desc);
    if (e->res.test_error >= 0)
        snprintf(te, sizeof te, "%.4f%%", 100 * e->res.test_error);
    log_line(R, "end   %s %s: %s, %d epochs, test error %s, %.1fs%s%s", e->id, desc,
             ls_status_name(e->res.status), e->res.epochs_run, te, e->end - pj->start,
             e->res.message[0] ? " - " : "", e->res.message);
}

/* A job's end recorded: the front end's commit (ls_run_hooks.ended) first,
 * where there is one (the server's store), then its copy in the sweep's
 * results file. */
static int record(runner *R, const ls_sweep *sw, const entry *e, ls_err *err)
{
    const ls_run_hooks *h = R->h;
    char row[8192];
    if (h && h->ended) {
        ls_results_format(&e->job, &e->res, row, sizeof row);
        int rc = h->ended(h->ctx, sw, &e->job, e->id, e->attempt, &e->res, row, err);
        if (rc)
            return rc;
    }
    int rc = ls_results_append(sw->results, &e->job, &e->res, err);
    if (!rc && h && h->recorded)
        h->recorded(h->ctx, sw, &e->job, e->id, &e->res);
    return rc;
}

/* What a worker needs of its job, copied under the lock: the queue's
 * arrays may move (a sweep added) while the job trains. */
typedef struct assignment {
    entry e;
    ls_place_job pj;
    ls_queue_data *data;
    runner *R;
    int placement_logged;
} assignment;

/* On a machine of several NUMA nodes (usable or not), where a job's memory
 * really is, once per run of the job (after its first epoch, when its
 * buffers are all touched): the nodes holding pages of its data set copy
 * and of its model (hwloc, move_pages(2)), against the node of its cores.
 * The copy's address lets an outside check (tests/numa-guest.sh) ask the
 * kernel about the same pages. */
static void log_placement(assignment *a, const ls_epoch_info *info)
{
    runner *R = a->R;
    ls_area d[4], m[8];
    char dn[64], mn[64], want[16];
    size_t nd = ls_dataset_areas(info->data, d, 4), nm = ls_model_areas(info->model, m, 8);
    int node = ls_topo_node_os_index(R->topo, a->pj.node);

    size_t big = 0;                  /* the largest buffer: the one to look up */
    for (size_t i = 1; i < nd; i++)
        big = d[i].bytes > d[big].bytes ? i : big;
    ls_topo_area_nodes(R->topo, d, nd, dn, sizeof dn);
    ls_topo_area_nodes(R->topo, m, nm, mn, sizeof mn);
    snprintf(want, sizeof want, "%d", node);
    pthread_mutex_lock(&R->lock);
    log_line(R, "numa  %s on node %d: data copy at %p (%zu bytes) on node %s, model on node %s%s",
             a->e.id, node, nd ? d[big].addr : NULL, nd ? d[big].bytes : 0,
             dn[0] ? dn : "?", mn[0] ? mn : "?",
             strcmp(dn, want) || strcmp(mn, want) ? " - NOT LOCAL" : "");
    pthread_mutex_unlock(&R->lock);
}

static void on_epoch(void *ctx, const ls_job *job, const ls_epoch_info *info)
{
    assignment *a = ctx;
    const ls_run_hooks *h = a->R->h;
    (void)job;
    if (!a->placement_logged && ls_topo_machine_nnodes(a->R->topo) > 1) {
        a->placement_logged = 1;
        log_placement(a, info);
    }
    if (h && h->epoch)
        h->epoch(h->ctx, a->e.g->sw, a->e.id, info);
}

/* Train the job of assignment a on its cores (no lock held). */
static void train_assignment(assignment *a)
{
    runner *R = a->R;
    entry *e = &a->e;
    const ls_sweep *sw = e->g->sw;
    ls_job job = e->job;
    ls_err err = {0};
    char ckpt[LS_SWEEP_PATH_MAX + 32];
    const ls_dataset *ds = NULL;

    job.threads = a->pj.k;
    snprintf(ckpt, sizeof ckpt, "%s/%s.ckpt", sw->checkpoints, e->id);
    ls_train_opts opts = {.curve_path = sw->curves, .stop = R->o->stop,
                          .stop_sweep = &e->g->stop, .checkpoint_path = ckpt,
                          .checkpoint_interval_s = R->o->checkpoint_interval_s,
                          .progress = (R->h && R->h->epoch) || ls_topo_machine_nnodes(R->topo) > 1
                                          ? on_epoch : NULL,
                          .ctx = a};
    if (ls_topo_bind_team(R->topo, a->pj.cores, a->pj.k, &err) ||
        !(ds = data_for(R, a->data, a->pj.node, &err))) {
        ls_result_init(&e->res);
        e->res.status = LS_STATUS_FAILED;
        snprintf(e->res.message, sizeof e->res.message, "%s", err.msg);
    } else {
        ls_train(&job, ds, &opts, &e->res, NULL, &err);
    }
    ls_topo_cpulist(R->topo, a->pj.cores, a->pj.k, e->res.cpus, sizeof e->res.cpus);
    e->res.numa_node = ls_topo_node_os_index(R->topo, a->pj.node);
    e->res.threads = a->pj.k;
    ls_err werr = {0};
    int rc = record(R, sw, e, &werr);
    if (!rc && ds) /* the row is durable: a final job's checkpoint can go */
        ls_train_forget_checkpoint(ckpt, &e->res);
    if (rc) {
        pthread_mutex_lock(&R->lock);
        R->results_failed = 1;
        R->results_err = werr;
        pthread_mutex_unlock(&R->lock);
    }
}

/* Run job i on this worker's cores and record its row. */
static void run_entry(worker *w, size_t i)
{
    runner *R = w->R;
    assignment a = {.R = R};

    pthread_mutex_lock(&R->lock);
    a.e = R->q.e[i];
    a.pj = R->q.pj[i];
    a.data = R->q.data[a.e.data];
    pthread_mutex_unlock(&R->lock);

    train_assignment(&a);

    pthread_mutex_lock(&R->lock);
    entry *e = &R->q.e[i];
    ls_place_job *pj = &R->q.pj[i];
    e->res = a.e.res;
    e->end = ls_sys_seconds() - R->t0;
    e->g->used_s += pj->k * (e->end - pj->start);
    ls_place_finish(&R->q.place, pj);
    ls_queue_release(&R->q, i);
    /* Idle again before the dispatcher hears of it: it may hand this
     * worker the next job at once (with one worker per core, it must). */
    w->job = -1;
    account(R, e, pj);
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
        while (w->job < 0 && !w->quit)
            pthread_cond_wait(&w->cv, &R->lock);
        if (w->job < 0)
            break;
        size_t i = (size_t)w->job;
        pthread_mutex_unlock(&R->lock);
        run_entry(w, i);                 /* sets w->job = -1 under the lock */
        pthread_mutex_lock(&R->lock);
    }
    pthread_mutex_unlock(&R->lock);
    return NULL;
}

/* Hand job i (just started by the policy) to an idle worker of its node.
 * There is always one: each running job holds at least one core and there
 * is a worker per core.  Lock held. */
static void assign(runner *R, size_t i)
{
    entry *e = &R->q.e[i];
    const ls_place_job *pj = &R->q.pj[i];
    char desc[128], cpus[64];
    ls_queue_describe(e, desc, sizeof desc);
    ls_topo_cpulist(R->topo, pj->cores, pj->k, cpus, sizeof cpus);
    if (!R->o->live)
        log_line(R, "start %s %s on cpus %s (node %d), %.0f MiB", e->id, desc, cpus,
                 ls_topo_node_os_index(R->topo, pj->node), pj->mem / 1048576.0);
    /* Worker w lives on the node of core w: its malloc arena, and so a
     * small job's buffers, stay on that node from job to job.  A job on
     * node n holds a free core of n, so an idle worker of n is there. */
    int any = -1;
    for (int w = 0; w < R->q.place.ncores; w++)
        if (R->workers[w].job < 0) {
            if (R->q.core_node[w] == pj->node) {
                any = w;
                break;
            }
            any = any < 0 ? w : any;
        }
    if (any < 0)
        abort(); /* unreachable: more running jobs than cores */
    R->workers[any].job = (long)i;
    pthread_cond_signal(&R->workers[any].cv);
}

/* The front end's claim of job i (ls_run_hooks.claim): 0 to start it, else
 * it gives its place back and stays unstarted.  Lock held. */
static int refused(runner *R, size_t i)
{
    const ls_run_hooks *h = R->h;
    entry *e = &R->q.e[i];
    const ls_place_job *pj = &R->q.pj[i];
    ls_job job = e->job;
    char cpus[64];
    job.threads = pj->k; /* the cores it is about to get */
    if (!h || !h->claim)
        return 0;
    ls_topo_cpulist(R->topo, pj->cores, pj->k, cpus, sizeof cpus);
    ls_run_place where = {cpus, ls_topo_node_os_index(R->topo, pj->node), pj->mem};
    if (h->claim(h->ctx, e->g->sw, &job, e->id, &where, &e->attempt) == 0)
        return 0;
    ls_place_finish(&R->q.place, &R->q.pj[i]);
    ls_queue_release(&R->q, i);
    R->sum.refused++;
    return 1;
}

/* Job i can never fit in the memory limit: its "failed" row.  Lock held. */
static void fail_too_big(runner *R, size_t i)
{
    entry *e = &R->q.e[i];
    ls_err werr = {0};
    e->res.status = LS_STATUS_FAILED;
    snprintf(e->res.message, sizeof e->res.message,
             "needs %.2f GiB, more than the memory limit of %.2f GiB",
             R->q.pj[i].mem / 1073741824.0, R->q.place.mem_limit / 1073741824.0);
    R->sum.failed++;
    if (record(R, e->g->sw, e, &werr)) {
        R->results_failed = 1;
        R->results_err = werr;
    }
    ls_queue_release(&R->q, i);
    log_line(R, "fail  %s: %s", e->id, e->res.message);
}

static int stopping(const runner *R)
{
    return (R->o->stop && atomic_load(R->o->stop)) || R->results_failed;
}

/* Start every job that fits now, in the order of the fair share.  Lock
 * held. */
static void start_what_fits(runner *R)
{
    ls_place *p = &R->q.place;
    double now = ls_sys_seconds() - R->t0;
    long i;
    if (stopping(R))
        return;
    if (R->feeding)
        ls_queue_order(&R->q, now);
    while (!stopping(R) && (i = ls_place_next(p, R->q.pj, R->q.order, R->q.n, now)) >= 0) {
        if (refused(R, (size_t)i))
            continue;
        if (R->q.pj[i].k == 0)
            fail_too_big(R, (size_t)i);
        else
            assign(R, (size_t)i);
    }
}

static int start_workers(runner *R, ls_err *err)
{
    int n = R->q.place.ncores;
    R->workers = ls_calloc((size_t)n, sizeof *R->workers);
    if (!R->workers)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        worker *w = &R->workers[i];
        w->R = R;
        w->job = -1;
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
    int n = R->q.place.ncores;
    if (!R->workers)
        return;
    pthread_mutex_lock(&R->lock);
    for (int i = 0; i < n; i++) {
        R->workers[i].quit = 1;
        pthread_cond_signal(&R->workers[i].cv);
    }
    pthread_mutex_unlock(&R->lock);
    for (int i = 0; i < n; i++)
        if (R->workers[i].R) {
            pthread_join(R->workers[i].thread, NULL);
            pthread_cond_destroy(&R->workers[i].cv);
        }
    ls_free(R->workers);
}

/* Add sw to the run: its checkpoint directory, its entries staged without
 * the lock (its results file read, its data loaded), then committed.
 * Dispatcher thread only (see queue.h). */
static int add_sweep(runner *R, const ls_sweep *sw, double used_s, ls_err *err)
{
    ls_queue_stage st;
    int rc;
    /* The checkpoint directory exists before any job might need it. */
    if (ls_sys_mkdirs(sw->checkpoints) != 0)
        return ls_err_set(err, LS_EIO, "%s: cannot create: %s", sw->checkpoints,
                          strerror(errno));
    if ((rc = ls_queue_stage_sweep(&R->q, &st, sw, used_s, err)))
        return rc;
    size_t n = st.n, done = st.already_done;
    pthread_mutex_lock(&R->lock);
    if (!ls_queue_commit(&R->q, &st)) {
        pthread_mutex_unlock(&R->lock);
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    }
    R->sum.jobs += n;
    R->sum.already_done += done;
    log_line(R, "sweep %s: %zu job(s), %zu already done, %zu to run on %d core(s); "
             "results -> %s", sw->name, n, done, n - done, R->q.place.ncores, sw->results);
    pthread_mutex_unlock(&R->lock);
    return 0;
}

/* Drain group g: its pending jobs leave the queue, its running ones stop
 * at their next step.  Lock held. */
static void drain_group(runner *R, ls_queue_group *g)
{
    atomic_store(&g->stop, 1);
    for (size_t i = 0; i < R->q.n; i++)
        if (R->q.e[i].g == g && R->q.pj[i].state == LS_PLACE_PENDING) {
            ls_place_drop(&R->q.place, &R->q.pj[i]);
            ls_queue_release(&R->q, i);
        }
}

static void group_done(void *ctx, const ls_sweep *sw)
{
    const runner *R = ctx;
    R->h->sweep_done(R->h->ctx, sw, NULL);
}

/* One turn of the front end's say (dispatcher thread, no lock held): the
 * sweeps the run holds nothing of any more are handed back, every sweep's
 * weight and drain are asked, and new sweeps are added. */
static void feed(runner *R)
{
    const ls_run_hooks *h = R->h;
    pthread_mutex_lock(&R->lock);
    ls_queue_reap(&R->q, h->sweep_done ? group_done : NULL, R);
    pthread_mutex_unlock(&R->lock);
    for (int i = 0; h->share && i < R->q.ngroups; i++) {
        ls_queue_group *g = R->q.groups[i];
        double weight = 1;
        int drain = 0;
        h->share(h->ctx, g->sw, &weight, &drain);
        pthread_mutex_lock(&R->lock);
        g->weight = weight > 0 ? weight : 1;
        if (drain && !atomic_load(&g->stop))
            drain_group(R, g);
        pthread_mutex_unlock(&R->lock);
    }
    const ls_sweep *sw;
    double used = 0;
    while (!stopping(R) && (sw = h->next_sweep(h->ctx, &used))) {
        ls_err err = {0};
        if (add_sweep(R, sw, used, &err) && h->sweep_done)
            h->sweep_done(h->ctx, sw, &err);
    }
}

/* The dispatch loop: start what fits, wait for a job to end (or for a
 * second, fed by a front end a tenth of one, to pass), repeat. */
static void dispatch(runner *R)
{
    ls_place *p = &R->q.place;
    pthread_mutex_lock(&R->lock);
    for (;;) {
        if (R->feeding) {
            pthread_mutex_unlock(&R->lock);
            feed(R);
            pthread_mutex_lock(&R->lock);
        }
        start_what_fits(R);
        if (p->running == 0 && (stopping(R) || (!R->feeding && p->pending == 0)))
            break;
        if (p->running == 0 && p->pending == 0 && R->h && R->h->idle_end) {
            /* its hooks run unlocked; no job runs to change anything */
            pthread_mutex_unlock(&R->lock);
            int end = R->h->idle_end(R->h->ctx);
            pthread_mutex_lock(&R->lock);
            if (end)
                break;
        }
        live_status(R);
        /* Fed, the loop also looks for new sweeps and state changes: every
         * 100 ms, cheap because the front end answers from what it knows
         * until something changes (jobsource.c). */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + (R->feeding ? 100000000L : 1000000000L);
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&R->cv_done, &R->lock, &until);
    }
    R->sum.not_started = p->pending;
    live_status(R);
    if (R->o->log && R->o->live)
        fputc('\n', R->o->log);
    pthread_mutex_unlock(&R->lock);
}

/* The run is over: every sweep still held goes back to the front end. */
static void hand_back(runner *R)
{
    if (!R->h || !R->h->sweep_done)
        return;
    for (int i = 0; i < R->q.ngroups; i++)
        R->q.groups[i]->live = 0;
    ls_queue_reap(&R->q, group_done, R);
}

int ls_runner_run(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                  ls_run_summary *sum, ls_err *err)
{
    runner R = {.topo = topo, .o = o, .h = o->hooks,
                .feeding = o->hooks && o->hooks->next_sweep};
    int rc;

    if (!sw && !R.feeding)
        return ls_err_set(err, LS_EINVAL, "no sweep to run");
    R.t0 = ls_sys_seconds();
    pthread_mutex_init(&R.lock, NULL);
    pthread_cond_init(&R.cv_done, NULL);
    if (!(rc = ls_queue_init(&R.q, topo, o, err)) && !(rc = start_workers(&R, err)) &&
        !(sw && (rc = add_sweep(&R, sw, 0, err))))
        dispatch(&R);
    stop_workers(&R);
    hand_back(&R);
    if (!rc && R.results_failed) {
        rc = R.results_err.code ? R.results_err.code : LS_EIO;
        if (err)
            *err = R.results_err;
    }
    R.sum.wall_s = ls_sys_seconds() - R.t0;
    if (sum)
        *sum = R.sum;
    ls_queue_free(&R.q);
    pthread_cond_destroy(&R.cv_done);
    pthread_mutex_destroy(&R.lock);
    return rc;
}
