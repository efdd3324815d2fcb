/* search.c - the report's search sections: for each results file with an
 * asha search log beside it (results/x.csv: results/x-search.csv,
 * searchrun.h), per task the rung table (entered, promoted, stopped, the
 * cutoff at its close), the chosen configuration with its validation and
 * test error (the report's rows of its jobs), and the compute: the
 * training core-seconds of the search's jobs against the full grid's,
 * estimated from each job's own epoch time.  With --plots, a chart per
 * task, search_<task>: every configuration's validation error (mean over
 * its seeds) against the epoch, each line ending where the search left
 * it: a cross where it was stopped, a circle where it reached the end. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/asha.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/searchrun.h"
#include "report_int.h"

#define MAXR LS_ASHA_MAX_RUNGS

typedef struct rung {
    int epoch, entered, promoted, stopped, done;
    double cutoff;
} rung;

/* A configuration's end in the log: stopped at or done at an epoch. */
typedef struct cend {
    char jobs[256];
    int epoch, done;
} cend;

typedef struct task_log {
    char task[16];
    rung r[MAXR];
    int nrungs;
    double best_value, best_loss;
    char best_jobs[1024];  /* the chosen configuration's job ids */
    char best_config[1024];
    char jobs[65536];      /* every job id of the search, space-separated */
    cend *ends;            /* the configurations' ends, in the log's order */
    int nends, capends;
} task_log;

typedef struct log_ctx {
    task_log t[2];
    int nt;
} log_ctx;

static task_log *task_of(log_ctx *L, const char *task)
{
    for (int i = 0; i < L->nt; i++)
        if (!strcmp(L->t[i].task, task))
            return &L->t[i];
    if (L->nt == 2)
        return NULL;
    task_log *t = &L->t[L->nt++];
    memset(t, 0, sizeof *t);
    snprintf(t->task, sizeof t->task, "%s", task);
    t->best_value = INFINITY;
    return t;
}

static double num(const char *s) { return *s ? strtod(s, NULL) : NAN; }

/* seq,task,config,jobs,rung,epoch,event,value,train_loss,rank,rung_size,cutoff */
static int on_line(void *ctx, const char *path, long line, int nf, char **f, ls_err *err)
{
    log_ctx *L = ctx;
    task_log *t = task_of(L, f[1]);
    int r = atoi(f[4]);
    (void)nf;
    if (!t || r < 0 || r >= MAXR)
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: not a search log line", path, line);
    rung *g = &t->r[r];
    t->nrungs = r + 1 > t->nrungs ? r + 1 : t->nrungs;
    g->epoch = atoi(f[5]);
    g->cutoff = num(f[11]);
    if (!strcmp(f[6], "result")) {
        g->entered++;
        if (r == 0) { /* each configuration enters rung 0 once */
            size_t n = strlen(t->jobs);
            snprintf(t->jobs + n, sizeof t->jobs - n, "%s%s", n ? " " : "", f[3]);
        }
    } else if (!strcmp(f[6], "promoted")) {
        g->promoted++;
    } else if (!strcmp(f[6], "stopped")) {
        g->stopped++;
    }
    if ((!strcmp(f[6], "stopped") || !strcmp(f[6], "done")) && t->nends == t->capends) {
        int cap = t->capends ? 2 * t->capends : 64;
        cend *e = ls_realloc(t->ends, sizeof *e * (size_t)cap);
        if (!e)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        t->ends = e;
        t->capends = cap;
    }
    if (!strcmp(f[6], "stopped") || !strcmp(f[6], "done")) {
        cend *e = &t->ends[t->nends++];
        snprintf(e->jobs, sizeof e->jobs, "%s", f[3]);
        e->epoch = g->epoch;
        e->done = !strcmp(f[6], "done");
    }
    if (!strcmp(f[6], "done")) {
        double v = num(f[7]), l = num(f[8]);
        g->done++;
        if (v < t->best_value || (v == t->best_value && l < t->best_loss)) {
            t->best_value = v;
            t->best_loss = l;
            snprintf(t->best_jobs, sizeof t->best_jobs, "%s", f[3]);
            snprintf(t->best_config, sizeof t->best_config, "%s", f[2]);
        }
    }
    return 0;
}

static const job *find_job(const ls_report *r, const char *id)
{
    for (size_t i = 0; i < r->njobs; i++)
        if (!strcmp(r->jobs[i].id, id))
            return &r->jobs[i];
    return NULL;
}

/* fn for each job id of a space-separated list (the log's jobs field). */
static void each_id(const char *list, void (*fn)(const char *id, void *), void *ctx)
{
    char id[LS_JOB_ID_LEN];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == LS_JOB_ID_LEN - 1) {
            memcpy(id, p, n);
            id[n] = '\0';
            fn(id, ctx);
        }
        p += n + (p[n] == ' ');
    }
}

typedef struct job_fn {
    const ls_report *r;
    void (*fn)(const job *, void *);
    void *ctx;
} job_fn;

static void call_job(const char *id, void *ctx)
{
    const job_fn *c = ctx;
    const job *j = find_job(c->r, id);
    if (j)
        c->fn(j, c->ctx);
}

/* The report's jobs whose ids are in the space-separated list: call fn. */
static void each_job(const ls_report *r, const char *list, void (*fn)(const job *, void *),
                     void *ctx)
{
    job_fn c = {r, fn, ctx};
    each_id(list, call_job, &c);
}

typedef struct sums {
    double val, test, used, grid;
    int n;
} sums;

static void add_errors(const job *j, void *ctx)
{
    sums *s = ctx;
    s->val += j->val_error;
    s->test += j->test_error;
    s->n++;
}

static void add_compute(const job *j, void *ctx)
{
    sums *s = ctx;
    int threads = j->threads > 0 ? j->threads : 1;
    s->used += j->train_s * threads;
    if (j->epochs_run > 0)
        s->grid += j->train_s * threads / j->epochs_run * j->v[HP_EPOCHS];
}

static void write_task(writer *w, const char *path, const task_log *t)
{
    char a[32], b[32];
    ls_table tab;
    rep_prose(w, 1, "search over %s: rungs (%s)", t->task, path);
    ls_table_init(&tab, 7, 0);
    ls_table_row(&tab);
    const char *hdr[] = {"rung", "epochs", "entered", "promoted", "stopped", "done", "cutoff"};
    for (int i = 0; i < 7; i++)
        ls_table_put(&tab, "%s", hdr[i]);
    for (int k = 0; k < t->nrungs; k++) {
        const rung *g = &t->r[k];
        ls_table_row(&tab);
        ls_table_put(&tab, "%d", k + 1);
        ls_table_put(&tab, "%d", g->epoch);
        ls_table_put(&tab, "%d", g->entered);
        ls_table_put(&tab, "%d", g->promoted);
        ls_table_put(&tab, "%d", g->stopped);
        ls_table_put(&tab, "%d", g->done);
        ls_table_put(&tab, "%s", isnan(g->cutoff) ? "-" : rep_fmt_err(w, a, g->cutoff));
    }
    rep_emit(w, &tab, "search_rungs", 0);
    sums e = {0}, c = {0};
    each_job(w->r, t->best_jobs, add_errors, &e);
    each_job(w->r, t->jobs, add_compute, &c);
    if (e.n)
        rep_prose(w, 0, "chosen: %s (jobs %s): validation error %s%%, test error %s%% (mean "
                  "of %d)", t->best_config, t->best_jobs, rep_sig3(a, 100 * e.val / e.n),
                  rep_sig3(b, 100 * e.test / e.n), e.n);
    else if (*t->best_jobs)
        rep_prose(w, 0, "chosen: %s (its rows are not in the report's files)", t->best_config);
    else
        rep_prose(w, 0, "chosen: none yet (no configuration has reached the last rung)");
    if (c.grid > 0)
        rep_prose(w, 0, "compute: %.0f core-s of training, %.1f%% of the full grid's %.0f "
                  "(each job's own epoch time times its epochs; evaluations apart)", c.used,
                  100 * c.used / c.grid, c.grid);
}

static void log_free(log_ctx *L)
{
    for (int k = 0; L && k < L->nt; k++)
        ls_free(L->t[k].ends);
    ls_free(L);
}

/* The search log beside results file p, read; NULL with *rc 0 if there is
 * none, or with the error. */
static log_ctx *log_load(const char *p, char *logp, size_t cap, int *rc, ls_err *err)
{
    size_t n = strlen(p);
    *rc = 0;
    if (n >= 4 && !strcmp(p + n - 4, ".csv"))
        n -= 4;
    snprintf(logp, cap, "%.*s-search.csv", (int)n, p);
    if (access(logp, R_OK) != 0)
        return NULL;
    log_ctx *L = ls_calloc(1, sizeof *L);
    if (!L) {
        *rc = ls_err_set(err, LS_ENOMEM, "out of memory");
        return NULL;
    }
    if ((*rc = ls_csv_read(logp, LS_SEARCH_LOG_COLUMNS, on_line, L, NULL, err))) {
        log_free(L);
        return NULL;
    }
    return L;
}

int rep_write_search(writer *w, ls_err *err)
{
    for (int i = 0; i < w->r->npaths; i++) {
        char logp[4096];
        int rc;
        log_ctx *L = log_load(w->r->paths[i], logp, sizeof logp, &rc, err);
        if (rc)
            return rc;
        if (!L)
            continue;
        rep_heading(w, "Search: %s", logp);
        for (int k = 0; k < L->nt; k++)
            write_task(w, logp, &L->t[k]);
        log_free(L);
    }
    return 0;
}

/* ---- the chart ---------------------------------------------------------- */

/* Validation error (%) by job and epoch, from a curves file: the jobs of
 * one search, in a small open-addressed table by id. */
typedef struct vcurve {
    char id[LS_JOB_ID_LEN];
    int n;
    double *v;             /* [n + 1], NAN where not evaluated */
} vcurve;

typedef struct vcurves {
    vcurve *c;
    size_t n;
} vcurves;

static vcurve *vc_find(const vcurves *V, const char *id)
{
    for (size_t i = 0; i < V->n; i++)
        if (!strcmp(V->c[i].id, id))
            return &V->c[i];
    return NULL;
}

static int vc_row(void *ctx, const ls_curve_row *row, ls_err *err)
{
    vcurve *c = vc_find(ctx, row->job_id);
    (void)err;
    if (c && row->epoch >= 1 && row->epoch <= c->n && !isnan(row->val_error))
        c->v[row->epoch] = 100 * row->val_error; /* a later row wins */
    return 0;
}

static void vc_add(const job *j, void *ctx)
{
    vcurves *V = ctx;
    vcurve *c = &V->c[V->n];
    if (vc_find(V, j->id))
        return;
    int n = j->v[HP_EPOCHS] > 0 && j->v[HP_EPOCHS] < 1e6 ? (int)j->v[HP_EPOCHS] : 0;
    if (!(c->v = ls_calloc((size_t)n + 1, sizeof *c->v)))
        return;
    memcpy(c->id, j->id, sizeof c->id);
    c->n = n;
    for (int e = 0; e <= n; e++)
        c->v[e] = NAN;
    V->n++;
}

typedef struct vc_sum {
    const vcurves *V;
    int e, n;
    double s;
} vc_sum;

static void vc_add_at(const char *id, void *ctx)
{
    vc_sum *m = ctx;
    const vcurve *c = vc_find(m->V, id);
    if (c && m->e <= c->n && !isnan(c->v[m->e]))
        m->s += c->v[m->e], m->n++;
}

/* The mean over a configuration's jobs at epoch e (NAN if none has it). */
static double vc_mean(const vcurves *V, const char *jobs, int e)
{
    vc_sum m = {V, e, 0, 0};
    each_id(jobs, vc_add_at, &m);
    return m.n ? m.s / m.n : NAN;
}

static int last_epoch(const task_log *t)
{
    int e = 1;
    for (int k = 0; k < t->nends; k++)
        e = t->ends[k].epoch > e ? t->ends[k].epoch : e;
    return e;
}

/* DIR/search_<task>.{dat,gp}: one block per configuration (epoch, mean
 * validation error %), then a block of the stopped ends and one of the
 * finished ones. */
static int chart_task(plotter *pl, const task_log *t, const vcurves *V, ls_err *err)
{
    char stem[64], *body = NULL;
    size_t blen;
    range rg = {INFINITY, 0, 0};
    snprintf(stem, sizeof stem, "search_%s", t->task);
    FILE *d = rep_open_out(pl, stem, ".dat", err);
    if (!d)
        return LS_EIO;
    fprintf(d, "# %s search: validation error %% (mean over seeds) per configuration, "
               "then the stop points, then the ends\n", t->task);
    for (int k = 0; k < t->nends; k++) {
        for (int e = 1; e <= t->ends[k].epoch; e++) {
            double v = vc_mean(V, t->ends[k].jobs, e);
            if (!isnan(v))
                fprintf(d, "%d %.6g\n", e, v), rep_range_add(&rg, v);
        }
        fputs("\n\n", d);
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < t->nends; k++) {
            double v = vc_mean(V, t->ends[k].jobs, t->ends[k].epoch);
            if (t->ends[k].done == pass && !isnan(v))
                fprintf(d, "%d %.6g\n", t->ends[k].epoch, v);
        }
        fputs("\n\n", d);
    }
    int rc = rep_close_out(d, pl, stem, ".dat", err);
    if (rc)
        return rc;
    FILE *b = open_memstream(&body, &blen);
    if (!b)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    fputs(rep_gp_style, b);
    fprintf(b, "set title \"%s: asha search, %d configurations: validation error of each "
               "(mean over seeds) until the search left it\"\nset xlabel \"epoch\"\n"
               "set logscale x\nset xrange [1:%d]\n", t->task, t->nends, last_epoch(t) + 1);
    rep_gp_y_axis(b, &rg, "validation error", "%", "y");
    fprintf(b, "plot for [i=0:%d] \"%s.dat\" index i using 1:2 with lines lw 1 lc rgb "
               "\"#9090c0\" notitle, \\\n     \"%s.dat\" index %d using 1:2 with points "
               "pt 2 ps 1.5 lc rgb \"#c03030\" title \"stopped\", \\\n     \"%s.dat\" index %d "
               "using 1:2 with points pt 7 ps 1.5 lc rgb \"#208020\" title \"reached the last "
               "rung\"\n", t->nends - 1, stem, stem, t->nends, stem, t->nends + 1);
    if (fclose(b))
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    else
        rc = rep_write_script(pl, stem, body, 1100, 640, err);
    free(body);
    return rc;
}

int rep_plot_search(plotter *pl, ls_err *err)
{
    for (int i = 0; i < pl->r->npaths; i++) {
        char logp[4096], curves[4096];
        int rc;
        log_ctx *L = log_load(pl->r->paths[i], logp, sizeof logp, &rc, err);
        if (rc)
            return rc;
        if (!L)
            continue;
        ls_curve_path(pl->r->paths[i], curves, sizeof curves);
        for (int k = 0; k < L->nt && !rc; k++) {
            vcurves V = {ls_calloc(pl->r->njobs + 1, sizeof *V.c), 0};
            if (!V.c) {
                rc = ls_err_set(err, LS_ENOMEM, "out of memory");
                break;
            }
            each_job(pl->r, L->t[k].jobs, vc_add, &V);
            if (access(curves, R_OK) != 0)
                rep_note(pl->info, "search chart of %s skipped: %s not found", L->t[k].task,
                         curves);
            else if (!(rc = ls_curve_read(curves, vc_row, &V, NULL, err)))
                rc = chart_task(pl, &L->t[k], &V, err);
            for (size_t c = 0; c < V.n; c++)
                ls_free(V.c[c].v);
            ls_free(V.c);
        }
        log_free(L);
        if (rc)
            return rc;
    }
    return 0;
}
