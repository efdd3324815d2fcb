/* model.c - LSTM classifier: oneDNN LSTM layers, dense layer, softmax
 * cross-entropy, dropout and Adam.  See include/lstmsweep/model.h. */
#include "lstmsweep/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/lstm.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/sysinfo.h"

#define MAX_STACKS 6
#define RNG_STREAM_INIT 11
#define RNG_STREAM_DROPOUT 12

/* Everything one batch size needs: the L layers' primitives and the
 * activations between them.  Built once per (n, train) and cached. */
typedef struct stack {
    int n, train;
    unsigned long last_use;
    ls_lstm **layer;  /* [L] */
    int chain;        /* bf16 layers hand each other bf16 activations
                         (ls_lstm_forward_chained) where they can */
    float **dst;      /* [L] (T, n, H) each layer's output */
    float **drop;     /* [L] dropped-out output, or NULL without dropout */
    float **mask;     /* [L] dropout mask: 0 or 1/(1-p); last layer only
                         its last step (n, H) */
    float **diff;     /* [L] dLoss/d dst[l], (T, n, H) (training only) */
    float *dx;        /* (T, n, I) dLoss/dx (training only) */
    float *logits;    /* (n, C) */
    float *dlogits;   /* (n, C) */
    float *dh;        /* (n, H) dLoss/d h_last */
} stack;

struct ls_model {
    ls_model_config cfg;
    ls_precision prec;   /* what the training layers run: f32 or bf16 */
    char prec_note[160]; /* why, for auto; "" for f32 and bf16 */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    size_t nparams;
    float *p, *g, *adam_m, *adam_v;
    long adam_t;
    ls_rng dropout_rng;
    stack *stacks[MAX_STACKS];
    /* One oneDNN scratchpad for every layer of every stack: they run one
     * at a time, on the model's thread. */
    ls_lstm_scratch scratch;
    unsigned long tick;
    stack *last_train; /* stack of the last forward_backward */
};

/* ---- parameter layout -------------------------------------------------- */

int ls_model_layer_in(const ls_model_config *c, int l)
{
    return l == 0 ? c->I : c->H;
}

int ls_model_nviews(const ls_model *m)
{
    return 3 * m->cfg.L + 2;
}

ls_param_view ls_model_view(const ls_model *m, int k)
{
    const ls_model_config *c = &m->cfg;
    size_t off = 0, H = (size_t)c->H, G = (size_t)ls_cell_gates(c->cell);
    size_t Gb = (size_t)ls_cell_bias_gates(c->cell);
    ls_param_view v = {0};

    for (int l = 0; l < c->L; l++) {
        size_t sizes[3] = {(size_t)ls_model_layer_in(c, l) * G * H, H * G * H, Gb * H};
        static const char *names[3] = {"w_layer", "w_iter", "bias"};
        for (int j = 0; j < 3; j++, k--) {
            if (k == 0)
                return (ls_param_view){names[j], l, off, sizes[j]};
            off += sizes[j];
        }
    }
    if (k == 0)
        return (ls_param_view){"dense_w", -1, off, H * (size_t)c->C};
    off += H * (size_t)c->C;
    if (k == 1)
        return (ls_param_view){"dense_b", -1, off, (size_t)c->C};
    return v;
}

size_t ls_model_config_nparams(const ls_model_config *cfg)
{
    ls_model probe = {.cfg = *cfg};
    ls_param_view last = ls_model_view(&probe, ls_model_nviews(&probe) - 1);
    return last.offset + last.count;
}

static float *section(const ls_model *m, float *base, int k)
{
    return base + ls_model_view(m, k).offset;
}

double ls_model_flops_per_sample(const ls_model_config *c)
{
    /* The gates' matrix products; the lbr-gru's extra bias gate is an
     * addition, not a product, and the element-wise work is not counted
     * for any cell. */
    double f = 0, G = ls_cell_gates(c->cell);
    for (int l = 0; l < c->L; l++)
        f += 2.0 * c->T * G * c->H * (ls_model_layer_in(c, l) + c->H);
    return f + 2.0 * c->H * c->C;
}

/* Keras/TensorFlow defaults for the recurrent layers, the reference
 * tutorial's for the dense layer; see model.h. */
static void init_params(ls_model *m)
{
    const ls_model_config *c = &m->cfg;
    double G = ls_cell_gates(c->cell);
    ls_rng r;
    ls_rng_seed(&r, c->seed, RNG_STREAM_INIT);
    for (int k = 0; k < ls_model_nviews(m); k++) {
        ls_param_view v = ls_model_view(m, k);
        float *p = m->p + v.offset;
        double limit = 0;
        if (!strcmp(v.name, "w_layer"))
            limit = sqrt(6.0 / (ls_model_layer_in(c, v.layer) + G * c->H));
        else if (!strcmp(v.name, "w_iter"))
            limit = sqrt(6.0 / ((G + 1.0) * c->H));
        for (size_t i = 0; i < v.count; i++)
            p[i] = (float)((2.0 * ls_rng_float(&r) - 1.0) * limit);
        if (!strcmp(v.name, "bias") && c->cell == LS_CELL_LSTM)
            for (int h = 0; h < c->H; h++)
                p[1 * c->H + h] = 1.0f; /* forget gate (i, f, c~, o) */
        if (!strcmp(v.name, "dense_w"))
            for (size_t i = 0; i < v.count; i++) {
                /* N(0, 1) truncated at 2 sigma (tf.truncated_normal).
                 * Measured: bitcount H24 reaches 0.28% test error at 600
                 * epochs with it, 0.49% with Glorot-uniform; MNIST is the
                 * same either way. */
                double z;
                do
                    z = ls_rng_normal(&r);
                while (fabs(z) > 2.0);
                p[i] = (float)z;
            }
        if (!strcmp(v.name, "dense_b"))
            for (size_t i = 0; i < v.count; i++)
                p[i] = 0.1f;
    }
}

/* ---- stacks ------------------------------------------------------------ */

static void stack_destroy(const ls_model *m, stack *s)
{
    if (!s)
        return;
    for (int l = 0; l < m->cfg.L; l++) {
        if (s->layer)
            ls_lstm_destroy(s->layer[l]);
        if (s->dst)
            ls_free(s->dst[l]);
        if (s->drop)
            ls_free(s->drop[l]);
        if (s->mask)
            ls_free(s->mask[l]);
        if (s->diff)
            ls_free(s->diff[l]);
    }
    ls_free(s->layer);
    ls_free(s->dst);
    ls_free(s->drop);
    ls_free(s->mask);
    ls_free(s->diff);
    ls_free(s->dx);
    ls_free(s->logits);
    ls_free(s->dlogits);
    ls_free(s->dh);
    ls_free(s);
}

static int buf(float **p, size_t count)
{
    *p = ls_alloc(count * sizeof(float));
    return *p ? 0 : LS_ENOMEM;
}

static int stack_alloc_buffers(const ls_model *m, stack *s)
{
    const ls_model_config *c = &m->cfg;
    size_t n = (size_t)s->n, TnH = (size_t)c->T * n * c->H;
    int dropout = s->train && c->dropout > 0;
    int L = c->L;

    if (!(s->layer = ls_alloc(L * sizeof *s->layer)) ||
        !(s->dst = ls_alloc(L * sizeof *s->dst)) ||
        !(s->drop = ls_alloc(L * sizeof *s->drop)) ||
        !(s->mask = ls_alloc(L * sizeof *s->mask)) ||
        !(s->diff = ls_alloc(L * sizeof *s->diff)))
        return LS_ENOMEM;
    for (int l = 0; l < L; l++) {
        size_t masked = l == L - 1 ? n * c->H : TnH;
        if (buf(&s->dst[l], TnH) ||
            (dropout && (buf(&s->drop[l], masked) || buf(&s->mask[l], masked))) ||
            (s->train && buf(&s->diff[l], TnH)))
            return LS_ENOMEM;
    }
    if (buf(&s->logits, n * c->C) || buf(&s->dlogits, n * c->C) ||
        buf(&s->dh, n * c->H) || (s->train && buf(&s->dx, (size_t)c->T * n * c->I)))
        return LS_ENOMEM;
    return 0;
}

/* The bytes stack_create and stack_alloc_buffers allocate themselves:
 * the stack, its per-layer arrays and the activations (kept next to them;
 * check_model.c asserts that estimate and allocation agree). */
static size_t stack_own_bytes(const ls_model_config *c, int n, int train)
{
    size_t TnH = (size_t)c->T * n * c->H, nH = (size_t)n * c->H, b = 0;
    size_t arrays = (size_t)c->L * (sizeof(ls_lstm *) + 4 * sizeof(float *));
    int dropout = train && c->dropout > 0;
    for (int l = 0; l < c->L; l++)
        b += TnH + (dropout ? 2 * (l == c->L - 1 ? nH : TnH) : 0) +
             (train ? TnH : 0);
    b += 2 * (size_t)n * c->C + nH + (train ? (size_t)c->T * n * c->I : 0);
    return b * sizeof(float) + sizeof(stack) + arrays;
}

static int check_config(const ls_model_config *c, ls_err *err);

/* Whether the stack's bf16 layers pass bf16 activations up directly: not
 * with dropout between them (it works on f32), nor with padding, nor with
 * LSTMSWEEP_BF16_CHAIN=0 in the environment (tests compare both ways).
 * A lower layer's f32 output is then not written: only the model's
 * dropout and its f32 hand-over read it. */
static void stack_chain(ls_model *m, stack *s)
{
    const char *env = getenv("LSTMSWEEP_BF16_CHAIN");
    int on = m->prec == LS_PREC_BF16 && m->cfg.dropout == 0 &&
             !(env && strcmp(env, "0") == 0);
    s->chain = on;
    for (int l = 1; l < m->cfg.L && on; l++)
        s->chain = s->chain && ls_lstm_can_chain(s->layer[l - 1], s->layer[l]);
    for (int l = 0; l + 1 < m->cfg.L; l++)
        ls_lstm_set_dst_unread(s->layer[l], s->chain);
}

static int stack_create(ls_model *m, int n, int train, stack **out,
                        ls_err *err)
{
    const ls_model_config *c = &m->cfg;
    stack *s = ls_alloc(sizeof *s);
    int rc = 0;

    *out = NULL;
    if (!s)
        return ls_err_set(err, LS_ENOMEM, "model: out of memory");
    s->n = n, s->train = train;
    if (stack_alloc_buffers(m, s)) {
        rc = ls_err_set(err, LS_ENOMEM,
                        "model: cannot allocate activations for batch %d", n);
        goto fail;
    }
    for (int l = 0; l < c->L; l++) {
        /* Evaluation (inference primitives) runs the training precision:
         * bf16 forward_inference is brgemm too, ~2x the f32 reference at
         * MNIST's shape (T28 N1000 H128: 29 vs 57 ms, README).  prefix.c's
         * bitcount evaluation stays f32. */
        rc = ls_lstm_create_prec(&s->layer[l], m->engine, c->cell, m->prec, c->T, n,
                                 ls_model_layer_in(c, l), c->H, 0, train,
                                 &m->scratch, err);
        if (rc)
            goto fail;
        /* Only the top layer's last step feeds the dense layer. */
        ls_lstm_set_last_step_only(s->layer[l], l == c->L - 1);
    }
    stack_chain(m, s);
    *out = s;
    return 0;
fail:
    stack_destroy(m, s);
    return rc;
}

/* The cached stack for (n, train), built on first use; least recently used
 * stacks are dropped when the cache is full. */
static int get_stack(ls_model *m, int n, int train, stack **out, ls_err *err)
{
    int free_slot = -1, lru = 0;

    for (int i = 0; i < MAX_STACKS; i++) {
        stack *s = m->stacks[i];
        if (s && s->n == n && s->train == train) {
            s->last_use = ++m->tick;
            *out = s;
            return 0;
        }
        if (!s && free_slot < 0)
            free_slot = i;
        if (s && m->stacks[lru] && s->last_use < m->stacks[lru]->last_use)
            lru = i;
    }
    if (free_slot < 0) {
        if (m->last_train == m->stacks[lru])
            m->last_train = NULL;
        stack_destroy(m, m->stacks[lru]);
        m->stacks[lru] = NULL;
        free_slot = lru;
    }
    int rc = stack_create(m, n, train, &m->stacks[free_slot], err);
    if (rc)
        return rc;
    m->stacks[free_slot]->last_use = ++m->tick;
    *out = m->stacks[free_slot];
    return 0;
}

/* ---- create / destroy ---------------------------------------------------- */

static int check_config(const ls_model_config *c, ls_err *err)
{
    if (c->T < 1 || c->I < 1 || c->H < 1 || c->L < 1 || c->C < 2 ||
        c->batch < 1 || !ls_cell_gates(c->cell) ||
        (unsigned)c->precision >= LS_NPRECS)
        return ls_err_set(err, LS_EINVAL,
                          "model: bad shape T=%d I=%d H=%d L=%d C=%d batch=%d cell %d",
                          c->T, c->I, c->H, c->L, c->C, c->batch, (int)c->cell);
    if (!(c->dropout >= 0 && c->dropout < 1))
        return ls_err_set(err, LS_EINVAL, "model: dropout %g not in [0, 1)",
                          c->dropout);
    return 0;
}

/* The precision the training layers of a model of c run: f32 and bf16 as
 * asked, but bf16 only where oneDNN runs every layer's fwd_training and
 * backward on brgemm at the training batch (else bf16 is its emulated
 * reference path, slower than f32): auto then falls back to f32, and an
 * explicit bf16 is an error (LS_EINVAL).  auto also wants AMX: brgemm's
 * avx512_bf16 kernels ran the step at 0.67-0.79x f32 on Sapphire Rapids
 * with AMX held off (README "bf16 mixed precision").  note (len) gets
 * auto's reason. */
static int resolve_precision(const ls_model_config *c, dnnl_engine_t e,
                             ls_precision *out, char *note, size_t len,
                             ls_err *err)
{
    char why[128] = "";
    int ok = 1;

    note[0] = '\0';
    *out = c->precision == LS_PREC_BF16 ? LS_PREC_BF16 : LS_PREC_F32;
    if (c->precision == LS_PREC_F32)
        return 0;
    /* Layers 1.. share one shape; layer 0 has its own input size. */
    for (int l = 0; l < c->L && l < 2 && ok; l++)
        ok = ls_lstm_bf16_probe(e, c->cell, c->T, c->batch,
                                ls_model_layer_in(c, l), c->H, 1, why, sizeof why);
    if (c->precision == LS_PREC_BF16) {
        if (!ok)
            return ls_err_set(err, LS_EINVAL,
                              "precision bf16 not available for %s H%d on this CPU "
                              "(%s): %s; use precision = f32 or auto",
                              ls_cell_name(c->cell), c->H, ls_sys_isa(), why);
        return 0;
    }
    if (ok && !ls_model_bf16_has_amx()) {
        ok = 0;
        snprintf(why, sizeof why, "brgemm without AMX");
    }
    *out = ok ? LS_PREC_BF16 : LS_PREC_F32;
    snprintf(note, len, "precision auto: %s (%s)", ok ? "bf16" : "f32", why);
    return 0;
}

int ls_model_bf16_has_amx(void)
{
    int isa = (int)dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx;
}

ls_precision ls_model_precision(const ls_model *m) { return m->prec; }
const char *ls_model_precision_note(const ls_model *m) { return m->prec_note; }

int ls_model_create(ls_model **out, const ls_model_config *cfg, ls_err *err)
{
    ls_model *m;
    dnnl_status_t st;
    int rc;

    *out = NULL;
    if ((rc = check_config(cfg, err)))
        return rc;
    if (!(m = ls_alloc(sizeof *m)))
        return ls_err_set(err, LS_ENOMEM, "model: out of memory");
    m->cfg = *cfg;
    m->nparams = ls_model_config_nparams(cfg);
    if (!(m->p = ls_alloc(m->nparams * sizeof(float))) ||
        !(m->g = ls_alloc(m->nparams * sizeof(float))) ||
        !(m->adam_m = ls_alloc(m->nparams * sizeof(float))) ||
        !(m->adam_v = ls_alloc(m->nparams * sizeof(float)))) {
        rc = ls_err_set(err, LS_ENOMEM, "model: cannot allocate %zu parameters",
                        m->nparams);
        goto fail;
    }
    st = dnnl_engine_create(&m->engine, dnnl_cpu, 0);
    if (st == dnnl_success)
        st = dnnl_stream_create(&m->stream, m->engine, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        rc = ls_err_set(err, LS_EDNNL, "oneDNN: engine/stream: %s",
                        dnnl_status2str(st));
        goto fail;
    }
    if ((rc = resolve_precision(cfg, m->engine, &m->prec, m->prec_note,
                                sizeof m->prec_note, err)))
        goto fail;
    init_params(m);
    ls_rng_seed(&m->dropout_rng, cfg->seed, RNG_STREAM_DROPOUT);
    *out = m;
    return 0;
fail:
    ls_model_destroy(m);
    return rc;
}

void ls_model_destroy(ls_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < MAX_STACKS; i++)
        stack_destroy(m, m->stacks[i]);
    ls_lstm_scratch_release(&m->scratch);
    if (m->stream)
        dnnl_stream_destroy(m->stream);
    if (m->engine)
        dnnl_engine_destroy(m->engine);
    ls_free(m->p);
    ls_free(m->g);
    ls_free(m->adam_m);
    ls_free(m->adam_v);
    ls_free(m);
}

const ls_model_config *ls_model_config_of(const ls_model *m) { return &m->cfg; }
size_t ls_model_nparams(const ls_model *m) { return m->nparams; }
float *ls_model_params(ls_model *m) { return m->p; }
const float *ls_model_grads(const ls_model *m) { return m->g; }

ls_model_state ls_model_state_of(ls_model *m)
{
    return (ls_model_state){m->adam_m, m->adam_v, &m->adam_t, &m->dropout_rng};
}

const float *ls_model_input_grad(const ls_model *m)
{
    return m->last_train ? m->last_train->dx : NULL;
}

/* Bytes of a stack for batch n, but for the shared scratchpad, whose size
 * the stack needs goes to *scratch (raised, never lowered). */
static size_t stack_estimate(const ls_model_config *c, dnnl_engine_t e,
                             ls_precision prec, int n, int train,
                             size_t *scratch)
{
    size_t b = stack_own_bytes(c, n, train);
    for (int l = 0; l < c->L; l++) {
        size_t ls = 0;
        size_t lb = ls_lstm_estimate_bytes_prec(e, c->cell,
                                                prec, c->T,
                                                n, ls_model_layer_in(c, l), c->H,
                                                train, &ls);
        if (!lb)
            return 0;
        b += lb;
        *scratch = ls > *scratch ? ls : *scratch;
    }
    return b;
}

size_t ls_model_estimate_bytes(const ls_model_config *c, size_t n_train,
                               size_t n_test)
{
    dnnl_engine_t e;
    ls_precision prec;
    char note[160];
    size_t np, b, s, scratch = 0;
    size_t eb = c->eval_batch > 0 ? (size_t)c->eval_batch : 1;
    /* The batch sizes that will run: full and partial, training and
     * inference. */
    int parts[4][2] = {{c->batch, 1}, {(int)(n_train % (size_t)c->batch), 1},
                       {(int)(n_test < eb ? n_test : eb), 0},
                       {n_test > eb ? (int)(n_test % eb) : 0, 0}};

    if (check_config(c, NULL) || c->eval_batch < 1 ||
        dnnl_engine_create(&e, dnnl_cpu, 0) != dnnl_success)
        return 0;
    if (resolve_precision(c, e, &prec, note, sizeof note, NULL)) {
        dnnl_engine_destroy(e);
        return 0;
    }
    np = ls_model_config_nparams(c);
    b = sizeof(ls_model) + 4 * np * sizeof(float);
    for (int i = 0; i < 4; i++) {
        if (i == 0 && n_train < (size_t)c->batch)
            continue; /* only the partial batch ever runs */
        if (parts[i][0] < 1)
            continue;
        if (!(s = stack_estimate(c, e, prec, parts[i][0], parts[i][1], &scratch))) {
            b = 0;
            break;
        }
        b += s;
    }
    dnnl_engine_destroy(e);
    return b ? b + scratch : 0;
}

/* ---- forward ------------------------------------------------------------ */

/* Inverted dropout: keep with probability 1-p and scale by 1/(1-p), so
 * inference needs no rescaling. */
static void dropout_apply(ls_rng *r, float p, const float *in, float *mask,
                          float *out, size_t count)
{
    float keep_scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < count; i++) {
        mask[i] = ls_rng_float(r) < p ? 0.0f : keep_scale;
        out[i] = in[i] * mask[i];
    }
}

/* LSTM layers, then the dense layer: fills s->logits.  Returns h_last, the
 * (n, H) input of the dense layer, through *h_last. */
static int forward(ls_model *m, stack *s, const float *x, int dropout,
                   const float **h_last, ls_err *err)
{
    const ls_model_config *c = &m->cfg;
    size_t nH = (size_t)s->n * c->H, last = (size_t)(c->T - 1) * nH;
    const float *in = x;
    int rc;

    for (int l = 0; l < c->L; l++) {
        const float *wl = section(m, m->p, 3 * l), *wi = section(m, m->p, 3 * l + 1);
        const float *b = section(m, m->p, 3 * l + 2);
        rc = s->chain && l > 0
           ? ls_lstm_forward_chained(s->layer[l], m->stream, s->layer[l - 1], wl, wi, b,
                                     s->dst[l], err)
           : ls_lstm_forward(s->layer[l], m->stream, in, wl, wi, b, s->dst[l], err);
        if (rc)
            return rc;
        in = s->dst[l];
        if (dropout && l < c->L - 1) {
            dropout_apply(&m->dropout_rng, c->dropout, s->dst[l], s->mask[l],
                          s->drop[l], (size_t)c->T * nH);
            in = s->drop[l];
        }
    }
    *h_last = s->dst[c->L - 1] + last;
    if (dropout) {
        dropout_apply(&m->dropout_rng, c->dropout, *h_last, s->mask[c->L - 1],
                      s->drop[c->L - 1], nH);
        *h_last = s->drop[c->L - 1];
    }
    return ls_model_logits(m, *h_last, s->n, s->logits, err);
}

int ls_model_logits(const ls_model *m, const float *h, int n, float *logits,
                    ls_err *err)
{
    const ls_model_config *c = &m->cfg;
    /* logits = h . W + b */
    const float *w = section(m, m->p, 3 * c->L), *bias = section(m, m->p, 3 * c->L + 1);
    for (int i = 0; i < n; i++)
        memcpy(logits + (size_t)i * c->C, bias, c->C * sizeof(float));
    dnnl_status_t st = dnnl_sgemm('N', 'N', n, c->C, c->H, 1.0f, h, c->H, w,
                                  c->C, 1.0f, logits, c->C);
    if (st != dnnl_success)
        return ls_err_set(err, LS_EDNNL, "oneDNN: sgemm: %s", dnnl_status2str(st));
    return 0;
}

/* Softmax of each row of logits (n, C) in place. */
static void softmax_rows(float *z, int n, int C)
{
    for (int i = 0; i < n; i++) {
        float *r = z + (size_t)i * C, mx = r[0];
        double sum = 0;
        for (int k = 1; k < C; k++)
            mx = r[k] > mx ? r[k] : mx;
        for (int k = 0; k < C; k++)
            sum += (r[k] = expf(r[k] - mx));
        for (int k = 0; k < C; k++)
            r[k] = (float)(r[k] / sum);
    }
}

static int argmax(const float *r, int C)
{
    int best = 0;
    for (int k = 1; k < C; k++)
        if (r[k] > r[best])
            best = k;
    return best;
}

/* Turn logits into probabilities; mean cross-entropy loss, errors, and
 * dLoss/dlogits = (p - onehot(y)) / n.  The loss is computed in log-sum-exp
 * form from the logits (not as -log p), so it is exact for confident
 * predictions and turns NaN or infinite only when the logits do, which is
 * what flags a diverged job. */
static void softmax_xent(stack *s, const int32_t *y, int C, double *loss,
                         int *wrong)
{
    double total = 0;
    int bad = 0;
    float inv_n = 1.0f / (float)s->n;

    for (int i = 0; i < s->n; i++) {
        float *z = s->logits + (size_t)i * C;
        float *d = s->dlogits + (size_t)i * C;
        double mx = z[0], sum = 0;
        for (int k = 1; k < C; k++)
            mx = z[k] > mx ? z[k] : mx;
        for (int k = 0; k < C; k++)
            sum += exp((double)z[k] - mx);
        total += mx + log(sum) - (double)z[y[i]];
        bad += argmax(z, C) != y[i];
        for (int k = 0; k < C; k++) {
            float p = (float)(exp((double)z[k] - mx) / sum);
            d[k] = (p - (k == y[i] ? 1.0f : 0.0f)) * inv_n;
        }
    }
    if (loss)
        *loss = total / s->n;
    if (wrong)
        *wrong = bad;
}

/* ---- backward ----------------------------------------------------------- */

static int dense_backward(ls_model *m, stack *s, const float *h_last,
                          ls_err *err)
{
    const ls_model_config *c = &m->cfg;
    float *gw = section(m, m->g, 3 * c->L), *gb = section(m, m->g, 3 * c->L + 1);
    const float *w = section(m, m->p, 3 * c->L);
    dnnl_status_t st;

    /* dW = h_last^T . dlogits;  db = column sums;  dh = dlogits . W^T */
    st = dnnl_sgemm('T', 'N', c->H, c->C, s->n, 1.0f, h_last, c->H,
                    s->dlogits, c->C, 0.0f, gw, c->C);
    if (st == dnnl_success)
        st = dnnl_sgemm('N', 'T', s->n, c->H, c->C, 1.0f, s->dlogits, c->C, w,
                        c->C, 0.0f, s->dh, c->H);
    if (st != dnnl_success)
        return ls_err_set(err, LS_EDNNL, "oneDNN: sgemm: %s", dnnl_status2str(st));
    memset(gb, 0, c->C * sizeof(float));
    for (int i = 0; i < s->n; i++)
        for (int k = 0; k < c->C; k++)
            gb[k] += s->dlogits[(size_t)i * c->C + k];
    return 0;
}

static void mul_inplace(float *a, const float *b, size_t count)
{
    for (size_t i = 0; i < count; i++)
        a[i] *= b[i];
}

static int lstm_backward(ls_model *m, stack *s, const float *x, int dropout,
                         ls_err *err)
{
    const ls_model_config *c = &m->cfg;
    size_t nH = (size_t)s->n * c->H, TnH = (size_t)c->T * nH;
    float *last = s->diff[c->L - 1] + (size_t)(c->T - 1) * nH;
    int rc;

    /* Only the last step feeds the classifier: the rest of diff[L-1] stays
     * zero from allocation. */
    memcpy(last, s->dh, nH * sizeof(float));
    if (dropout)
        mul_inplace(last, s->mask[c->L - 1], nH);
    for (int l = c->L - 1; l >= 0; l--) {
        const float *in = l == 0 ? x : (dropout ? s->drop[l - 1] : s->dst[l - 1]);
        float *diff_in = l == 0 ? s->dx : s->diff[l - 1];
        rc = ls_lstm_backward(s->layer[l], m->stream, in,
                              section(m, m->p, 3 * l), section(m, m->p, 3 * l + 1),
                              section(m, m->p, 3 * l + 2), s->dst[l], s->diff[l],
                              diff_in, section(m, m->g, 3 * l),
                              section(m, m->g, 3 * l + 1),
                              section(m, m->g, 3 * l + 2), err);
        if (rc)
            return rc;
        if (dropout && l > 0)
            mul_inplace(diff_in, s->mask[l - 1], TnH);
    }
    return 0;
}

int ls_model_forward_backward(ls_model *m, const float *x, const int32_t *y,
                              int n, int train, double *loss, int *wrong,
                              ls_err *err)
{
    int dropout = train && m->cfg.dropout > 0;
    const float *h_last;
    stack *s;
    int rc;

    if ((rc = get_stack(m, n, 1, &s, err)))
        return rc;
    m->last_train = s;
    if ((rc = forward(m, s, x, dropout, &h_last, err)))
        return rc;
    softmax_xent(s, y, m->cfg.C, loss, wrong);
    if ((rc = dense_backward(m, s, h_last, err)))
        return rc;
    return lstm_backward(m, s, x, dropout, err);
}

void ls_model_adam_step(ls_model *m, float lr)
{
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    long t = ++m->adam_t;
    float c1 = 1.0f / (1.0f - powf(b1, (float)t));
    float c2 = 1.0f / (1.0f - powf(b2, (float)t));
    float *p = m->p, *mm = m->adam_m, *v = m->adam_v;
    const float *g = m->g;
    long n = (long)m->nparams;

#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (long i = 0; i < n; i++) {
        mm[i] = b1 * mm[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= lr * (mm[i] * c1) / (sqrtf(v[i] * c2) + eps);
    }
}

int ls_model_predict(ls_model *m, const float *x, int n, float *probs,
                     ls_err *err)
{
    const float *h_last;
    stack *s;
    int rc;

    if ((rc = get_stack(m, n, 0, &s, err)) ||
        (rc = forward(m, s, x, 0, &h_last, err)))
        return rc;
    softmax_rows(s->logits, n, m->cfg.C);
    memcpy(probs, s->logits, (size_t)n * m->cfg.C * sizeof(float));
    return 0;
}

size_t ls_model_areas(const ls_model *m, ls_area *out, size_t max)
{
    size_t bytes = m->nparams * sizeof(float), k = 0;
    const ls_area all[5] = {{m->p, bytes}, {m->g, bytes}, {m->adam_m, bytes},
                            {m->adam_v, bytes}, {m->scratch.buf, m->scratch.bytes}};
    for (int i = 0; i < 5; i++)
        if (all[i].addr && all[i].bytes && k < max)
            out[k++] = all[i];
    return k;
}
