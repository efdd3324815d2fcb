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
 * With --eval it times evaluation instead: ls_model_predict on one
 * inference batch of the size training evaluates with (and bitcount's
 * whole evaluation down the prefix tree, prefix.h), with f32 inference
 * primitives on the caller's ldigo weights (oneDNN's reference RNN, as
 * before issue #20; LSTMSWEEP_INFER_ANY=0), on weights in format `any`
 * (brgemm; LSTMSWEEP_INFER_ANY=1: f32 inference takes it by default where
 * it measured faster, lstm.h) and in bf16, in turns, from the same weights;
 * it prints the largest difference of the probabilities (or the error
 * rates) against the reference, so a faster path that computes something
 * else shows.
 *
 * usage: bench_step [--quick] [--bf16 | --eval] [--only SUBSTR] [OUT.csv]
 *   (prints a markdown table)
 *   --quick   shorter timing budget (a smoke run, not a measurement)
 *   --bf16    the f32 vs bf16 panel
 *   --eval    the evaluation panel
 *   --only S  time only the panel shapes whose name contains S (for profiling) */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/dataset.h"
#include "lstmsweep/lstm.h"
#include "lstmsweep/model.h"
#include "lstmsweep/prefix.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/topo.h"
#include "lstmsweep/train.h"

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

/* The bf16 GEMM peak: oneDNN's matmul primitive, bf16 x bf16 -> f32,
 * 2048^3, at the bound team's thread count (AMX tiles where the CPU has
 * them, avx512_bf16 otherwise): the fair reference for a bf16 step, which
 * can exceed the f32 sgemm peak.  0 if oneDNN has no such matmul here. */
static const char *impl_name(const_dnnl_primitive_desc_t pd)
{
    const char *s = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s);
    return s ? s : "?";
}

typedef struct bgemm { dnnl_primitive_t p; dnnl_stream_t st; dnnl_memory_t a, b, c; } bgemm;

static void bgemm_step(void *ctx)
{
    bgemm *g = ctx;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, g->a}, {DNNL_ARG_WEIGHTS, g->b},
                               {DNNL_ARG_DST, g->c}};
    dnnl_primitive_execute(g->p, g->st, 3, args);
    dnnl_stream_wait(g->st);
}

static double bf16_gemm_peak(void)
{
    enum { n = 2048 };
    dnnl_engine_t e;
    dnnl_memory_desc_t a, b, c, bany;
    dnnl_matmul_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    bgemm g = {0};
    dnnl_dims_t dims = {n, n};
    double t = 0;
    dnnl_engine_create(&e, dnnl_cpu, 0);
    dnnl_stream_create(&g.st, e, dnnl_stream_default_flags);
    dnnl_memory_desc_init_by_tag(&a, 2, dims, dnnl_bf16, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&bany, 2, dims, dnnl_bf16, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&c, 2, dims, dnnl_f32, dnnl_ab);
    if (dnnl_matmul_desc_init(&d, &a, &bany, NULL, &c) == dnnl_success &&
        dnnl_primitive_desc_create(&pd, &d, NULL, e, NULL) == dnnl_success &&
        dnnl_primitive_create(&g.p, pd) == dnnl_success) {
        b = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        /* the contents do not change the time: zeroed buffers */
        dnnl_memory_create(&g.a, &a, e, DNNL_MEMORY_ALLOCATE);
        dnnl_memory_create(&g.b, &b, e, DNNL_MEMORY_ALLOCATE);
        dnnl_memory_create(&g.c, &c, e, DNNL_MEMORY_ALLOCATE);
        t = median_time(bgemm_step, &g, 1.0);
        printf("bf16 matmul 2048^3: %s\n", impl_name(pd));
    }
    dnnl_memory_destroy(g.a), dnnl_memory_destroy(g.b), dnnl_memory_destroy(g.c);
    dnnl_primitive_destroy(g.p);
    dnnl_primitive_desc_destroy(pd);
    dnnl_stream_destroy(g.st);
    dnnl_engine_destroy(e);
    return t > 0 ? 2.0 * n * (double)n * n / t * 1e-9 : 0;
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

/* The bf16 panel at k threads: f32 and bf16 full steps in turns; peak
 * and bpeak the f32 sgemm and bf16 matmul peaks of this team. */
static void bf16_rows(int k, double peak, double bpeak, double budget, const char *only,
                      FILE *csv)
{
    for (size_t i = 0; i < sizeof bf16_panel / sizeof *bf16_panel; i++) {
        const shape *s = &bf16_panel[i];
        if (only && !strstr(s->name, only))
            continue;
        ls_model_config c = {.T = s->T, .I = s->I, .H = s->H, .L = s->L, .C = s->C};
        double flops = 3 * ls_model_flops_per_sample(&c) * s->N;
        full f, g, u;
        void (*fn[3])(void *) = {full_step, full_step, full_step};
        void *ctx[3] = {&f, &g, &u};
        double t[3] = {0, 0, 0};
        dnnl_engine_t e;
        char why[128];
        int nf = s->L > 1 ? 3 : 2;
        full_setup_prec(&f, s, LS_PREC_F32);
        full_setup_prec(&g, s, LS_PREC_BF16);
        if (nf == 3) { /* bf16 with f32 hand-over between layers (lstm.h) */
            setenv("LSTMSWEEP_BF16_CHAIN", "0", 1);
            full_setup_prec(&u, s, LS_PREC_BF16);
            full_step(&u); /* the stacks are made at the first step */
            unsetenv("LSTMSWEEP_BF16_CHAIN");
        }
        median_turns(nf, fn, ctx, nf * budget, t);
        if (nf == 3) {
            printf("(%s, %d threads: bf16 with f32 between the layers %.2f ms, the bf16 "
                   "hand-over %.3fx as fast)\n", s->name, k, t[2] * 1e3, t[2] / t[1]);
            full_teardown(&u);
        }
        dnnl_engine_create(&e, dnnl_cpu, 0);
        ls_lstm_bf16_probe(e, LS_CELL_LSTM, s->T, s->N, s->I, s->H, 1, why, sizeof why);
        dnnl_engine_destroy(e);
        full_teardown(&f);
        full_teardown(&g);
        double gf = flops / t[1] * 1e-9;
        double bpct = bpeak > 0 ? 100 * gf / bpeak : 0;
        printf("| %s | %d | %.2f | %.2f | %.2fx | %.1f | %.0f%% | %.0f%% | %s |\n", s->name,
               k, t[0] * 1e3, t[1] * 1e3, t[0] / t[1], gf, 100 * gf / peak, bpct, why);
        if (csv)
            fprintf(csv, "%s,%d,%.4f,%.4f,%.4f,%.2f,%.1f,%.1f,%s,%d,%.1f,%.1f,%.4f\n", s->name,
                    k, t[0] * 1e3, t[1] * 1e3, t[0] / t[1], gf, peak, 100 * gf / peak, why,
                    (int)dnnl_get_effective_cpu_isa(), bpeak, bpct, t[2] * 1e3);
        fflush(stdout);
    }
}

static int bf16_main(double budget, const char *only, FILE *csv, ls_topo *topo, int maxk)
{
    int cores[2] = {0, 1};
    ls_err err = {0};
    if (csv)
        fprintf(csv, "shape,threads,f32_ms,bf16_ms,speedup,bf16_gflops,sgemm_gflops,"
                     "pct_of_peak,bf16_impl,isa,bf16_gemm_gflops,pct_of_bf16_peak,"
                     "bf16_f32_handover_ms\n");
    printf("oneDNN effective ISA %d (ONEDNN_MAX_CPU_ISA=%s)\n\n",
           (int)dnnl_get_effective_cpu_isa(),
           getenv("ONEDNN_MAX_CPU_ISA") ? getenv("ONEDNN_MAX_CPU_ISA") : "unset");
    printf("| shape | threads | f32 ms | bf16 ms | speed-up | bf16 GFLOP/s | %% of sgemm peak | "
           "%% of bf16 GEMM peak | bf16 impl |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int k = 1; k <= maxk; k++) {
        if (ls_topo_bind_team(topo, cores, k, &err))
            return fprintf(stderr, "%s\n", err.msg), 1;
        double peak = sgemm_peak(), bpeak = bf16_gemm_peak();
        bf16_rows(k, peak, bpeak, budget, only, csv);
        printf("| sgemm 2048^3 | %d | | | | %.1f | 100%% | | |\n", k, peak);
        printf("| bf16 matmul 2048^3 | %d | | | | %.1f | | 100%% | |\n", k, bpeak);
    }
    return 0;
}

/* ---- eval: inference in f32 on ldigo weights, f32 on `any`, bf16 ---- */
typedef struct evalb {
    ls_model *m;
    ls_dataset *ds;     /* the whole bitcount data set (prefix tree), or NULL */
    ls_prefix_eval *p;
    float *x, *probs;   /* one inference batch and its outputs */
    int n;
    double test, val;
} evalb;

/* N = 1: also the whole evaluation down the prefix tree (bitcount H256
 * L3's takes ~45 s a call, and its one-step layers keep ldigo weights by
 * the rule in lstm.c's fwd_weights_any, so it is left out). */
static const shape eval_panel[] = {
    {"mnist H128 L1", 28, 28, 128, 0, 1, 10},
    {"mnist H256 L3", 28, 28, 256, 0, 3, 10},
    {"bitcount H24 L1", 20, 1, 24, 1, 1, 21},
    {"bitcount H256 L3", 20, 1, 256, 0, 3, 21},
};

static void eval_step(void *ctx)
{
    evalb *e = ctx;
    ls_err err = {0};
    if (e->p ? ls_prefix_evaluate(e->p, e->m, &e->test, &e->val, &err)
             : ls_model_predict(e->m, e->x, e->n, e->probs, &err))
        fprintf(stderr, "%s\n", err.msg), exit(1);
}

/* An evaluator of shape s (n samples a batch; prefix: the prefix tree
 * over ds) in precision prec, its layers made with LSTMSWEEP_INFER_ANY =
 * any ("0" or "1"), all from the weights of seed 1. */
static void eval_setup(evalb *e, const shape *s, int n, ls_precision prec,
                       const char *any, ls_dataset *ds)
{
    ls_model_config c = {.T = s->T, .I = s->I, .H = s->H, .L = s->L, .C = s->C,
                         .batch = 100, .seed = 1, .precision = prec};
    ls_err err = {0};
    ls_rng r;
    memset(e, 0, sizeof *e);
    e->n = n, e->ds = ds;
    setenv("LSTMSWEEP_INFER_ANY", any, 1);
    if (ls_model_create(&e->m, &c, &err) ||
        (ds && ls_prefix_eval_create(&e->p, &c, ds, ls_prefix_eval_chunk(ds, &c), &err)))
        fprintf(stderr, "%s\n", err.msg), exit(1);
    ls_rng_seed(&r, 3, 0);
    e->x = randbuf((size_t)s->T * n * s->I, &r);
    e->probs = ls_alloc(sizeof(float) * (size_t)n * s->C);
    eval_step(e); /* the inference layers are made at the first call */
    unsetenv("LSTMSWEEP_INFER_ANY");
}

static void eval_teardown(evalb *e)
{
    ls_prefix_eval_destroy(e->p);
    ls_model_destroy(e->m);
    ls_free(e->x);
    ls_free(e->probs);
}

/* Largest |difference| of b's results from a's (probabilities, or the
 * prefix tree's error rates). */
static double eval_diff(const evalb *a, const evalb *b, int C)
{
    double d = 0;
    if (a->p)
        return fmax(fabs(a->test - b->test), fabs(a->val - b->val));
    for (size_t i = 0; i < (size_t)a->n * C; i++)
        d = fmax(d, fabs((double)a->probs[i] - b->probs[i]));
    return d;
}

static void eval_row(const shape *s, int k, int prefix, ls_dataset *ds,
                     double budget, FILE *csv)
{
    ls_model_config c = {.T = s->T, .I = s->I, .H = s->H, .L = s->L, .C = s->C};
    int n = prefix ? 0 : ls_train_eval_batch(&c, s->I == 1 ? 1038576 : 15000);
    evalb e[3];
    void (*fn[3])(void *) = {eval_step, eval_step, eval_step};
    void *ctx[3] = {&e[0], &e[1], &e[2]};
    double t[3];
    char name[64];
    eval_setup(&e[0], s, n, LS_PREC_F32, "0", prefix ? ds : NULL);
    eval_setup(&e[1], s, n, LS_PREC_F32, "1", prefix ? ds : NULL);
    eval_setup(&e[2], s, n, LS_PREC_BF16, "1", prefix ? ds : NULL);
    median_turns(3, fn, ctx, 3 * budget, t);
    double d1 = eval_diff(&e[0], &e[1], s->C), d2 = eval_diff(&e[0], &e[2], s->C);
    snprintf(name, sizeof name, "%s %s", s->name, prefix ? "prefix tree" : "batch");
    /* per sample: a batch is n samples, the prefix tree the whole data set */
    double per = prefix ? (double)(ds->n_test + ds->n_val) : n;
    printf("| %s | %d | %d | %.2f | %.2f | %.2f | %.2fx | %.2fx | %.1e | %.1e |\n", name, k,
           prefix ? 0 : n, t[0] * 1e3, t[1] * 1e3, t[2] * 1e3, t[0] / t[1], t[0] / t[2], d1,
           d2);
    if (csv)
        fprintf(csv, "%s,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.3g,%.3g,%.4f\n", name, k,
                prefix ? 0 : n, t[0] * 1e3, t[1] * 1e3, t[2] * 1e3, t[0] / t[1], t[0] / t[2],
                d1, d2, 1e6 * t[1] / per);
    fflush(stdout);
    for (int i = 0; i < 3; i++)
        eval_teardown(&e[i]);
}

static int eval_main(double budget, const char *only, FILE *csv, ls_topo *topo, int maxk)
{
    int cores[2] = {0, 1};
    ls_err err = {0};
    ls_dataset *ds = NULL;
    if (ls_bitcount_create(&ds, 20, 10000, 1, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    if (csv)
        fprintf(csv, "shape,threads,batch,f32_ldigo_ms,f32_any_ms,bf16_ms,any_speedup,"
                     "bf16_speedup,any_maxdiff,bf16_maxdiff,any_us_per_sample\n");
    printf("| evaluation | threads | batch | f32 ldigo (ref) ms | f32 any ms | bf16 ms | "
           "any speed-up | bf16 speed-up | any max diff | bf16 max diff |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 1; k <= maxk; k++) {
        if (ls_topo_bind_team(topo, cores, k, &err))
            return fprintf(stderr, "%s\n", err.msg), 1;
        for (size_t i = 0; i < sizeof eval_panel / sizeof *eval_panel; i++) {
            const shape *s = &eval_panel[i];
            for (int prefix = 0; prefix <= (s->N == 1); prefix++)
                if (!only || strstr(s->name, only))
                    eval_row(s, k, prefix, ds, budget, csv);
        }
    }
    ls_dataset_destroy(ds);
    return 0;
}

int main(int argc, char **argv)
{
    int quick = 0, bf16 = 0, eval = 0;
    const char *out = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--bf16"))
            bf16 = 1;
        else if (!strcmp(argv[i], "--eval"))
            eval = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (argv[i][0] == '-' || out)
            return fprintf(stderr, "usage: bench_step [--quick] [--bf16 | --eval] "
                                   "[--only SUBSTR] [OUT.csv]\n"),
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
    if (bf16 || eval) {
        int rc = bf16 ? bf16_main(budget, only, csv, topo, maxk)
                      : eval_main(budget, only, csv, topo, maxk);
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
