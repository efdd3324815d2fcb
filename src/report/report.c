/* report.c - see include/lstmsweep/report.h.
 *
 * Three stages:
 *   load    check every input row (numbers included, FILE:LINE errors),
 *           keep each job's best row through ls_results_merge_load (the
 *           one best-row rule of the project), then sort jobs into task groups
 *           and configurations and compute each configuration's statistics;
 *   render  one small table type, printed as text, markdown or CSV;
 *   plot    a data file and a gnuplot script per chart, then one gnuplot run.
 */
#include "lstmsweep/report.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lstmsweep/csv.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/job.h"
#include "lstmsweep/merge.h"
#include "lstmsweep/results.h"

/* ------------------------------------------------------------------ */
/* Loaded data                                                          */

/* The hyperparameter columns, in the results CSV's order. */
enum { HP_TASK, HP_HIDDEN, HP_BATCH, HP_LAYERS, HP_EPOCHS, HP_LR, HP_DROPOUT,
       HP_SEED, HP_BITS, HP_TRAIN_SIZE, HP_DATA, HP_TARGET_ERROR, HP_EVAL_EVERY,
       NHP };
static const char *const hp_name[NHP] = {
    "task", "hidden", "batch", "layers", "epochs", "lr", "dropout", "seed",
    "bits", "train_size", "data", "target_error", "eval_every"};

/* Number columns: 'i' integer, 'r' real; upper case when it may be empty. */
static const struct {
    const char *name;
    char kind;
} num_cols[] = {
    {"hidden", 'i'},       {"batch", 'i'},        {"layers", 'i'},
    {"epochs", 'i'},       {"lr", 'r'},           {"dropout", 'r'},
    {"seed", 'i'},         {"bits", 'I'},         {"train_size", 'i'},
    {"target_error", 'R'}, {"eval_every", 'i'},   {"epochs_run", 'i'},
    {"train_loss", 'R'},   {"train_error", 'R'},  {"test_error", 'R'},
    {"wall_s", 'r'},       {"train_s", 'r'},      {"eval_s", 'r'},
    {"samples_per_s", 'r'}, {"gflops", 'r'},      {"threads", 'i'},
    {"numa_node", 'I'}};
#define NNUM (sizeof num_cols / sizeof *num_cols)

typedef struct job {
    char id[LS_JOB_ID_LEN];
    char *hp[NHP];        /* fields as written, "" when empty */
    double v[NHP];        /* their values; NAN for text or empty fields */
    ls_status status;
    int epochs_run, threads;
    double test_error;    /* fraction; NAN if none */
    double wall_s, samples_per_s, gflops;
    char *message;
    size_t group, cfg;
} job;

typedef struct cfg {
    size_t group;
    size_t start, runs;   /* its jobs: order[start .. start + runs) */
    size_t seeds;         /* ok jobs with a test error */
    size_t nok;           /* ok jobs (for the speed means) */
    double err_mean, err_std, err_min, err_max, wall_mean; /* over seeds */
    double sps_mean, gflops_mean;                          /* over nok */
    int thr_min, thr_max;
} cfg;

typedef struct group {
    char task[16];
    char *data;           /* "" for bitcount */
    char label[300];      /* "bitcount", "mnist data/fashion-mnist" */
    char slug[128];       /* the same for file names */
    int varies[NHP];      /* the key takes several values in the group */
    size_t *ranked;       /* cfg indices, best first */
    size_t nranked;
} group;

struct ls_report {
    char **paths;
    int npaths;
    job *jobs;
    size_t njobs, cap;
    size_t *order;        /* job indices by group, configuration, seed */
    group *groups;
    size_t ngroups;
    cfg *cfgs;
    size_t ncfgs;
    ls_report_counts counts;
};

typedef struct loader {
    ls_report *r;
    int hp_col[NHP], num_col[NNUM];
    int id_col, status_col, msg_col, epochs_run_col, threads_col;
    int test_col, wall_col, sps_col, gflops_col;
    size_t rows;
} loader;

static int hp_index(const char *name)
{
    for (int k = 0; k < NHP; k++)
        if (!strcmp(hp_name[k], name))
            return k;
    return -1;
}

static int col(const char *name)
{
    return ls_csv_column(LS_RESULTS_COLUMNS, name);
}

static void loader_init(loader *L, ls_report *r)
{
    memset(L, 0, sizeof *L);
    L->r = r;
    for (int k = 0; k < NHP; k++)
        L->hp_col[k] = col(hp_name[k]);
    for (size_t i = 0; i < NNUM; i++)
        L->num_col[i] = col(num_cols[i].name);
    L->id_col = col("job_id");
    L->status_col = col("status");
    L->msg_col = col("message");
    L->epochs_run_col = col("epochs_run");
    L->threads_col = col("threads");
    L->test_col = col("test_error");
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

    for (size_t i = 0; i < NNUM; i++) {
        const char *v = f[L->num_col[i]];
        int integer = tolower((unsigned char)num_cols[i].kind) == 'i';
        if (!*v && isupper((unsigned char)num_cols[i].kind))
            continue;
        if (!*v)
            return ls_err_set(err, LS_EFORMAT, "%s:%ld: %s is empty", path, line,
                              num_cols[i].name);
        if (!ls_csv_is_number(v, integer))
            return ls_err_set(err, LS_EFORMAT, "%s:%ld: %s: '%.40s' is not %s", path,
                              line, num_cols[i].name, v,
                              integer ? "an integer" : "a number");
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
        job *nj = realloc(r->jobs, cap * sizeof *nj);
        if (!nj)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        r->jobs = nj;
        r->cap = cap;
    }
    job *j = &r->jobs[r->njobs++]; /* counted now: destroy frees a partial row */
    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", f[L->id_col]);
    for (int k = 0; k < NHP; k++) {
        if (!(j->hp[k] = strdup(f[L->hp_col[k]])))
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        j->v[k] = k == HP_TASK || k == HP_DATA ? NAN : num_or_nan(j->hp[k]);
    }
    if (!(j->message = strdup(f[L->msg_col])))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    ls_status_parse(f[L->status_col], &j->status);
    j->epochs_run = atoi(f[L->epochs_run_col]);
    j->threads = atoi(f[L->threads_col]);
    j->test_error = num_or_nan(f[L->test_col]);
    j->wall_s = strtod(f[L->wall_col], NULL);
    j->samples_per_s = strtod(f[L->sps_col], NULL);
    j->gflops = strtod(f[L->gflops_col], NULL);
    return 0;
}

/* Order of two jobs' values of key k: numeric when both are numbers. */
static int cmp_val(const job *a, const job *b, int k)
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
        int c = k == HP_SEED ? 0 : cmp_val(a, b, k);
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
    return c ? c : cmp_val(x, y, HP_SEED);
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
    group *ng = realloc(r->groups, (r->ngroups + 1) * sizeof *ng);
    if (!ng)
        return -1;
    r->groups = ng;
    group *g = &ng[r->ngroups];
    memset(g, 0, sizeof *g);
    if (!(g->data = strdup(j->hp[HP_DATA])))
        return -1;
    snprintf(g->task, sizeof g->task, "%s", j->hp[HP_TASK]);
    snprintf(g->label, sizeof g->label, "%s%s%s", g->task, *g->data ? " " : "", g->data);
    make_slug(g->slug, sizeof g->slug, g->task, g->data);
    return (long)r->ngroups++;
}

/* Mean, sample std, min and max of the seeds; speed means over ok jobs. */
static void cfg_stats(ls_report *r, cfg *c)
{
    double sum = 0, wall = 0, sps = 0, gf = 0, ss = 0;
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
    c->wall_mean = wall / (double)c->seeds;
    for (size_t i = c->start; i < c->start + c->runs; i++) {
        const job *j = &r->jobs[r->order[i]];
        if (j->status == LS_STATUS_OK && !isnan(j->test_error))
            ss += (j->test_error - c->err_mean) * (j->test_error - c->err_mean);
    }
    c->err_std = c->seeds > 1 ? sqrt(ss / (double)(c->seeds - 1)) : 0;
}

/* Better configuration first: mean test error, then mean wall time. */
static int cmp_rank(const void *a, const void *b, void *ctx)
{
    const ls_report *r = ctx;
    const cfg *x = &r->cfgs[*(const size_t *)a], *y = &r->cfgs[*(const size_t *)b];
    if (x->err_mean != y->err_mean)
        return x->err_mean < y->err_mean ? -1 : 1;
    if (x->wall_mean != y->wall_mean)
        return x->wall_mean < y->wall_mean ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int rank_group(ls_report *r, size_t gi)
{
    group *g = &r->groups[gi];
    const job *first = NULL;
    if (!(g->ranked = malloc((r->ncfgs + 1) * sizeof *g->ranked)))
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
    r->order = malloc(r->njobs * sizeof *r->order);
    r->cfgs = calloc(r->njobs, sizeof *r->cfgs);
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
    ls_report *r = calloc(1, sizeof *r);
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
    if (!(r->paths = calloc((size_t)n, sizeof *r->paths))) {
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
        goto fail;
    }
    for (r->npaths = 0; r->npaths < n; r->npaths++)
        if (!(r->paths[r->npaths] = strdup(paths[r->npaths]))) {
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
        free(r->paths[i]);
    free(r->paths);
    for (size_t i = 0; i < r->njobs; i++) {
        for (int k = 0; k < NHP; k++)
            free(r->jobs[i].hp[k]);
        free(r->jobs[i].message);
    }
    free(r->jobs);
    for (size_t g = 0; g < r->ngroups; g++) {
        free(r->groups[g].data);
        free(r->groups[g].ranked);
    }
    free(r->groups);
    free(r->cfgs);
    free(r->order);
    free(r);
}

void ls_report_opts_init(ls_report_opts *o)
{
    memset(o, 0, sizeof *o);
}

int ls_report_parse_by(ls_report_opts *o, char *list, ls_err *err)
{
    int n = 0;
    for (char *p = list; p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        for (char *q = p; *q; q++)
            *q = *q == '-' ? '_' : *q;
        int k = hp_index(p);
        if (k <= HP_TASK)
            return ls_err_set(err, LS_EINVAL,
                              "--by: unknown key '%s' (keys: hidden, batch, layers, "
                              "epochs, lr, dropout, seed, bits, train_size, data, "
                              "target_error, eval_every)", p);
        for (int i = 0; i < n; i++)
            if (!strcmp(o->by[i], p))
                return ls_err_set(err, LS_EINVAL, "--by: '%s' given twice", p);
        if (n == LS_REPORT_MAX_BY)
            return ls_err_set(err, LS_EINVAL, "--by: at most %d keys", LS_REPORT_MAX_BY);
        o->by[n++] = p;
        p = comma ? comma + 1 : NULL;
    }
    if (n < 2)
        return ls_err_set(err, LS_EINVAL, "--by needs two keys or more: rows, columns, "
                                          "then one table per value combination");
    o->nby = n;
    return 0;
}

void ls_report_get_counts(const ls_report *r, ls_report_counts *c)
{
    *c = r->counts;
}

/* "hidden=32 batch=100 ...": the configuration's keys, skipping task, data,
 * seed, empty fields, and (if only_varying) keys constant in its group. */
static void cfg_desc(const ls_report *r, const cfg *c, int only_varying, char *buf,
                     size_t len)
{
    const job *j = &r->jobs[r->order[c->start]];
    const group *g = &r->groups[c->group];
    size_t n = 0;
    buf[0] = '\0';
    for (int k = HP_HIDDEN; k < NHP; k++) {
        if (k == HP_SEED || k == HP_DATA || !*j->hp[k])
            continue;
        if (only_varying && !g->varies[k] && k > HP_LAYERS)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", hp_name[k], j->hp[k]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

int ls_report_ranked(const ls_report *r, const char *task, const char *data,
                     size_t rank, ls_report_config *out)
{
    for (size_t gi = 0; gi < r->ngroups; gi++) {
        const group *g = &r->groups[gi];
        if (strcmp(g->task, task) || strcmp(g->data, data ? data : ""))
            continue;
        if (rank >= g->nranked)
            return LS_EINVAL;
        const cfg *c = &r->cfgs[g->ranked[rank]];
        const job *j = &r->jobs[r->order[c->start]];
        memset(out, 0, sizeof *out);
        snprintf(out->task, sizeof out->task, "%s", g->task);
        snprintf(out->data, sizeof out->data, "%s", g->data);
        out->hidden = atoi(j->hp[HP_HIDDEN]);
        out->batch = atoi(j->hp[HP_BATCH]);
        out->layers = atoi(j->hp[HP_LAYERS]);
        cfg_desc(r, c, 0, out->desc, sizeof out->desc);
        out->runs = c->runs;
        out->seeds = c->seeds;
        out->err_mean = c->err_mean;
        out->err_std = c->err_std;
        out->err_min = c->err_min;
        out->err_max = c->err_max;
        out->wall_mean = c->wall_mean;
        out->sps_mean = c->sps_mean;
        out->gflops_mean = c->gflops_mean;
        return 0;
    }
    return LS_EINVAL;
}

/* Distinct values of key k in group g, sorted: one job index per value in
 * *vals (caller frees).  -1 if out of memory. */
typedef struct key_ctx {
    const ls_report *r;
    int k;
} key_ctx;

static int cmp_key(const void *a, const void *b, void *ctx)
{
    const key_ctx *kc = ctx;
    return cmp_val(&kc->r->jobs[*(const size_t *)a], &kc->r->jobs[*(const size_t *)b], kc->k);
}

static long distinct(const ls_report *r, size_t g, int k, size_t **vals)
{
    size_t *v = malloc((r->njobs + 1) * sizeof *v), m = 0, w = 0;
    key_ctx kc = {r, k};
    if (!(*vals = v))
        return -1;
    for (size_t i = 0; i < r->njobs; i++)
        if (r->jobs[i].group == g)
            v[m++] = i;
    qsort_r(v, m, sizeof *v, cmp_key, &kc);
    for (size_t i = 0; i < m; i++)
        if (!w || cmp_val(&r->jobs[v[i]], &r->jobs[v[w - 1]], k))
            v[w++] = v[i];
    return (long)w;
}

/* Position of job j's value of key k among vals[0..n). */
static size_t value_pos(const ls_report *r, const size_t *vals, size_t n, int k,
                        const job *j)
{
    for (size_t i = 0; i < n; i++)
        if (!cmp_val(&r->jobs[vals[i]], j, k))
            return i;
    return n;
}

/* "seed" or "seed, lr": keys (not task, data or skip[]) varying in group g. */
static void averaged_keys(const group *g, const int *skip, int nskip, char *buf,
                          size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int k = HP_HIDDEN; k < NHP; k++) {
        int skipped = k == HP_DATA || !g->varies[k];
        for (int i = 0; i < nskip; i++)
            skipped |= skip[i] == k;
        if (skipped)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", hp_name[k]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

/* "epochs=30 lr=0.003 ...": the keys constant in group g (not hidden,
 * batch, layers, seed, data; not empty ones). */
static void fixed_keys(const ls_report *r, size_t gi, char *buf, size_t len)
{
    const group *g = &r->groups[gi];
    const job *j = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->njobs && !j; i++)
        j = r->jobs[i].group == gi ? &r->jobs[i] : NULL;
    buf[0] = '\0';
    for (int k = HP_EPOCHS; k < NHP && j; k++) {
        if (k == HP_SEED || k == HP_DATA || g->varies[k] || !*j->hp[k])
            continue;
        int w = snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", hp_name[k], j->hp[k]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

/* "1, 2, 3": the seeds of group g. */
static void seed_list(const ls_report *r, size_t g, char *buf, size_t len)
{
    size_t *v, n = 0;
    long m = distinct(r, g, HP_SEED, &v);
    buf[0] = '\0';
    for (long i = 0; i < m; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", r->jobs[v[i]].hp[HP_SEED]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    free(v);
}

/* ------------------------------------------------------------------ */
/* Tables                                                               */

typedef struct table {
    int ncols;
    size_t nrows, cap;
    char **cell;       /* nrows x ncols, row 0 the header; NULL = "" */
    int col;           /* cells filled in the last row */
    unsigned left;     /* bit c: column c is text, aligned left */
    int oom;
} table;

static void tab_init(table *t, int ncols, unsigned left)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->left = left;
}

static void tab_row(table *t)
{
    if (t->oom)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **c = realloc(t->cell, cap * (size_t)t->ncols * sizeof *c);
        if (!c) {
            t->oom = 1;
            return;
        }
        t->cell = c;
        t->cap = cap;
    }
    for (int c = 0; c < t->ncols; c++)
        t->cell[t->nrows * (size_t)t->ncols + (size_t)c] = NULL;
    t->nrows++;
    t->col = 0;
}

static void tab_put(table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tab_put(table *t, const char *fmt, ...)
{
    va_list ap;
    char *s;
    if (t->oom || !t->nrows || t->col >= t->ncols)
        return;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        t->oom = 1;
        s = NULL;
    }
    va_end(ap);
    t->cell[(t->nrows - 1) * (size_t)t->ncols + (size_t)t->col++] = s;
}

static void tab_free(table *t)
{
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cell[i]);
    free(t->cell);
}

static const char *cell(const table *t, size_t row, int c)
{
    const char *s = t->cell[row * (size_t)t->ncols + (size_t)c];
    return s ? s : "";
}

/* Text: aligned columns, indented, a rule under the header. */
static void tab_text(FILE *f, const table *t)
{
    size_t w[64] = {0};
    int nc = t->ncols < 64 ? t->ncols : 64;
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < nc; c++)
            w[c] = strlen(cell(t, r, c)) > w[c] ? strlen(cell(t, r, c)) : w[c];
    for (size_t r = 0; r < t->nrows; r++) {
        fputs("  ", f);
        for (int c = 0; c < nc; c++) {
            const char *s = cell(t, r, c);
            int last = c + 1 == nc, left = (t->left >> c) & 1;
            if (left && last)
                fprintf(f, "%s%s", c ? "  " : "", s);
            else
                fprintf(f, left ? "%s%-*s" : "%s%*s", c ? "  " : "", (int)w[c], s);
        }
        fputc('\n', f);
        if (r == 0) {
            fputs("  ", f);
            for (int c = 0; c < nc; c++) {
                fputs(c ? "  " : "", f);
                for (size_t i = 0; i < w[c]; i++)
                    fputc('-', f);
            }
            fputc('\n', f);
        }
    }
}

/* Markdown: a pipe table; '|' and newlines in cells are escaped. */
static void tab_markdown(FILE *f, const table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            fputs(c ? " | " : "| ", f);
            for (const char *p = cell(t, r, c); *p; p++)
                if (*p == '|')
                    fputs("\\|", f);
                else
                    fputc(*p == '\n' ? ' ' : *p, f);
        }
        fputs(" |\n", f);
        if (r == 0) {
            for (int c = 0; c < t->ncols; c++)
                fputs((t->left >> c) & 1 ? "|:---" : "|---:", f);
            fputs("|\n", f);
        }
    }
    fputc('\n', f);
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* CSV: every line starts with the section name; skip_header for a table
 * that continues its section. */
static void tab_csv(FILE *f, const table *t, const char *section, int skip_header)
{
    for (size_t r = skip_header ? 1 : 0; r < t->nrows; r++) {
        fputs(section, f);
        for (int c = 0; c < t->ncols; c++) {
            fputc(',', f);
            csv_field(f, cell(t, r, c));
        }
        fputc('\n', f);
    }
}

/* ------------------------------------------------------------------ */
/* Rendering                                                            */

typedef struct writer {
    const ls_report *r;
    const ls_report_opts *o;
    FILE *f;
    ls_report_format fmt;
    int sections;
    int blank;         /* text: the output ends with a blank line */
    int captioned;     /* text: a caption was just printed */
    int oom;
} writer;

static void heading(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void heading(writer *w, const char *fmt, ...)
{
    va_list ap;
    if (w->fmt == LS_REPORT_CSV)
        return;
    fputs(w->fmt == LS_REPORT_MARKDOWN ? "## " : w->sections && !w->blank ? "\n== " : "== ",
          w->f);
    va_start(ap, fmt);
    vfprintf(w->f, fmt, ap);
    va_end(ap);
    fputs(w->fmt == LS_REPORT_MARKDOWN ? "\n\n" : " ==\n", w->f);
    w->sections++;
    w->blank = w->captioned = 0;
}

/* A line of prose (text, markdown); caption = a table's title. */
static void prose(writer *w, int caption, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void prose(writer *w, int caption, const char *fmt, ...)
{
    va_list ap;
    if (w->fmt == LS_REPORT_CSV)
        return;
    if (caption)
        fputs(w->fmt == LS_REPORT_MARKDOWN ? "**" : w->blank ? "" : "\n", w->f);
    va_start(ap, fmt);
    vfprintf(w->f, fmt, ap);
    va_end(ap);
    if (caption)
        fputs(w->fmt == LS_REPORT_MARKDOWN ? "**\n\n" : "\n", w->f);
    else
        fputs(w->fmt == LS_REPORT_MARKDOWN ? "\n\n" : "\n", w->f);
    w->blank = 0;
    w->captioned = caption;
}

static void emit(writer *w, table *t, const char *section, int skip_header)
{
    w->oom |= t->oom;
    if (w->fmt == LS_REPORT_TEXT) {
        if (!w->blank && !w->captioned)
            fputc('\n', w->f);
        tab_text(w->f, t);
        fputc('\n', w->f);
        w->blank = 1;
        w->captioned = 0;
    }
    else if (w->fmt == LS_REPORT_MARKDOWN)
        tab_markdown(w->f, t);
    else
        tab_csv(w->f, t, section, skip_header);
    tab_free(t);
}

/* Three significant digits, no exponent above 0.001: 12.3, 1.23, 0.0123. */
static const char *sig3(char *buf, double v)
{
    double a = fabs(v);
    if (isnan(v))
        snprintf(buf, 32, "-");
    else if (a == 0)
        snprintf(buf, 32, "0");
    else if (a >= 100)
        snprintf(buf, 32, "%.0f", v);
    else if (a >= 0.001)
        snprintf(buf, 32, "%.*f", 2 - (int)floor(log10(a)), v);
    else
        snprintf(buf, 32, "%.2e", v);
    return buf;
}

/* A test error: percent for people, the fraction in CSV. */
static const char *fmt_err(const writer *w, char *buf, double frac)
{
    if (w->fmt == LS_REPORT_CSV) {
        snprintf(buf, 32, "%.6g", frac);
        return buf;
    }
    return sig3(buf, 100 * frac);
}

static void write_summary(writer *w)
{
    const ls_report_counts *c = &w->r->counts;
    table t;
    tab_init(&t, 2, 1);
    if (w->fmt == LS_REPORT_CSV) {
        const char *names[] = {"files", "rows", "jobs", "superseded", "torn", "configurations"};
        size_t vals[] = {(size_t)w->r->npaths, c->rows, c->jobs, c->superseded, c->torn, c->configs};
        tab_row(&t), tab_put(&t, "item"), tab_put(&t, "value");
        for (int i = 0; i < 6; i++)
            tab_row(&t), tab_put(&t, "%s", names[i]), tab_put(&t, "%zu", vals[i]);
    } else {
        heading(w, "Jobs by status");
        prose(w, 0, "%zu job(s) from %zu row(s) in %d file(s), %zu configuration(s)%s",
              c->jobs, c->rows, w->r->npaths, c->configs,
              c->superseded || c->torn ? ";" : "");
        if (c->superseded)
            prose(w, 0, "%zu row(s) superseded by a later or final row of the same job",
                  c->superseded);
        if (c->torn)
            prose(w, 0, "%zu torn last line(s) skipped (a crash while writing)", c->torn);
        tab_row(&t), tab_put(&t, "status"), tab_put(&t, "jobs");
    }
    for (int s = 0; s < 4; s++)
        tab_row(&t), tab_put(&t, "%s", ls_status_name((ls_status)s)),
            tab_put(&t, "%zu", c->status[s]);
    emit(w, &t, "summary", 0);
}

static void write_problems(writer *w)
{
    const ls_report *r = w->r;
    const ls_report_counts *c = &r->counts;
    size_t n = c->status[LS_STATUS_FAILED] + c->status[LS_STATUS_DIVERGED] +
               c->status[LS_STATUS_INTERRUPTED];
    int csv = w->fmt == LS_REPORT_CSV;
    table t;

    heading(w, "Failed, diverged and interrupted jobs");
    if (!n && !csv) {
        prose(w, 0, "none: every job finished ok");
        return;
    }
    /* text: 9 columns, job_id, task, status and message aligned left */
    tab_init(&t, csv ? 11 : 9, csv ? 0 : 0x143u);
    tab_row(&t);
    const char *hdr[] = {"job_id", "task", "data", "hidden", "batch", "layers", "seed",
                         "status", "epochs_run", "epochs", "message"};
    for (int i = 0; i < 11; i++)
        if (csv || (i != 2 && i != 9))
            tab_put(&t, "%s", !csv && i == 8 ? "epochs" : hdr[i]);
    const ls_status order[] = {LS_STATUS_FAILED, LS_STATUS_DIVERGED, LS_STATUS_INTERRUPTED};
    for (int s = 0; s < 3; s++)
        for (size_t i = 0; i < r->njobs; i++) {
            const job *j = &r->jobs[i];
            if (j->status != order[s])
                continue;
            const char *msg = *j->message ? j->message
                              : j->status == LS_STATUS_INTERRUPTED
                                  ? "(checkpointed; rerun the sweep to continue)"
                                  : "";
            tab_row(&t);
            tab_put(&t, "%s", j->id);
            tab_put(&t, "%s", csv ? j->hp[HP_TASK] : r->groups[j->group].label);
            if (csv)
                tab_put(&t, "%s", j->hp[HP_DATA]);
            tab_put(&t, "%s", j->hp[HP_HIDDEN]);
            tab_put(&t, "%s", j->hp[HP_BATCH]);
            tab_put(&t, "%s", j->hp[HP_LAYERS]);
            tab_put(&t, "%s", j->hp[HP_SEED]);
            tab_put(&t, "%s", ls_status_name(j->status));
            if (csv)
                tab_put(&t, "%d", j->epochs_run), tab_put(&t, "%s", j->hp[HP_EPOCHS]);
            else
                tab_put(&t, "%d/%s", j->epochs_run, j->hp[HP_EPOCHS]);
            tab_put(&t, "%s", csv ? j->message : msg);
        }
    emit(w, &t, "problems", 0);
}

/* Columns of the configuration tables: hidden, batch, layers, then the
 * other keys that vary in the group (all keys in CSV). */
static int cfg_keys(const writer *w, const group *g, int *keys)
{
    int n = 0;
    for (int k = HP_HIDDEN; k < NHP; k++) {
        if (k == HP_SEED || k == HP_DATA)
            continue;
        if (w->fmt == LS_REPORT_CSV || k <= HP_LAYERS || g->varies[k])
            keys[n++] = k;
    }
    return n;
}

static void best_header(table *t, const writer *w, const int *keys, int nk)
{
    int csv = w->fmt == LS_REPORT_CSV;
    tab_row(t);
    if (csv)
        tab_put(t, "task"), tab_put(t, "data");
    tab_put(t, "rank");
    for (int i = 0; i < nk; i++)
        tab_put(t, "%s", hp_name[keys[i]]);
    if (csv) {
        const char *h[] = {"runs", "seeds", "test_error_mean", "test_error_std",
                           "test_error_min", "test_error_max", "wall_s_mean",
                           "samples_per_s_mean", "gflops_mean"};
        for (int i = 0; i < 9; i++)
            tab_put(t, "%s", h[i]);
    } else {
        const char *h[] = {"seeds", "test err %", "std", "min", "max", "wall s"};
        for (int i = 0; i < 6; i++)
            tab_put(t, "%s", h[i]);
    }
}

static void best_row(table *t, const writer *w, const cfg *c, long rank,
                     const int *keys, int nk)
{
    const ls_report *r = w->r;
    const job *j = &r->jobs[r->order[c->start]];
    char b[5][32];
    tab_row(t);
    if (w->fmt == LS_REPORT_CSV) {
        tab_put(t, "%s", j->hp[HP_TASK]), tab_put(t, "%s", j->hp[HP_DATA]);
        if (rank > 0)
            tab_put(t, "%ld", rank);
        else
            tab_put(t, "%s", "");
        for (int i = 0; i < nk; i++)
            tab_put(t, "%s", j->hp[keys[i]]);
        tab_put(t, "%zu", c->runs), tab_put(t, "%zu", c->seeds);
        if (!c->seeds)
            return;
        tab_put(t, "%.6g", c->err_mean), tab_put(t, "%.6g", c->err_std);
        tab_put(t, "%.6g", c->err_min), tab_put(t, "%.6g", c->err_max);
        tab_put(t, "%.3f", c->wall_mean);
        if (c->nok)
            tab_put(t, "%.1f", c->sps_mean), tab_put(t, "%.3f", c->gflops_mean);
        return;
    }
    tab_put(t, "%ld", rank);
    for (int i = 0; i < nk; i++)
        tab_put(t, "%s", j->hp[keys[i]]);
    if (c->seeds == c->runs)
        tab_put(t, "%zu", c->seeds);
    else
        tab_put(t, "%zu/%zu", c->seeds, c->runs);
    tab_put(t, "%s", fmt_err(w, b[0], c->err_mean));
    tab_put(t, "%s", c->seeds > 1 ? fmt_err(w, b[1], c->err_std) : "-");
    tab_put(t, "%s", fmt_err(w, b[2], c->err_min));
    tab_put(t, "%s", fmt_err(w, b[3], c->err_max));
    tab_put(t, "%s", sig3(b[4], c->wall_mean));
}

static void best_text(writer *w, size_t gi)
{
    const ls_report *r = w->r;
    const group *g = &r->groups[gi];
    size_t top = w->o->top > 0 ? (size_t)w->o->top : 5, unranked = 0;
    int keys[NHP], nk = cfg_keys(w, g, keys);
    char fixed[512], seeds[256], desc[256], b[5][32];
    table t;

    for (size_t c = 0; c < r->ncfgs; c++)
        unranked += r->cfgs[c].group == gi && !r->cfgs[c].seeds;
    heading(w, "%s: best configurations", g->label);
    fixed_keys(r, gi, fixed, sizeof fixed);
    seed_list(r, gi, seeds, sizeof seeds);
    prose(w, 0, "fixed: %s; seeds: %s", *fixed ? fixed : "(nothing)", seeds);
    if (!g->nranked) {
        prose(w, 0, "no configuration has an ok job with a test error");
        return;
    }
    prose(w, 1, "ranked by test error (%%, mean over seeds; ties: mean wall time), "
                "top %zu of %zu", top < g->nranked ? top : g->nranked, g->nranked);
    tab_init(&t, nk + 7, 0);
    best_header(&t, w, keys, nk);
    for (size_t i = 0; i < g->nranked && i < top; i++)
        best_row(&t, w, &r->cfgs[g->ranked[i]], (long)i + 1, keys, nk);
    emit(w, &t, "configs", 0);
    const cfg *c = &r->cfgs[g->ranked[0]];
    cfg_desc(r, c, 1, desc, sizeof desc);
    if (c->seeds > 1)
        prose(w, 0, "best: %s: test error %s%% (mean of %zu seeds; std %s, min %s, max %s), "
                    "%s s wall", desc, fmt_err(w, b[0], c->err_mean), c->seeds,
              fmt_err(w, b[1], c->err_std), fmt_err(w, b[2], c->err_min),
              fmt_err(w, b[3], c->err_max), sig3(b[4], c->wall_mean));
    else
        prose(w, 0, "best: %s: test error %s%% (one seed), %s s wall", desc,
              fmt_err(w, b[0], c->err_mean), sig3(b[1], c->wall_mean));
    if (unranked)
        prose(w, 0, "%zu configuration(s) without an ok job are not ranked (see the "
                    "failed, diverged and interrupted jobs)", unranked);
}

static void write_best(writer *w)
{
    const ls_report *r = w->r;
    if (w->fmt != LS_REPORT_CSV) {
        for (size_t g = 0; g < r->ngroups; g++)
            best_text(w, g);
        return;
    }
    /* CSV: every configuration of every group, unranked ones without rank */
    int keys[NHP], nk = cfg_keys(w, &r->groups[0], keys);
    table t;
    tab_init(&t, nk + 12, 0);
    best_header(&t, w, keys, nk);
    for (size_t gi = 0; gi < r->ngroups; gi++) {
        const group *g = &r->groups[gi];
        for (size_t i = 0; i < g->nranked; i++)
            best_row(&t, w, &r->cfgs[g->ranked[i]], (long)i + 1, keys, nk);
        for (size_t c = 0; c < r->ncfgs; c++)
            if (r->cfgs[c].group == gi && !r->cfgs[c].seeds)
                best_row(&t, w, &r->cfgs[c], 0, keys, nk);
    }
    emit(w, &t, "configs", 0);
}

/* ---- pivot tables ---- */

typedef struct acc {
    size_t jobs;     /* jobs in the cell, any status */
    size_t n;        /* values averaged */
    double sum;
} acc;

typedef struct pivot {
    int nk, key[LS_REPORT_MAX_BY];
    size_t *val[LS_REPORT_MAX_BY]; /* distinct values (job indices) */
    size_t nval[LS_REPORT_MAX_BY];
    size_t ncells;                 /* product of nval */
    acc *cell[2];                  /* per metric: test error %, samples/s */
} pivot;

static void pivot_free(pivot *p)
{
    for (int i = 0; i < p->nk; i++)
        free(p->val[i]);
    free(p->cell[0]);
    free(p->cell[1]);
}

/* Cell index: key 0 the row, key 1 the column, the others outermost. */
static size_t pivot_index(const pivot *p, const size_t *pos)
{
    size_t idx = 0;
    for (int i = p->nk - 1; i >= 2; i--)
        idx = idx * p->nval[i] + pos[i];
    return (idx * p->nval[0] + pos[0]) * p->nval[1] + pos[1];
}

static int pivot_build(const ls_report *r, size_t g, const int *keys, int nk, pivot *p)
{
    memset(p, 0, sizeof *p);
    p->ncells = 1;
    for (p->nk = 0; p->nk < nk; p->nk++) {
        long m = distinct(r, g, keys[p->nk], &p->val[p->nk]);
        if (m < 0)
            return LS_ENOMEM;
        p->key[p->nk] = keys[p->nk];
        p->nval[p->nk] = (size_t)m;
        p->ncells *= (size_t)m;
    }
    p->cell[0] = calloc(p->ncells, sizeof(acc));
    p->cell[1] = calloc(p->ncells, sizeof(acc));
    if (!p->cell[0] || !p->cell[1])
        return LS_ENOMEM;
    for (size_t i = 0; i < r->njobs; i++) {
        const job *j = &r->jobs[i];
        size_t pos[LS_REPORT_MAX_BY];
        if (j->group != g)
            continue;
        for (int k = 0; k < nk; k++)
            pos[k] = value_pos(r, p->val[k], p->nval[k], keys[k], j);
        size_t idx = pivot_index(p, pos);
        acc *e = &p->cell[0][idx], *s = &p->cell[1][idx];
        e->jobs++, s->jobs++;
        if (j->status != LS_STATUS_OK)
            continue;
        s->n++, s->sum += j->samples_per_s;
        if (!isnan(j->test_error))
            e->n++, e->sum += 100 * j->test_error;
    }
    return 0;
}

/* Positions of the extra keys (2..) for combination number e. */
static void pivot_combo(const pivot *p, size_t e, size_t *pos)
{
    for (int i = 2; i < p->nk; i++) {
        pos[i] = e % p->nval[i];
        e /= p->nval[i];
    }
}

static const char *hp_of(const ls_report *r, const pivot *p, int i, size_t v)
{
    const char *s = r->jobs[p->val[i][v]].hp[p->key[i]];
    return *s ? s : "(none)";
}

static void pivot_table(writer *w, const pivot *p, int metric, size_t e, const char *title)
{
    const ls_report *r = w->r;
    size_t pos[LS_REPORT_MAX_BY];
    int marks = 0;
    char b[32];
    table t;

    pivot_combo(p, e, pos);
    tab_init(&t, (int)p->nval[1] + 1, 0);
    tab_row(&t);
    tab_put(&t, "%s \\ %s", hp_name[p->key[0]], hp_name[p->key[1]]);
    for (size_t c = 0; c < p->nval[1]; c++)
        tab_put(&t, "%s", hp_of(r, p, 1, c));
    for (size_t row = 0; row < p->nval[0]; row++) {
        tab_row(&t);
        tab_put(&t, "%s", hp_of(r, p, 0, row));
        for (size_t c = 0; c < p->nval[1]; c++) {
            pos[0] = row, pos[1] = c;
            const acc *a = &p->cell[metric][pivot_index(p, pos)];
            double mean = a->n ? a->sum / (double)a->n : NAN;
            if (!a->jobs)
                tab_put(&t, "%s", "");
            else if (!a->n)
                tab_put(&t, "-");
            else
                tab_put(&t, "%s%s", metric ? (snprintf(b, sizeof b, "%.0f", mean), b)
                                           : sig3(b, mean),
                        a->n < a->jobs ? "*" : "");
            marks |= a->jobs && a->n < a->jobs;
        }
    }
    prose(w, 1, "%s", title);
    emit(w, &t, "pivot", 0);
    if (marks)
        prose(w, 0, "*: mean of fewer jobs than the cell holds (the others failed, "
                    "diverged or are unfinished); -: no finished job");
}

static void pivot_csv(writer *w, size_t gi, const pivot *p, int *header_done)
{
    const ls_report *r = w->r;
    const group *g = &r->groups[gi];
    const char *metric[2] = {"test_error", "samples_per_s"};
    size_t pos[LS_REPORT_MAX_BY];
    table t;

    tab_init(&t, p->nk + 6, 0);
    tab_row(&t);
    tab_put(&t, "task"), tab_put(&t, "data"), tab_put(&t, "metric");
    for (int i = 0; i < p->nk; i++)
        tab_put(&t, "%s", hp_name[p->key[i]]);
    tab_put(&t, "jobs"), tab_put(&t, "values"), tab_put(&t, "mean");
    for (int m = 0; m < 2; m++)
        for (size_t idx = 0; idx < p->ncells; idx++) {
            const acc *a = &p->cell[m][idx];
            size_t rest = idx;
            if (!a->jobs)
                continue;
            pos[1] = rest % p->nval[1], rest /= p->nval[1];
            pos[0] = rest % p->nval[0], rest /= p->nval[0];
            pivot_combo(p, rest, pos);
            tab_row(&t);
            tab_put(&t, "%s", g->task), tab_put(&t, "%s", g->data);
            tab_put(&t, "%s", metric[m]);
            for (int i = 0; i < p->nk; i++)
                tab_put(&t, "%s", r->jobs[p->val[i][pos[i]]].hp[p->key[i]]);
            tab_put(&t, "%zu", a->jobs), tab_put(&t, "%zu", a->n);
            if (a->n)
                tab_put(&t, "%.6g", m ? a->sum / (double)a->n : a->sum / (double)a->n / 100);
        }
    emit(w, &t, "pivot", *header_done);
    *header_done = 1;
}

/* Does combination e of the extra keys hold any job? */
static int combo_used(const pivot *p, size_t e)
{
    size_t per = p->nval[0] * p->nval[1];
    for (size_t i = 0; i < per; i++)
        if (p->cell[0][e * per + i].jobs)
            return 1;
    return 0;
}

static void pivot_text(writer *w, size_t gi, const pivot *p)
{
    const group *g = &w->r->groups[gi];
    const char *metric[2] = {"test error (%)", "training samples/s"};
    char avg[256], title[1024];
    size_t combos = p->ncells / (p->nval[0] * p->nval[1]), pos[LS_REPORT_MAX_BY];

    averaged_keys(g, p->key, p->nk, avg, sizeof avg);
    heading(w, "%s: test error and speed by %s (rows) and %s (columns)", g->label,
            hp_name[p->key[0]], hp_name[p->key[1]]);
    for (int m = 0; m < 2; m++)
        for (size_t e = 0; e < combos; e++) {
            size_t n = 0;
            if (!combo_used(p, e))
                continue;
            pivot_combo(p, e, pos);
            n += (size_t)snprintf(title, sizeof title, "%s: %s", g->label, metric[m]);
            for (int i = 2; i < p->nk && n < sizeof title; i++)
                n += (size_t)snprintf(title + n, sizeof title - n, "%s %s=%s",
                                      i == 2 ? "," : "", hp_name[p->key[i]],
                                      hp_of(w->r, p, i, pos[i]));
            if (*avg && n < sizeof title)
                snprintf(title + n, sizeof title - n, " (mean over %s)", avg);
            pivot_table(w, p, m, e, title);
        }
}

static const char *const default_by[] = {"hidden", "layers", "batch"};

static int write_pivots(writer *w, ls_err *err)
{
    const ls_report_opts *o = w->o;
    int keys[LS_REPORT_MAX_BY], nk = o->nby ? o->nby : 3, header_done = 0;
    for (int i = 0; i < nk; i++) {
        const char *name = o->nby ? o->by[i] : default_by[i];
        keys[i] = hp_index(name);
        if (keys[i] <= HP_TASK || nk < 2 || nk > LS_REPORT_MAX_BY)
            return ls_err_set(err, LS_EINVAL, "bad pivot keys (at '%s')", name);
    }
    for (size_t g = 0; g < w->r->ngroups; g++) {
        pivot p;
        if (pivot_build(w->r, g, keys, nk, &p)) {
            pivot_free(&p);
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        }
        if (w->fmt == LS_REPORT_CSV)
            pivot_csv(w, g, &p, &header_done);
        else
            pivot_text(w, g, &p);
        pivot_free(&p);
    }
    return 0;
}

/* ---- speed ---- */

static int cmp_gflops(const void *a, const void *b, void *ctx)
{
    const ls_report *r = ctx;
    double x = r->cfgs[*(const size_t *)a].gflops_mean, y = r->cfgs[*(const size_t *)b].gflops_mean;
    return (x < y) - (x > y);
}

static void speed_row(table *t, const writer *w, const cfg *c, int other)
{
    const ls_report *r = w->r;
    const job *j = &r->jobs[r->order[c->start]];
    char desc[256];
    tab_row(t);
    if (w->fmt == LS_REPORT_CSV) {
        int keys[NHP], nk = cfg_keys(w, &r->groups[c->group], keys);
        tab_put(t, "%s", j->hp[HP_TASK]), tab_put(t, "%s", j->hp[HP_DATA]);
        for (int i = 0; i < nk; i++)
            tab_put(t, "%s", j->hp[keys[i]]);
        tab_put(t, "%zu", c->nok), tab_put(t, "%d", c->thr_min), tab_put(t, "%d", c->thr_max);
        tab_put(t, "%.1f", c->sps_mean), tab_put(t, "%.3f", c->gflops_mean);
        if (w->o->peak_gflops > 0)
            tab_put(t, "%.4f", c->gflops_mean / w->o->peak_gflops);
        return;
    }
    tab_put(t, "%s", r->groups[c->group].label);
    tab_put(t, "%s", j->hp[HP_HIDDEN]), tab_put(t, "%s", j->hp[HP_BATCH]);
    tab_put(t, "%s", j->hp[HP_LAYERS]);
    if (other) {
        /* the group's varying keys beyond hidden, batch, layers */
        char *p = desc;
        cfg_desc(r, c, 1, desc, sizeof desc);
        for (int skip = 0; skip < 3 && p; skip++)
            p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
        tab_put(t, "%s", p ? p : "");
    }
    if (c->thr_min == c->thr_max)
        tab_put(t, "%d", c->thr_min);
    else
        tab_put(t, "%d-%d", c->thr_min, c->thr_max);
    tab_put(t, "%.0f", c->sps_mean), tab_put(t, "%.2f", c->gflops_mean);
}

static void speed_header(table *t, const writer *w, int other)
{
    tab_row(t);
    if (w->fmt == LS_REPORT_CSV) {
        int keys[NHP], nk = cfg_keys(w, &w->r->groups[0], keys);
        const char *h[] = {"jobs", "threads_min", "threads_max", "samples_per_s_mean",
                           "gflops_mean", "peak_fraction"};
        tab_put(t, "task"), tab_put(t, "data");
        for (int i = 0; i < nk; i++)
            tab_put(t, "%s", hp_name[keys[i]]);
        for (int i = 0; i < 6; i++)
            tab_put(t, "%s", h[i]);
        return;
    }
    tab_put(t, "task"), tab_put(t, "hidden"), tab_put(t, "batch"), tab_put(t, "layers");
    if (other)
        tab_put(t, "other");
    tab_put(t, "threads"), tab_put(t, "samples/s"), tab_put(t, "GFLOP/s");
}

static int write_speed(writer *w, ls_err *err)
{
    const ls_report *r = w->r;
    size_t *c = malloc((r->ncfgs + 1) * sizeof *c), n = 0, k = 3;
    int other = 0, csv = w->fmt == LS_REPORT_CSV;
    char desc[256];
    table t;

    if (!c)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->ncfgs; i++)
        if (r->cfgs[i].nok)
            c[n++] = i;
    qsort_r(c, n, sizeof *c, cmp_gflops, (void *)r);
    for (size_t g = 0; g < r->ngroups; g++)
        for (int key = HP_EPOCHS; key < NHP; key++)
            other |= key != HP_SEED && key != HP_DATA && r->groups[g].varies[key];
    heading(w, "Speed");
    if (!n) {
        prose(w, 0, "no ok job: no speed to show");
        free(c);
        return 0;
    }
    int keys[NHP], ncols = csv ? 2 + cfg_keys(w, &r->groups[0], keys) + 6 : 7 + other;
    tab_init(&t, ncols, csv ? 0x3u : other ? 0x11u : 0x1u);
    speed_header(&t, w, other);
    for (size_t i = 0; i < n; i++) {
        if (!csv && n > 2 * k && i == k) {
            tab_row(&t);
            for (int col = 0; col < t.ncols; col++)
                tab_put(&t, "...");
            i = n - k;
        }
        speed_row(&t, w, &r->cfgs[c[i]], other);
    }
    prose(w, 1, "training GFLOP/s by configuration, mean over ok jobs (%s of %zu)",
          n > 2 * k ? "fastest 3 and slowest 3" : "all", n);
    emit(w, &t, "speed", 0);
    const cfg *best = &r->cfgs[c[0]];
    cfg_desc(r, best, 1, desc, sizeof desc);
    if (w->o->peak_gflops > 0)
        prose(w, 0, "fastest: %.2f GFLOP/s (%s %s, %d thread%s per job) = %.1f%% of the "
                    "peak %.2f GFLOP/s given with --peak (%.2f GFLOP/s short)",
              best->gflops_mean, r->groups[best->group].label, desc, best->thr_max,
              best->thr_max == 1 ? "" : "s",
              100 * best->gflops_mean / w->o->peak_gflops, w->o->peak_gflops,
              w->o->peak_gflops - best->gflops_mean);
    else
        prose(w, 0, "fastest: %.2f GFLOP/s (%s %s, %d thread%s per job); peak unknown "
                    "(pass --peak)", best->gflops_mean, r->groups[best->group].label,
              desc, best->thr_max, best->thr_max == 1 ? "" : "s");
    free(c);
    return 0;
}

int ls_report_write(const ls_report *r, const ls_report_opts *o, FILE *out, ls_err *err)
{
    writer w = {.r = r, .o = o, .f = out, .fmt = o->format};
    int rc;

    if ((unsigned)o->format > LS_REPORT_CSV)
        return ls_err_set(err, LS_EINVAL, "unknown report format %d", (int)o->format);
    if (o->nby) { /* check the keys before printing anything */
        ls_report_opts copy = *o;
        char list[256] = "";
        size_t n = 0;
        for (int i = 0; i < o->nby && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? "," : "", o->by[i]);
        if ((rc = ls_report_parse_by(&copy, list, err)))
            return rc;
    }
    write_summary(&w);
    write_problems(&w);
    write_best(&w);
    if ((rc = write_pivots(&w, err)) || (rc = write_speed(&w, err)))
        return rc;
    if (w.oom)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    if (fflush(out) != 0 || ferror(out))
        return ls_err_set(err, LS_EIO, "cannot write the report: %s", strerror(errno));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Charts                                                               */

typedef struct plotter {
    const ls_report *r;
    const ls_report_opts *o;
    ls_report_plot_info *info;
    char **stems;        /* charts written: DIR/<stem>.{dat,gp} */
    size_t nstems, cap;
} plotter;

static void note(ls_report_plot_info *info, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(ls_report_plot_info *info, const char *fmt, ...)
{
    size_t n = strlen(info->notes);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(info->notes + n, sizeof info->notes - n, fmt, ap);
    va_end(ap);
    n = strlen(info->notes);
    if (n + 1 < sizeof info->notes)
        memcpy(info->notes + n, "\n", 2);
}

static int make_dirs(const char *path, ls_err *err)
{
    char buf[4096];
    struct stat st;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return ls_err_set(err, LS_EIO, "%s: cannot create: %s", buf, strerror(errno));
        *p = c;
        if (!c)
            break;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return ls_err_set(err, LS_EIO, "%s: not a directory", path);
    return 0;
}

static FILE *open_out(const plotter *pl, const char *stem, const char *ext, ls_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", pl->o->plots_dir, stem, ext);
    FILE *f = fopen(path, "w");
    if (!f)
        ls_err_set(err, LS_EIO, "%s: cannot create: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const plotter *pl, const char *stem, const char *ext,
                     ls_err *err)
{
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad)
        return ls_err_set(err, LS_EIO, "%s/%s%s: cannot write", pl->o->plots_dir, stem, ext);
    return 0;
}

/* A gnuplot string literal; a newline becomes \n (a line break in titles). */
static void gp_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '\n') {
            fputs("\\n", f);
            continue;
        }
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Write DIR/<stem>.gp: the same body once for PNG, once for SVG. */
static int write_script(plotter *pl, const char *stem, const char *body, int w, int h,
                        ls_err *err)
{
    FILE *f = open_out(pl, stem, ".gp", err);
    int rc;
    if (!f)
        return LS_EIO;
    fprintf(f, "# %s.gp - written by `lstmsweep report`; the data is in %s.dat.\n"
               "# Redraw with: gnuplot %s.gp\nreset\n", stem, stem, stem);
    fprintf(f, "set terminal pngcairo size %d,%d noenhanced font \"DejaVu Sans,11\"\n"
               "set output \"%s.png\"\n%s", w, h, stem, body);
    /* reset: the PNG's last panel may leave a log axis that the SVG's
     * first panel cannot take a [0:...] range on */
    fprintf(f, "reset\nset terminal svg size %d,%d dynamic noenhanced font \"DejaVu Sans,11\" "
               "background rgb \"white\"\nset output \"%s.svg\"\n%sunset output\n",
            w, h, stem, body);
    if ((rc = close_out(f, pl, stem, ".gp", err)))
        return rc;
    if (pl->nstems == pl->cap) {
        size_t cap = pl->cap ? 2 * pl->cap : 16;
        char **s = realloc(pl->stems, cap * sizeof *s);
        if (!s)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        pl->stems = s;
        pl->cap = cap;
    }
    if (!(pl->stems[pl->nstems] = strdup(stem)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    pl->nstems++;
    return 0;
}

typedef struct point {
    double x, mean, min, max;
    size_t n;
} point;

enum { M_ERR, M_SPS };

static double metric_of(const job *j, int m)
{
    if (j->status != LS_STATUS_OK)
        return NAN;
    return m == M_ERR ? 100 * j->test_error : j->samples_per_s;
}

/* Points of metric m over the hidden sizes hv[0..nh) for group g's jobs
 * with lj's layers and bj's batch (NULL: any).  Returns the point count. */
static size_t series(const ls_report *r, size_t g, const size_t *hv, size_t nh,
                     const job *lj, const job *bj, int m, point *pts)
{
    size_t n = 0;
    for (size_t h = 0; h < nh; h++) {
        const job *hj = &r->jobs[hv[h]];
        point p = {hj->v[HP_HIDDEN], 0, INFINITY, -INFINITY, 0};
        for (size_t i = 0; i < r->njobs; i++) {
            const job *j = &r->jobs[i];
            double v = metric_of(j, m);
            if (j->group != g || isnan(v) || cmp_val(j, hj, HP_HIDDEN) ||
                (lj && cmp_val(j, lj, HP_LAYERS)) || (bj && cmp_val(j, bj, HP_BATCH)))
                continue;
            p.mean += v;
            p.min = fmin(p.min, v);
            p.max = fmax(p.max, v);
            p.n++;
        }
        if (p.n) {
            p.mean /= (double)p.n;
            pts[n++] = p;
        }
    }
    return n;
}

typedef struct range {
    double lo, hi;   /* over the positive values */
    int zero;        /* some value is <= 0: no log scale */
} range;

static void range_add(range *rg, double v)
{
    if (isnan(v))
        return;
    if (v <= 0) {
        rg->zero = 1;
        return;
    }
    rg->lo = fmin(rg->lo, v);
    rg->hi = fmax(rg->hi, v);
}

/* The hidden sizes on a log2 axis with a tic at each. */
static void gp_hidden_axis(FILE *f, const ls_report *r, const size_t *hv, size_t nh)
{
    fputs("set logscale x 2\nset xtics (", f);
    for (size_t h = 0; h < nh; h++)
        fprintf(f, "%s\"%s\" %s", h ? ", " : "", r->jobs[hv[h]].hp[HP_HIDDEN],
                r->jobs[hv[h]].hp[HP_HIDDEN]);
    fprintf(f, ")\nset xrange [%g:%g]\n", r->jobs[hv[0]].v[HP_HIDDEN] / 1.3,
            r->jobs[hv[nh - 1]].v[HP_HIDDEN] * 1.3);
    fputs("set xlabel \"hidden size (LSTM units per layer, log scale)\"\n", f);
}

/* A y axis from 0, or logarithmic when the values span more than a decade
 * (and none is 0, which a log axis cannot show). */
static void gp_y_axis(FILE *f, const range *rg, const char *what, const char *unit,
                      const char *axis)
{
    int lg = !rg->zero && rg->hi > 10 * rg->lo;
    if (lg) {
        /* labelled tics at 1, 2, 5 x 10^k: gnuplot's own are one per decade */
        double lo = rg->lo / 1.5, hi = rg->hi * 1.5;
        int first = 1;
        fprintf(f, "set logscale %s 10\nset %srange [%g:%g]\nset %stics (", axis, axis, lo,
                hi, axis);
        for (double d = pow(10, floor(log10(lo))); d <= hi; d *= 10)
            for (int m = 1; m <= 5; m += m == 1 ? 1 : 3)
                if (m * d >= lo && m * d <= hi) {
                    fprintf(f, "%s\"%g\" %g", first ? "" : ", ", m * d, m * d);
                    first = 0;
                }
        fprintf(f, ")\nset m%stics 10\n", axis);
    } else
        fprintf(f, "set %srange [0:%g]\n", axis, rg->hi > 0 ? rg->hi * 1.1 : 1);
    fprintf(f, "set %slabel \"%s (%s%s)\"\n", axis, what, unit, lg ? ", log scale" : "");
}

static const char gp_style[] =
    "set grid xtics ytics lc rgb \"#b8b8b8\" lw 1 dt 3\n"
    "set border lw 1.2\n"
    "set key outside right top vertical box spacing 1.3\n"
    "set pointsize 1.2\n";

/* Second title line: what a point is; third: the constant keys. */
static void chart_subtitle(const ls_report *r, size_t g, const int *skip, int nskip,
                           int bars, char *buf, size_t len)
{
    char avg[256], fixed[512], seeds[256];
    averaged_keys(&r->groups[g], skip, nskip, avg, sizeof avg);
    fixed_keys(r, g, fixed, sizeof fixed);
    seed_list(r, g, seeds, sizeof seeds);
    if (!*avg)
        snprintf(buf, len, "one job per point\nsame in every job: %s", fixed);
    else if (!strcmp(avg, "seed"))
        snprintf(buf, len, "mean of seeds %s%s\nsame in every job: %s", seeds,
                 bars ? " (bars: min to max)" : "", fixed);
    else
        snprintf(buf, len, "mean over %s%s\nsame in every job: %s", avg,
                 bars ? " (bars: min to max)" : "", fixed);
}

/* "1 thread" or "1-2 threads": the team sizes of group g's ok jobs. */
static const char *threads_text(const ls_report *r, size_t g, char *buf)
{
    int lo = INT_MAX, hi = 0;
    for (size_t i = 0; i < r->njobs; i++) {
        const job *j = &r->jobs[i];
        if (j->group != g || j->status != LS_STATUS_OK)
            continue;
        lo = j->threads < lo ? j->threads : lo;
        hi = j->threads > hi ? j->threads : hi;
    }
    if (lo > hi)
        snprintf(buf, 32, "no ok job");
    else if (lo == hi)
        snprintf(buf, 32, "%d thread%s", lo, lo == 1 ? "" : "s");
    else
        snprintf(buf, 32, "%d-%d threads", lo, hi);
    return buf;
}

/* A chart of lines over the hidden sizes, being written. */
typedef struct hchart {
    char stem[256];
    FILE *dat;            /* DIR/<stem>.dat: one block per line */
    FILE *plot;           /* the plot command, built in memory */
    range rg;
    int bars;             /* some point averages several jobs */
    size_t lines;
} hchart;

/* Add a line: its block in the data file, its clause in the plot command. */
static void hchart_line(hchart *c, const point *pts, size_t n, const char *name,
                        long colour, long dash, long pt)
{
    fprintf(c->dat, "# %s\n# hidden mean min max jobs\n", name);
    for (size_t i = 0; i < n; i++) {
        fprintf(c->dat, "%g %.6g %.6g %.6g %zu\n", pts[i].x, pts[i].mean, pts[i].min,
                pts[i].max, pts[i].n);
        range_add(&c->rg, pts[i].min);
        range_add(&c->rg, pts[i].max);
        c->bars |= pts[i].n > 1;
    }
    fputs("\n\n", c->dat);
    fprintf(c->plot, "%s\"%s.dat\" index %zu using 1:2:3:4 with yerrorlines lw 2 lc %ld "
                     "dt %ld pt %ld title ", c->lines ? ", \\\n     " : "plot ", c->stem,
            c->lines, colour, dash, pt);
    gp_str(c->plot, name);
    c->lines++;
}

/* The lines of a test-error chart (batch bj, a line per layer count) or
 * of the throughput chart (bj NULL, a line per layers x batch). */
static int hchart_lines(const ls_report *r, size_t g, int m, const job *bj, hchart *c,
                        const size_t *hv, size_t nh)
{
    size_t *lv = NULL, *bv = NULL;
    long nl = distinct(r, g, HP_LAYERS, &lv), nb = bj ? 1 : distinct(r, g, HP_BATCH, &bv);
    point *pts = malloc((nh + 1) * sizeof *pts);
    int rc = nl < 0 || nb < 0 || !pts ? LS_ENOMEM : 0;

    for (long bi = 0; bi < nb && !rc; bi++)
        for (long l = 0; l < nl; l++) {
            const job *lj = &r->jobs[lv[l]], *b = bj ? bj : &r->jobs[bv[bi]];
            size_t n = series(r, g, hv, nh, lj, b, m, pts);
            char name[128];
            if (!n)
                continue;
            snprintf(name, sizeof name, "%s layer%s%s%s", lj->hp[HP_LAYERS],
                     lj->v[HP_LAYERS] == 1 ? "" : "s", bj ? "" : ", batch ",
                     bj ? "" : b->hp[HP_BATCH]);
            /* colour: the layer count; dashes and points: the batch size */
            hchart_line(c, pts, n, name, l + 1, bi % 5 + 1, (bj ? l : bi) % 4 * 2 + 5);
        }
    free(pts);
    free(lv);
    free(bv);
    return rc;
}

/* Titles, axes and the plot command into body (caller frees). */
static int hchart_body(const ls_report *r, size_t g, int m, const job *bj, const hchart *c,
                       const char *plotcmd, const size_t *hv, size_t nh, char **body)
{
    const int skip[3] = {HP_HIDDEN, HP_LAYERS, HP_BATCH};
    char title[2400], sub[1024], thr[32];
    size_t blen;
    FILE *b = open_memstream(body, &blen);
    if (!b)
        return LS_ENOMEM;
    chart_subtitle(r, g, skip, 3, c->bars, sub, sizeof sub);
    if (m == M_ERR)
        snprintf(title, sizeof title, "%s: test error vs hidden size, batch %s\n%s",
                 r->groups[g].label, bj->hp[HP_BATCH], sub);
    else
        snprintf(title, sizeof title, "%s: training throughput vs hidden size (%s per job)\n%s",
                 r->groups[g].label, threads_text(r, g, thr), sub);
    fputs(gp_style, b);
    fputs("set title ", b);
    gp_str(b, title);
    fputc('\n', b);
    gp_hidden_axis(b, r, hv, nh);
    if (m == M_ERR)
        gp_y_axis(b, &c->rg, "test error", "%", "y");
    else
        gp_y_axis(b, &c->rg, "training throughput", "samples/s, per job", "y");
    fprintf(b, "%s\n", c->lines ? plotcmd : "set label 1 \"no finished job\" at graph 0.5,0.5 "
                                            "center\nplot NaN notitle");
    return fclose(b) ? LS_ENOMEM : 0;
}

/* Test error vs hidden (m = M_ERR, for batch size bj), or samples/s vs
 * hidden (m = M_SPS, bj NULL). */
static int chart_vs_hidden(plotter *pl, size_t g, int m, const job *bj, ls_err *err)
{
    const ls_report *r = pl->r;
    hchart c = {.rg = {INFINITY, 0, 0}};
    size_t *hv = NULL, plen;
    long nh = distinct(r, g, HP_HIDDEN, &hv);
    char *plotcmd = NULL, *body = NULL;
    int rc = 0;

    if (m == M_ERR)
        snprintf(c.stem, sizeof c.stem, "error-vs-hidden_%s_batch%s", r->groups[g].slug,
                 bj->hp[HP_BATCH]);
    else
        snprintf(c.stem, sizeof c.stem, "throughput_%s", r->groups[g].slug);
    if (nh < 1 || !(c.plot = open_memstream(&plotcmd, &plen))) {
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
        goto out;
    }
    if (!(c.dat = open_out(pl, c.stem, ".dat", err))) {
        rc = LS_EIO;
        goto out;
    }
    fprintf(c.dat, "# %s: %s vs hidden size; one block per line of the chart\n",
            r->groups[g].label, m == M_ERR ? "test error (%)" : "training samples/s");
    rc = hchart_lines(r, g, m, bj, &c, hv, (size_t)nh);
    int bad_dat = close_out(c.dat, pl, c.stem, ".dat", err), bad_plot = fclose(c.plot);
    c.dat = NULL;
    c.plot = NULL;
    if (rc || bad_plot)
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    else
        rc = bad_dat;
    if (rc)
        goto out;
    if (hchart_body(r, g, m, bj, &c, plotcmd, hv, (size_t)nh, &body))
        rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    else
        rc = write_script(pl, c.stem, body, 900, 600, err);
out:
    if (c.dat)
        fclose(c.dat);
    if (c.plot)
        fclose(c.plot);
    free(plotcmd);
    free(body);
    free(hv);
    return rc;
}

/* ---- learning curves ---- */

typedef struct cjob {
    char id[LS_JOB_ID_LEN];
    int n;                /* epochs 1..n */
    double *loss, *terr;  /* [n + 1]; NAN where no row (terr: no evaluation) */
} cjob;

typedef struct curves {
    cjob *j;              /* sorted by id */
    size_t n;
    size_t rows;          /* rows that matched a job */
} curves;

static int cmp_cjob(const void *a, const void *b)
{
    return strcmp(((const cjob *)a)->id, ((const cjob *)b)->id);
}

static void curves_free(curves *cv)
{
    for (size_t i = 0; i < cv->n; i++) {
        free(cv->j[i].loss);
        free(cv->j[i].terr);
    }
    free(cv->j);
}

/* The jobs whose curves are drawn: the seeds of each group's best three. */
static int curves_select(const ls_report *r, curves *cv)
{
    memset(cv, 0, sizeof *cv);
    if (!(cv->j = calloc(r->njobs + 1, sizeof *cv->j)))
        return LS_ENOMEM;
    for (size_t g = 0; g < r->ngroups; g++)
        for (size_t k = 0; k < r->groups[g].nranked && k < 3; k++) {
            const cfg *c = &r->cfgs[r->groups[g].ranked[k]];
            for (size_t i = c->start; i < c->start + c->runs; i++) {
                const job *j = &r->jobs[r->order[i]];
                cjob *cj = &cv->j[cv->n];
                if (j->status != LS_STATUS_OK || isnan(j->test_error))
                    continue;
                memcpy(cj->id, j->id, sizeof cj->id);
                cj->n = j->v[HP_EPOCHS] > 0 && j->v[HP_EPOCHS] < 1e7 ? (int)j->v[HP_EPOCHS] : 0;
                cj->loss = malloc(((size_t)cj->n + 1) * sizeof *cj->loss);
                cj->terr = malloc(((size_t)cj->n + 1) * sizeof *cj->terr);
                cv->n++;
                if (!cj->loss || !cj->terr)
                    return LS_ENOMEM;
                for (int e = 0; e <= cj->n; e++)
                    cj->loss[e] = cj->terr[e] = NAN;
            }
        }
    qsort(cv->j, cv->n, sizeof *cv->j, cmp_cjob);
    return 0;
}

static int curve_row(void *ctx, const ls_curve_row *row, ls_err *err)
{
    curves *cv = ctx;
    cjob key, *cj;
    snprintf(key.id, sizeof key.id, "%s", row->job_id);
    if (!(cj = bsearch(&key, cv->j, cv->n, sizeof *cv->j, cmp_cjob)))
        return 0;
    if (row->epoch < 1 || row->epoch > cj->n)
        return 0;
    /* a resumed job may repeat epochs after its checkpoint: the later row wins */
    cj->loss[row->epoch] = row->train_loss;
    cj->terr[row->epoch] = 100 * row->test_error;
    cv->rows++;
    return 0;
}

/* Read the curves file(s); a missing one is a note, not an error. */
static int curves_load(plotter *pl, curves *cv, ls_err *err)
{
    const ls_report_opts *o = pl->o;
    int n = o->curves ? 1 : pl->r->npaths, found = 0, rc;
    char path[4096], missing[1024] = "";
    for (int i = 0; i < n; i++) {
        if (o->curves)
            snprintf(path, sizeof path, "%s", o->curves);
        else
            ls_curve_path(pl->r->paths[i], path, sizeof path);
        if (access(path, F_OK) != 0) {
            size_t m = strlen(missing);
            snprintf(missing + m, sizeof missing - m, "%s%.900s", m ? ", " : "", path);
            continue;
        }
        found++;
        if ((rc = ls_curve_read(path, curve_row, cv, NULL, err)))
            return rc;
    }
    if (found && !cv->rows)
        note(pl->info, "learning curves skipped: the curves file(s) hold no rows of the "
                       "best configurations' jobs");
    if (!found && o->curves)
        note(pl->info, "learning curves skipped: %s not found", missing);
    else if (!found)
        note(pl->info, "learning curves skipped: no curves file (%s not found; pass "
                       "--curves FILE)", missing);
    else if (*missing)
        note(pl->info, "learning curves: %s not found, drawn from the others", missing);
    return 0;
}

/* Mean over the configuration's seeds at each epoch, into two blocks of d:
 * test error (epochs with an evaluation) and training loss.  Returns 1 if
 * there was any row, 0 if none. */
static int curves_blocks(const ls_report *r, const cfg *c, const curves *cv, FILE *d,
                         range *re, range *rl)
{
    int emax = 0, any = 0;
    const cjob *js[64];
    size_t nj = 0;
    for (size_t i = c->start; i < c->start + c->runs && nj < 64; i++) {
        cjob key;
        memcpy(key.id, r->jobs[r->order[i]].id, sizeof key.id);
        const cjob *cj = bsearch(&key, cv->j, cv->n, sizeof *cv->j, cmp_cjob);
        if (cj) {
            js[nj++] = cj;
            emax = cj->n > emax ? cj->n : emax;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        fprintf(d, "# epoch %s\n", pass ? "train_loss" : "test_error_pct");
        for (int e = 1; e <= emax; e++) {
            double sum = 0;
            int n = 0;
            for (size_t k = 0; k < nj; k++) {
                double v = e > js[k]->n ? NAN : pass ? js[k]->loss[e] : js[k]->terr[e];
                if (!isnan(v))
                    sum += v, n++;
            }
            if (!n)
                continue;
            fprintf(d, "%d %.6g\n", e, sum / n);
            range_add(pass ? rl : re, sum / n);
            any = 1;
        }
        fputs("\n\n", d);
    }
    return any;
}

static int chart_curves(plotter *pl, size_t g, const curves *cv, ls_err *err)
{
    const ls_report *r = pl->r;
    const group *gr = &r->groups[g];
    char stem[256], title[2400], sub[1024], desc[256], e[32], *body = NULL;
    const char *names[3];
    char namebuf[3][320];
    range re = {INFINITY, 0, 0}, rl = {INFINITY, 0, 0};
    size_t blen, nc = 0, idx[3];
    int rc = 0;
    FILE *d, *b;

    snprintf(stem, sizeof stem, "curves_%s", gr->slug);
    if (!(d = open_out(pl, stem, ".dat", err)))
        return LS_EIO;
    fprintf(d, "# %s: learning curves of the best configurations, mean over seeds;\n"
               "# two blocks per configuration: test error (%%), training loss\n", gr->label);
    for (size_t k = 0; k < gr->nranked && k < 3; k++) {
        const cfg *c = &r->cfgs[gr->ranked[k]];
        cfg_desc(r, c, 1, desc, sizeof desc);
        fprintf(d, "# #%zu %s\n", k + 1, desc);
        if (!curves_blocks(r, c, cv, d, &re, &rl))
            continue;
        snprintf(namebuf[nc], sizeof namebuf[nc], "#%zu %s: %s%%", k + 1, desc,
                 sig3(e, 100 * c->err_mean));
        names[nc] = namebuf[nc];
        idx[nc++] = k;
    }
    if ((rc = close_out(d, pl, stem, ".dat", err)))
        return rc;
    if (!nc) {
        note(pl->info, "learning curves of %s skipped: no curve rows for its best "
                       "configurations", gr->label);
        return 0;
    }
    if (!(b = open_memstream(&body, &blen)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    {
        char seeds[256], fixed[512];
        seed_list(r, g, seeds, sizeof seeds);
        fixed_keys(r, g, fixed, sizeof fixed);
        snprintf(sub, sizeof sub, "each line: mean over the ok seeds (%s) of one "
                                  "configuration\nsame in every job: %s", seeds, fixed);
    }
    snprintf(title, sizeof title, "%s: learning curves of the %zu best configurations "
                                  "(legend: final test error)\n%s", gr->label, nc, sub);
    fputs(gp_style, b);
    /* below the panels: curves fill any corner of a log-scaled panel */
    fputs("set key outside below center vertical nobox\nset xlabel \"epoch\"\n", b);
    fputs("set multiplot layout 1,2 title ", b);
    gp_str(b, title);
    fputs("\nset title \"test error, at each evaluation of the test split\"\n", b);
    gp_y_axis(b, &re, "test error", "%", "y");
    for (size_t i = 0; i < nc; i++) {
        fprintf(b, "%s\"%s.dat\" index %zu using 1:2 with linespoints lw 2 pt 7 lc %zu title ",
                i ? ", \\\n     " : "plot ", stem, 2 * idx[i], i + 1);
        gp_str(b, names[i]);
    }
    /* autoscale first: a log axis cannot be set while the left panel's
     * [0:...] range is still in force */
    fputs("\nunset logscale y\nset autoscale y\nset title \"training loss (cross-entropy, "
          "mean over the epoch's batches)\"\n", b);
    gp_y_axis(b, &rl, "training loss", "nats per sample", "y");
    for (size_t i = 0; i < nc; i++) {
        fprintf(b, "%s\"%s.dat\" index %zu using 1:2 with lines lw 2 lc %zu title ",
                i ? ", \\\n     " : "plot ", stem, 2 * idx[i] + 1, i + 1);
        gp_str(b, names[i]);
    }
    fputs("\nunset multiplot\n", b);
    fclose(b);
    rc = write_script(pl, stem, body, 1300, 640, err);
    free(body);
    return rc;
}

/* ---- running gnuplot ---- */

/* Full path of program name (searched on PATH if it has no '/'), or -1. */
static int find_program(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        char *real = realpath(name, NULL);
        int ok = real && access(real, X_OK) == 0;
        if (ok)
            snprintf(out, len, "%s", real);
        free(real);
        return ok ? 0 : -1;
    }
    const char *path = getenv("PATH");
    for (const char *p = path && *path ? path : "/usr/bin:/bin"; p;) {
        const char *colon = strchr(p, ':');
        int n = colon ? (int)(colon - p) : (int)strlen(p);
        snprintf(out, len, "%.*s/%s", n, n ? p : ".", name);
        if (access(out, X_OK) == 0)
            return 0;
        p = colon ? colon + 1 : NULL;
    }
    return -1;
}

/* First line of DIR/gnuplot.log (gnuplot's own error message). */
static void log_line(const char *log, char *buf, size_t len)
{
    FILE *f = fopen(log, "r");
    buf[0] = '\0';
    while (f && fgets(buf, (int)len, f) && strspn(buf, " \t\n^") == strlen(buf))
        ;
    buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
}

/* One gnuplot process, cwd DIR, on every script; output in DIR/gnuplot.log. */
static int run_gnuplot(plotter *pl, const char *prog, ls_err *err)
{
    const char *dir = pl->o->plots_dir;
    char **argv = calloc(pl->nstems + 2, sizeof *argv), log[4096], line[256];
    int status = 0, rc = 0;
    struct stat st;
    pid_t pid;

    if (!argv)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    argv[0] = (char *)prog;
    for (size_t i = 0; i < pl->nstems && !rc; i++)
        if (asprintf(&argv[i + 1], "%s.gp", pl->stems[i]) < 0)
            rc = ls_err_set(err, LS_ENOMEM, "out of memory");
    if (rc || (pid = fork()) < 0) {
        rc = rc ? rc : ls_err_set(err, LS_EIO, "cannot start gnuplot: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        int fd = chdir(dir) == 0 ? open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(in, 0) < 0)
            _exit(126);
        execv(prog, argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        log_line(log, line, sizeof line);
        rc = ls_err_set(err, LS_EIO, "gnuplot failed (%s %d): %s (its output is in %s)",
                        WIFEXITED(status) ? "exit status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                        *line ? line : "no message", log);
        goto out;
    }
    for (size_t i = 0; i < pl->nstems && !rc; i++)
        for (int k = 0; k < 2 && !rc; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.%s", dir, pl->stems[i], k ? "svg" : "png");
            if (stat(path, &st) != 0 || st.st_size == 0)
                rc = ls_err_set(err, LS_EIO, "gnuplot wrote no %s (see %s)", path, log);
        }
    if (!rc && stat(log, &st) == 0 && st.st_size == 0)
        unlink(log);
out:
    for (size_t i = 1; i <= pl->nstems; i++)
        free(argv[i]);
    free(argv);
    return rc;
}

static int plot_group(plotter *pl, size_t g, ls_err *err)
{
    size_t *bv;
    long nb = distinct(pl->r, g, HP_BATCH, &bv);
    int rc = 0;
    if (nb < 0)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    for (long i = 0; i < nb && !rc; i++)
        rc = chart_vs_hidden(pl, g, M_ERR, &pl->r->jobs[bv[i]], err);
    free(bv);
    return rc ? rc : chart_vs_hidden(pl, g, M_SPS, NULL, err);
}

int ls_report_plots(const ls_report *r, const ls_report_opts *o,
                    ls_report_plot_info *info, ls_err *err)
{
    plotter pl = {.r = r, .o = o, .info = info};
    curves cv = {0};
    char prog[4096];
    int rc;

    memset(info, 0, sizeof *info);
    if (!o->plots_dir)
        return ls_err_set(err, LS_EINVAL, "no plots directory given");
    if ((rc = make_dirs(o->plots_dir, err)))
        return rc;
    for (size_t g = 0; g < r->ngroups && !rc; g++)
        rc = plot_group(&pl, g, err);
    if (!rc && (rc = curves_select(r, &cv)))
        ls_err_set(err, rc, "out of memory");
    if (!rc)
        rc = curves_load(&pl, &cv, err);
    for (size_t g = 0; g < r->ngroups && !rc && cv.rows; g++)
        rc = chart_curves(&pl, g, &cv, err);
    info->charts = (int)pl.nstems;
    if (rc)
        goto out;
    if (find_program(o->gnuplot ? o->gnuplot : "gnuplot", prog, sizeof prog) != 0)
        note(info, "%s not found: charts not drawn (install gnuplot-nox, e.g. with "
                   "scripts/install-deps). Their data and scripts are in %s; draw them "
                   "later with: cd %s && gnuplot *.gp",
             o->gnuplot ? o->gnuplot : "gnuplot", o->plots_dir, o->plots_dir);
    else if (!(rc = run_gnuplot(&pl, prog, err)))
        info->drawn = 1;
out:
    curves_free(&cv);
    for (size_t i = 0; i < pl.nstems; i++)
        free(pl.stems[i]);
    free(pl.stems);
    return rc;
}
