/* load.c - loading the report's rows: every input checked, each job's best
 * row kept (ls_results_merge_load), then task groups, configurations, their
 * statistics and ranking; see report_int.h. */
#include "report_int.h"
#include "lstmsweep/alloc.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/csv.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/merge.h"

/* The number columns, checked in every row, are the schema's (its
 * numbers, in row order; those that may be empty may be ""). */
typedef struct loader {
    ls_report *r;
    int hp_col[NHP];
    int id_col, status_col, msg_col, epochs_run_col, threads_col;
    int test_col, val_col, wall_col, sps_col, gflops_col;
    size_t rows;
} loader;

static int col(const char *name)
{
    return ls_csv_column(LS_RESULTS_COLUMNS, name);
}

static void loader_init(loader *L, ls_report *r)
{
    memset(L, 0, sizeof *L);
    L->r = r;
    for (int k = 0; k < NHP; k++)
        L->hp_col[k] = LS_COLUMN_task + k;
    L->id_col = col("job_id");
    L->status_col = col("status");
    L->msg_col = col("message");
    L->epochs_run_col = col("epochs_run");
    L->threads_col = col("threads");
    L->test_col = col("test_error");
    L->val_col = col("val_error");
    L->wall_col = col("wall_s");
    L->sps_col = col("samples_per_s");
    L->gflops_col = col("gflops");
}

/* First pass, on the inputs themselves so errors name their lines. */
static int check_row(void *ctx, const char *path, long line, int nf, char **f,
                     ls_err *err)
{
    loader *L = ctx;
    ls_status st;
    ls_task task;

    for (int i = 0; i < LS_NCOLUMNS; i++) {
        const ls_column *c = ls_schema_at(i);
        const char *v = f[i];
        int integer = ls_column_is_integer(c);
        if (!ls_column_is_number(c) || (!*v && c->empty != LS_EMPTY_NEVER))
            continue;
        if (!*v)
            return ls_err_set(err, LS_EFORMAT, "%s:%ld: %s is empty", path, line, c->name);
        if (!ls_csv_is_number(v, integer))
            return ls_err_set(err, LS_EFORMAT, "%s:%ld: %s: '%.40s' is not %s", path,
                              line, c->name, v, integer ? "an integer" : "a number");
    }
    if (ls_task_parse(f[L->hp_col[HP_TASK]], &task))
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: unknown task '%.40s'", path, line,
                          f[L->hp_col[HP_TASK]]);
    if (ls_status_parse(f[L->status_col], &st))
        return ls_err_set(err, LS_EFORMAT, "%s:%ld: unknown status '%.40s'", path,
                          line, f[L->status_col]);
    L->rows++;
    return 0;
}

static double num_or_nan(const char *s)
{
    return *s ? strtod(s, NULL) : NAN;
}

/* Second pass, on the merged (already checked) rows. */
static int store_row(loader *L, char **f, ls_err *err)
{
    ls_report *r = L->r;

    if (r->njobs == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        job *nj = ls_realloc(r->jobs, cap * sizeof *nj);
        if (!nj)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        r->jobs = nj;
        r->cap = cap;
    }
    job *j = &r->jobs[r->njobs++]; /* counted now: destroy frees a partial row */
    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", f[L->id_col]);
    for (int k = 0; k < NHP; k++) {
        if (!(j->hp[k] = ls_strdup(f[L->hp_col[k]])))
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        j->v[k] = ls_column_is_number(ls_schema_at(L->hp_col[k])) ? num_or_nan(j->hp[k]) : NAN;
    }
    if (!(j->message = ls_strdup(f[L->msg_col])))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    ls_status_parse(f[L->status_col], &j->status);
    j->epochs_run = atoi(f[L->epochs_run_col]);
    j->threads = atoi(f[L->threads_col]);
    j->test_error = num_or_nan(f[L->test_col]);
    j->val_error = num_or_nan(f[L->val_col]);
    j->wall_s = strtod(f[L->wall_col], NULL);
    j->train_s = strtod(f[LS_COLUMN_train_s], NULL);
    j->samples_per_s = strtod(f[L->sps_col], NULL);
    j->gflops = strtod(f[L->gflops_col], NULL);
    return 0;
}

int rep_cmp_val(const job *a, const job *b, int k)
{
    double x = a->v[k], y = b->v[k];
    if (!isnan(x) && !isnan(y))
        return (x > y) - (x < y);
    return strcmp(a->hp[k], b->hp[k]);
}

/* Same group and every hyperparameter but the seed: same configuration. */
static int cmp_config(const job *a, const job *b)
{
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    for (int k = 0; k < NHP; k++) {
        int c = k == HP_SEED ? 0 : rep_cmp_val(a, b, k);
        if (c)
            return c;
    }
    return 0;
}

static int cmp_order(const void *a, const void *b, void *ctx)
{
    const ls_report *r = ctx;
    const job *x = &r->jobs[*(const size_t *)a], *y = &r->jobs[*(const size_t *)b];
    int c = cmp_config(x, y);
    return c ? c : rep_cmp_val(x, y, HP_SEED);
}

static void make_slug(char *out, size_t len, const char *task, const char *data)
{
    const char *base = strrchr(data, '/');
    size_t n = 0;
    base = base && base[1] ? base + 1 : data;
    snprintf(out, len, "%s%s%s", task, *base ? "-" : "", base);
    for (char *p = out; *p && n < len; p++, n++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            *p = '_';
}

/* The group of job j (task + data), added if new; -1 if out of memory. */
static long group_of(ls_report *r, const job *j)
{
    for (size_t g = 0; g < r->ngroups; g++)
        if (!strcmp(r->groups[g].task, j->hp[HP_TASK]) &&
            !strcmp(r->groups[g].data, j->hp[HP_DATA]))
            return (long)g;
    group *ng = ls_realloc(r->groups, (r->ngroups + 1) * sizeof *ng);
    if (!ng)
        return -1;
    r->groups = ng;
    group *g = &ng[r->ngroups];
    memset(g, 0, sizeof *g);
    if (!(g->data = ls_strdup(j->hp[HP_DATA])))
        return -1;
    snprintf(g->task, sizeof g->task, "%s", j->hp[HP_TASK]);
    snprintf(g->label, sizeof g->label, "%s%s%s", g->task, *g->data ? " " : "", g->data);
    make_slug(g->slug, sizeof g->slug, g->task, g->data);
    return (long)r->ngroups++;
}

/* Mean, sample std, min and max of the seeds; speed means over ok jobs. */
static void cfg_stats(ls_report *r, cfg *c)
{
    double sum = 0, wall = 0, sps = 0, gf = 0, ss = 0, vsum = 0;
    c->err_min = INFINITY;
    c->err_max = -INFINITY;
    c->thr_min = INT_MAX;
    c->thr_max = 0;
    for (size_t i = c->start; i < c->start + c->runs; i++) {
        const job *j = &r->jobs[r->order[i]];
        if (j->status != LS_STATUS_OK)
            continue;
        c->nok++;
        sps += j->samples_per_s;
        gf += j->gflops;
        c->thr_min = j->threads < c->thr_min ? j->threads : c->thr_min;
        c->thr_max = j->threads > c->thr_max ? j->threads : c->thr_max;
        if (isnan(j->test_error))
            continue;
        c->seeds++;
        sum += j->test_error;
        if (!isnan(j->val_error))
            c->nval++, vsum += j->val_error;
        wall += j->wall_s;
        c->err_min = fmin(c->err_min, j->test_error);
        c->err_max = fmax(c->err_max, j->test_error);
    }
    if (c->nok) {
        c->sps_mean = sps / (double)c->nok;
        c->gflops_mean = gf / (double)c->nok;
    }
    if (!c->seeds)
        return;
    c->err_mean = sum / (double)c->seeds;
    c->val_mean = c->nval ? vsum / (double)c->nval : NAN;
    c->rank_err = c->nval == c->seeds ? c->val_mean : c->err_mean;
    c->wall_mean = wall / (double)c->seeds;
    for (size_t i = c->start; i < c->start + c->runs; i++) {
        const job *j = &r->jobs[r->order[i]];
        if (j->status == LS_STATUS_OK && !isnan(j->test_error))
            ss += (j->test_error - c->err_mean) * (j->test_error - c->err_mean);
    }
    c->err_std = c->seeds > 1 ? sqrt(ss / (double)(c->seeds - 1)) : 0;
}

/* Better configuration first: mean validation error (rank_err), then mean
 * wall time.  Choosing by the test error and quoting it would flatter the
 * result; the test error is only shown. */
static int cmp_rank(const void *a, const void *b, void *ctx)
{
    const ls_report *r = ctx;
    const cfg *x = &r->cfgs[*(const size_t *)a], *y = &r->cfgs[*(const size_t *)b];
    if (x->rank_err != y->rank_err)
        return x->rank_err < y->rank_err ? -1 : 1;
    if (x->wall_mean != y->wall_mean)
        return x->wall_mean < y->wall_mean ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int rank_group(ls_report *r, size_t gi)
{
    group *g = &r->groups[gi];
    const job *first = NULL;
    if (!(g->ranked = ls_alloc((r->ncfgs + 1) * sizeof *g->ranked)))
        return LS_ENOMEM;
    for (size_t c = 0; c < r->ncfgs; c++)
        if (r->cfgs[c].group == gi && r->cfgs[c].seeds)
            g->ranked[g->nranked++] = c;
    qsort_r(g->ranked, g->nranked, sizeof *g->ranked, cmp_rank, r);
    for (size_t i = 0; i < r->njobs; i++) {
        const job *j = &r->jobs[i];
        if (j->group != gi)
            continue;
        if (!first)
            first = j;
        for (int k = 0; k < NHP; k++)
            g->varies[k] |= strcmp(j->hp[k], first->hp[k]) != 0;
    }
    return 0;
}

/* Groups, configurations (runs of equal jobs in `order`), statistics. */
static int organize(ls_report *r, ls_err *err)
{
    for (size_t i = 0; i < r->njobs; i++) {
        long g = group_of(r, &r->jobs[i]);
        if (g < 0)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        r->jobs[i].group = (size_t)g;
    }
    r->order = ls_alloc(r->njobs * sizeof *r->order);
    r->cfgs = ls_calloc(r->njobs, sizeof *r->cfgs);
    if (!r->order || !r->cfgs)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->njobs; i++)
        r->order[i] = i;
    qsort_r(r->order, r->njobs, sizeof *r->order, cmp_order, r);
    for (size_t i = 0; i < r->njobs; i++) {
        job *j = &r->jobs[r->order[i]];
        if (!i || cmp_config(j, &r->jobs[r->order[i - 1]])) {
            r->cfgs[r->ncfgs].group = j->group;
            r->cfgs[r->ncfgs++].start = i;
        }
        j->cfg = r->ncfgs - 1;
        r->cfgs[r->ncfgs - 1].runs++;
    }
    for (size_t c = 0; c < r->ncfgs; c++)
        cfg_stats(r, &r->cfgs[c]);
    for (size_t g = 0; g < r->ngroups; g++)
        if (rank_group(r, g))
            return ls_err_set(err, LS_ENOMEM, "out of memory");
    r->counts.configs = r->ncfgs;
    for (size_t i = 0; i < r->njobs; i++)
        r->counts.status[r->jobs[i].status]++;
    return 0;
}

static int nothing_to_report(const char *const *paths, int n, ls_err *err)
{
    if (n == 1)
        return ls_err_set(err, LS_EINVAL,
                          "%s: no job rows (the file is empty or holds only its "
                          "header): nothing to report", paths[0]);
    return ls_err_set(err, LS_EINVAL,
                      "no job rows in %s or the %d other file(s) (empty, or only "
                      "headers): nothing to report", paths[0], n - 1);
}

/* Keep each job's best row (merged in memory). */
static int load_merged(loader *L, const char *const *paths, int n, ls_err *err)
{
    ls_merged m;
    ls_merge_stats ms;
    int rc = ls_results_merge_load(&m, paths, n, &ms, err);

    for (size_t i = 0; i < m.nrows && !rc; i++)
        rc = store_row(L, m.rows[i], err);
    ls_merged_free(&m);
    L->r->counts.jobs = ms.jobs;
    L->r->counts.superseded = ms.replaced;
    L->r->counts.torn = ms.torn;
    return rc;
}

int ls_report_load(ls_report **out, const char *const *paths, int n, ls_err *err)
{
    ls_report *r = ls_calloc(1, sizeof *r);
    loader L;
    int rc = 0;

    *out = NULL;
    if (!r)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    loader_init(&L, r);
    if (n < 1) {
        rc = ls_err_set(err, LS_EINVAL, "no results file given");
        goto fail;
    }
    if (!(r->paths = ls_calloc((size_t)n, sizeof *r->paths))) {
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
        goto fail;
    }
    for (r->npaths = 0; r->npaths < n; r->npaths++)
        if (!(r->paths[r->npaths] = ls_strdup(paths[r->npaths]))) {
            rc = ls_err_set(err, LS_ENOMEM, "out of memory");
            goto fail;
        }
    for (int i = 0; i < n; i++)
        if ((rc = ls_csv_read(paths[i], LS_RESULTS_COLUMNS, check_row, &L, NULL, err)))
            goto fail;
    if (L.rows == 0) {
        rc = nothing_to_report(paths, n, err);
        goto fail;
    }
    r->counts.rows = L.rows;
    if ((rc = load_merged(&L, paths, n, err)) || (rc = organize(r, err)))
        goto fail;
    *out = r;
    return 0;
fail:
    ls_report_destroy(r);
    return rc;
}

void ls_report_destroy(ls_report *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->npaths; i++)
        ls_free(r->paths[i]);
    ls_free(r->paths);
    for (size_t i = 0; i < r->njobs; i++) {
        for (int k = 0; k < NHP; k++)
            ls_free(r->jobs[i].hp[k]);
        ls_free(r->jobs[i].message);
    }
    ls_free(r->jobs);
    for (size_t g = 0; g < r->ngroups; g++) {
        ls_free(r->groups[g].data);
        ls_free(r->groups[g].ranked);
    }
    ls_free(r->groups);
    ls_free(r->cfgs);
    ls_free(r->order);
    ls_free(r);
}

void ls_report_get_counts(const ls_report *r, ls_report_counts *c)
{
    *c = r->counts;
}
