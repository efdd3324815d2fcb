/* driver.c - an asha search on the scheduler; see
 * include/lstmsweep/searchrun.h.
 *
 * The driver is the runner's front end (runner.h hooks): it feeds the
 * runner "segments", small sweeps holding the jobs to train now with their
 * `until`, and hears of every durable row (recorded).  One function,
 * on_row, turns a row into rung results and decisions, whether the row
 * comes from the run (recorded) or from the results file at start
 * (replay): so the replayed state is the state the run had.
 */
#include "lstmsweep/searchrun.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/asha.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/results.h"
#include "lstmsweep/shard.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/train.h"

#define MAXR LS_ASHA_MAX_RUNGS
#define REQUEUE_MAX 100

/* One job of the search. */
typedef struct djob {
    int unit;              /* its unit; -1: not in this shard */
    int final;             /* a final row of it is in the results file */
    unsigned have;         /* bit r: its result at rung r is in */
    double val[MAXR], loss[MAXR], test[MAXR];
    ls_result last;        /* its latest paused result: a stopped row's numbers */
    int requeued;          /* times it came back without its rung's result */
} djob;

typedef struct dunit {
    int group, local;      /* its task's search, and its index there */
    int first, n;          /* its jobs: job_of[first .. first + n) */
    ls_asha_event stop;    /* the replay's stop decision, for its rows */
} dunit;

typedef struct dgroup {
    ls_task task;
    ls_asha *a;
    int nrungs, epochs[MAXR];
    int first_unit, nunits;
} dgroup;

/* A small sweep handed to the runner: the jobs to train now. */
typedef struct segment {
    ls_sweep sw;           /* first: the runner hands back &sw */
    double weight;
} segment;

typedef struct ls_search_drv {
    const ls_sweep *sw;    /* &own */
    ls_sweep own;          /* the sweep, its jobs tagged (ls_search_tag) */
    ls_search_io io;
    char log_path[LS_SWEEP_PATH_MAX];
    pthread_mutex_t lock;
    djob *jobs;            /* [sw->njobs] */
    size_t *order;         /* job indices sorted by id, for lookups */
    char (*ids)[LS_JOB_ID_LEN];
    dunit *units;
    int nunits;
    int *job_of;           /* job indices, grouped by unit */
    dgroup groups[2];
    int ngroups;
    segment **queue;       /* made, not yet handed to the runner */
    int nqueue, capq;
    FILE *log;             /* the audit CSV */
    long seq;
    int replaying;
    ls_search_summary ss;
    int failed;            /* a stopped row or the log could not be written */
    ls_err err;
} ls_search_drv;

typedef ls_search_drv driver;

/* ---- lookups ------------------------------------------------------------- */

static int cmp_id(const void *a, const void *b, void *ctx)
{
    const driver *D = ctx;
    return strcmp(D->ids[*(const size_t *)a], D->ids[*(const size_t *)b]);
}

static long job_index(const driver *D, const char *id)
{
    size_t lo = 0, hi = D->sw->njobs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(D->ids[D->order[mid]], id);
        if (!c)
            return (long)D->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int rung_at_epoch(const dgroup *g, int epoch)
{
    for (int r = 0; r < g->nrungs; r++)
        if (g->epochs[r] == epoch)
            return r;
    return -1;
}

/* ---- the audit log -------------------------------------------------------- */

static const char *event_name(ls_asha_event_kind k)
{
    static const char *const names[] = {"result", "promoted", "stopped", "done"};
    return names[k];
}

static void put_real(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.6g", v);
    else
        fputs(isnan(v) ? "," : ",inf", f);
}

static void log_event(driver *D, const dgroup *g, const ls_asha_event *ev)
{
    const dunit *u = &D->units[g->first_unit + ev->unit];
    char canon[1024], quoted[2100];
    ls_job probe = D->sw->jobs[D->job_of[u->first]];
    if (!D->log)
        return;
    if (!D->sw->search.seeds_each)
        probe.seed = 0;
    probe.search[0] = '\0';
    ls_job_canonical(&probe, canon, sizeof canon);
    ls_csv_quote(canon, quoted, sizeof quoted);
    fprintf(D->log, "%ld,%s,%s,", ++D->seq, ls_task_name(g->task), quoted);
    for (int k = 0; k < u->n; k++)
        fprintf(D->log, "%s%s", k ? " " : "", D->ids[D->job_of[u->first + k]]);
    fprintf(D->log, ",%d,%d,%s", ev->rung, g->epochs[ev->rung], event_name(ev->kind));
    put_real(D->log, ev->value);
    put_real(D->log, ev->loss);
    fprintf(D->log, ",%d,%d", ev->rank, ev->size);
    put_real(D->log, ev->cutoff);
    fputc('\n', D->log);
    if (fflush(D->log) != 0 && !D->failed) {
        D->failed = 1;
        ls_err_set(&D->err, LS_EIO, "%s: %s", D->log_path, strerror(errno));
    }
}

/* ---- what the decisions cause --------------------------------------------- */

/* Queue a segment of unit u's jobs that still lack a result at rung r,
 * training to rung r. */
static void queue_unit(driver *D, segment *seg, const dunit *u, int r)
{
    const dgroup *g = &D->groups[u->group];
    for (int k = 0; k < u->n; k++) {
        int i = D->job_of[u->first + k];
        if (D->jobs[i].final || (D->jobs[i].have >> r & 1))
            continue;
        ls_job *job = &seg->sw.jobs[seg->sw.njobs++];
        *job = D->sw->jobs[i];
        job->until = g->epochs[r];
        job->rung = r + 1;
    }
}

static segment *segment_new(driver *D, size_t cap, double weight)
{
    segment *seg = ls_calloc(1, sizeof *seg);
    if (!seg || !(seg->sw.jobs = ls_calloc(cap ? cap : 1, sizeof *seg->sw.jobs))) {
        ls_free(seg);
        return NULL;
    }
    ls_job *jobs = seg->sw.jobs;
    seg->sw = *D->sw;
    seg->sw.jobs = jobs;
    seg->sw.njobs = 0;
    seg->weight = weight;
    return seg;
}

static void segment_free(segment *seg)
{
    if (seg)
        ls_free(seg->sw.jobs);
    ls_free(seg);
}

static int push_segment(driver *D, segment *seg)
{
    if (seg->sw.njobs == 0) {
        segment_free(seg);
        return 0;
    }
    if (D->nqueue == D->capq) {
        int cap = D->capq ? 2 * D->capq : 16;
        segment **q = ls_realloc(D->queue, sizeof *q * (size_t)cap);
        if (!q) {
            segment_free(seg);
            return LS_ENOMEM;
        }
        D->queue = q;
        D->capq = cap;
    }
    D->queue[D->nqueue++] = seg;
    return 0;
}

static void fail_driver(driver *D, int code, const char *what)
{
    if (!D->failed) {
        D->failed = 1;
        ls_err_set(&D->err, code, "search: %s", what);
    }
}

/* A promotion during the run: the unit's jobs go back to the runner. */
static void promote(driver *D, const dunit *u, int r)
{
    segment *seg = segment_new(D, (size_t)u->n, pow(1000.0, r));
    if (!seg) {
        fail_driver(D, LS_ENOMEM, "out of memory");
        return;
    }
    queue_unit(D, seg, u, r);
    if (push_segment(D, seg))
        fail_driver(D, LS_ENOMEM, "out of memory");
}

/* A unit stopped for good: a "stopped" row for each of its jobs that has
 * no final row (a diverged or failed seed keeps its own). */
static void write_stopped(driver *D, const dunit *u, const ls_asha_event *ev)
{
    const dgroup *g = &D->groups[u->group];
    for (int k = 0; k < u->n; k++) {
        int i = D->job_of[u->first + k];
        djob *j = &D->jobs[i];
        if (j->final)
            continue;
        ls_result r = j->last;
        ls_err err = {0};
        char ckpt[LS_SWEEP_PATH_MAX + 32];
        r.status = LS_STATUS_STOPPED;
        r.rung = ev->rung + 1;
        snprintf(r.message, sizeof r.message, "asha: stopped at rung %d of %d (%d epochs): "
                 "rank %d of %d", ev->rung + 1, g->nrungs, g->epochs[ev->rung], ev->rank,
                 ev->size);
        if (D->io.stopped(D->io.ctx, D->sw, &D->sw->jobs[i], D->ids[i], &r, &err) != 0) {
            if (!D->failed) {
                D->failed = 1;
                D->err = err;
            }
            return;
        }
        j->final = 1;
        D->ss.stopped_rows++;
        snprintf(ckpt, sizeof ckpt, "%s/%s.ckpt", D->sw->checkpoints, D->ids[i]);
        ls_train_forget_checkpoint(ckpt, &r);
    }
}

static void handle_events(driver *D, const dgroup *g, const ls_asha_event *ev, int n)
{
    for (int k = 0; k < n; k++) {
        dunit *u = &D->units[g->first_unit + ev[k].unit];
        log_event(D, g, &ev[k]);
        if (D->replaying) { /* what is left to do is worked out after the replay */
            if (ev[k].kind == LS_ASHA_EV_STOP)
                u->stop = ev[k];
            continue;
        }
        if (ev[k].kind == LS_ASHA_EV_PROMOTE)
            promote(D, u, ev[k].rung + 1);
        else if (ev[k].kind == LS_ASHA_EV_STOP)
            write_stopped(D, u, &ev[k]);
    }
}

/* ---- rows into rung results -------------------------------------------------- */

/* Job i's row (from the run, or read back at start).  Lock held. */
static void on_row(driver *D, long i, const ls_result *res)
{
    djob *j = &D->jobs[i];
    if (j->unit < 0)
        return;
    const dunit *u = &D->units[j->unit];
    dgroup *g = &D->groups[u->group];
    ls_asha_state st = ls_asha_state_of(g->a, u->local);
    int at = ls_asha_rung_of(g->a, u->local), r;
    double value = res->val_error >= 0 ? res->val_error : NAN;

    if (ls_status_final(res->status, 0))
        j->final = 1;
    switch (res->status) {
    case LS_STATUS_PAUSED: r = rung_at_epoch(g, res->epochs_run); break;
    case LS_STATUS_OK: r = g->nrungs - 1; break;
    case LS_STATUS_DIVERGED:
    case LS_STATUS_FAILED: r = at, value = NAN; break;
    default: return; /* interrupted: no result; stopped: a consequence */
    }
    if ((st != LS_ASHA_NEW && st != LS_ASHA_RUNNING) || r != at || (j->have >> r & 1))
        return; /* not due: a repeated pause, or a row from before a change */
    if (res->status == LS_STATUS_PAUSED)
        j->last = *res;
    j->have |= 1u << r;
    j->val[r] = value;
    j->loss[r] = res->train_loss;
    j->test[r] = res->test_error;
    double v[256], l[256];
    int n = 0;
    for (int k = 0; k < u->n; k++) {
        const djob *o = &D->jobs[D->job_of[u->first + k]];
        if (!(o->have >> r & 1))
            return; /* the unit's other seeds are not there yet */
        if (n < 256)
            v[n] = o->val[r], l[n++] = o->loss[r];
    }
    const ls_asha_event *ev;
    ls_err err = {0};
    int nev = ls_asha_result(g->a, u->local, ls_asha_mean(v, n), ls_asha_mean(l, n), &ev, &err);
    if (nev > 0)
        handle_events(D, g, ev, nev);
}

/* ---- setup ------------------------------------------------------------------- */

static void unit_key(const driver *D, size_t i, char key[LS_JOB_ID_LEN])
{
    ls_job probe = D->sw->jobs[i];
    if (!D->sw->search.seeds_each)
        probe.seed = 0;
    probe.search[0] = '\0'; /* the configuration's key, not the search's */
    ls_job_id(&probe, key);
}

/* The units' shard: the driver splits units, and gives the runner no
 * shard of its own. */
static int shard_units(driver *D, int shard_index, int shard_count, int *keep, ls_err *err)
{
    for (int u = 0; u < D->nunits; u++)
        keep[u] = 1;
    if (shard_count <= 1)
        return 0;
    double *cost = ls_calloc((size_t)D->nunits, sizeof *cost);
    char (*ids)[LS_JOB_ID_LEN] = ls_calloc((size_t)D->nunits, sizeof *ids);
    int *of = ls_calloc((size_t)D->nunits, sizeof *of), rc = LS_ENOMEM;
    if (cost && ids && of) {
        for (int u = 0; u < D->nunits; u++) {
            cost[u] = D->units[u].n;
            unit_key(D, (size_t)D->job_of[D->units[u].first], ids[u]);
        }
        rc = ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])ids, (size_t)D->nunits,
                             shard_count, of, err);
        for (int u = 0; !rc && u < D->nunits; u++)
            keep[u] = of[u] == shard_index;
    } else {
        ls_err_set(err, LS_ENOMEM, "out of memory");
    }
    ls_free(cost);
    ls_free(ids);
    ls_free(of);
    return rc;
}

typedef struct key_ctx {
    char (*key)[LS_JOB_ID_LEN];
} key_ctx;

static int cmp_key(const void *a, const void *b, void *ctx)
{
    const key_ctx *c = ctx;
    size_t i = *(const size_t *)a, k = *(const size_t *)b;
    int r = strcmp(c->key[i], c->key[k]);
    return r ? r : (i > k) - (i < k);
}

/* Each job's unit, numbered in first appearance order: the jobs sorted by
 * their unit key (its id, seed cleared; the id holds the task), each then
 * joining the unit of the first job of its key.  n log n: a sweep may be
 * 100,000 jobs. */
static int number_units(driver *D, char (*key)[LS_JOB_ID_LEN], int *unit_of, ls_err *err)
{
    size_t n = D->sw->njobs, *idx = ls_calloc(n ? n : 1, sizeof *idx);
    size_t *rep = ls_calloc(n ? n : 1, sizeof *rep);
    key_ctx c = {key};
    if (!idx || !rep) {
        ls_free(idx);
        ls_free(rep);
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        unit_key(D, i, key[i]);
        idx[i] = i;
    }
    qsort_r(idx, n, sizeof *idx, cmp_key, &c);
    for (size_t k = 0; k < n; k++)
        rep[idx[k]] = k && !strcmp(key[idx[k]], key[idx[k - 1]]) ? rep[idx[k - 1]] : idx[k];
    for (size_t i = 0; i < n; i++)
        unit_of[i] = rep[i] == i ? D->nunits++ : unit_of[rep[i]];
    ls_free(idx);
    ls_free(rep);
    return 0;
}

/* Group the jobs into units (first appearance order) and tasks: units by
 * task (bitcount first), each unit's jobs together in job order. */
static int make_units(driver *D, ls_err *err)
{
    size_t n = D->sw->njobs;
    char (*key)[LS_JOB_ID_LEN] = ls_calloc(n ? n : 1, sizeof *key);
    int *unit_of = ls_calloc(n ? n : 1, sizeof *unit_of), *fill = NULL, rc = 0;
    D->units = ls_calloc(n ? n : 1, sizeof *D->units);
    D->job_of = ls_calloc(n ? n : 1, sizeof *D->job_of);
    if (!key || !unit_of || !D->units || !D->job_of)
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    if (!rc && !(rc = number_units(D, key, unit_of, err)) &&
        !(fill = ls_calloc((size_t)D->nunits + 1, sizeof *fill)))
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    if (!rc) {
        for (size_t i = 0; i < n; i++) {
            dunit *du = &D->units[unit_of[i]];
            du->group = (int)D->sw->jobs[i].task; /* provisional: the task */
            du->n++;
        }
        int pos = 0;
        for (int t = 0; t < 2; t++)
            for (int u = 0; u < D->nunits; u++)
                if (D->units[u].group == t) {
                    D->units[u].first = fill[u] = pos;
                    pos += D->units[u].n;
                }
        for (size_t i = 0; i < n; i++) {
            D->job_of[fill[unit_of[i]]++] = (int)i;
            D->jobs[i].unit = unit_of[i];
        }
    }
    ls_free(key);
    ls_free(unit_of);
    ls_free(fill);
    return rc;
}

/* The units in group order, so that a group's units are contiguous
 * (first_unit + local is a unit's index), without those of other shards;
 * the jobs' unit indices follow. */
static int order_units(driver *D, const int *keep, const int *remap, ls_err *err)
{
    dunit *sorted = ls_calloc((size_t)D->nunits + 1, sizeof *sorted);
    int *newidx = ls_calloc((size_t)D->nunits + 1, sizeof *newidx), pos = 0;
    if (!sorted || !newidx) {
        ls_free(sorted);
        ls_free(newidx);
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    }
    for (int gi = 0; gi < D->ngroups; gi++) {
        dgroup *g = &D->groups[gi];
        g->first_unit = pos;
        for (int u = 0; u < D->nunits; u++)
            if (keep[u] && D->units[u].group == (int)g->task) {
                sorted[pos] = D->units[u];
                sorted[pos].group = gi;
                sorted[pos].local = remap[u];
                newidx[u] = pos++;
            }
    }
    for (int u = 0; u < D->nunits; u++)
        if (!keep[u])
            newidx[u] = -1;
    for (size_t i = 0; i < D->sw->njobs; i++)
        D->jobs[i].unit = newidx[D->jobs[i].unit];
    memcpy(D->units, sorted, sizeof *sorted * (size_t)pos);
    D->nunits = pos;
    ls_free(sorted);
    ls_free(newidx);
    return 0;
}

/* One ASHA per task, over the units of this shard. */
static int make_groups(driver *D, const int *keep, ls_err *err)
{
    int *remap = ls_calloc((size_t)D->nunits, sizeof *remap);
    const char **keys = ls_calloc((size_t)D->nunits + 1, sizeof *keys);
    char (*kbuf)[LS_JOB_ID_LEN] = ls_calloc((size_t)D->nunits + 1, sizeof *kbuf);
    int rc = 0;
    if (!remap || !keys || !kbuf) {
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
        goto out;
    }
    for (int t = 0; t < 2 && !rc; t++) {
        dgroup *g = &D->groups[D->ngroups];
        int n = 0, first_job = -1;
        for (int u = 0; u < D->nunits; u++)
            if (keep[u] && D->units[u].group == t) {
                if (first_job < 0)
                    first_job = D->job_of[D->units[u].first];
                remap[u] = n;
                unit_key(D, (size_t)D->job_of[D->units[u].first], kbuf[n]);
                keys[n] = kbuf[n];
                n++;
            }
        if (!n)
            continue;
        g->task = (ls_task)t;
        g->nunits = n;
        g->nrungs = ls_search_rungs(&D->sw->search, D->sw->jobs[first_job].epochs, g->epochs,
                                    MAXR);
        if (g->nrungs < 1)
            rc = ls_err_set(err, LS_EINVAL, "search: no rungs for %d epochs",
                            D->sw->jobs[first_job].epochs);
        else
            rc = ls_asha_new(&g->a, n, keys, g->epochs, g->nrungs, D->sw->search.eta, err);
        D->ngroups++;
    }
    if (!rc)
        rc = order_units(D, keep, remap, err);
out:
    ls_free(remap);
    ls_free(keys);
    ls_free(kbuf);
    return rc;
}

/* The shard's jobs get the search's tag (ls_search_tag), and every job
 * its id. */
static int tag_jobs(driver *D, const int *keep, ls_err *err)
{
    size_t n = D->sw->njobs;
    int *in = ls_calloc(n ? n : 1, sizeof *in);
    if (!in)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        in[i] = keep[D->jobs[i].unit];
    int rc = ls_search_tag(&D->sw->search, D->own.jobs, n, in, err);
    ls_free(in);
    for (size_t i = 0; !rc && i < n; i++) {
        ls_job_id(&D->sw->jobs[i], D->ids[i]);
        D->order[i] = i;
    }
    if (!rc)
        qsort_r(D->order, n, sizeof *D->order, cmp_id, D);
    return rc;
}

static int init_driver(driver *D, const ls_sweep *sw, int shard_index, int shard_count,
                       ls_err *err)
{
    size_t n = sw->njobs;
    int rc, *keep = NULL;
    pthread_mutex_init(&D->lock, NULL);
    D->own = *sw;
    D->sw = &D->own;
    D->own.jobs = ls_calloc(n ? n : 1, sizeof *D->own.jobs);
    D->jobs = ls_calloc(n ? n : 1, sizeof *D->jobs);
    D->order = ls_calloc(n ? n : 1, sizeof *D->order);
    D->ids = ls_calloc(n ? n : 1, sizeof *D->ids);
    if (!D->own.jobs || !D->jobs || !D->order || !D->ids)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    memcpy(D->own.jobs, sw->jobs, sizeof *sw->jobs * n);
    if ((rc = make_units(D, err)))
        return rc;
    if (!(keep = ls_calloc((size_t)D->nunits + 1, sizeof *keep)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    if (!(rc = shard_units(D, shard_index, shard_count, keep, err)) &&
        !(rc = tag_jobs(D, keep, err)))
        rc = make_groups(D, keep, err);
    ls_free(keep);
    D->ss.units = (size_t)D->nunits;
    return rc;
}

static void free_driver(driver *D)
{
    for (int g = 0; g < D->ngroups; g++)
        ls_asha_free(D->groups[g].a);
    for (int k = 0; k < D->nqueue; k++)
        segment_free(D->queue[k]);
    ls_free(D->queue);
    ls_free(D->own.jobs);
    ls_free(D->jobs);
    ls_free(D->order);
    ls_free(D->ids);
    ls_free(D->units);
    ls_free(D->job_of);
    if (D->log)
        fclose(D->log);
    pthread_mutex_destroy(&D->lock);
}

/* ---- replay ----------------------------------------------------------------- */

/* One row of the search's record (replay), through on_row. */
static int replay_row(void *ctx, int nf, char **f, ls_err *err)
{
    driver *D = ctx;
    long i = job_index(D, f[LS_COLUMN_job_id]);
    ls_job job;
    ls_result res;
    if (i < 0)
        return 0; /* another sweep's row in a shared file */
    ls_job_defaults(&job, D->sw->jobs[i].task);
    if (ls_results_parse(nf, f, &job, &res, err))
        return err ? err->code : LS_EFORMAT;
    on_row(D, i, &res);
    return 0;
}

/* Whether unit u's jobs can train to its rung: none has a final row
 * without a result there.  With the tag in the ids only this search's
 * rows are its own, so that means an edited record. */
static int check_unit(driver *D, const dunit *u, int r, ls_err *err)
{
    for (int k = 0; k < u->n; k++) {
        const djob *j = &D->jobs[D->job_of[u->first + k]];
        if (j->final && !(j->have >> r & 1))
            return ls_err_set(err, LS_EINVAL, "search: job %s has a final row in %s that "
                              "the search's decisions do not explain (an edited file?)",
                              D->ids[D->job_of[u->first + k]], D->sw->results);
    }
    return 0;
}

/* The record, row by row through on_row; then what is left to do: one
 * segment of every unit's missing rung, and the stopped rows a crash kept
 * from being written. */
static int replay(driver *D, ls_err *err)
{
    D->replaying = 1;
    int rc = D->io.replay(D->io.ctx, D->sw, replay_row, D, err);
    D->replaying = 0;
    if (rc)
        return rc;
    segment *seg = segment_new(D, D->sw->njobs, 1);
    if (!seg)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (int k = 0; k < D->nunits && !rc; k++) {
        const dunit *u = &D->units[k];
        const dgroup *g = &D->groups[u->group];
        ls_asha_state st = ls_asha_state_of(g->a, u->local);
        int r = ls_asha_rung_of(g->a, u->local);
        if (st == LS_ASHA_NEW || st == LS_ASHA_RUNNING) {
            if (!(rc = check_unit(D, u, r, err)))
                queue_unit(D, seg, u, r);
        } else if (st == LS_ASHA_STOPPED) {
            write_stopped(D, u, &u->stop);
        }
    }
    if (rc) {
        segment_free(seg);
        return rc;
    }
    if (push_segment(D, seg))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    return D->failed ? (*err = D->err, D->err.code) : 0;
}

/* ---- the search's interface (searchrun.h) -------------------------------------- */

const ls_sweep *ls_search_next(ls_search_drv *D, double *weight)
{
    const ls_sweep *sw = NULL;
    pthread_mutex_lock(&D->lock);
    if (D->nqueue > 0 && !D->failed) {
        sw = &D->queue[0]->sw;
        *weight = D->queue[0]->weight;
        memmove(D->queue, D->queue + 1, sizeof *D->queue * (size_t)--D->nqueue);
    }
    pthread_mutex_unlock(&D->lock);
    return sw;
}

int ls_search_pending(ls_search_drv *D)
{
    pthread_mutex_lock(&D->lock);
    int n = D->failed ? 0 : D->nqueue;
    pthread_mutex_unlock(&D->lock);
    return n;
}

/* The jobs of a segment the run gave back without their rung's result
 * (drained: interrupted, or dropped before they started): again, in a
 * segment of their own, for when the run takes the search's work again. */
static void requeue_unfinished(driver *D, const segment *seg)
{
    segment *again = segment_new(D, seg->sw.njobs, seg->weight);
    if (!again) {
        fail_driver(D, LS_ENOMEM, "out of memory");
        return;
    }
    for (size_t k = 0; k < seg->sw.njobs; k++) {
        const ls_job *job = &seg->sw.jobs[k];
        char id[LS_JOB_ID_LEN];
        ls_job_id(job, id);
        long i = job_index(D, id);
        if (i < 0 || D->jobs[i].final || (D->jobs[i].have >> (job->rung - 1) & 1))
            continue;
        /* A drain brings a job back now and then; a job that comes back at
         * every try never gets there (a row the decisions cannot use). */
        if (++D->jobs[i].requeued > REQUEUE_MAX) {
            char what[160];
            snprintf(what, sizeof what, "job %s ended %d times without its result at rung %d",
                     id, REQUEUE_MAX, job->rung);
            fail_driver(D, LS_EIO, what);
            break;
        }
        again->sw.jobs[again->sw.njobs++] = *job;
    }
    if (push_segment(D, again))
        fail_driver(D, LS_ENOMEM, "out of memory");
}

void ls_search_segment_done(ls_search_drv *D, const ls_sweep *sw, const ls_err *why)
{
    segment *seg = (segment *)sw;
    pthread_mutex_lock(&D->lock);
    if (why)
        fail_driver(D, why->code ? why->code : LS_EIO, why->msg);
    else
        requeue_unfinished(D, seg);
    pthread_mutex_unlock(&D->lock);
    segment_free(seg);
}

void ls_search_recorded(ls_search_drv *D, const char *id, const ls_result *r)
{
    pthread_mutex_lock(&D->lock);
    long i = job_index(D, id);
    if (i >= 0)
        on_row(D, i, r);
    pthread_mutex_unlock(&D->lock);
}

int ls_search_failed(ls_search_drv *D, ls_err *err)
{
    pthread_mutex_lock(&D->lock);
    int rc = D->failed ? (D->err.code ? D->err.code : LS_EIO) : 0;
    if (rc && err)
        *err = D->err;
    pthread_mutex_unlock(&D->lock);
    return rc;
}

int ls_search_finished(ls_search_drv *D)
{
    pthread_mutex_lock(&D->lock);
    int done = D->ngroups > 0;
    for (int g = 0; g < D->ngroups; g++)
        done &= ls_asha_finished(D->groups[g].a);
    pthread_mutex_unlock(&D->lock);
    return done;
}

/* ---- the runner's hooks, for ls_search_run ------------------------------------ */

static const ls_sweep *next_sweep(void *ctx, double *used_s)
{
    double weight;
    *used_s = 0;
    return ls_search_next(ctx, &weight);
}

static void share(void *ctx, const ls_sweep *sw, double *weight, int *drain)
{
    (void)ctx;
    *weight = ((const segment *)sw)->weight;
    *drain = 0;
}

static void sweep_done(void *ctx, const ls_sweep *sw, const ls_err *why)
{
    ls_search_segment_done(ctx, sw, why);
}

static void recorded(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                     const ls_result *r)
{
    (void)sw, (void)job;
    ls_search_recorded(ctx, id, r);
}

static int idle_end(void *ctx)
{
    return ls_search_pending(ctx) == 0 || ls_search_failed(ctx, NULL);
}

/* ---- the summary -------------------------------------------------------------- */

static void count_group(driver *D, const dgroup *g)
{
    for (int u = 0; u < g->nunits; u++) {
        ls_asha_state st = ls_asha_state_of(g->a, u);
        D->ss.done += st == LS_ASHA_DONE;
        D->ss.stopped += st == LS_ASHA_STOPPED;
    }
}

/* The rung table and the choice: the best unit at the highest rung that
 * has a valid entry, with its mean validation and test error there. */
static void print_group(driver *D, dgroup *g, FILE *f)
{
    int best = ls_asha_best(g->a), top = g->nrungs - 1;
    double v, l;
    fprintf(f, "search %s: asha over %d unit(s), eta %d, rungs", ls_task_name(g->task),
            g->nunits, D->sw->search.eta);
    for (int r = 0; r < g->nrungs; r++)
        fprintf(f, "%s%d", r ? "," : " ", g->epochs[r]);
    fprintf(f, " epochs; entered per rung");
    for (int r = 0; r < g->nrungs; r++)
        fprintf(f, "%s%d", r ? "," : " ", ls_asha_rung_size(g->a, r));
    fprintf(f, "%s\n", ls_asha_finished(g->a) ? "" : " (not finished)");
    if (best < 0)
        return;
    const dunit *u = &D->units[g->first_unit + best];
    while (top > 0 && !ls_asha_value(g->a, best, top, &v, &l))
        top--;
    double val = 0, test = 0;
    fprintf(f, "  chosen:");
    for (int k = 0; k < u->n; k++) {
        const djob *j = &D->jobs[D->job_of[u->first + k]];
        val += j->val[top] / u->n;
        test += j->test[top] / u->n;
        fprintf(f, " %s", D->ids[D->job_of[u->first + k]]);
    }
    fprintf(f, " at %d epochs: val_error %.4f%%, test_error %.4f%% (mean of %d job(s))\n",
            g->epochs[top], 100 * val, 100 * test, u->n);
}

/* ---- the run ----------------------------------------------------------------------- */

/* The replay writes a new log beside the old one and renames it into
 * place when done: the log is never seen half replayed. */
static void log_tmp_path(const driver *D, char *buf, size_t len)
{
    snprintf(buf, len, "%s.tmp", D->log_path);
}

static int open_log(driver *D, ls_err *err)
{
    char tmp[LS_SWEEP_PATH_MAX + 8], dir[LS_SWEEP_PATH_MAX];
    const char *slash = strrchr(D->log_path, '/');
    if (slash && slash > D->log_path) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - D->log_path), D->log_path);
        if (ls_sys_mkdirs(dir) != 0)
            return ls_err_set(err, LS_EIO, "%s: cannot create: %s", dir, strerror(errno));
    }
    log_tmp_path(D, tmp, sizeof tmp);
    D->log = fopen(tmp, "w");
    if (!D->log)
        return ls_err_set(err, LS_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    fprintf(D->log, "%s\n", LS_SEARCH_LOG_COLUMNS);
    return 0;
}

static int publish_log(driver *D, ls_err *err)
{
    char tmp[LS_SWEEP_PATH_MAX + 8];
    log_tmp_path(D, tmp, sizeof tmp);
    if (fflush(D->log) != 0 || rename(tmp, D->log_path) != 0)
        return ls_err_set(err, LS_EIO, "%s: cannot write: %s", D->log_path,
                          strerror(errno));
    return 0;
}

int ls_search_open(ls_search_drv **out, const ls_sweep *sw, int shard_index, int shard_count,
                   const ls_search_io *io, const char *log_path, ls_err *err)
{
    driver *D = ls_calloc(1, sizeof *D);
    int rc;
    *out = NULL;
    if (!D)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    D->io = *io;
    snprintf(D->log_path, sizeof D->log_path, "%s", log_path);
    if (!(rc = init_driver(D, sw, shard_index, shard_count, err)) &&
        !(rc = open_log(D, err)) && !(rc = replay(D, err)))
        rc = publish_log(D, err);
    if (rc && !D->ngroups) {
        ls_search_close(D, NULL, NULL);
        return rc;
    }
    *out = D;
    return rc;
}

void ls_search_close(ls_search_drv *D, FILE *log, ls_search_summary *ss)
{
    if (!D)
        return;
    if (D->ngroups) {
        D->ss.finished = 1;
        for (int g = 0; g < D->ngroups; g++) {
            count_group(D, &D->groups[g]);
            if (log)
                print_group(D, &D->groups[g], log);
            D->ss.finished &= ls_asha_finished(D->groups[g].a);
        }
    }
    if (ss)
        *ss = D->ss;
    free_driver(D);
    ls_free(D);
}

/* ---- `run`: the record is the results file -------------------------------------- */

typedef struct file_replay {
    ls_search_row_fn row;
    void *rctx;
} file_replay;

static int file_row(void *ctx, const char *path, long line, int nf, char **f, ls_err *err)
{
    const file_replay *fr = ctx;
    int rc = fr->row(fr->rctx, nf, f, err);
    return rc ? ls_err_prefix(err, "%s:%ld: ", path, line) : 0;
}

static int file_replay_rows(void *ctx, const ls_sweep *sw, ls_search_row_fn row, void *rctx,
                            ls_err *err)
{
    file_replay fr = {row, rctx};
    (void)ctx;
    if (access(sw->results, F_OK) != 0)
        return 0;
    return ls_csv_read(sw->results, LS_RESULTS_COLUMNS, file_row, &fr, NULL, err);
}

static int file_stopped(void *ctx, const ls_sweep *sw, const ls_job *job, const char *id,
                        const ls_result *r, ls_err *err)
{
    (void)ctx, (void)id;
    return ls_results_append(sw->results, job, r, err);
}

int ls_search_run(const ls_sweep *sw, ls_topo *topo, const ls_run_opts *o,
                  ls_run_summary *sum, ls_search_summary *ss, ls_err *err)
{
    ls_search_drv *D = NULL;
    ls_search_io io = {.replay = file_replay_rows, .stopped = file_stopped};
    int rc;
    if (o->hooks)
        return ls_err_set(err, LS_EINVAL, "search: the run has a front end already");
    rc = ls_search_open(&D, sw, o->shard_index, o->shard_count, &io, sw->search_log, err);
    if (!rc) {
        ls_run_hooks h = {.ctx = D, .next_sweep = next_sweep, .share = share,
                          .sweep_done = sweep_done, .recorded = recorded,
                          .idle_end = idle_end};
        ls_run_opts ro = *o;
        ro.hooks = &h;
        ro.shard_index = 0; /* the driver shards units */
        ro.shard_count = 1;
        rc = ls_runner_run(NULL, topo, &ro, sum, err);
        if (!rc)
            rc = ls_search_failed(D, err);
    }
    ls_search_close(D, o->log, ss);
    return rc;
}
