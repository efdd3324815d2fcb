/* lstm.c - one recurrent layer on oneDNN 2.6's lstm, gru, lbr_gru or
 * vanilla_rnn primitive (op-descriptor C API).  See include/lstmsweep/lstm.h
 * for the contract.  The cells differ only in their descriptors
 * (fwd_desc_init, bwd_desc_init), their gate counts (the weight and bias
 * shapes) and whether there is a cell state c (memories for it exist for
 * the LSTM alone); everything below holds for each.
 *
 * Layout decisions, measured on Debian's oneDNN 2.6.3:
 *  - f32 forward_training accepts the plain ldigo weights the model keeps,
 *    so it binds the user's weights directly;
 *  - backward rejects ldigo weights, so it is created with `any` weights and
 *    `any` weight gradients, and two small reorders per step translate
 *    between oneDNN's chosen layouts and the user's ldigo;
 *  - scratchpad is user-managed: one buffer per layer, or one shared by
 *    the layers of a model (ls_lstm_scratch), allocated at creation, so a
 *    step allocates nothing and the memory is visible to the scheduler;
 *  - the hidden size is padded to the vector width of oneDNN's element-wise
 *    LSTM kernel (see ls_lstm_padded_hidden): oneDNN 2.6's
 *    jit_uni_lstm_cell_postgemm handles the dhc % 16 tail one scalar at a
 *    time, which made H=24 slower than H=32 (profiled: 68% of a bitcount
 *    run in that kernel).  The padded units have zero weights and bias, so
 *    their c and h are exactly 0, every gradient that touches them is
 *    exactly 0, and the logical layer computes the same function; the
 *    copies between the logical and padded tensors are O(T*N*H) per call;
 *  - bf16 (mixed precision, lstm.h): forward and backward both take bf16
 *    weights in format `any` (plain bf16 weights put the forward on the
 *    reference path), in different layouts, so each step reorders the f32
 *    master weights twice; src and dst live in bf16 tensors the layer
 *    owns, converted from and to the caller's f32 by the loops below
 *    (rows_to_bf16, rows_from_bf16), which also pad and unpad H; all
 *    diff tensors stay f32, as oneDNN 2.6.3 requires;
 *  - f32 inference takes `any` weights too where that measured faster
 *    (fwd_weights_any): forward_inference then runs brgemm, on weights
 *    reordered at each call (a call never trusts weights it saw before).
 */
#include "lstmsweep/lstm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>

#include "lstmsweep/alloc.h"

#define MAX_OWN 32

struct ls_lstm {
    ls_cell cell;
    ls_precision prec; /* LS_PREC_F32 or LS_PREC_BF16 (never auto) */
    int G, Gb; /* gates of the weights and of the bias (cell.h) */
    int trap;  /* LSTMSWEEP_IMPLICIT_STATES: initial states left NULL */
    int T, N, I, H, training;
    int Hp; /* hidden size of the primitives: H, or H padded (> H) */
    int last_only; /* ls_lstm_set_last_step_only */
    int fwd_any;   /* forward reads weights in its own layouts (fw_*) */
    int dst_unread; /* ls_lstm_set_dst_unread: f32 dst not written */
    void *src_own; /* bf16: the layer's own bf16 src buffer */
    dnnl_engine_t engine;
    dnnl_primitive_t fwd, bwd;
    dnnl_primitive_t reo_wl, reo_wi;     /* user ldigo -> bwd weights layout */
    dnnl_primitive_t reo_dwl, reo_dwi;   /* bwd grad layout -> user ldigo */
    dnnl_primitive_t reo_fwl, reo_fwi;   /* fwd_any: user ldigo -> fwd layout */
    /* memories bound to caller buffers at each call */
    dnnl_memory_t src, w_layer, w_iter, bias, dst;
    dnnl_memory_t diff_src, diff_dst, g_w_layer, g_w_iter, g_bias;
    /* memories on buffers the layer owns */
    dnnl_memory_t zero_iter, zero_iter_c, dst_iter, dst_iter_c;
    dnnl_memory_t diff_src_iter, diff_src_iter_c, zero_diff_iter, zero_diff_iter_c;
    dnnl_memory_t workspace, scratchpad;
    ls_lstm_scratch *shared; /* scratchpad buffer if shared, else NULL */
    dnnl_memory_t bw_layer, bw_iter, bdw_layer, bdw_iter; /* bwd layouts */
    dnnl_memory_t fw_layer, fw_iter; /* fwd_any: the forward's weight layouts */
    /* Hp > H only: padded copies of the caller's tensors (pads stay 0) */
    float *pw_layer, *pw_iter, *pbias, *pdst, *pdiff_dst;
    float *pg_w_layer, *pg_w_iter, *pg_bias;
    void *own[MAX_OWN];
    int nown;
};

/* Turn a failed dnnl_* call into LS_EDNNL with oneDNN's status text and jump
 * to the function's cleanup label. */
#define DNNL_TRY(call)                                                      \
    do {                                                                    \
        dnnl_status_t st_ = (call);                                         \
        if (st_ != dnnl_success) {                                          \
            rc = ls_err_set(err, LS_EDNNL, "oneDNN: %s failed: %s",         \
                            #call, dnnl_status2str(st_));                   \
            goto out;                                                       \
        }                                                                   \
    } while (0)

static void md_init(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims,
                    dnnl_data_type_t dt, dnnl_format_tag_t tag)
{
    /* Cannot fail for the valid static shapes used here (checked by
     * ls_lstm_create's argument checks). */
    dnnl_memory_desc_init_by_tag(md, ndims, dims, dt, tag);
}

/* Memory for `md` on a zeroed buffer owned by the layer. */
static int mem_own(ls_lstm *l, dnnl_memory_t *m, const dnnl_memory_desc_t *md,
                   ls_err *err)
{
    size_t bytes = dnnl_memory_desc_get_size(md);
    void *buf;
    dnnl_status_t st;

    if (l->nown == MAX_OWN)
        return ls_err_set(err, LS_EINVAL, "lstm: too many buffers");
    buf = ls_alloc(bytes);
    if (!buf)
        return ls_err_set(err, LS_ENOMEM, "lstm: cannot allocate %zu bytes",
                          bytes);
    l->own[l->nown++] = buf;
    st = dnnl_memory_create(m, md, l->engine, buf);
    if (st != dnnl_success)
        return ls_err_set(err, LS_EDNNL, "oneDNN: dnnl_memory_create: %s",
                          dnnl_status2str(st));
    return 0;
}

/* A zeroed float buffer of `count` elements owned by the layer. */
static int buf_own(ls_lstm *l, float **out, size_t count, ls_err *err)
{
    size_t bytes = count * sizeof(float);

    if (l->nown == MAX_OWN)
        return ls_err_set(err, LS_EINVAL, "lstm: too many buffers");
    *out = ls_alloc(bytes);
    if (!*out)
        return ls_err_set(err, LS_ENOMEM, "lstm: cannot allocate %zu bytes",
                          bytes);
    l->own[l->nown++] = *out;
    return 0;
}

/* Floats of the padded copies a layer of this shape holds (0 if Hp == H);
 * the one formula both the allocation and the estimate use.  A bf16 layer
 * has no padded f32 dst: its own bf16 dst is the padded one. */
static size_t pad_floats(ls_cell cell, ls_precision prec, int T, int N, int I,
                         int H, int Hp, int training)
{
    size_t G = (size_t)ls_cell_gates(cell), Gb = (size_t)ls_cell_bias_gates(cell);
    if (Hp == H)
        return 0;
    size_t w = (size_t)I * G * Hp + (size_t)Hp * G * Hp + Gb * (size_t)Hp;
    size_t seq = (size_t)T * N * Hp, dst = prec == LS_PREC_BF16 ? 0 : seq;
    return training ? 2 * w + seq + dst : w + dst;
}

static int create_padded(ls_lstm *l, ls_err *err)
{
    size_t T = l->T, N = l->N, I = l->I, Hp = l->Hp, G = l->G, Gb = l->Gb;
    int rc;

    if (l->Hp == l->H)
        return 0;
    if ((rc = buf_own(l, &l->pw_layer, I * G * Hp, err)) ||
        (rc = buf_own(l, &l->pw_iter, Hp * G * Hp, err)) ||
        (rc = buf_own(l, &l->pbias, Gb * Hp, err)) ||
        (l->prec != LS_PREC_BF16 && (rc = buf_own(l, &l->pdst, T * N * Hp, err))))
        return rc;
    if (l->training &&
        ((rc = buf_own(l, &l->pg_w_layer, I * G * Hp, err)) ||
         (rc = buf_own(l, &l->pg_w_iter, Hp * G * Hp, err)) ||
         (rc = buf_own(l, &l->pg_bias, Gb * Hp, err)) ||
         (rc = buf_own(l, &l->pdiff_dst, T * N * Hp, err))))
        return rc;
    return 0;
}

/* Copy `rows` rows of `n` floats between tensors whose rows are `from_ld`
 * and `to_ld` floats apart: the one loop behind every pad and unpad. */
#if defined(__GNUC__) && !defined(__clang__)
/* Without this, GCC turns the inner loop back into a memcpy call. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void copy_rows(float *restrict to, size_t to_ld,
                      const float *restrict from, size_t from_ld, size_t rows,
                      size_t n)
{
    /* Rows are short (H floats): an inlined vector loop, not a memcpy call
     * per row (measured: the calls cost 7% of a bitcount H24 run, most of
     * it in evaluation). */
    /* Large copies (a whole sequence) are split over the job's team, which
     * oneDNN's kernels around them use as well. */
#pragma omp parallel for schedule(static) if (rows * n >= 65536)
    for (size_t r = 0; r < rows; r++) {
        float *restrict t = to + r * to_ld;
        const float *restrict f = from + r * from_ld;
#pragma omp simd
        for (size_t k = 0; k < n; k++)
            t[k] = f[k];
    }
}

/* f32 -> bf16, rounded to nearest even (as oneDNN's own reorders do); a
 * NaN stays a NaN (the rounding would carry it into an infinity), so a
 * diverging job is still seen to diverge. */
static inline uint16_t bf16_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    return (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40u)
                                           : (uint16_t)r;
}

static inline float f32_of(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* copy_rows into a bf16 tensor, and out of one (the same row rules). */
static void rows_to_bf16(uint16_t *restrict to, size_t to_ld,
                         const float *restrict from, size_t from_ld,
                         size_t rows, size_t n)
{
#pragma omp parallel for schedule(static) if (rows * n >= 65536)
    for (size_t r = 0; r < rows; r++) {
#pragma omp simd
        for (size_t k = 0; k < n; k++)
            to[r * to_ld + k] = bf16_of(from[r * from_ld + k]);
    }
}

static void rows_from_bf16(float *restrict to, size_t to_ld,
                           const uint16_t *restrict from, size_t from_ld,
                           size_t rows, size_t n)
{
#pragma omp parallel for schedule(static) if (rows * n >= 65536)
    for (size_t r = 0; r < rows; r++) {
#pragma omp simd
        for (size_t k = 0; k < n; k++)
            to[r * to_ld + k] = f32_of(from[r * from_ld + k]);
    }
}

/* Logical (I,4,H) (H,4,H) (4,H) weights into the padded copies: row by
 * (input, gate); the padded rows and columns are never written. */
static void pack_weights(ls_lstm *l, const float *w_layer, const float *w_iter,
                         const float *bias)
{
    size_t H = l->H, Hp = l->Hp, G = l->G;
    copy_rows(l->pw_layer, Hp, w_layer, H, (size_t)l->I * G, H);
    copy_rows(l->pw_iter, Hp, w_iter, H, H * G, H);
    copy_rows(l->pbias, Hp, bias, H, (size_t)l->Gb, H);
}

int ls_lstm_padded_hidden(int H)
{
    int isa = (int)dnnl_get_effective_cpu_isa();
    /* oneDNN 2.6 picks the element-wise kernel for avx512_core, else avx2,
     * else sse4.1: 16, 8 or 4 floats a vector. */
    int v = (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core ? 16
          : (isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2               ? 8
                                                                          : 4;
    const char *env = getenv("LSTMSWEEP_PAD");

    if (env && strcmp(env, "0") == 0)
        return H;
    return (H + v - 1) / v * v;
}

static void *handle_of(dnnl_memory_t m)
{
    void *p = NULL;
    dnnl_memory_get_data_handle(m, &p);
    return p;
}

/* Memory for `md` whose buffer the caller binds at each execution. */
static int mem_user(ls_lstm *l, dnnl_memory_t *m, const dnnl_memory_desc_t *md,
                    ls_err *err)
{
    dnnl_status_t st = dnnl_memory_create(m, md, l->engine, DNNL_MEMORY_NONE);
    if (st != dnnl_success)
        return ls_err_set(err, LS_EDNNL, "oneDNN: dnnl_memory_create: %s",
                          dnnl_status2str(st));
    return 0;
}

static int reorder_new(dnnl_primitive_t *p, dnnl_engine_t e,
                       const dnnl_memory_desc_t *from,
                       const dnnl_memory_desc_t *to, ls_err *err)
{
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, from, e, to, e,
                                                          NULL);
    if (st == dnnl_success)
        st = dnnl_primitive_create(p, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success)
        return ls_err_set(err, LS_EDNNL, "oneDNN: reorder: %s",
                          dnnl_status2str(st));
    return 0;
}

static int exec_reorder(dnnl_primitive_t p, dnnl_stream_t s,
                        dnnl_memory_t from, dnnl_memory_t to, ls_err *err)
{
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    dnnl_status_t st = dnnl_primitive_execute(p, s, 2, args);
    if (st != dnnl_success)
        return ls_err_set(err, LS_EDNNL, "oneDNN: reorder execute: %s",
                          dnnl_status2str(st));
    return 0;
}

/* The descriptors shared by the forward and backward primitives.  In f32
 * every tensor is f32.  In bf16 (the mixed-precision path oneDNN 2.6.3
 * runs on brgemm), src, dst, the hidden states h and the weights the
 * primitives read are bf16; the cell state c and the bias stay f32, and
 * so does every diff tensor, which oneDNN 2.6.3 requires ("We require
 * diffs to be f32, even for bf16", src/common/rnn.cpp).  The caller's
 * weights (master copies) are f32 ldigo either way. */
struct lstm_mds {
    int bf16;
    int fwd_any; /* the forward's weights in `any` (fwd_weights_any) */
    dnnl_memory_desc_t src, iter, iter_c, w_layer, w_iter, bias, dst;
    dnnl_memory_desc_t w_layer_any, w_iter_any;   /* the primitives' weights */
    dnnl_memory_desc_t diff_src, diff_dst, diff_iter;
    dnnl_memory_desc_t dw_layer_any, dw_iter_any; /* weight gradients, f32 */
};

/* Whether a forward primitive takes its weights in format `any`, in
 * layouts of its own that the master weights are reordered into at each
 * call, instead of the caller's ldigo: always in bf16 (with plain bf16
 * weights oneDNN 2.6.3 falls back to its reference path); never for f32
 * forward_training (no brgemm in 2.6.3); for f32 inference, where `any`
 * puts forward_inference on brgemm instead of the reference RNN, where
 * that measured faster (bench_step --eval, README "Evaluation", 1 and 2
 * threads): one-step layers of H24 (the prefix tree) 1.04-1.25x, whole
 * sequences of H256 1.02-1.09x; but one-step layers of H256 0.75-0.83x,
 * sequences of H128 0.96-1.01x and of H24 0.90-0.99x.  Only the LSTM
 * and the tanh RNN: oneDNN 2.6.3 has no brgemm for the GRUs, whose `any`
 * would be the reference RNN behind a useless reorder.
 * LSTMSWEEP_INFER_ANY=1 / =0 in the environment at creation forces `any`
 * / ldigo for f32 inference (tests and that benchmark). */
static int fwd_weights_any(ls_cell cell, ls_precision prec, int training,
                           int T, int H)
{
    const char *env = getenv("LSTMSWEEP_INFER_ANY");
    if (prec == LS_PREC_BF16)
        return 1;
    if (training || (cell != LS_CELL_LSTM && cell != LS_CELL_RNN))
        return 0;
    if (env && (!strcmp(env, "0") || !strcmp(env, "1")))
        return env[0] == '1';
    return T == 1 ? H < 128 : H >= 256;
}

static void lstm_mds_init(struct lstm_mds *d, ls_cell cell, ls_precision prec,
                          int T, int N, int I, int H, int training)
{
    int G = ls_cell_gates(cell), Gb = ls_cell_bias_gates(cell);
    dnnl_dims_t src = {T, N, I}, dst = {T, N, H}, iter = {1, 1, N, H};
    dnnl_dims_t wl = {1, 1, I, G, H}, wi = {1, 1, H, G, H}, b = {1, 1, Gb, H};
    dnnl_data_type_t f32 = dnnl_f32, dt = prec == LS_PREC_BF16 ? dnnl_bf16 : f32;

    d->bf16 = prec == LS_PREC_BF16;
    d->fwd_any = fwd_weights_any(cell, prec, training, T, H);
    md_init(&d->src, 3, src, dt, dnnl_tnc);
    md_init(&d->dst, 3, dst, dt, dnnl_tnc);
    md_init(&d->iter, 4, iter, dt, dnnl_ldnc);
    md_init(&d->iter_c, 4, iter, f32, dnnl_ldnc);
    md_init(&d->w_layer, 5, wl, f32, dnnl_ldigo);
    md_init(&d->w_iter, 5, wi, f32, dnnl_ldigo);
    md_init(&d->bias, 4, b, f32, dnnl_ldgo);
    md_init(&d->w_layer_any, 5, wl, dt, dnnl_format_tag_any);
    md_init(&d->w_iter_any, 5, wi, dt, dnnl_format_tag_any);
    md_init(&d->diff_src, 3, src, f32, dnnl_tnc);
    md_init(&d->diff_dst, 3, dst, f32, dnnl_tnc);
    md_init(&d->diff_iter, 4, iter, f32, dnnl_ldnc);
    md_init(&d->dw_layer_any, 5, wl, f32, dnnl_format_tag_any);
    md_init(&d->dw_iter_any, 5, wi, f32, dnnl_format_tag_any);
}

/* The forward descriptor of `cell`.  With trap set, the initial states
 * are left implicit (NULL): oneDNN's own zero state, which gives wrong
 * LSTM gradients in 2.6.3; only tests ask for it.  f32 forward reads the
 * caller's ldigo weights; bf16 forward needs `any` (with plain bf16
 * weights oneDNN 2.6.3 falls back to its reference path). */
static dnnl_status_t fwd_desc_init(dnnl_rnn_desc_t *desc, ls_cell cell,
                                   dnnl_prop_kind_t prop,
                                   const struct lstm_mds *d, int trap)
{
    const dnnl_memory_desc_t *s0 = trap ? NULL : &d->iter;
    const dnnl_memory_desc_t *c0 = trap ? NULL : &d->iter_c;
    const dnnl_memory_desc_t *wl = d->fwd_any ? &d->w_layer_any : &d->w_layer;
    const dnnl_memory_desc_t *wi = d->fwd_any ? &d->w_iter_any : &d->w_iter;
    dnnl_rnn_direction_t dir = dnnl_unidirectional_left2right;

    switch (cell) {
    case LS_CELL_LSTM:
        return dnnl_lstm_forward_desc_init(desc, prop, dir, &d->src, s0, c0,
            wl, wi, &d->bias, &d->dst, &d->iter, &d->iter_c, 0);
    case LS_CELL_GRU:
        return dnnl_gru_forward_desc_init(desc, prop, dir, &d->src, s0,
            wl, wi, &d->bias, &d->dst, &d->iter, 0);
    case LS_CELL_LBR_GRU:
        return dnnl_lbr_gru_forward_desc_init(desc, prop, dir, &d->src, s0,
            wl, wi, &d->bias, &d->dst, &d->iter, 0);
    case LS_CELL_RNN:
        return dnnl_vanilla_rnn_forward_desc_init(desc, prop, dnnl_eltwise_tanh,
            dir, &d->src, s0, wl, wi, &d->bias, &d->dst, &d->iter, 0, 0.0f,
            0.0f);
    }
    return dnnl_invalid_arguments;
}

/* The backward descriptor of `cell`, with `any` weights and weight
 * gradients; trap as in fwd_desc_init (diff_src_iter NULL as well). */
static dnnl_status_t bwd_desc_init(dnnl_rnn_desc_t *desc, ls_cell cell,
                                   const struct lstm_mds *d, int trap)
{
    const dnnl_memory_desc_t *s0 = trap ? NULL : &d->iter;
    const dnnl_memory_desc_t *c0 = trap ? NULL : &d->iter_c;
    const dnnl_memory_desc_t *ds0 = trap ? NULL : &d->diff_iter;
    const dnnl_memory_desc_t *wl = &d->w_layer_any, *wi = &d->w_iter_any;
    const dnnl_memory_desc_t *dwl = &d->dw_layer_any, *dwi = &d->dw_iter_any;
    const dnnl_memory_desc_t *di = &d->diff_iter;
    dnnl_rnn_direction_t dir = dnnl_unidirectional_left2right;

    switch (cell) {
    case LS_CELL_LSTM:
        return dnnl_lstm_backward_desc_init(desc, dnnl_backward, dir, &d->src,
            s0, c0, wl, wi, &d->bias, &d->dst, &d->iter, &d->iter_c,
            &d->diff_src, ds0, ds0, dwl, dwi, &d->bias, &d->diff_dst, di, di, 0);
    case LS_CELL_GRU:
        return dnnl_gru_backward_desc_init(desc, dnnl_backward, dir, &d->src,
            s0, wl, wi, &d->bias, &d->dst, &d->iter, &d->diff_src, ds0, dwl,
            dwi, &d->bias, &d->diff_dst, di, 0);
    case LS_CELL_LBR_GRU:
        return dnnl_lbr_gru_backward_desc_init(desc, dnnl_backward, dir,
            &d->src, s0, wl, wi, &d->bias, &d->dst, &d->iter, &d->diff_src,
            ds0, dwl, dwi, &d->bias, &d->diff_dst, di, 0);
    case LS_CELL_RNN:
        return dnnl_vanilla_rnn_backward_desc_init(desc, dnnl_backward,
            dnnl_eltwise_tanh, dir, &d->src, s0, wl, wi, &d->bias, &d->dst,
            &d->iter, &d->diff_src, ds0, dwl, dwi, &d->bias, &d->diff_dst, di,
            0, 0.0f, 0.0f);
    }
    return dnnl_invalid_arguments;
}

/* fwd_any: the forward's own weight layouts, and the reorders that fill
 * them from the caller's f32 ldigo master weights at each call. */
static int create_fwd_weights(ls_lstm *l, const struct lstm_mds *d,
                              dnnl_primitive_desc_t fwd_pd, ls_err *err)
{
    const dnnl_memory_desc_t *md;
    int rc;

    md = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0);
    if ((rc = mem_own(l, &l->fw_layer, md, err)) ||
        (rc = reorder_new(&l->reo_fwl, l->engine, &d->w_layer, md, err)))
        return rc;
    md = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 1);
    if ((rc = mem_own(l, &l->fw_iter, md, err)) ||
        (rc = reorder_new(&l->reo_fwi, l->engine, &d->w_iter, md, err)))
        return rc;
    return 0;
}

/* Forward primitive and every memory it uses. */
static int create_forward(ls_lstm *l, const struct lstm_mds *d,
                          dnnl_primitive_attr_t attr,
                          dnnl_primitive_desc_t *fwd_pd, ls_err *err)
{
    dnnl_rnn_desc_t desc;
    int rc = 0;
    dnnl_prop_kind_t prop = l->training ? dnnl_forward_training
                                        : dnnl_forward_inference;

    DNNL_TRY(fwd_desc_init(&desc, l->cell, prop, d, l->trap));
    DNNL_TRY(dnnl_primitive_desc_create(fwd_pd, &desc, attr, l->engine, NULL));
    DNNL_TRY(dnnl_primitive_create(&l->fwd, *fwd_pd));
    /* f32 binds the caller's src and dst; bf16 converts them into and out
     * of tensors of its own, which backward reads again. */
    rc = d->bf16 ? mem_own(l, &l->src, &d->src, err) : mem_user(l, &l->src, &d->src, err);
    if (rc || (rc = d->bf16 ? mem_own(l, &l->dst, &d->dst, err)
                            : mem_user(l, &l->dst, &d->dst, err)))
        goto out;
    if ((rc = mem_user(l, &l->w_layer, &d->w_layer, err)) ||
        (rc = mem_user(l, &l->w_iter, &d->w_iter, err)) ||
        (rc = mem_user(l, &l->bias, &d->bias, err)) ||
        (rc = mem_own(l, &l->zero_iter, &d->iter, err)) ||
        (rc = mem_own(l, &l->dst_iter, &d->iter, err)) ||
        (ls_cell_has_c(l->cell) &&
         ((rc = mem_own(l, &l->zero_iter_c, &d->iter_c, err)) ||
          (rc = mem_own(l, &l->dst_iter_c, &d->iter_c, err)))))
        goto out;
    if (d->fwd_any && (rc = create_fwd_weights(l, d, *fwd_pd, err)))
        goto out;
    if (d->bf16)
        l->src_own = handle_of(l->src);
    if (l->training) {
        const dnnl_memory_desc_t *ws =
            dnnl_primitive_desc_query_md(*fwd_pd, dnnl_query_workspace_md, 0);
        rc = mem_own(l, &l->workspace, ws, err);
    }
out:
    return rc;
}

/* Backward primitive, its weight layouts and the reorders to and from the
 * user's ldigo. */
static int create_backward(ls_lstm *l, const struct lstm_mds *d,
                           dnnl_primitive_attr_t attr,
                           dnnl_primitive_desc_t fwd_pd,
                           dnnl_primitive_desc_t *bwd_pd, ls_err *err)
{
    dnnl_rnn_desc_t desc;
    const dnnl_memory_desc_t *md;
    int rc = 0;

    DNNL_TRY(bwd_desc_init(&desc, l->cell, d, l->trap));
    DNNL_TRY(dnnl_primitive_desc_create(bwd_pd, &desc, attr, l->engine, fwd_pd));
    DNNL_TRY(dnnl_primitive_create(&l->bwd, *bwd_pd));

    md = dnnl_primitive_desc_query_md(*bwd_pd, dnnl_query_weights_md, 0);
    if ((rc = mem_own(l, &l->bw_layer, md, err)) ||
        (rc = reorder_new(&l->reo_wl, l->engine, &d->w_layer, md, err)))
        goto out;
    md = dnnl_primitive_desc_query_md(*bwd_pd, dnnl_query_weights_md, 1);
    if ((rc = mem_own(l, &l->bw_iter, md, err)) ||
        (rc = reorder_new(&l->reo_wi, l->engine, &d->w_iter, md, err)))
        goto out;
    md = dnnl_primitive_desc_query_md(*bwd_pd, dnnl_query_diff_weights_md, 0);
    if ((rc = mem_own(l, &l->bdw_layer, md, err)) ||
        (rc = reorder_new(&l->reo_dwl, l->engine, md, &d->w_layer, err)))
        goto out;
    md = dnnl_primitive_desc_query_md(*bwd_pd, dnnl_query_diff_weights_md, 1);
    if ((rc = mem_own(l, &l->bdw_iter, md, err)) ||
        (rc = reorder_new(&l->reo_dwi, l->engine, md, &d->w_iter, err)))
        goto out;
    if ((rc = mem_user(l, &l->diff_src, &d->diff_src, err)) ||
        (rc = mem_user(l, &l->diff_dst, &d->diff_dst, err)) ||
        (rc = mem_user(l, &l->g_w_layer, &d->w_layer, err)) ||
        (rc = mem_user(l, &l->g_w_iter, &d->w_iter, err)) ||
        (rc = mem_user(l, &l->g_bias, &d->bias, err)) ||
        (rc = mem_own(l, &l->diff_src_iter, &d->diff_iter, err)) ||
        (rc = mem_own(l, &l->zero_diff_iter, &d->diff_iter, err)) ||
        (ls_cell_has_c(l->cell) &&
         ((rc = mem_own(l, &l->diff_src_iter_c, &d->diff_iter, err)) ||
          (rc = mem_own(l, &l->zero_diff_iter_c, &d->diff_iter, err)))))
        goto out;
out:
    return rc;
}

/* One scratchpad buffer, as large as the larger of the two primitives
 * needs; they never run at the same time. */
static int create_scratchpad(ls_lstm *l, dnnl_primitive_desc_t fwd_pd,
                             dnnl_primitive_desc_t bwd_pd, ls_err *err)
{
    const dnnl_memory_desc_t *f =
        dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_scratchpad_md, 0);
    const dnnl_memory_desc_t *b =
        bwd_pd ? dnnl_primitive_desc_query_md(bwd_pd, dnnl_query_scratchpad_md, 0)
               : NULL;
    const dnnl_memory_desc_t *big = f;

    if (b && dnnl_memory_desc_get_size(b) > dnnl_memory_desc_get_size(f))
        big = b;
    if (!l->shared)
        return mem_own(l, &l->scratchpad, big, err);
    size_t need = dnnl_memory_desc_get_size(big);
    if (need > l->shared->bytes) {
        /* Nothing executes during creation, so the old buffer can go
         * before the new one is allocated (less peak memory). */
        ls_lstm_scratch_release(l->shared);
        if (!(l->shared->buf = ls_alloc(need)))
            return ls_err_set(err, LS_ENOMEM,
                              "lstm: cannot allocate a %zu-byte scratchpad", need);
        l->shared->bytes = need;
    }
    return mem_user(l, &l->scratchpad, big, err);
}

void ls_lstm_scratch_release(ls_lstm_scratch *scratch)
{
    ls_free(scratch->buf);
    scratch->buf = NULL;
    scratch->bytes = 0;
}

int ls_lstm_create(ls_lstm **out, dnnl_engine_t engine, int T, int N, int I,
                   int H, int training, ls_err *err)
{
    return ls_lstm_create_cell(out, engine, LS_CELL_LSTM, T, N, I, H, 0,
                               training, NULL, err);
}

int ls_lstm_create_padded(ls_lstm **out, dnnl_engine_t engine, int T, int N,
                          int I, int H, int Hp, int training, ls_err *err)
{
    return ls_lstm_create_cell(out, engine, LS_CELL_LSTM, T, N, I, H, Hp,
                               training, NULL, err);
}

int ls_lstm_create_shared(ls_lstm **out, dnnl_engine_t engine, int T, int N,
                          int I, int H, int training, ls_lstm_scratch *scratch,
                          ls_err *err)
{
    return ls_lstm_create_cell(out, engine, LS_CELL_LSTM, T, N, I, H, 0,
                               training, scratch, err);
}

/* LSTMSWEEP_IMPLICIT_STATES=1 reproduces oneDNN's implicit-initial-state
 * trap (tests only: check_model measures which cells it hits). */
static int trap_requested(void)
{
    const char *env = getenv("LSTMSWEEP_IMPLICIT_STATES");
    return env && strcmp(env, "1") == 0;
}

int ls_lstm_create_cell(ls_lstm **out, dnnl_engine_t engine, ls_cell cell,
                        int T, int N, int I, int H, int Hp, int training,
                        ls_lstm_scratch *shared, ls_err *err)
{
    return ls_lstm_create_prec(out, engine, cell, LS_PREC_F32, T, N, I, H, Hp,
                               training, shared, err);
}

int ls_lstm_create_prec(ls_lstm **out, dnnl_engine_t engine, ls_cell cell,
                        ls_precision prec, int T, int N, int I, int H, int Hp,
                        int training, ls_lstm_scratch *shared, ls_err *err)
{
    struct lstm_mds d;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fwd_pd = NULL, bwd_pd = NULL;
    ls_lstm *l;
    int rc = 0;

    *out = NULL;
    if (Hp == 0)
        Hp = ls_lstm_padded_hidden(H);
    if (T < 1 || N < 1 || I < 1 || H < 1 || Hp < H || !ls_cell_gates(cell) ||
        (prec != LS_PREC_F32 && prec != LS_PREC_BF16))
        return ls_err_set(err, LS_EINVAL,
                          "lstm: bad shape T=%d N=%d I=%d H=%d (padded %d) cell %d "
                          "precision %d", T, N, I, H, Hp, (int)cell, (int)prec);
    l = ls_alloc(sizeof *l);
    if (!l)
        return ls_err_set(err, LS_ENOMEM, "lstm: out of memory");
    l->cell = cell;
    l->prec = prec;
    l->G = ls_cell_gates(cell), l->Gb = ls_cell_bias_gates(cell);
    l->trap = trap_requested();
    l->T = T, l->N = N, l->I = I, l->H = H, l->Hp = Hp, l->training = training;
    l->engine = engine;
    l->shared = shared;
    lstm_mds_init(&d, cell, prec, T, N, I, Hp, training);
    l->fwd_any = d.fwd_any;

    DNNL_TRY(dnnl_primitive_attr_create(&attr));
    DNNL_TRY(dnnl_primitive_attr_set_scratchpad_mode(attr,
                                                     dnnl_scratchpad_mode_user));
    if ((rc = create_forward(l, &d, attr, &fwd_pd, err)))
        goto out;
    if (training && (rc = create_backward(l, &d, attr, fwd_pd, &bwd_pd, err)))
        goto out;
    if ((rc = create_scratchpad(l, fwd_pd, bwd_pd, err)))
        goto out;
    rc = create_padded(l, err);
out:
    dnnl_primitive_desc_destroy(bwd_pd);
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_attr_destroy(attr);
    if (rc) {
        ls_lstm_destroy(l);
        return rc;
    }
    *out = l;
    return 0;
}

/* Sum of the sizes of a pd's queried memory, index `idx` of `what`. */
static size_t pd_bytes(dnnl_primitive_desc_t pd, dnnl_query_t what, int idx)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, idx);
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

/* Bytes of the primitives' own buffers at hidden size H (no padding); the
 * scratchpad goes to *scratch_out if that is non-NULL, else into the sum. */
static size_t estimate_primitives(dnnl_engine_t engine, ls_cell cell,
                                  ls_precision prec, int T, int N, int I,
                                  int H, int training, size_t *scratch_out)
{
    struct lstm_mds d;
    dnnl_rnn_desc_t fdesc, bdesc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    size_t bytes = 0, scratch = 0, iter, diter;
    int trap = trap_requested(), has_c = ls_cell_has_c(cell);

    lstm_mds_init(&d, cell, prec, T, N, I, H, training);
    /* the zero and final states: h, and c for the LSTM; their diffs */
    iter = dnnl_memory_desc_get_size(&d.iter) +
           (has_c ? dnnl_memory_desc_get_size(&d.iter_c) : 0);
    diter = dnnl_memory_desc_get_size(&d.diff_iter) * (has_c ? 2 : 1);
    if (dnnl_primitive_attr_create(&attr) != dnnl_success)
        return 0;
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (fwd_desc_init(&fdesc, cell,
                      training ? dnnl_forward_training : dnnl_forward_inference,
                      &d, trap) != dnnl_success ||
        dnnl_primitive_desc_create(&fpd, &fdesc, attr, engine, NULL) != dnnl_success)
        goto out;
    bytes = 2 * iter + pd_bytes(fpd, dnnl_query_workspace_md, 0);
    if (d.bf16) /* its own src and dst */
        bytes += dnnl_memory_desc_get_size(&d.src) +
                 dnnl_memory_desc_get_size(&d.dst);
    if (d.fwd_any) /* the forward's weights */
        bytes += pd_bytes(fpd, dnnl_query_weights_md, 0) +
                 pd_bytes(fpd, dnnl_query_weights_md, 1);
    scratch = pd_bytes(fpd, dnnl_query_scratchpad_md, 0);
    if (training) {
        if (bwd_desc_init(&bdesc, cell, &d, trap) != dnnl_success ||
            dnnl_primitive_desc_create(&bpd, &bdesc, attr, engine, fpd) != dnnl_success) {
            bytes = 0;
            goto out;
        }
        bytes += 2 * diter + pd_bytes(bpd, dnnl_query_weights_md, 0) +
                 pd_bytes(bpd, dnnl_query_weights_md, 1) +
                 pd_bytes(bpd, dnnl_query_diff_weights_md, 0) +
                 pd_bytes(bpd, dnnl_query_diff_weights_md, 1);
        size_t bs = pd_bytes(bpd, dnnl_query_scratchpad_md, 0);
        scratch = bs > scratch ? bs : scratch;
    }
    if (scratch_out)
        *scratch_out = scratch;
    else
        bytes += scratch;
out:
    dnnl_primitive_desc_destroy(bpd);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_attr_destroy(attr);
    return bytes;
}

size_t ls_lstm_estimate_bytes_cell(dnnl_engine_t engine, ls_cell cell, int T,
                                   int N, int I, int H, int training,
                                   size_t *scratch)
{
    return ls_lstm_estimate_bytes_prec(engine, cell, LS_PREC_F32, T, N, I, H,
                                       training, scratch);
}

size_t ls_lstm_estimate_bytes_prec(dnnl_engine_t engine, ls_cell cell,
                                   ls_precision prec, int T, int N, int I,
                                   int H, int training, size_t *scratch)
{
    int Hp = ls_lstm_padded_hidden(H);
    size_t padded = sizeof(float) * pad_floats(cell, prec, T, N, I, H, Hp, training);
    size_t bytes = !ls_cell_gates(cell) || (prec != LS_PREC_F32 && prec != LS_PREC_BF16)
                 ? 0
                 : estimate_primitives(engine, cell, prec, T, N, I, Hp, training, scratch);

    return bytes ? sizeof(ls_lstm) + bytes + padded : 0;
}

size_t ls_lstm_estimate_bytes(dnnl_engine_t engine, int T, int N, int I,
                              int H, int training, size_t *scratch)
{
    return ls_lstm_estimate_bytes_cell(engine, LS_CELL_LSTM, T, N, I, H,
                                       training, scratch);
}

void ls_lstm_destroy(ls_lstm *l)
{
    if (!l)
        return;
    dnnl_primitive_t prims[] = {l->fwd, l->bwd, l->reo_wl, l->reo_wi,
                                l->reo_dwl, l->reo_dwi, l->reo_fwl, l->reo_fwi};
    dnnl_memory_t mems[] = {
        l->src, l->w_layer, l->w_iter, l->bias, l->dst, l->diff_src,
        l->diff_dst, l->g_w_layer, l->g_w_iter, l->g_bias, l->zero_iter,
        l->zero_iter_c, l->dst_iter, l->dst_iter_c, l->diff_src_iter,
        l->diff_src_iter_c, l->zero_diff_iter, l->zero_diff_iter_c,
        l->workspace, l->scratchpad, l->bw_layer, l->bw_iter, l->bdw_layer,
        l->bdw_iter, l->fw_layer, l->fw_iter};
    for (size_t i = 0; i < sizeof prims / sizeof *prims; i++)
        dnnl_primitive_destroy(prims[i]);
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        dnnl_memory_destroy(mems[i]);
    for (int i = 0; i < l->nown; i++)
        ls_free(l->own[i]);
    ls_free(l);
}

/* Bind a caller's buffer to a memory object for the next execution. */
static int bind(dnnl_memory_t m, const void *p, ls_err *err)
{
    dnnl_status_t st = dnnl_memory_set_data_handle(m, (void *)p);
    if (st != dnnl_success)
        return ls_err_set(err, LS_EDNNL, "oneDNN: set_data_handle: %s",
                          dnnl_status2str(st));
    return 0;
}

/* A shared scratchpad may have grown (moved) since the last call, or be
 * gone if growing it failed. */
static int bind_scratch(ls_lstm *l, ls_err *err)
{
    if (!l->shared)
        return 0;
    if (!l->shared->buf)
        return ls_err_set(err, LS_ENOMEM,
                          "lstm: no scratchpad (growing the shared one failed)");
    return bind(l->scratchpad, l->shared->buf, err);
}

void ls_lstm_set_last_step_only(ls_lstm *l, int on)
{
    /* Steps before the last are copied no more, so clear what earlier
     * whole-sequence calls left there: they must read as zero. */
    if (on && !l->last_only && l->pdiff_dst)
        memset(l->pdiff_dst, 0, (size_t)l->T * l->N * l->Hp * sizeof(float));
    l->last_only = on != 0;
}

/* First (t, n) row of the caller's sequence tensors that a padded layer
 * copies: all of them, or those of the last step only. */
static size_t first_copied_row(const ls_lstm *l)
{
    return l->last_only ? (size_t)(l->T - 1) * l->N : 0;
}


/* fwd_any: the master weights (bound) into the forward's layouts. */
static int forward_weights(ls_lstm *l, dnnl_stream_t s, ls_err *err)
{
    int rc;
    if (!l->fwd_any)
        return 0;
    if ((rc = exec_reorder(l->reo_fwl, s, l->w_layer, l->fw_layer, err)) ||
        (rc = exec_reorder(l->reo_fwi, s, l->w_iter, l->fw_iter, err)))
        return rc;
    return 0;
}

/* The rows of the primitive's dst the caller reads, into its (T, N, H). */
static void forward_output(ls_lstm *l, float *dst)
{
    size_t r0 = first_copied_row(l), rows = (size_t)l->T * l->N - r0;
    size_t H = l->H, Hp = l->Hp;
    if (l->dst_unread)
        return;
    if (l->prec == LS_PREC_BF16)
        rows_from_bf16(dst + r0 * H, H, (const uint16_t *)handle_of(l->dst) + r0 * Hp,
                       Hp, rows, H);
    else if (Hp != H)
        copy_rows(dst + r0 * H, H, l->pdst + r0 * Hp, Hp, rows, H);
}

static int forward_any(ls_lstm *l, dnnl_stream_t s, const float *src,
                       const void *src16, const float *w_layer,
                       const float *w_iter, const float *bias, float *dst,
                       ls_err *err);

int ls_lstm_forward(ls_lstm *l, dnnl_stream_t s, const float *src,
                    const float *w_layer, const float *w_iter,
                    const float *bias, float *dst, ls_err *err)
{
    return forward_any(l, s, src, NULL, w_layer, w_iter, bias, dst, err);
}

int ls_lstm_can_chain(const ls_lstm *below, const ls_lstm *l)
{
    return below && l && below->prec == LS_PREC_BF16 && l->prec == LS_PREC_BF16 &&
           below->Hp == below->H && below->H == l->I && below->T == l->T &&
           below->N == l->N;
}

void ls_lstm_set_dst_unread(ls_lstm *l, int on) { l->dst_unread = on != 0; }

int ls_lstm_forward_chained(ls_lstm *l, dnnl_stream_t s, const ls_lstm *below,
                            const float *w_layer, const float *w_iter,
                            const float *bias, float *dst, ls_err *err)
{
    if (!ls_lstm_can_chain(below, l))
        return ls_err_set(err, LS_EINVAL, "lstm: layers that cannot chain");
    return forward_any(l, s, NULL, handle_of(below->dst), w_layer, w_iter, bias, dst,
                       err);
}

/* ls_lstm_forward (src, f32) and ls_lstm_forward_chained (src16: the bf16
 * dst of the layer below, bound as this layer's src, which its backward
 * then reads again). */
static int forward_any(ls_lstm *l, dnnl_stream_t s, const float *src,
                       const void *src16, const float *w_layer,
                       const float *w_iter, const float *bias, float *dst,
                       ls_err *err)
{
    int rc, padded = l->Hp != l->H, bf16 = l->prec == LS_PREC_BF16;
    dnnl_exec_arg_t args[] = {
        {DNNL_ARG_SRC_LAYER, l->src},        {DNNL_ARG_SRC_ITER, l->zero_iter},
        {DNNL_ARG_SRC_ITER_C, l->zero_iter_c},
        {DNNL_ARG_WEIGHTS_LAYER, l->fwd_any ? l->fw_layer : l->w_layer},
        {DNNL_ARG_WEIGHTS_ITER, l->fwd_any ? l->fw_iter : l->w_iter},
        {DNNL_ARG_BIAS, l->bias},            {DNNL_ARG_DST_LAYER, l->dst},
        {DNNL_ARG_DST_ITER, l->dst_iter},    {DNNL_ARG_DST_ITER_C, l->dst_iter_c},
        {DNNL_ARG_SCRATCHPAD, l->scratchpad},
        {DNNL_ARG_WORKSPACE, l->workspace}};
    int nargs = (int)(sizeof args / sizeof *args) - (l->training ? 0 : 1);

    if (padded) {
        pack_weights(l, w_layer, w_iter, bias);
        w_layer = l->pw_layer, w_iter = l->pw_iter, bias = l->pbias;
    }
    if ((rc = bind_scratch(l, err)) || (rc = bind(l->w_layer, w_layer, err)) ||
        (rc = bind(l->w_iter, w_iter, err)) || (rc = bind(l->bias, bias, err)) ||
        (rc = forward_weights(l, s, err)))
        return rc;
    if (bf16 && src16)
        rc = bind(l->src, src16, err);
    else if (bf16 && !(rc = bind(l->src, l->src_own, err))) /* backward reads it again */
        rows_to_bf16(l->src_own, l->I, src, l->I, (size_t)l->T * l->N, l->I);
    else if (!bf16 && !(rc = bind(l->src, src, err)))
        rc = bind(l->dst, padded ? l->pdst : dst, err);
    if (rc)
        return rc;
    DNNL_TRY(dnnl_primitive_execute(l->fwd, s, nargs, args));
    DNNL_TRY(dnnl_stream_wait(s));
    forward_output(l, dst);
out:
    return rc;
}

int ls_lstm_forward_states(ls_lstm *l, dnnl_stream_t s, const float *src,
                           const float *w_layer, const float *w_iter,
                           const float *bias, const float *h0, const float *c0,
                           float *dst, float *c_last, ls_err *err)
{
    size_t N = l->N, H = l->H, Hp = l->Hp;
    int has_c = ls_cell_has_c(l->cell);
    float *zh = handle_of(l->zero_iter);
    float *zc = has_c ? handle_of(l->zero_iter_c) : NULL;
    int rc;

    if (l->training || l->trap)
        return ls_err_set(err, LS_EINVAL,
                          "lstm: initial states on a training layer");
    if (l->prec != LS_PREC_F32) /* the states below are f32 */
        return ls_err_set(err, LS_EINVAL, "lstm: initial states on a bf16 layer");
    /* The zero-state buffers carry the states for this one call and are
     * zero again before it returns, so ls_lstm_forward is unaffected. */
    copy_rows(zh, Hp, h0, H, N, H);
    if (has_c)
        copy_rows(zc, Hp, c0, H, N, H);
    rc = ls_lstm_forward(l, s, src, w_layer, w_iter, bias, dst, err);
    if (rc == 0 && has_c)
        copy_rows(c_last, H, handle_of(l->dst_iter_c), Hp, N, H);
    memset(zh, 0, N * Hp * sizeof(float));
    if (has_c)
        memset(zc, 0, N * Hp * sizeof(float));
    return rc;
}

static void zero_memory(dnnl_memory_t m)
{
    void *p = NULL;
    dnnl_memory_get_data_handle(m, &p);
    const dnnl_memory_desc_t *md = NULL;
    dnnl_memory_get_memory_desc(m, &md);
    memset(p, 0, dnnl_memory_desc_get_size(md));
}

/* The master weights (bound) into the backward's layouts, and the
 * gradients zeroed: oneDNN accumulates into them. */
static int backward_weights(ls_lstm *l, dnnl_stream_t s, float *gb, ls_err *err)
{
    int rc;
    if ((rc = exec_reorder(l->reo_wl, s, l->w_layer, l->bw_layer, err)) ||
        (rc = exec_reorder(l->reo_wi, s, l->w_iter, l->bw_iter, err)))
        return rc;
    zero_memory(l->bdw_layer);
    zero_memory(l->bdw_iter);
    memset(gb, 0, sizeof(float) * (size_t)l->Gb * l->Hp);
    return 0;
}

int ls_lstm_backward(ls_lstm *l, dnnl_stream_t s, const float *src,
                     const float *w_layer, const float *w_iter,
                     const float *bias, const float *dst,
                     const float *diff_dst, float *diff_src,
                     float *grad_w_layer, float *grad_w_iter,
                     float *grad_bias, ls_err *err)
{
    int rc, padded = l->Hp != l->H;
    size_t H = l->H, Hp = l->Hp;
    float *gwl = grad_w_layer, *gwi = grad_w_iter, *gb = grad_bias;
    dnnl_exec_arg_t args[] = {
        {DNNL_ARG_SRC_LAYER, l->src},        {DNNL_ARG_SRC_ITER, l->zero_iter},
        {DNNL_ARG_SRC_ITER_C, l->zero_iter_c},
        {DNNL_ARG_WEIGHTS_LAYER, l->bw_layer},
        {DNNL_ARG_WEIGHTS_ITER, l->bw_iter}, {DNNL_ARG_BIAS, l->bias},
        {DNNL_ARG_DST_LAYER, l->dst},        {DNNL_ARG_DST_ITER, l->dst_iter},
        {DNNL_ARG_DST_ITER_C, l->dst_iter_c},
        {DNNL_ARG_DIFF_SRC_LAYER, l->diff_src},
        {DNNL_ARG_DIFF_SRC_ITER, l->diff_src_iter},
        {DNNL_ARG_DIFF_SRC_ITER_C, l->diff_src_iter_c},
        {DNNL_ARG_DIFF_WEIGHTS_LAYER, l->bdw_layer},
        {DNNL_ARG_DIFF_WEIGHTS_ITER, l->bdw_iter},
        {DNNL_ARG_DIFF_BIAS, l->g_bias},
        {DNNL_ARG_DIFF_DST_LAYER, l->diff_dst},
        {DNNL_ARG_DIFF_DST_ITER, l->zero_diff_iter},
        {DNNL_ARG_DIFF_DST_ITER_C, l->zero_diff_iter_c},
        {DNNL_ARG_WORKSPACE, l->workspace},
        {DNNL_ARG_SCRATCHPAD, l->scratchpad}};

    if (!l->training)
        return ls_err_set(err, LS_EINVAL, "lstm: backward on an inference layer");
    if (padded) {
        /* The weights and dst are those of the last forward, whose padded
         * copies the layer still holds; only diff_dst needs padding. */
        w_layer = l->pw_layer, w_iter = l->pw_iter, bias = l->pbias;
        dst = l->pdst;
        size_t r0 = first_copied_row(l), rows = (size_t)l->T * l->N - r0;
        copy_rows(l->pdiff_dst + r0 * Hp, Hp, diff_dst + r0 * H, H, rows, H);
        diff_dst = l->pdiff_dst;
        gwl = l->pg_w_layer, gwi = l->pg_w_iter, gb = l->pg_bias;
    }
    /* A bf16 layer's src and dst are its own copies from the forward. */
    if (l->prec == LS_PREC_F32 &&
        ((rc = bind(l->src, src, err)) || (rc = bind(l->dst, dst, err))))
        return rc;
    if ((rc = bind_scratch(l, err)) || (rc = bind(l->w_layer, w_layer, err)) ||
        (rc = bind(l->w_iter, w_iter, err)) || (rc = bind(l->bias, bias, err)) ||
        (rc = bind(l->diff_dst, diff_dst, err)) ||
        (rc = bind(l->diff_src, diff_src, err)) ||
        (rc = bind(l->g_w_layer, gwl, err)) ||
        (rc = bind(l->g_w_iter, gwi, err)) || (rc = bind(l->g_bias, gb, err)))
        return rc;
    if ((rc = backward_weights(l, s, gb, err)))
        return rc;
    DNNL_TRY(dnnl_primitive_execute(l->bwd, s, (int)(sizeof args / sizeof *args),
                                    args));
    if ((rc = exec_reorder(l->reo_dwl, s, l->bdw_layer, l->g_w_layer, err)) ||
        (rc = exec_reorder(l->reo_dwi, s, l->bdw_iter, l->g_w_iter, err)))
        return rc;
    DNNL_TRY(dnnl_stream_wait(s));
    if (padded) {
        copy_rows(grad_w_layer, H, gwl, Hp, (size_t)l->I * l->G, H);
        copy_rows(grad_w_iter, H, gwi, Hp, H * l->G, H);
        copy_rows(grad_bias, H, gb, Hp, (size_t)l->Gb, H);
    }
out:
    return rc;
}

/* The implementation oneDNN chose for a primitive descriptor ("" if
 * none). */
static const char *impl_of(const_dnnl_primitive_desc_t pd)
{
    const char *info = NULL;
    if (!pd || dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0,
                                         &info) != dnnl_success || !info)
        return "";
    return info;
}

const char *ls_lstm_impl(const ls_lstm *l, int backward)
{
    const_dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t p = backward ? l->bwd : l->fwd;
    if (!p || dnnl_primitive_get_primitive_desc(p, &pd) != dnnl_success)
        return "";
    return impl_of(pd);
}

ls_precision ls_lstm_precision(const ls_lstm *l) { return l->prec; }

/* Create the bf16 primitive descriptors of this shape (forward, and
 * backward for training) and report their implementations. */
static int probe_pds(dnnl_engine_t engine, const struct lstm_mds *d,
                     ls_cell cell, int training, char *why, size_t len)
{
    dnnl_rnn_desc_t fdesc, bdesc;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_prop_kind_t prop = training ? dnnl_forward_training : dnnl_forward_inference;
    dnnl_status_t st = fwd_desc_init(&fdesc, cell, prop, d, 0);
    int ok = 0;

    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&fpd, &fdesc, NULL, engine, NULL);
    if (st == dnnl_success && training && (st = bwd_desc_init(&bdesc, cell, d, 0)) ==
                                               dnnl_success)
        st = dnnl_primitive_desc_create(&bpd, &bdesc, NULL, engine, fpd);
    if (st != dnnl_success) {
        snprintf(why, len, "oneDNN refuses bf16 %s here: %s", ls_cell_name(cell),
                 dnnl_status2str(st));
    } else {
        const char *f = impl_of(fpd), *b = training ? impl_of(bpd) : "brgemm";
        ok = strstr(f, "brgemm") && strstr(b, "brgemm");
        if (ok)
            snprintf(why, len, "brgemm %s", training ? "fwd+bwd" : "fwd");
        else
            snprintf(why, len, "bf16 would run %s", strstr(f, "brgemm") ? b : f);
    }
    dnnl_primitive_desc_destroy(bpd);
    dnnl_primitive_desc_destroy(fpd);
    return ok;
}

int ls_lstm_bf16_probe(dnnl_engine_t engine, ls_cell cell, int T, int N, int I,
                       int H, int training, char *why, size_t len)
{
    struct lstm_mds d;
    char none[1];

    if (!why)
        why = none, len = sizeof none;
    if (T < 1 || N < 1 || I < 1 || H < 1 || !ls_cell_gates(cell)) {
        snprintf(why, len, "bad shape");
        return 0;
    }
    lstm_mds_init(&d, cell, LS_PREC_BF16, T, N, I, ls_lstm_padded_hidden(H),
                  training);
    return probe_pds(engine, &d, cell, training, why, len);
}
