/* search.c - the report's search sections: for each results file with an
 * asha search log beside it (results/x.csv: results/x-search.csv,
 * searchrun.h), per task the rung table (entered, promoted, stopped, the
 * cutoff at its close), the chosen configuration with its validation and
 * test error (the report's rows of its jobs), and the compute: the
 * training core-seconds of the search's jobs against the full grid's,
 * estimated from each job's own epoch time. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/asha.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/searchrun.h"
#include "report_int.h"

#define MAXR LS_ASHA_MAX_RUNGS

typedef struct rung {
    int epoch, entered, promoted, stopped, done;
    double cutoff;
} rung;

typedef struct task_log {
    char task[16];
    rung r[MAXR];
    int nrungs;
    double best_value, best_loss;
    char best_jobs[1024];  /* the chosen configuration's job ids */
    char best_config[1024];
    char jobs[65536];      /* every job id of the search, space-separated */
    size_t njobs_len;
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
    } else if (!strcmp(f[6], "done")) {
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

/* The report's jobs whose ids are in the space-separated list: call fn. */
static void each_job(const ls_report *r, const char *list, void (*fn)(const job *, void *),
                     void *ctx)
{
    char id[LS_JOB_ID_LEN];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == LS_JOB_ID_LEN - 1) {
            memcpy(id, p, n);
            id[n] = '\0';
            const job *j = find_job(r, id);
            if (j)
                fn(j, ctx);
        }
        p += n + (p[n] == ' ');
    }
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

int rep_write_search(writer *w, ls_err *err)
{
    for (int i = 0; i < w->r->npaths; i++) {
        const char *p = w->r->paths[i];
        char logp[4096];
        size_t n = strlen(p);
        if (n >= 4 && !strcmp(p + n - 4, ".csv"))
            n -= 4;
        snprintf(logp, sizeof logp, "%.*s-search.csv", (int)n, p);
        if (access(logp, R_OK) != 0)
            continue;
        log_ctx *L = ls_calloc(1, sizeof *L);
        if (!L)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        int rc = ls_csv_read(logp, LS_SEARCH_LOG_COLUMNS, on_line, L, NULL, err);
        if (!rc) {
            rep_heading(w, "Search: %s", logp);
            for (int k = 0; k < L->nt; k++)
                write_task(w, logp, &L->t[k]);
        }
        ls_free(L);
        if (rc)
            return rc;
    }
    return 0;
}
