/* prefix.c - bitcount evaluation down the prefix tree; see
 * include/lstmsweep/prefix.h.
 *
 * Node numbering: at depth d a chunk holds nmax consecutive prefixes
 * base .. base + nmax - 1 (a prefix is the integer its d bits spell, first
 * bit most significant, as dataset.h stores codes).  The children of prefix
 * q are 2q and 2q + 1, so the children of the chunk's half h (parents
 * base + h*nmax/2 ...) are the chunk of depth d + 1 starting at
 * 2 * base + h * nmax, and child c of that chunk has parent c / 2 of the
 * half and last bit c & 1. */
#include "lstmsweep/prefix.h"

#include <string.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/lstm.h"

#define MAX_LAYERS 16

/* The float buffers, by index; their sizes come from buf_sizes() alone. */
enum { B_XA, B_XB, B_DST0, B_DST1, B_LEVEL_H, B_LEVEL_C, B_STAGE_H, B_STAGE_C,
       B_ZERO, B_LOGITS, NBUF };

struct ls_prefix_eval {
    ls_model_config cfg;
    int bits, m, nmax, levels; /* levels = bits - m + 1 (depths m .. bits) */
    size_t n_test, n_val;      /* test and validation strings */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    ls_lstm *top[MAX_LAYERS];  /* T = m: the first m levels at once */
    ls_lstm *step[MAX_LAYERS]; /* T = 1: one level */
    ls_lstm_scratch scratch;   /* shared by all of them: one call at a time */
    float *buf[NBUF];
    uint8_t *is_train;         /* bitmaps over all 2^bits codes */
    uint8_t *is_val;
};

static void buf_sizes(const ls_model_config *c, int m, int nmax, int levels,
                      size_t n[NBUF])
{
    size_t N = (size_t)nmax, H = (size_t)c->H, L = (size_t)c->L;
    int has_c = ls_cell_has_c(c->cell);
    n[B_XA] = (size_t)m * N;
    n[B_XB] = N;
    n[B_DST0] = n[B_DST1] = (size_t)m * N * H;
    n[B_LEVEL_H] = (size_t)levels * L * N * H;
    n[B_STAGE_H] = L * N * H;
    /* only the LSTM has a cell state to carry down the tree */
    n[B_LEVEL_C] = has_c ? n[B_LEVEL_H] : 0;
    n[B_STAGE_C] = has_c ? n[B_STAGE_H] : 0;
    n[B_ZERO] = N * H;
    n[B_LOGITS] = N * (size_t)c->C;
}

static int log2_floor(size_t n)
{
    int k = 0;
    while (n >>= 1)
        k++;
    return k;
}

/* The tree needs two levels below a top batch of at least 2; above
 * LS_PREFIX_MAX_BITS the training-code bitmap grows large. */
static int bits_apply(int bits)
{
    return bits >= 3 && bits <= LS_PREFIX_MAX_BITS;
}

double ls_prefix_eval_cost(int bits)
{
    /* ~2 one-step cells a string instead of `bits` steps.  Measured at
     * 20 bits on one core, against the plain evaluation of the same model:
     * 0.62 s vs 6.6 s at H24, 1.7 s vs 15.5 s at H64: ~2/bits. */
    return bits_apply(bits) ? 2.0 / bits : 1.0;
}

int ls_prefix_eval_chunk(const ls_dataset *ds, const ls_model_config *c)
{
    if (ds->kind != LS_DATA_BITCOUNT || !bits_apply(ds->bits) || c->I != 1 ||
        c->T != ds->bits || c->L < 1 || c->L > MAX_LAYERS)
        return 0;
    /* A one-step call's gates, (N, 4 Hp) floats, are its hot data: keep
     * them near 256 KiB, an L2 cache.  Larger chunks ran slower and grew
     * oneDNN's scratchpads with N times the m-step top batch.  One
     * evaluation of the 2^20 strings on one core, by chunk (best of 3):
     * H24: 0.62 s at 512 (13 MB) vs 1.25 s at 16384 (512 MB);
     * H64: 1.72 s at 256 (13 MB) vs 2.04 s at 4096 (237 MB);
     * H128: 5.0 s at 128 (12 MB) vs 5.8 s at 2048 (227 MB). */
    size_t per = (size_t)ls_cell_gates(c->cell) *
                 (size_t)ls_lstm_padded_hidden(c->H) * sizeof(float);
    size_t n = ((size_t)256 << 10) / per;
    int m = log2_floor(n < 2 ? 2 : n);
    if (m > ds->bits - 2)
        m = ds->bits - 2; /* at least two levels below the top batch */
    return 1 << m;
}

static int check_shape(const ls_model_config *c, int bits, int nmax)
{
    return c->L >= 1 && c->L <= MAX_LAYERS && c->I == 1 && c->T == bits &&
           ls_cell_gates(c->cell) > 0 &&
           nmax >= 2 && (nmax & (nmax - 1)) == 0 && log2_floor(nmax) <= bits - 1;
}

size_t ls_prefix_eval_estimate_bytes(const ls_model_config *c, int bits,
                                     int nmax)
{
    dnnl_engine_t e;
    size_t n[NBUF], b = 0;
    int m;

    if (!check_shape(c, bits, nmax) ||
        dnnl_engine_create(&e, dnnl_cpu, 0) != dnnl_success)
        return 0;
    m = log2_floor(nmax);
    buf_sizes(c, m, nmax, bits - m + 1, n);
    for (int i = 0; i < NBUF; i++)
        b += n[i] * sizeof(float);
    b += 2 * (((size_t)1 << bits) / 8 + 1) + sizeof(ls_prefix_eval);
    size_t scratch = 0;
    for (int l = 0; l < c->L && b; l++) {
        size_t st = 0, ss = 0;
        int in = ls_model_layer_in(c, l);
        size_t t = ls_lstm_estimate_bytes_cell(e, c->cell, m, nmax, in, c->H, 0, &st);
        size_t s = ls_lstm_estimate_bytes_cell(e, c->cell, 1, nmax, in, c->H, 0, &ss);
        b = t && s ? b + t + s : 0;
        scratch = st > scratch ? st : scratch;
        scratch = ss > scratch ? ss : scratch;
    }
    b = b ? b + scratch : 0;
    dnnl_engine_destroy(e);
    return b;
}

void ls_prefix_eval_destroy(ls_prefix_eval *p)
{
    if (!p)
        return;
    for (int l = 0; l < MAX_LAYERS; l++) {
        ls_lstm_destroy(p->top[l]);
        ls_lstm_destroy(p->step[l]);
    }
    ls_lstm_scratch_release(&p->scratch);
    for (int i = 0; i < NBUF; i++)
        ls_free(p->buf[i]);
    ls_free(p->is_train);
    ls_free(p->is_val);
    if (p->stream)
        dnnl_stream_destroy(p->stream);
    if (p->engine)
        dnnl_engine_destroy(p->engine);
    ls_free(p);
}

/* Set the bit of every code of a split in map. */
static void mark(uint8_t *map, const ls_dataset *ds, ls_split split)
{
    const uint32_t *c = ds->codes + (split == LS_SPLIT_VAL ? ds->n_train : 0);
    for (size_t i = 0; i < ls_dataset_size(ds, split); i++)
        map[c[i] >> 3] |= (uint8_t)(1u << (c[i] & 7));
}

/* Buffers, the training and validation bitmaps and the top-level inputs
 * (which never change: prefix k of m bits, one bit per step). */
static int create_buffers(ls_prefix_eval *p, const ls_dataset *ds)
{
    size_t n[NBUF], codes = (size_t)1 << p->bits;

    buf_sizes(&p->cfg, p->m, p->nmax, p->levels, n);
    for (int i = 0; i < NBUF; i++) {
        if (n[i] && !(p->buf[i] = ls_alloc(n[i] * sizeof(float))))
            return LS_ENOMEM;
    }
    if (!(p->is_train = ls_alloc(codes / 8 + 1)) || !(p->is_val = ls_alloc(codes / 8 + 1)))
        return LS_ENOMEM;
    mark(p->is_train, ds, LS_SPLIT_TRAIN);
    mark(p->is_val, ds, LS_SPLIT_VAL);
    for (int t = 0; t < p->m; t++)
        for (int k = 0; k < p->nmax; k++)
            p->buf[B_XA][(size_t)t * p->nmax + k] =
                (float)((k >> (p->m - 1 - t)) & 1);
    for (int k = 0; k < p->nmax; k++)
        p->buf[B_XB][k] = (float)(k & 1); /* child c's last bit */
    return 0;
}

int ls_prefix_eval_create(ls_prefix_eval **out, const ls_model_config *cfg,
                          const ls_dataset *ds, int nmax, ls_err *err)
{
    ls_prefix_eval *p;
    int rc = 0;

    *out = NULL;
    if (ds->kind != LS_DATA_BITCOUNT || !bits_apply(ds->bits) ||
        !check_shape(cfg, ds->bits, nmax))
        return ls_err_set(err, LS_EINVAL,
                          "prefix evaluation: does not apply (data %s, L=%d, chunk %d)",
                          ds->name, cfg->L, nmax);
    if (!(p = ls_alloc(sizeof *p)))
        return ls_err_set(err, LS_ENOMEM, "prefix evaluation: out of memory");
    p->cfg = *cfg;
    p->bits = ds->bits;
    p->nmax = nmax;
    p->m = log2_floor((size_t)nmax);
    p->levels = p->bits - p->m + 1;
    p->n_test = ds->n_test;
    p->n_val = ds->n_val;
    if (create_buffers(p, ds)) {
        rc = ls_err_set(err, LS_ENOMEM, "prefix evaluation: cannot allocate %zu bytes",
                        ls_prefix_eval_estimate_bytes(cfg, p->bits, nmax));
        goto fail;
    }
    dnnl_status_t st = dnnl_engine_create(&p->engine, dnnl_cpu, 0);
    if (st == dnnl_success)
        st = dnnl_stream_create(&p->stream, p->engine, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        rc = ls_err_set(err, LS_EDNNL, "oneDNN: engine/stream: %s", dnnl_status2str(st));
        goto fail;
    }
    for (int l = 0; l < cfg->L; l++) {
        int in = ls_model_layer_in(cfg, l);
        if ((rc = ls_lstm_create_cell(&p->top[l], p->engine, cfg->cell, p->m, nmax,
                                      in, cfg->H, 0, 0, &p->scratch, err)) ||
            (rc = ls_lstm_create_cell(&p->step[l], p->engine, cfg->cell, 1, nmax,
                                      in, cfg->H, 0, 0, &p->scratch, err)))
            goto fail;
    }
    *out = p;
    return 0;
fail:
    ls_prefix_eval_destroy(p);
    return rc;
}

/* ---- evaluation ----------------------------------------------------------- */

typedef struct walk {
    ls_prefix_eval *p;
    ls_model *m;
    const float *params;
    size_t wrong, val_wrong;
} walk;

static const float *layer_param(const walk *w, int l, int j)
{
    return w->params + ls_model_view(w->m, 3 * l + j).offset;
}

/* States of layer l at depth index d (0 = depth m): (nmax, H) each. */
static float *level_h(const ls_prefix_eval *p, int d, int l)
{
    return p->buf[B_LEVEL_H] + ((size_t)d * p->cfg.L + l) * p->nmax * p->cfg.H;
}

/* Cell states likewise; NULL for cells without one (then never read). */
static float *level_c(const ls_prefix_eval *p, int d, int l)
{
    if (!p->buf[B_LEVEL_C])
        return NULL;
    return p->buf[B_LEVEL_C] + ((size_t)d * p->cfg.L + l) * p->nmax * p->cfg.H;
}

static float *stage(const ls_prefix_eval *p, int b, int l)
{
    if (!p->buf[b])
        return NULL;
    return p->buf[b] + (size_t)l * p->nmax * p->cfg.H;
}

/* Depth m: all 2^m prefixes as one m-step batch from zero states. */
static int run_top(walk *w, ls_err *err)
{
    ls_prefix_eval *p = w->p;
    size_t nH = (size_t)p->nmax * p->cfg.H;
    const float *in = p->buf[B_XA];
    int rc;

    for (int l = 0; l < p->cfg.L; l++) {
        float *dst = p->buf[l % 2 ? B_DST1 : B_DST0];
        if ((rc = ls_lstm_forward_states(p->top[l], p->stream, in,
                                         layer_param(w, l, 0), layer_param(w, l, 1),
                                         layer_param(w, l, 2), p->buf[B_ZERO],
                                         p->buf[B_ZERO], dst, level_c(p, 0, l), err)))
            return rc;
        memcpy(level_h(p, 0, l), dst + (size_t)(p->m - 1) * nH, nH * sizeof(float));
        in = dst;
    }
    return 0;
}

/* Depth index d+1 from half `half` of the chunk at depth index d. */
static int run_step(walk *w, int d, int half, ls_err *err)
{
    ls_prefix_eval *p = w->p;
    size_t H = (size_t)p->cfg.H;
    int rc;

    for (int l = 0; l < p->cfg.L; l++) {
        const float *ph = level_h(p, d, l), *pc = level_c(p, d, l);
        float *sh = stage(p, B_STAGE_H, l), *sc = stage(p, B_STAGE_C, l);
        for (int c = 0; c < p->nmax; c++) {
            size_t parent = (size_t)half * (p->nmax / 2) + (size_t)c / 2;
            memcpy(sh + c * H, ph + parent * H, H * sizeof(float));
            if (sc)
                memcpy(sc + c * H, pc + parent * H, H * sizeof(float));
        }
    }
    for (int l = 0; l < p->cfg.L; l++) {
        const float *in = l == 0 ? p->buf[B_XB] : level_h(p, d + 1, l - 1);
        if ((rc = ls_lstm_forward_states(p->step[l], p->stream, in,
                                         layer_param(w, l, 0), layer_param(w, l, 1),
                                         layer_param(w, l, 2),
                                         stage(p, B_STAGE_H, l),
                                         stage(p, B_STAGE_C, l),
                                         level_h(p, d + 1, l), level_c(p, d + 1, l),
                                         err)))
            return rc;
    }
    return 0;
}

/* Leaves: codes base .. base + nmax - 1; count the test and validation
 * strings whose predicted class is not their number of ones (each leaf
 * knows its split, so one pass scores both). */
static int score(walk *w, size_t base, ls_err *err)
{
    ls_prefix_eval *p = w->p;
    const float *h = level_h(p, p->levels - 1, p->cfg.L - 1);
    float *z = p->buf[B_LOGITS];
    int C = p->cfg.C, rc;

    if ((rc = ls_model_logits(w->m, h, p->nmax, z, err)))
        return rc;
    for (int j = 0; j < p->nmax; j++) {
        size_t code = base + (size_t)j;
        uint8_t bit = (uint8_t)(1u << (code & 7));
        if (p->is_train[code >> 3] & bit)
            continue;
        const float *r = z + (size_t)j * C;
        int best = 0;
        for (int k = 1; k < C; k++)
            best = r[k] > r[best] ? k : best;
        *(p->is_val[code >> 3] & bit ? &w->val_wrong : &w->wrong) +=
            best != __builtin_popcountll(code);
    }
    return 0;
}

/* The subtree below the chunk at depth index d whose first prefix is base. */
static int descend(walk *w, int d, size_t base, ls_err *err)
{
    int rc;

    if (d == w->p->levels - 1)
        return score(w, base, err);
    for (int half = 0; half < 2; half++) {
        if ((rc = run_step(w, d, half, err)) ||
            (rc = descend(w, d + 1, 2 * base + (size_t)half * w->p->nmax, err)))
            return rc;
    }
    return 0;
}

int ls_prefix_evaluate(ls_prefix_eval *p, ls_model *m, double *error,
                       double *val_error, ls_err *err)
{
    walk w = {.p = p, .m = m, .params = ls_model_params(m)};
    const ls_model_config *c = ls_model_config_of(m);
    int rc;

    if (c->H != p->cfg.H || c->L != p->cfg.L || c->C != p->cfg.C ||
        c->cell != p->cfg.cell)
        return ls_err_set(err, LS_EINVAL, "prefix evaluation: model shape differs");
    if ((rc = run_top(&w, err)) || (rc = descend(&w, 0, 0, err)))
        return rc;
    *error = (double)w.wrong / (double)p->n_test;
    if (val_error)
        *val_error = p->n_val ? (double)w.val_wrong / (double)p->n_val : -1;
    return 0;
}
