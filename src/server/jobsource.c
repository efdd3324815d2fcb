/* jobsource.c - the store's queued jobs fed to the scheduler; see
 * include/lstmsweep/jobsource.h. */
#include "lstmsweep/jobsource.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/runner.h"
#include "lstmsweep/searchrun.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/sysinfo.h"

/* A sweep the source has handed to the run, or had back. */
typedef struct held {
    char name[64];
    ls_sweep *sw;          /* non-NULL while the run holds it */
    int busy;              /* cores of its running jobs */
    unsigned back_gen;     /* js->gen when the run handed it back */
    double weight;         /* share's last answer ... */
    int drain;
    unsigned share_gen;    /* ... at this js->gen ... */
    double share_at;       /* ... and this time (ls_sys_seconds) */
    ls_search_drv *search; /* an asha sweep's driver: the run gets its
                              segments, not the sweep (searchrun.h) */
    ls_sweep *base;        /* the sweep it searches (owned with it) */
    int segs;              /* its segments in the run */
} held;

struct ls_jobsource {
    ls_store *store;
    ls_events *events;
    ls_topo *topo;
    FILE *log;
    const ls_api *api;
    pthread_t thread;
    int started;
    atomic_int stop;       /* the server stops: the run drains and ends */
    atomic_int busy;       /* cores of jobs started and not ended */
    atomic_uint gen;       /* bumped by every poke and every job's end */
    pthread_mutex_t lock;  /* guards held and running */
    held *held;
    size_t nheld;
    ls_node_job *running;  /* [nrunning] where the jobs run, for the node view */
    size_t nrunning;
    unsigned scan_gen;     /* js->gen of next_sweep's last scan that found none */
    double scan_at;        /* and its time: scans again after a change or 1 s */
};

/* The runner asks next_sweep and share ten times a second; the store is
 * asked again only after a change (a poke, a job's end) or a second. */
#define RESCAN_S 1.0

int ls_jobsource_create(ls_jobsource **out, ls_store *store, ls_events *events,
                        ls_topo *topo, FILE *log, ls_err *err)
{
    ls_jobsource *js = ls_calloc(1, sizeof *js);
    *out = NULL;
    if (!js)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    js->store = store, js->events = events, js->topo = topo, js->log = log;
    pthread_mutex_init(&js->lock, NULL);
    *out = js;
    return 0;
}

/* The record of sweep `name`, or NULL.  Lock held. */
static held *find(ls_jobsource *js, const char *name)
{
    for (size_t i = 0; i < js->nheld; i++)
        if (!strcmp(js->held[i].name, name))
            return &js->held[i];
    return NULL;
}

static void add_busy(ls_jobsource *js, const char *sweep, int k)
{
    pthread_mutex_lock(&js->lock);
    held *h = find(js, sweep);
    if (h)
        h->busy += k;
    pthread_mutex_unlock(&js->lock);
    atomic_fetch_add(&js->busy, k);
}

/* ---- the hooks the runner calls -------------------------------------------------- */

/* Only the sweep's queued jobs run: not those done (here or in another
 * sweep), cancelled, or claimed by a run still going. */
static int wanted(void *ctx, const ls_sweep *sw, const char *id)
{
    ls_jobsource *js = ctx;
    ls_store_job_info in[16];
    size_t n = 0;
    if (ls_store_job_of(js->store, id, in, 16, &n, NULL, NULL))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(in[i].sweep, sw->name))
            return in[i].state == LS_JOB_QUEUED;
    return 0;
}

/* The node view's list of running jobs: add one (claim) or drop it (end). */
static void note_running(ls_jobsource *js, const ls_node_job *j)
{
    pthread_mutex_lock(&js->lock);
    ls_node_job *a = ls_realloc(js->running, sizeof *a * (js->nrunning + 1));
    if (a) {
        js->running = a;
        a[js->nrunning++] = *j;
    }
    pthread_mutex_unlock(&js->lock);
}

static void note_ended(ls_jobsource *js, const char *sweep, const char *id, int attempt)
{
    pthread_mutex_lock(&js->lock);
    for (size_t i = 0; i < js->nrunning; i++)
        if (js->running[i].attempt == attempt && !strcmp(js->running[i].id, id) &&
            !strcmp(js->running[i].sweep, sweep)) {
            js->running[i] = js->running[--js->nrunning];
            break;
        }
    pthread_mutex_unlock(&js->lock);
}

static int claim(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                 const ls_run_place *where, int *attempt)
{
    ls_jobsource *js = ctx;
    if (ls_store_claim(js->store, sw->name, id, attempt, NULL))
        return 1;
    int k = job->threads > 0 ? job->threads : 1;
    ls_node_job nj = {.attempt = *attempt, .threads = k, .numa_node = where->numa_node,
                      .mem_bytes = (double)where->mem};
    snprintf(nj.sweep, sizeof nj.sweep, "%s", sw->name);
    snprintf(nj.id, sizeof nj.id, "%s", id);
    snprintf(nj.cpus, sizeof nj.cpus, "%s", where->cpus);
    note_running(js, &nj);
    add_busy(js, sw->name, k);
    ls_events_job_started(js->events, sw->name, id, *attempt, k, NULL);
    return 0;
}

static void epoch(void *ctx, const ls_sweep *sw, const char *id, const ls_epoch_info *e)
{
    ls_jobsource *js = ctx;
    ls_events_epoch(js->events, sw->name, id, e, NULL);
}

static int ended(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                 int attempt, const ls_result *r, const char *row, ls_err *err)
{
    ls_jobsource *js = ctx;
    int k = r->threads > 0 ? r->threads : 1;
    int rc = ls_store_finish(js->store, sw->name, id, attempt, ls_status_name(r->status),
                             row, r->wall_s * k, err);
    (void)job;
    note_ended(js, sw->name, id, attempt);
    add_busy(js, sw->name, -k);
    atomic_fetch_add(&js->gen, 1);
    ls_events_job_ended(js->events, sw->name, id, attempt, ls_status_name(r->status), NULL);
    return rc;
}

static double weight_of(int priority)
{
    return ldexp(1.0, priority < -30 ? -30 : priority > 30 ? 30 : priority);
}

/* Whether the run should get sweep w now: active with queued jobs, not in
 * the run already, and not handed back since the last change (a sweep whose
 * queued jobs were all refused - claimed in another sweep - waits for a job
 * to end or a poke instead of being loaded again at once).  Lock held. */
static int candidate(ls_jobsource *js, const ls_sweep_info *w)
{
    const held *h = find(js, w->name);
    if (w->state != LS_SWEEP_ACTIVE || !w->by_state[LS_JOB_QUEUED])
        return 0;
    if (h && h->search) /* its paused jobs wait for promotions, not for the run */
        return ls_search_pending(h->search) > 0;
    return !h || (!h->sw && h->back_gen != atomic_load(&js->gen));
}

/* The candidate that used the fewest core-seconds for its weight (the list
 * is in submission order: the earlier wins a tie); 0, or -1 if none. */
static int pick(ls_jobsource *js, char name[64], double *used_s)
{
    ls_sweep_info *w = NULL;
    size_t n = 0;
    double best = INFINITY;
    if (ls_store_sweeps(js->store, &w, &n, NULL))
        return -1;
    pthread_mutex_lock(&js->lock);
    for (size_t i = 0; i < n; i++) {
        double use = w[i].core_s / weight_of(w[i].priority);
        if (candidate(js, &w[i]) && use < best) {
            best = use;
            *used_s = w[i].core_s;
            snprintf(name, 64, "%s", w[i].name);
        }
    }
    pthread_mutex_unlock(&js->lock);
    ls_free(w);
    return isinf(best) ? -1 : 0;
}

/* Remember that the run holds sw (a new record, or the old one reused). */
static int hold(ls_jobsource *js, ls_sweep *sw)
{
    pthread_mutex_lock(&js->lock);
    held *h = find(js, sw->name);
    if (!h) {
        held *a = ls_realloc(js->held, sizeof *a * (js->nheld + 1));
        if (!a) {
            pthread_mutex_unlock(&js->lock);
            return LS_ENOMEM;
        }
        js->held = a;
        h = &a[js->nheld++];
        memset(h, 0, sizeof *h);
        snprintf(h->name, sizeof h->name, "%s", sw->name);
    }
    h->sw = sw;
    h->busy = 0;
    h->share_at = 0;                 /* ask the store at the first share */
    pthread_mutex_unlock(&js->lock);
    return 0;
}

/* A sweep that cannot run is paused with the reason, for its owner to see
 * (GET /api/v1/sweeps/NAME: "error") and fix; resuming it retries. */
static void fail_sweep(ls_jobsource *js, const char *name, const char *why)
{
    if (js->log)
        fprintf(js->log, "lstmsweep: serve: sweep %s paused: %s\n", name, why);
    ls_sweep_info w;
    char data[LS_EVENT_DATA_MAX];
    if (ls_store_fail_sweep(js->store, name, why, NULL) ||
        ls_store_sweep(js->store, name, &w, NULL, NULL))
        return;
    /* the same shape as the API's sweep_state events (api.c: changed) */
    snprintf(data, sizeof data, "{\"sweep\":\"%s\",\"state\":\"%s\",\"priority\":%d}",
             name, ls_sweep_state_name(w.state), w.priority);
    ls_events_push(js->events, "sweep_state", data, NULL, NULL);
}

/* ---- asha sweeps: a driver per sweep, its record the store ----------------------- */

typedef struct text_rows {
    ls_search_row_fn row;
    void *rctx;
} text_rows;

static int text_row(void *ctx, const char *text, ls_err *err)
{
    const text_rows *t = ctx;
    char *buf = ls_strdup(text), *f[LS_CSV_MAX_FIELDS];
    int nf = buf ? ls_csv_split(buf, f) : -1, rc;
    if (!buf)
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    else if (nf != LS_NCOLUMNS)
        rc = ls_err_set(err, LS_EFORMAT, "a stored rung row of %d fields", nf);
    else
        rc = t->row(t->rctx, nf, f, err);
    ls_free(buf);
    return rc;
}

static int store_replay(void *ctx, const ls_sweep *sw, ls_search_row_fn row, void *rctx,
                        ls_err *err)
{
    ls_jobsource *js = ctx;
    text_rows t = {row, rctx};
    return ls_store_rung_rows(js->store, sw->name, text_row, &t, err);
}

/* A stopped row: the store's (the commit point), then the sweep's results
 * file, as the runner does for the rows it records. */
static int store_stopped(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                         const ls_result *r, ls_err *err)
{
    ls_jobsource *js = ctx;
    char row[8192];
    ls_results_format(job, r, row, sizeof row);
    int rc = ls_store_stop_job(js->store, sw->name, id, row, err);
    if (!rc)
        rc = ls_results_append(sw->results, job, r, err);
    if (!rc) {
        atomic_fetch_add(&js->gen, 1);
        ls_events_job_ended(js->events, sw->name, id, 0, "stopped", NULL);
    }
    return rc;
}

/* Drop h's driver and sweep.  Lock held; no segment of it in the run. */
static void close_search(ls_jobsource *js, held *h)
{
    ls_search_close(h->search, NULL, NULL);
    ls_sweep_destroy(h->base);
    h->search = NULL;
    h->base = NULL;
    h->back_gen = atomic_load(&js->gen);
}

/* The next segment of h's search for the run.  Lock held. */
static const ls_sweep *search_segment(held *h)
{
    double weight;
    const ls_sweep *seg = ls_search_next(h->search, &weight);
    h->segs += seg != NULL;
    return seg;
}

/* sw is an asha sweep just loaded: its driver replays the store's rung
 * record, then gives its first segment (or none: nothing due). */
static const ls_sweep *start_search(ls_jobsource *js, ls_sweep *sw, ls_err *err)
{
    ls_search_drv *d = NULL;
    ls_search_io io = {.ctx = js, .replay = store_replay, .stopped = store_stopped};
    int rc = ls_search_open(&d, sw, 0, 1, &io, sw->search_log, err);
    if (rc || (rc = hold(js, sw))) {
        ls_search_close(d, NULL, NULL);
        if (!err->msg[0])
            ls_err_set(err, rc, "out of memory");
        return NULL;
    }
    pthread_mutex_lock(&js->lock);
    held *h = find(js, sw->name);
    h->sw = NULL;
    h->search = d;
    h->base = sw;
    const ls_sweep *seg = search_segment(h);
    pthread_mutex_unlock(&js->lock);
    return seg;
}

/* A segment back from the run; the driver goes once it failed (the sweep
 * is paused with the reason: resuming replays the store anew) or ended.
 * 1 if sw was a segment.  Lock not held. */
static int segment_back(ls_jobsource *js, const ls_sweep *sw, const ls_err *why)
{
    ls_err e = {0};
    int failed = 0;
    pthread_mutex_lock(&js->lock);
    held *h = find(js, sw->name);
    if (!h || !h->search || sw == h->base) {
        pthread_mutex_unlock(&js->lock);
        return 0;
    }
    ls_search_segment_done(h->search, sw, why);
    h->segs--;
    failed = ls_search_failed(h->search, &e) != 0;
    if (h->segs == 0 && (failed || ls_search_finished(h->search)))
        close_search(js, h);
    pthread_mutex_unlock(&js->lock);
    if (failed)
        fail_sweep(js, sw->name, e.msg);
    atomic_fetch_add(&js->gen, 1);
    return 1;
}

static const ls_sweep *next_sweep(void *ctx, double *used_s)
{
    ls_jobsource *js = ctx;
    ls_sweep_info info;
    ls_sweep *sw = NULL;
    const ls_sweep *seg = NULL;
    char name[64], *ini = NULL;
    ls_err err = {0};

    unsigned gen = atomic_load(&js->gen);
    double now = ls_sys_seconds();
    if (gen == js->scan_gen && now - js->scan_at < RESCAN_S)
        return NULL;                    /* nothing new since a scan found none */
    if (pick(js, name, used_s)) {
        js->scan_gen = gen, js->scan_at = now;
        return NULL;
    }
    pthread_mutex_lock(&js->lock);
    held *h = find(js, name);
    int searching = h && h->search;
    if (searching)
        seg = search_segment(h);
    pthread_mutex_unlock(&js->lock);
    if (searching)
        return seg;
    if (ls_store_sweep(js->store, name, &info, &ini, &err) ||
        ls_api_load_sweep(js->api, ini, &sw, &err)) {
        fail_sweep(js, name, err.msg[0] ? err.msg : "out of memory");
    } else if (sw->search.method == LS_SEARCH_ASHA) {
        if (!(seg = start_search(js, sw, &err)) && err.msg[0]) {
            fail_sweep(js, name, err.msg);
            ls_sweep_destroy(sw);
        }
        sw = NULL;
    } else if (hold(js, sw)) {
        fail_sweep(js, name, "out of memory");
        ls_sweep_destroy(sw);
        sw = NULL;
    }
    ls_free(ini);
    return sw ? sw : seg;
}

static void share(void *ctx, const ls_sweep *sw, double *weight, int *drain)
{
    ls_jobsource *js = ctx;
    ls_sweep_info info;
    unsigned gen = atomic_load(&js->gen);
    double now = ls_sys_seconds();
    pthread_mutex_lock(&js->lock);
    held *h = find(js, sw->name);
    int known = h && h->share_at > 0 && h->share_gen == gen && now - h->share_at < RESCAN_S;
    if (known)
        *weight = h->weight, *drain = h->drain;
    pthread_mutex_unlock(&js->lock);
    if (known || ls_store_sweep(js->store, sw->name, &info, NULL, NULL))
        return;                      /* as it was */
    *weight = weight_of(info.priority);
    *drain = info.state != LS_SWEEP_ACTIVE;
    pthread_mutex_lock(&js->lock);
    if ((h = find(js, sw->name)))
        h->weight = *weight, h->drain = *drain, h->share_gen = gen, h->share_at = now;
    pthread_mutex_unlock(&js->lock);
}

static void sweep_done(void *ctx, const ls_sweep *sw, const ls_err *why)
{
    ls_jobsource *js = ctx;
    if (segment_back(js, sw, why))
        return;
    if (why)
        fail_sweep(js, sw->name, why->msg);
    pthread_mutex_lock(&js->lock);
    held *h = find(js, sw->name);
    if (h && h->sw == sw) {
        h->sw = NULL;
        h->busy = 0;
        h->back_gen = atomic_load(&js->gen);
    }
    pthread_mutex_unlock(&js->lock);
    ls_sweep_destroy((ls_sweep *)sw);
}

/* A durable row: an asha sweep's driver decides from it. */
static void recorded(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                     const ls_result *r)
{
    ls_jobsource *js = ctx;
    (void)job;
    pthread_mutex_lock(&js->lock);
    held *h = find(js, sw->name);
    if (h && h->search)
        ls_search_recorded(h->search, id, r);
    pthread_mutex_unlock(&js->lock);
}

/* ---- the scheduler thread ------------------------------------------------------ */

/* One run for the server's lifetime, fed sweep by sweep; started again
 * after a failure (the store could not record a row), a second later. */
static void *loop(void *arg)
{
    ls_jobsource *js = arg;
    ls_run_hooks hooks = {.ctx = js, .wanted = wanted, .claim = claim, .epoch = epoch,
                          .ended = ended, .next_sweep = next_sweep, .share = share,
                          .sweep_done = sweep_done, .recorded = recorded};
    ls_run_opts o = {.stop = &js->stop, .log = js->log, .checkpoint_interval_s = 300,
                     .hooks = &hooks};
    while (!atomic_load(&js->stop)) {
        ls_err err = {0};
        if (ls_runner_run(NULL, js->topo, &o, NULL, &err) && !atomic_load(&js->stop)) {
            if (js->log)
                fprintf(js->log, "lstmsweep: serve: the scheduler stopped: %s; "
                        "starting again\n", err.msg);
            nanosleep(&(struct timespec){1, 0}, NULL);
        }
    }
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
    (void)sweep;
    atomic_fetch_add(&js->gen, 1);
}

void ls_jobsource_node(void *ctx, ls_node_status *out)
{
    ls_jobsource *js = ctx;
    memset(out, 0, sizeof *out);
    out->total_cores = ls_topo_ncores(js->topo);
    out->busy_cores = atomic_load(&js->busy);
    /* The dashboard's node view: the topology as the scheduler places on
     * it, the runner's default memory budget (90% of MemAvailable, as
     * ls_run_opts.mem_limit = 0 means), and where each running job is with
     * its memory estimate (from the claim). */
    out->numa_nodes = ls_topo_nnodes(js->topo);
    for (int c = 0; c < out->total_cores && c < LS_NODE_CORES_MAX; c++) {
        out->core_numa[c] = ls_topo_core_node(js->topo, c);
        out->core_pu[c] = ls_topo_core_pu(js->topo, c);
        out->ncores_listed = c + 1;
    }
    out->mem_total_bytes = 0.9 * (double)ls_sys_available_memory();
    pthread_mutex_lock(&js->lock);
    for (size_t i = 0; i < js->nrunning && out->njobs < LS_NODE_JOBS_MAX; i++) {
        out->jobs[out->njobs++] = js->running[i];
        out->mem_used_bytes += js->running[i].mem_bytes;
    }
    pthread_mutex_unlock(&js->lock);
}

int ls_jobsource_busy_of(void *ctx, const char *sweep)
{
    ls_jobsource *js = ctx;
    pthread_mutex_lock(&js->lock);
    const held *h = find(js, sweep);
    int busy = h ? h->busy : 0;
    pthread_mutex_unlock(&js->lock);
    return busy;
}

void ls_jobsource_destroy(ls_jobsource *js)
{
    if (!js)
        return;
    atomic_store(&js->stop, 1);
    if (js->started)
        pthread_join(js->thread, NULL);
    for (size_t i = 0; i < js->nheld; i++)
        if (js->held[i].search)
            close_search(js, &js->held[i]);
    pthread_mutex_destroy(&js->lock);
    ls_free(js->held);
    ls_free(js->running);
    ls_free(js);
}
