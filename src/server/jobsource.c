/* jobsource.c - the store's queued jobs fed to the scheduler; see
 * include/lstmsweep/jobsource.h. */
#include "lstmsweep/jobsource.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/runner.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/sysinfo.h"

struct ls_jobsource {
    ls_store *store;
    ls_events *events;
    ls_topo *topo;
    FILE *log;
    const ls_api *api;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int quit, poked;
    char running[64];        /* the sweep being run, "" if none */
    atomic_int run_stop;     /* drains the running sweep */
    atomic_int busy;         /* cores of jobs started and not ended */
};

int ls_jobsource_create(ls_jobsource **out, ls_store *store, ls_events *events,
                        ls_topo *topo, FILE *log, ls_err *err)
{
    ls_jobsource *js = ls_alloc(sizeof *js);
    *out = NULL;
    if (!js)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    js->store = store, js->events = events, js->topo = topo, js->log = log;
    pthread_mutex_init(&js->lock, NULL);
    pthread_cond_init(&js->cv, NULL);
    *out = js;
    return 0;
}

/* ---- the hooks the runner calls -------------------------------------------------- */

typedef struct run_ctx {
    ls_jobsource *js;
    const char *sweep;
} run_ctx;

/* Only the sweep's queued jobs run: not those done (here or in another
 * sweep), cancelled, or claimed by a run still going. */
static int wanted(void *ctx, const char *id)
{
    const run_ctx *c = ctx;
    ls_store_job_info in[16];
    size_t n = 0;
    if (ls_store_job_of(c->js->store, id, in, 16, &n, NULL, NULL))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(in[i].sweep, c->sweep))
            return in[i].state == LS_JOB_QUEUED;
    return 0;
}

static int claim(void *ctx, const ls_job *job, const char *id, int *attempt)
{
    const run_ctx *c = ctx;
    if (ls_store_claim(c->js->store, c->sweep, id, attempt, NULL))
        return 1;
    int k = job->threads > 0 ? job->threads : 1;
    atomic_fetch_add(&c->js->busy, k);
    ls_events_job_started(c->js->events, c->sweep, id, *attempt, k, NULL);
    return 0;
}

static int ended(void *ctx, const ls_job *job, const char *id, int attempt,
                 const ls_result *r, const char *row, ls_err *err)
{
    const run_ctx *c = ctx;
    int k = r->threads > 0 ? r->threads : 1;
    int rc = ls_store_finish(c->js->store, c->sweep, id, attempt, ls_status_name(r->status),
                             row, r->wall_s * k, err);
    atomic_fetch_sub(&c->js->busy, k);
    ls_events_job_ended(c->js->events, c->sweep, id, attempt, ls_status_name(r->status), NULL);
    return rc;
}

/* ---- choosing and running a sweep --------------------------------------------- */

/* The active sweep with queued jobs that used the fewest core-seconds for
 * its weight 2^priority (the list is in submission order: the earlier wins
 * a tie).  0 and its name in name, or -1 if none. */
static int next_sweep(ls_jobsource *js, char name[64])
{
    ls_sweep_info *w = NULL;
    size_t n = 0;
    double best = INFINITY;
    if (ls_store_sweeps(js->store, &w, &n, NULL))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (w[i].state != LS_SWEEP_ACTIVE || !w[i].by_state[LS_JOB_QUEUED])
            continue;
        double use = w[i].core_s / ldexp(1.0, w[i].priority < -30 ? -30
                                                : w[i].priority > 30 ? 30 : w[i].priority);
        if (use < best) {
            best = use;
            snprintf(name, 64, "%s", w[i].name);
        }
    }
    ls_free(w);
    return isinf(best) ? -1 : 0;
}

static void run_sweep(ls_jobsource *js, const char *name)
{
    ls_sweep_info info;
    ls_sweep *sw = NULL;
    char *ini = NULL;
    ls_err err = {0};
    run_ctx ctx = {js, name};
    ls_run_hooks hooks = {.ctx = &ctx, .wanted = wanted, .claim = claim, .ended = ended};
    ls_run_opts o = {.stop = &js->run_stop, .log = js->log, .checkpoint_interval_s = 300,
                     .hooks = &hooks};
    ls_run_summary sum = {0};

    if (ls_store_sweep(js->store, name, &info, &ini, &err) ||
        ls_api_load_sweep(js->api, ini, &sw, &err) ||
        ls_runner_run(sw, js->topo, &o, &sum, &err)) {
        if (js->log)
            fprintf(js->log, "lstmsweep: serve: sweep %s: %s\n", name, err.msg);
        /* a sweep that cannot run now waits for a change of its state */
        ls_store_set_state(js->store, name, LS_SWEEP_PAUSED, NULL);
    }
    ls_sweep_destroy(sw);
    ls_free(ini);
}

static void *loop(void *arg)
{
    ls_jobsource *js = arg;
    char name[64];
    pthread_mutex_lock(&js->lock);
    while (!js->quit) {
        js->poked = 0;
        pthread_mutex_unlock(&js->lock);
        int found = next_sweep(js, name) == 0;
        pthread_mutex_lock(&js->lock);
        if (!found || js->quit) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            if (!js->poked && !js->quit)
                pthread_cond_timedwait(&js->cv, &js->lock, &until);
            continue;
        }
        snprintf(js->running, sizeof js->running, "%s", name);
        atomic_store(&js->run_stop, 0);
        pthread_mutex_unlock(&js->lock);
        run_sweep(js, name);
        pthread_mutex_lock(&js->lock);
        js->running[0] = '\0';
    }
    pthread_mutex_unlock(&js->lock);
    return NULL;
}

int ls_jobsource_start(ls_jobsource *js, const ls_api *api, ls_err *err)
{
    js->api = api;
    if (pthread_create(&js->thread, NULL, loop, js) != 0)
        return ls_err_set(err, LS_EINVAL, "cannot start the scheduler thread");
    js->started = 1;
    return 0;
}

void ls_jobsource_poke(void *ctx, const char *sweep)
{
    ls_jobsource *js = ctx;
    ls_sweep_info info;
    pthread_mutex_lock(&js->lock);
    js->poked = 1;
    /* the running sweep paused or cancelled: drain it */
    if (js->running[0] && !strcmp(js->running, sweep) &&
        !ls_store_sweep(js->store, sweep, &info, NULL, NULL) && info.state != LS_SWEEP_ACTIVE)
        atomic_store(&js->run_stop, 1);
    pthread_cond_signal(&js->cv);
    pthread_mutex_unlock(&js->lock);
}

void ls_jobsource_node(void *ctx, ls_node_status *out)
{
    ls_jobsource *js = ctx;
    memset(out, 0, sizeof *out);
    out->total_cores = ls_topo_ncores(js->topo);
    out->busy_cores = atomic_load(&js->busy);
    /* ---- for the dashboard's node view (issue 16): the topology as the
     * scheduler places on it, and the runner's default memory budget (90%
     * of MemAvailable, as ls_run_opts.mem_limit = 0 means).  Running jobs
     * (out->jobs) are left to the scheduler: the API lists the store's. */
    out->numa_nodes = ls_topo_nnodes(js->topo);
    for (int c = 0; c < out->total_cores && c < LS_NODE_CORES_MAX; c++) {
        out->core_numa[c] = ls_topo_core_node(js->topo, c);
        out->core_pu[c] = ls_topo_core_pu(js->topo, c);
        out->ncores_listed = c + 1;
    }
    out->mem_total_bytes = 0.9 * (double)ls_sys_available_memory();
    out->mem_used_bytes = -1;        /* not reported by the runner yet */
}

void ls_jobsource_destroy(ls_jobsource *js)
{
    if (!js)
        return;
    pthread_mutex_lock(&js->lock);
    js->quit = 1;
    atomic_store(&js->run_stop, 1);
    pthread_cond_signal(&js->cv);
    pthread_mutex_unlock(&js->lock);
    if (js->started)
        pthread_join(js->thread, NULL);
    pthread_cond_destroy(&js->cv);
    pthread_mutex_destroy(&js->lock);
    ls_free(js);
}
