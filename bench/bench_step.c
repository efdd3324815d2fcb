/* bench_step.c - training-step time of lstmsweep against the bare oneDNN
 * LSTM primitives on the same shapes, in the same run.
 *
 *   bare  : for each layer, oneDNN forward_training + backward (with the two
 *           weight reorders backward needs and the zeroing of its
 *           accumulating gradients) at the model's own hidden size: the
 *           oneDNN calls of a naive step, through ls_lstm, nothing else.
 *   full  : one step of `lstmsweep train`: batch expansion from the data
 *           set, all layers forward and backward, dense layer, softmax
 *           cross-entropy, dropout if any, and the Adam update.
 *           Its layers pad H to oneDNN's vector width (lstm.h), so it can
 *           beat `bare` at H = 8 and 24.
 *   unpadded: the same full step with the padding turned off
 *           (LSTMSWEEP_PAD=0), timed only where H is padded: the padding's
 *           own effect, measured in the same turns.
 *   sgemm : dnnl_sgemm 2048^3 at the same thread count, the peak.
 *
 * Each timing is the median of repeated steps after a warm-up (at least 5,
 * and at least ~4 s per shape), bare and full steps alternating so that both
 * see the same moments of a noisy machine; GFLOP/s counts 3 x the forward FLOPs of the LSTM and
 * dense layers.  The threads of the team are bound one per core.
 *
 * With --bf16 it times instead the full step in f32 and in bf16 mixed
 * precision (precision.h), in turns, on the bf16 panel (issue #20's
 * shapes, single layers of input I), and names the implementation oneDNN
 * chose for the bf16 layers.  Run it under ONEDNN_MAX_CPU_ISA=
 * AVX512_CORE_BF16 to see the bf16 step without AMX (bench/bf16.sh).
 *
 * usage: bench_step [--quick] [--bf16] [--only SUBSTR] [OUT.csv]
 *   (prints a markdown table)
 *   --quick   shorter timing budget (a smoke run, not a measurement)
 *   --bf16    the f32 vs bf16 panel
 *   --only S  time only the panel shapes whose name contains S (for profiling) */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/dataset.h"
#include "lstmsweep/lstm.h"
#include "lstmsweep/model.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/topo.h"

typedef struct shape {
    const char *name;
    int T, I, H, N, L, C;
} shape;

/* Issue #20's bf16 panel: the shapes the standalone measurement used. */
static const shape bf16_panel[] = {
    {"T28 N100 I28 H128 L1", 28, 28, 128, 100, 1, 10},
    {"T28 N100 I256 H256 L1", 28, 256, 256, 100, 1, 10},
    {"T20 N1000 I1 H24 L1", 20, 1, 24, 1000, 1, 21},
    {"T20 N1000 I1 H32 L1", 20, 1, 32, 1000, 1, 21},
    /* an even input: AMX for every brgemm kernel (at I=1 oneDNN 2.6.3
     * builds 9 of 15 without AMX, on avx512_bf16) */
    {"T20 N1000 I2 H24 L1", 20, 2, 24, 1000, 1, 21},
    {"T20 N1000 I256 H256 L1", 20, 256, 256, 1000, 1, 21},
    /* three layers: f32 activations between the bf16 layers (lstm.h) */
    {"T28 N100 I28 H256 L3", 28, 28, 256, 100, 3, 10},
};

static const shape panel[] = {
    {"bitcount H24 B1000 L1", 20, 1, 24, 1000, 1, 21},
    {"mnist H128 B100 L1", 28, 28, 128, 100, 1, 10},
    {"mnist H256 B100 L3", 28, 28, 256, 100, 3, 10},
    {"bitcount H8 B50 L1", 20, 1, 8, 50, 1, 21},
    {"bitcount H256 B1000 L3", 20, 1, 256, 1000, 3, 21},
};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Medians t[i] of fn[i](ctx[i]), i < k, timed in turn, so that all see the
 * same moments of a shared, noisy machine (each warmed up first). */
enum { MAXV = 3, MAXREP = 200 };
static void median_turns(int k, void (*fn[])(void *), void *ctx[],
                         double budget_s, double t[])
{
    static double x[MAXV][MAXREP];
    int n = 0;
    double start = ls_sys_seconds();
    for (int i = 0; i < k; i++)
        fn[i](ctx[i]);
    while (n < MAXREP && (n < 5 || ls_sys_seconds() - start < budget_s)) {
        for (int i = 0; i < k; i++) {
            double t0 = ls_sys_seconds();
            fn[i](ctx[i]);
            x[i][n] = ls_sys_seconds() - t0;
        }
        n++;
    }
    for (int i = 0; i < k; i++) {
        qsort(x[i], (size_t)n, sizeof **x, cmp_d);
        t[i] = x[i][n / 2];
    }
}

/* Median seconds of fn(ctx) alone. */
static double median_time(void (*fn)(void *), void *ctx, double budget_s)
{
    void (*fns[1])(void *) = {fn};
    void *ctxs[1] = {ctx};
    double t;
    median_turns(1, fns, ctxs, budget_s, &t);
    return t;
}

/* ---- bare: the LSTM primitives only ---- */
typedef struct bare {
    const shape *s;
    dnnl_engine_t eng;
    dnnl_stream_t st;
    ls_lstm *layer[4];
    float *src, *dst[4], *diff[4], *dsrc0, *w[4][3], *g[4][3];
} bare;

static void bare_step(void *ctx)
{
    bare *b = ctx;
    const shape *s = b->s;
    ls_err err = {0};
    for (int l = 0; l < s->L; l++)
        if (ls_lstm_forward(b->layer[l], b->st, l ? b->dst[l - 1] : b->src,
                            b->w[l][0], b->w[l][1], b->w[l][2], b->dst[l], &err))
            fprintf(stderr, "%s\n", err.msg), exit(1);
    for (int l = s->L - 1; l >= 0; l--)
        if (ls_lstm_backward(b->layer[l], b->st, l ? b->dst[l - 1] : b->src,
                             b->w[l][0], b->w[l][1], b->w[l][2], b->dst[l],
                             b->diff[l], l ? b->diff[l - 1] : b->dsrc0,
                             b->g[l][0], b->g[l][1], b->g[l][2], &err))
            fprintf(stderr, "%s\n", err.msg), exit(1);
}

static float *randbuf(size_t n, ls_rng *r)
{
    float *p = ls_alloc(n * sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = 0.2f * (2 * ls_rng_float(r) - 1);
    return p;
}

static void bare_setup(bare *bp, const shape *s)
{
    bare b = {.s = s};
    ls_err err = {0};
    ls_rng r;
    size_t TNH = (size_t)s->T * s->N * s->H;
    ls_rng_seed(&r, 1, 0);
    dnnl_engine_create(&b.eng, dnnl_cpu, 0);
    dnnl_stream_create(&b.st, b.eng, dnnl_stream_default_flags);
    b.src = randbuf((size_t)s->T * s->N * s->I, &r);
    b.dsrc0 = randbuf((size_t)s->T * s->N * s->I, &r);
    for (int l = 0; l < s->L; l++) {
        int I = l ? s->H : s->I;
        size_t sz[3] = {(size_t)I * 4 * s->H, (size_t)s->H * 4 * s->H, 4 * (size_t)s->H};
        /* the primitive at the logical shape: no padding of H */
        if (ls_lstm_create_padded(&b.layer[l], b.eng, s->T, s->N, I, s->H, s->H, 1, &err))
            fprintf(stderr, "%s\n", err.msg), exit(1);
        b.dst[l] = randbuf(TNH, &r);
        b.diff[l] = randbuf(TNH, &r);
        for (int k = 0; k < 3; k++) {
            b.w[l][k] = randbuf(sz[k], &r);
            b.g[l][k] = randbuf(sz[k], &r);
        }
    }
    *bp = b;
}

static void bare_teardown(bare *bp)
{
    bare b = *bp;
    const shape *s = b.s;
    for (int l = 0; l < s->L; l++) {
        ls_lstm_destroy(b.layer[l]);
        ls_free(b.dst[l]);
        ls_free(b.diff[l]);
        for (int k = 0; k < 3; k++)
            ls_free(b.w[l][k]), ls_free(b.g[l][k]);
    }
    ls_free(b.src);
    ls_free(b.dsrc0);
    dnnl_stream_destroy(b.st);
    dnnl_engine_destroy(b.eng);
}

/* ---- full: what train_epoch does per batch ---- */
typedef struct full {
    const shape *s;
    ls_model *m;
    ls_dataset *ds;
    uint32_t *idx;
    float *x;
    int32_t *y;
    size_t next;
} full;

static void full_step(void *ctx)
{
    full *f = ctx;
    const shape *s = f->s;
    ls_err err = {0};
    double loss;
    int wrong;
    for (int j = 0; j < s->N; j++)
        f->idx[j] = (uint32_t)((f->next + (size_t)j) % f->ds->n_train);
    f->next += (size_t)s->N;
    ls_dataset_fill(f->ds, LS_SPLIT_TRAIN, f->idx, (size_t)s->N, f->x, f->y);
    if (ls_model_forward_backward(f->m, f->x, f->y, s->N, 1, &loss, &wrong, &err))
        fprintf(stderr, "%s\n", err.msg), exit(1);
    ls_model_adam_step(f->m, 1e-3f);
}

/* A stand-in data set of the shape's size: bitcount for I == 1, random
 * bytes as images otherwise (the expansion cost is the same). */
static ls_dataset *bench_data(const shape *s)
{
    ls_dataset *ds = NULL;
    ls_err err = {0};
    if (s->I == 1) {
        ls_bitcount_create(&ds, s->T, 10000, 1, &err);
        return ds;
    }
    /* ls_alloc (zeroed), as ls_dataset_destroy frees with ls_free */
    ds = ls_alloc(sizeof *ds);
    ds->kind = LS_DATA_IMAGES;
    ds->T = s->T, ds->I = s->I, ds->classes = s->C;
    ds->n_train = 8000, ds->n_test = 0;
    ds->pixels = ls_alloc(ds->n_train * (size_t)s->T * s->I);
    ds->labels = ls_alloc(ds->n_train);
    for (size_t i = 0; i < ds->n_train * (size_t)s->T * s->I; i++)
        ds->pixels[i] = (uint8_t)(i * 2654435761u >> 24);
    for (size_t i = 0; i < ds->n_train; i++)
        ds->labels[i] = (uint8_t)(i % 10);
    return ds;
}

static void full_setup_prec(full *fp, const shape *s, ls_precision prec)
{
    ls_model_config c = {.T = s->T, .I = s->I, .H = s->H, .L = s->L, .C = s->C,
                         .batch = s->N, .seed = 1, .precision = prec};
    full f = {.s = s};
    ls_err err = {0};
    if (ls_model_create(&f.m, &c, &err))
        fprintf(stderr, "%s\n", err.msg), exit(1);
    f.ds = bench_data(s);
    f.idx = malloc(sizeof *f.idx * (size_t)s->N);
    f.x = ls_alloc(sizeof(float) * (size_t)s->T * s->N * s->I);
    f.y = malloc(sizeof *f.y * (size_t)s->N);
    *fp = f;
}

static void full_setup(full *fp, const shape *s)
{
    full_setup_prec(fp, s, LS_PREC_F32);
}

static void full_teardown(full *fp)
{
    ls_model_destroy(fp->m);
    ls_dataset_destroy(fp->ds);
    free(fp->idx);
    ls_free(fp->x);
    free(fp->y);
}

/* Bare, full and (where lstm.h pads H) full-without-padding steps of one
 * shape, timed in turn; *tu = 0 when the shape is not padded. */
static void time_shape(const shape *s, double budget, double *tb, double *tf,
                       double *tu)
{
    bare b;
    full f, u;
    int padded = ls_lstm_padded_hidden(s->H) != s->H;
    void (*fn[3])(void *) = {bare_step, full_step, full_step};
    void *ctx[3] = {&b, &f, &u};
    double t[3] = {0, 0, 0};

    bare_setup(&b, s);
    full_setup(&f, s);
    if (padded) {
        /* read when the layers are made: at the model's first step */
        setenv("LSTMSWEEP_PAD", "0", 1);
        full_setup(&u, s);
        full_step(&u);
        unsetenv("LSTMSWEEP_PAD");
    }
    median_turns(padded ? 3 : 2, fn, ctx, (padded ? 3 : 2) * budget, t);
    if (padded)
        full_teardown(&u);
    full_teardown(&f);
    bare_teardown(&b);
    *tb = t[0], *tf = t[1], *tu = t[2];
}

typedef struct gemm { int n; float *a, *b, *c; } gemm;

static void gemm_step(void *ctx)
{
    gemm *g = ctx;
    dnnl_sgemm('N', 'N', g->n, g->n, g->n, 1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n);
}

static double sgemm_peak(void)
{
    gemm g = {.n = 2048};
    ls_rng r;
    ls_rng_seed(&r, 2, 0);
    size_t nn = (size_t)g.n * g.n;
    g.a = randbuf(nn, &r), g.b = randbuf(nn, &r), g.c = randbuf(nn, &r);
    double t = median_time(gemm_step, &g, 1.0);
    ls_free(g.a), ls_free(g.b), ls_free(g.c);
    return 2.0 * g.n * (double)g.n * g.n / t * 1e-9;
}

/* The step panel at k threads: bare, full (and unpadded) in turns. */
static void step_rows(int k, double peak, double budget, const char *only, FILE *csv)
{
    for (size_t i = 0; i < sizeof panel / sizeof *panel; i++) {
        const shape *s = &panel[i];
        if (only && !strstr(s->name, only))
            continue;
        ls_model_config c = {.T = s->T, .I = s->I, .H = s->H, .L = s->L, .C = s->C};
        double flops = 3 * ls_model_flops_per_sample(&c) * s->N;
        double tb, tf, tu;
        time_shape(s, budget, &tb, &tf, &tu);
        double gf = flops / tf * 1e-9;
        char unp[32] = "-";
        if (tu > 0)
            snprintf(unp, sizeof unp, "%.2f", tu * 1e3);
        printf("| %s | %d | %.2f | %.2f | %+.1f%% | %.0f | %.1f | %.0f%% | %s |\n", s->name,
               k, tb * 1e3, tf * 1e3, 100 * (tf - tb) / tb, s->N / tf, gf,
               100 * gf / peak, unp);
        if (csv)
            fprintf(csv, "%s,%d,%.4f,%.4f,%.2f,%.1f,%.2f,%.1f,%.1f,%.4f\n", s->name, k,
                    tb * 1e3, tf * 1e3, 100 * (tf - tb) / tb, s->N / tf, gf, peak,
                    100 * gf / peak, tu * 1e3);
        fflush(stdout);
    }
}

/* The bf16 panel at k threads: f32 and bf16 full steps in turns. */
static void bf16_rows(int k, double peak, double budget, const char *only, FILE *csv)
{
    for (size_t i = 0; i < sizeof bf16_panel / sizeof *bf16_panel; i++) {
        const shape *s = &bf16_panel[i];
        if (only && !strstr(s->name, only))
            continue;
        ls_model_config c = {.T = s->T, .I = s->I, .H = s->H, .L = s->L, .C = s->C};
        double flops = 3 * ls_model_flops_per_sample(&c) * s->N;
        full f, g;
        void (*fn[2])(void *) = {full_step, full_step};
        void *ctx[2] = {&f, &g};
        double t[2];
        dnnl_engine_t e;
        char why[128];
        full_setup_prec(&f, s, LS_PREC_F32);
        full_setup_prec(&g, s, LS_PREC_BF16);
        median_turns(2, fn, ctx, 2 * budget, t);
        dnnl_engine_create(&e, dnnl_cpu, 0);
        ls_lstm_bf16_probe(e, LS_CELL_LSTM, s->T, s->N, s->I, s->H, 1, why, sizeof why);
        dnnl_engine_destroy(e);
        full_teardown(&f);
        full_teardown(&g);
        double gf = flops / t[1] * 1e-9;
        printf("| %s | %d | %.2f | %.2f | %.2fx | %.1f | %.0f%% | %s |\n", s->name, k,
               t[0] * 1e3, t[1] * 1e3, t[0] / t[1], gf, 100 * gf / peak, why);
        if (csv)
            fprintf(csv, "%s,%d,%.4f,%.4f,%.4f,%.2f,%.1f,%.1f,%s,%d\n", s->name, k, t[0] * 1e3,
                    t[1] * 1e3, t[0] / t[1], gf, peak, 100 * gf / peak, why,
                    (int)dnnl_get_effective_cpu_isa());
        fflush(stdout);
    }
}

static int bf16_main(double budget, const char *only, FILE *csv, ls_topo *topo, int maxk)
{
    int cores[2] = {0, 1};
    ls_err err = {0};
    if (csv)
        fprintf(csv, "shape,threads,f32_ms,bf16_ms,speedup,bf16_gflops,sgemm_gflops,"
                     "pct_of_peak,bf16_impl,isa\n");
    printf("oneDNN effective ISA %d (ONEDNN_MAX_CPU_ISA=%s)\n\n",
           (int)dnnl_get_effective_cpu_isa(),
           getenv("ONEDNN_MAX_CPU_ISA") ? getenv("ONEDNN_MAX_CPU_ISA") : "unset");
    printf("| shape | threads | f32 ms | bf16 ms | speed-up | bf16 GFLOP/s | %% of sgemm peak | bf16 impl |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (int k = 1; k <= maxk; k++) {
        if (ls_topo_bind_team(topo, cores, k, &err))
            return fprintf(stderr, "%s\n", err.msg), 1;
        double peak = sgemm_peak();
        bf16_rows(k, peak, budget, only, csv);
        printf("| sgemm 2048^3 | %d | | | | %.1f | 100%% | |\n", k, peak);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int quick = 0, bf16 = 0;
    const char *out = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--bf16"))
            bf16 = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (argv[i][0] == '-' || out)
            return fprintf(stderr, "usage: bench_step [--quick] [--bf16] [--only SUBSTR] "
                                   "[OUT.csv]\n"),
                   strcmp(argv[i], "--help") != 0 && strcmp(argv[i], "-h") != 0 ? 2 : 0;
        else
            out = argv[i];
    }
    double budget = quick ? 0.3 : 2.0;
    ls_topo *topo;
    ls_err err = {0};
    FILE *csv = out ? fopen(out, "w") : NULL;
    int cores[2] = {0, 1};

    if (ls_topo_load(&topo, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    int maxk = ls_topo_ncores(topo) < 2 ? ls_topo_ncores(topo) : 2;
    if (bf16) {
        int rc = bf16_main(budget, only, csv, topo, maxk);
        if (csv)
            fclose(csv);
        ls_topo_destroy(topo);
        return rc;
    }
    if (csv)
        fprintf(csv, "shape,threads,bare_ms,full_ms,overhead_pct,samples_per_s,"
                     "gflops,sgemm_gflops,pct_of_peak,full_unpadded_ms\n");
    printf("| shape | threads | bare oneDNN ms | lstmsweep ms | lstmsweep vs bare | samples/s | GFLOP/s | %% of sgemm peak | lstmsweep unpadded ms |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 1; k <= maxk; k++) {
        if (ls_topo_bind_team(topo, cores, k, &err))
            return fprintf(stderr, "%s\n", err.msg), 1;
        double peak = sgemm_peak();
        step_rows(k, peak, budget, only, csv);
        printf("| sgemm 2048^3 | %d | | | | | %.1f | 100%% | |\n", k, peak);
    }
    if (csv)
        fclose(csv);
    ls_topo_destroy(topo);
    return 0;
}
