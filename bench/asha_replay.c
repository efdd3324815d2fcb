/* asha_replay.c - a full grid's logged curves replayed through ASHA's
 * decision code (asha.h, the code `run` decides with), over many random
 * completion orders: the distribution of what the search would have cost
 * and chosen, not one lucky run.  bench/asha.sh runs it.
 *
 * usage: asha_replay [--orders N] [--workers W] [--min-epochs M] [--eta E]
 *                    [--seed S] [--row] GRID.csv GRID-curves.csv [ASHA.csv]
 * (--row: only one markdown table row, for a table of settings:
 *  | shards | min_epochs | eta | rungs | compute | regret | best | grid's choice | within noise |;
 *  --shards K: K searches side by side, each on its share of the
 *  configurations (as run --shard makes them) and W workers of its own,
 *  the choice the best of theirs by validation: what Slurm arrays cost)
 *
 * The grid (one task) gives, per job, its validation error and training
 * loss at every rung epoch (its curves; every rung must be an evaluation
 * epoch), its final test error, and its time per epoch (train_s /
 * epochs_run).  A unit is a configuration (the mean over its seeds, as
 * seeds = mean).  Each order: W workers; the units start in a random
 * order, each seed a job of its own; a promoted unit's jobs go ahead of new
 * ones (the higher rung first); each segment of training lasts its epochs
 * times the job's epoch time times a random factor exp(0.3 N(0,1)), which
 * is what makes the completion orders differ.  Compute is counted in the
 * grid's own epoch times (core-seconds of training; evaluations apart), and
 * set against the grid's total.  The choice is ls_asha_best's; its regret
 * is its mean test error (the grid's, to the digit: a unit trained to the
 * last rung is the grid's job) minus the best configuration's; its rank
 * is among all configurations by mean test error.  The seed noise is the
 * median over configurations of the standard deviation of the test error
 * between seeds.  With ASHA.csv (a live search of the same file, `run`),
 * its own compute (its jobs' train_s) and choice are shown beside.
 * Prints markdown. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/asha.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/results.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/shard.h"

#define MAXJ 4096
#define MAXE 4096

typedef struct gjob {
    ls_job job;
    ls_result res;
    char id[LS_JOB_ID_LEN];
    int unit;
    double *val, *loss;  /* [epochs + 1], NAN where not evaluated */
    double epoch_s;
} gjob;

typedef struct grid {
    gjob j[MAXJ];
    int n;
    int unit_of_first[MAXJ]; /* a unit's first job */
    int nunits;
    char keys[MAXJ][LS_JOB_ID_LEN];
} grid;

static grid G;

static long find(const char *id)
{
    for (int i = 0; i < G.n; i++)
        if (!strcmp(G.j[i].id, id))
            return i;
    return -1;
}

static int on_result(void *ctx, const char *path, long line, int nf, char **f, ls_err *err)
{
    (void)ctx;
    ls_job job;
    ls_result r;
    ls_status st;
    if (ls_status_parse(f[LS_COLUMN_status], &st) || !ls_status_final(st, 0))
        return 0;
    ls_job_defaults(&job, LS_TASK_BITCOUNT);
    if (!strcmp(f[LS_COLUMN_task], "mnist"))
        ls_job_defaults(&job, LS_TASK_MNIST);
    if (ls_results_parse(nf, f, &job, &r, err))
        return ls_err_prefix(err, "%s:%ld: ", path, line);
    long i = find(f[LS_COLUMN_job_id]);
    if (i < 0) {
        if (G.n == MAXJ)
            return ls_err_set(err, LS_EINVAL, "more than %d jobs", MAXJ);
        i = G.n++;
    }
    gjob *g = &G.j[i];
    g->job = job;
    g->res = r;
    snprintf(g->id, sizeof g->id, "%s", f[LS_COLUMN_job_id]);
    return 0;
}

static int on_curve(void *ctx, const ls_curve_row *row, ls_err *err)
{
    (void)ctx, (void)err;
    long i = find(row->job_id);
    if (i < 0 || row->epoch < 1 || row->epoch > G.j[i].job.epochs)
        return 0;
    G.j[i].val[row->epoch] = row->val_error;
    G.j[i].loss[row->epoch] = row->train_loss;
    return 0;
}

static int load(const char *results, const char *curves, ls_err *err)
{
    int rc = ls_csv_read(results, LS_RESULTS_COLUMNS, on_result, NULL, NULL, err);
    if (rc)
        return rc;
    for (int i = 0; i < G.n; i++) {
        gjob *g = &G.j[i];
        g->val = ls_calloc((size_t)g->job.epochs + 1, sizeof *g->val);
        g->loss = ls_calloc((size_t)g->job.epochs + 1, sizeof *g->loss);
        if (!g->val || !g->loss)
            return ls_err_set(err, LS_ENOMEM, "out of memory");
        for (int e = 0; e <= g->job.epochs; e++)
            g->val[e] = g->loss[e] = NAN;
        g->epoch_s = g->res.train_s / (g->res.epochs_run > 0 ? g->res.epochs_run : 1);
        if (g->job.task != G.j[0].job.task || g->job.epochs != G.j[0].job.epochs)
            return ls_err_set(err, LS_EINVAL, "%s: one task and one epochs, please", results);
        ls_job probe = g->job;
        probe.seed = 0;
        char key[LS_JOB_ID_LEN];
        ls_job_id(&probe, key);
        g->unit = -1;
        for (int u = 0; u < G.nunits && g->unit < 0; u++)
            if (!strcmp(G.keys[u], key))
                g->unit = u;
        if (g->unit < 0) {
            g->unit = G.nunits;
            memcpy(G.keys[G.nunits], key, sizeof key);
            G.unit_of_first[G.nunits++] = i;
        }
    }
    return ls_curve_read(curves, on_curve, NULL, NULL, err);
}

/* ---- per-unit figures ------------------------------------------------- */

static double unit_mean(int u, double (*get)(const gjob *, int), int e)
{
    double v[64];
    int n = 0;
    for (int i = 0; i < G.n && n < 64; i++)
        if (G.j[i].unit == u)
            v[n++] = get(&G.j[i], e);
    return ls_asha_mean(v, n);
}
static double get_val(const gjob *g, int e) { return g->val[e]; }
static double get_loss(const gjob *g, int e) { return g->loss[e]; }
static double get_test(const gjob *g, int e) { (void)e; return g->res.test_error; }
static double get_fval(const gjob *g, int e) { (void)e; return g->res.val_error; }

static int rank_of(double test)
{
    int r = 1;
    for (int u = 0; u < G.nunits; u++)
        r += unit_mean(u, get_test, 0) < test;
    return r;
}

static double seed_noise(void)
{
    double sd[MAXJ];
    int n = 0;
    for (int u = 0; u < G.nunits; u++) {
        double s = 0, s2 = 0;
        int k = 0;
        for (int i = 0; i < G.n; i++)
            if (G.j[i].unit == u) {
                s += G.j[i].res.test_error;
                s2 += G.j[i].res.test_error * G.j[i].res.test_error;
                k++;
            }
        if (k > 1)
            sd[n++] = sqrt(fmax(0, (s2 - s * s / k) / (k - 1)));
    }
    for (int a = 1; a < n; a++) /* insertion sort: n is small */
        for (int b = a; b > 0 && sd[b] < sd[b - 1]; b--) {
            double t = sd[b];
            sd[b] = sd[b - 1];
            sd[b - 1] = t;
        }
    return n ? sd[n / 2] : NAN;
}

/* ---- one completion order ---------------------------------------------- */

typedef struct seg {
    int job, from, to, rung;
    double end;
} seg;

typedef struct sim {
    ls_asha *a;
    const int *shard_of;   /* [units]: the shard of each unit, or NULL: one */
    int shard;             /* the shard this search is */
    int local[MAXJ], global[MAXJ], nlocal; /* its units: grid <-> search index */
    int nrungs, epochs[LS_ASHA_MAX_RUNGS];
    seg queue[MAXE], run[256];
    int nq, nrun, workers;
    double now, compute;
    ls_rng rng;
} sim;

static void push(sim *s, int job, int rung, int front)
{
    int from = rung ? s->epochs[rung - 1] : 0;
    seg x = {.job = job, .from = from, .to = s->epochs[rung], .rung = rung};
    if (s->nq == MAXE)
        return;
    if (front) { /* promoted: ahead of everything of a lower rung */
        int at = 0;
        while (at < s->nq && s->queue[at].rung >= rung)
            at++;
        memmove(s->queue + at + 1, s->queue + at, sizeof *s->queue * (size_t)(s->nq - at));
        s->queue[at] = x;
        s->nq++;
    } else {
        s->queue[s->nq++] = x;
    }
}

static void unit_result(sim *s, int u, int r)
{
    const ls_asha_event *ev;
    ls_err err = {0};
    int e = s->epochs[r];
    int n = ls_asha_result(s->a, s->local[u], unit_mean(u, get_val, e),
                           unit_mean(u, get_loss, e), &ev, &err);
    for (int k = 0; k < n; k++)
        if (ev[k].kind == LS_ASHA_EV_PROMOTE)
            for (int i = 0; i < G.n; i++)
                if (G.j[i].unit == s->global[ev[k].unit])
                    push(s, i, ev[k].rung + 1, 1);
}

static int simulate(sim *s, int order, uint64_t seed, int min_epochs, int eta, ls_err *err)
{
    const char *keys[MAXJ];
    for (int u = 0; u < G.nunits; u++) {
        s->local[u] = -1;
        if (!s->shard_of || s->shard_of[u] == s->shard) {
            keys[s->nlocal] = G.keys[u];
            s->global[s->nlocal] = u;
            s->local[u] = s->nlocal++;
        }
    }
    s->nrungs = ls_asha_rungs(min_epochs, G.j[0].job.epochs, eta, s->epochs, LS_ASHA_MAX_RUNGS);
    if (s->nrungs < 1 || ls_asha_new(&s->a, s->nlocal, keys, s->epochs, s->nrungs, eta, err))
        return ls_err_set(err, LS_EINVAL, "no rungs, or an empty shard");
    ls_rng_seed(&s->rng, seed, (uint64_t)order + 1000003u * (uint64_t)s->shard);
    int perm[MAXJ];
    for (int u = 0; u < s->nlocal; u++)
        perm[u] = s->global[u];
    for (int u = s->nlocal - 1; u > 0; u--) {
        int k = (int)ls_rng_below(&s->rng, (uint64_t)u + 1), t = perm[u];
        perm[u] = perm[k];
        perm[k] = t;
    }
    for (int k = 0; k < s->nlocal; k++)
        for (int i = 0; i < G.n; i++)
            if (G.j[i].unit == perm[k])
                push(s, i, 0, 0);
    int reached[MAXJ];
    for (int i = 0; i < G.n; i++)
        reached[i] = -1;
    while (s->nq || s->nrun) {
        while (s->nrun < s->workers && s->nq) {
            seg x = s->queue[0];
            memmove(s->queue, s->queue + 1, sizeof *s->queue * (size_t)--s->nq);
            double jitter = exp(0.3 * ls_rng_normal(&s->rng));
            x.end = s->now + (x.to - x.from) * G.j[x.job].epoch_s * jitter;
            s->run[s->nrun++] = x;
        }
        int first = 0;
        for (int k = 1; k < s->nrun; k++)
            first = s->run[k].end < s->run[first].end ? k : first;
        seg x = s->run[first];
        s->run[first] = s->run[--s->nrun];
        s->now = x.end;
        s->compute += (x.to - x.from) * G.j[x.job].epoch_s;
        reached[x.job] = x.rung;
        int u = G.j[x.job].unit, all = 1;
        for (int i = 0; i < G.n; i++)
            all &= G.j[i].unit != u || reached[i] == x.rung;
        if (all)
            unit_result(s, u, x.rung);
    }
    return 0;
}

/* ---- the report ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(int)floor(p * (n - 1) + 0.5)];
}

/* A live search's results: its compute (the final rows' train_s, which
 * sum over resumes) and which jobs reached the last epochs (ok). */
typedef struct live {
    double compute;
    int ok[MAXJ];
} live;

static int on_live(void *ctx, const char *path, long line, int nf, char **f, ls_err *err)
{
    live *L = ctx;
    (void)path, (void)line, (void)nf, (void)err;
    long i = find(f[LS_COLUMN_job_id]);
    ls_status st;
    if (i < 0 || ls_status_parse(f[LS_COLUMN_status], &st) || !ls_status_final(st, 0))
        return 0;
    L->compute += strtod(f[LS_COLUMN_train_s], NULL);
    L->ok[i] = st == LS_STATUS_OK;
    return 0;
}

/* The live search's choice: the configuration whose jobs all reached the
 * last epochs, with the lowest mean validation error there. */
static void print_live(const char *path, double grid_compute, double best_test, double noise)
{
    static live L;
    ls_err err = {0};
    int chosen = -1;
    double best = INFINITY;
    if (ls_csv_read(path, LS_RESULTS_COLUMNS, on_live, &L, NULL, &err)) {
        printf("\nlive search %s: %s\n", path, err.msg);
        return;
    }
    for (int u = 0; u < G.nunits; u++) {
        int all = 1;
        for (int i = 0; i < G.n; i++)
            all &= G.j[i].unit != u || L.ok[i];
        double v = unit_mean(u, get_fval, 0);
        if (all && v < best)
            best = v, chosen = u;
    }
    if (chosen < 0) {
        printf("\nThe live search: no configuration reached the last rung.\n");
        return;
    }
    double t = unit_mean(chosen, get_test, 0);
    printf("\nThe live search (`lstmsweep run`, %s): compute %.1f%% of the grid's (its jobs' "
           "train_s against the grid's), chose a configuration of mean test error %.4f%%: "
           "regret %+.4f points, rank %d of %d%s.\n", path, 100 * L.compute / grid_compute,
           100 * t, 100 * (t - best_test), rank_of(t), G.nunits,
           t - best_test <= noise ? ", within the seed noise" : "");
}

/* The run's settings, and what the orders gave. */
typedef struct opts {
    int orders, workers, min_epochs, eta, row, shards;
    uint64_t seed;
} opts;

typedef struct stats {
    double grid_compute, best_test, grid_val_test, noise;
    double *frac, *regret;       /* [orders] */
    int grid_choice;             /* the unit the grid picks by validation */
    int rank1, rank3, within, same, nrungs, epochs[LS_ASHA_MAX_RUNGS];
} stats;

/* Every rung epoch must have every job's validation error. */
static int check_rungs(const opts *o)
{
    int rungs[LS_ASHA_MAX_RUNGS], nr = ls_asha_rungs(o->min_epochs, G.j[0].job.epochs, o->eta,
                                                      rungs, LS_ASHA_MAX_RUNGS);
    for (int r = 0; r < nr; r++)
        for (int i = 0; i < G.n; i++)
            if (isnan(G.j[i].val[rungs[r]])) {
                fprintf(stderr, "asha_replay: job %s has no validation error at epoch %d (rung "
                        "%d): the grid must evaluate at every rung epoch (eval_every)\n",
                        G.j[i].id, rungs[r], r + 1);
                return 1;
            }
    return nr < 1;
}

/* The grid's own figures: its compute (train_s, as the live search's is
 * counted), its best mean test error, its choice by validation, the noise. */
static void grid_stats(stats *st)
{
    double grid_val = INFINITY;
    st->best_test = INFINITY;
    for (int i = 0; i < G.n; i++)
        st->grid_compute += G.j[i].job.epochs * G.j[i].epoch_s;
    for (int u = 0; u < G.nunits; u++) {
        double t = unit_mean(u, get_test, 0), v = unit_mean(u, get_fval, 0);
        st->best_test = fmin(st->best_test, t);
        if (v < grid_val)
            grid_val = v, st->grid_val_test = t, st->grid_choice = u;
    }
    st->noise = seed_noise();
}

/* The units' shards as the driver makes them (searchrun.h): ls_shard_assign
 * of the configurations by their job counts. */
static int shard_units(int shards, int *shard_of, ls_err *err)
{
    double cost[MAXJ];
    for (int u = 0; u < G.nunits; u++) {
        cost[u] = 0;
        for (int i = 0; i < G.n; i++)
            cost[u] += G.j[i].unit == u;
    }
    return ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])G.keys, (size_t)G.nunits,
                           shards, shard_of, err);
}

static int run_orders(const opts *o, stats *st, ls_err *err)
{
    st->frac = ls_calloc((size_t)o->orders, sizeof *st->frac);
    st->regret = ls_calloc((size_t)o->orders, sizeof *st->regret);
    if (!st->frac || !st->regret)
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    int shard_of[MAXJ];
    if (o->shards > 1 && shard_units(o->shards, shard_of, err))
        return LS_EINVAL;
    for (int k = 0; k < o->orders; k++) {
        double compute = 0, best_val = INFINITY;
        int best = -1;
        for (int sh = 0; sh < o->shards; sh++) { /* each shard its own search and cores */
            sim s = {.workers = o->workers, .shard_of = o->shards > 1 ? shard_of : NULL,
                     .shard = sh};
            if (simulate(&s, k, o->seed, o->min_epochs, o->eta, err))
                return LS_EINVAL;
            int b = ls_asha_best(s.a);
            b = b >= 0 ? s.global[b] : -1;
            /* the shards' choices merged: the one with the lowest validation error */
            if (b >= 0 && unit_mean(b, get_fval, 0) < best_val)
                best_val = unit_mean(b, get_fval, 0), best = b;
            compute += s.compute;
            st->nrungs = s.nrungs;
            memcpy(st->epochs, s.epochs, sizeof st->epochs);
            ls_asha_free(s.a);
        }
        double t = best >= 0 ? unit_mean(best, get_test, 0) : NAN;
        st->frac[k] = compute / st->grid_compute;
        st->regret[k] = t - st->best_test;
        int r = rank_of(t);
        st->rank1 += r == 1;
        st->rank3 += r <= 3;
        st->within += st->regret[k] <= st->noise;
        st->same += best == st->grid_choice;
    }
    return 0;
}

static void print_rungs(const stats *st, const char *first)
{
    for (int r = 0; r < st->nrungs; r++)
        printf("%s%d", r ? "," : first, st->epochs[r]);
}

static void print_stats(const opts *o, stats *st)
{
    int n = o->orders;
    double f50 = pct(st->frac, n, 0.5), f10 = pct(st->frac, n, 0.1), f90 = pct(st->frac, n, 0.9);
    double fmaxv = pct(st->frac, n, 1.0), r50 = pct(st->regret, n, 0.5);
    double r10 = pct(st->regret, n, 0.1), r90 = pct(st->regret, n, 0.9);
    double rmax = pct(st->regret, n, 1.0);
    if (o->row) {
        printf("| %d | %d | %d | ", o->shards, o->min_epochs, o->eta);
        print_rungs(st, "");
        printf(" | %.1f%% (%.1f–%.1f%%) | %+.3f (%+.3f) | %d%% | %d%% | %d%% |\n", 100 * f50,
               100 * f10, 100 * f90, 100 * r50, 100 * r90, 100 * st->rank1 / n,
               100 * st->same / n, 100 * st->within / n);
        return;
    }
    printf("%s: %d configurations x %d seeds (%d jobs), %d epochs; ASHA eta %d, rungs",
           ls_task_name(G.j[0].job.task), G.nunits, G.n / G.nunits, G.n, G.j[0].job.epochs,
           o->eta);
    print_rungs(st, " ");
    printf("; %d random completion orders on %d workers.\n\n", n, o->workers);
    printf("The grid: %.0f core-s of training; best configuration by mean test error %.4f%%; "
           "the grid's own choice (by validation) %.4f%% (rank %d); seed noise (median std "
           "of the test error between seeds) %.4f points.\n\n", st->grid_compute,
           100 * st->best_test, 100 * st->grid_val_test, rank_of(st->grid_val_test),
           100 * st->noise);
    printf("| over %d orders | median | 10th pct | 90th pct | worst |\n|---|---:|---:|---:|---:|\n",
           n);
    printf("| ASHA's compute / the grid's | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", 100 * f50,
           100 * f10, 100 * f90, 100 * fmaxv);
    printf("| regret (chosen's mean test error - best's), points | %+.4f | %+.4f | %+.4f | %+.4f |\n",
           100 * r50, 100 * r10, 100 * r90, 100 * rmax);
    printf("\nThe choice was the grid's best in %d of %d orders, in its top 3 in %d, the grid's "
           "own choice (by validation, as the search chooses) in %d, within the seed noise of "
           "the best in %d (%.0f%%).\n", st->rank1, n, st->rank3, st->same, st->within,
           100.0 * st->within / n);
}

static int parse_opts(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {{"orders", 1, 0, 'o'}, {"workers", 1, 0, 'w'},
                                       {"min-epochs", 1, 0, 'm'}, {"eta", 1, 0, 'e'},
                                       {"seed", 1, 0, 's'}, {"row", 0, 0, 'r'},
                                       {"shards", 1, 0, 'k'}, {0, 0, 0, 0}};
    int c;
    *o = (opts){.orders = 200, .workers = 2, .min_epochs = 1, .eta = 3, .seed = 1, .shards = 1};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1)
        switch (c) {
        case 'o': o->orders = atoi(optarg); break;
        case 'w': o->workers = atoi(optarg); break;
        case 'm': o->min_epochs = atoi(optarg); break;
        case 'e': o->eta = atoi(optarg); break;
        case 's': o->seed = strtoull(optarg, NULL, 10); break;
        case 'r': o->row = 1; break;
        case 'k': o->shards = atoi(optarg); break;
        default: return 2;
        }
    if (argc - optind < 2 || o->orders < 1 || o->workers < 1 || o->workers > 256 ||
        o->shards < 1 || o->shards > 64) {
        fprintf(stderr, "usage: asha_replay [--orders N] [--workers W] [--min-epochs M] "
                        "[--eta E] [--seed S] [--shards K] [--row] GRID.csv GRID-curves.csv "
                        "[ASHA.csv]\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    stats st = {0};
    ls_err err = {0};
    if (parse_opts(argc, argv, &o))
        return 2;
    if (load(argv[optind], argv[optind + 1], &err) ||
        (!check_rungs(&o) && run_orders(&o, (grid_stats(&st), &st), &err))) {
        fprintf(stderr, "asha_replay: %s\n", err.msg);
        return 1;
    }
    if (!st.frac)
        return 1; /* check_rungs said why */
    print_stats(&o, &st);
    if (!o.row && argc - optind > 2)
        print_live(argv[optind + 2], st.grid_compute, st.best_test, st.noise);
    return 0;
}
