/* cost.c - see include/lstmsweep/cost.h. */
#include "lstmsweep/cost.h"
#include "lstmsweep/train.h"

#include <math.h>

#include "lstmsweep/lstm.h"
#include "lstmsweep/prefix.h"

/* Nominal MNIST / Fashion-MNIST split. */
#define MNIST_TRAIN 60000
#define MNIST_TEST 10000

ls_model_config ls_cost_shape(const ls_job *j)
{
    int bit = j->task == LS_TASK_BITCOUNT;
    return (ls_model_config){.T = bit ? j->bits : 28, .I = bit ? 1 : 28,
                             .H = j->hidden, .L = j->layers, .cell = j->cell,
                             .precision = j->precision,
                             .C = bit ? j->bits + 1 : 10};
}

double ls_job_flops_per_sample(const ls_job *j)
{
    ls_model_config c = ls_cost_shape(j);
    return ls_model_flops_per_sample(&c);
}

int ls_job_useful_threads(const ls_job *j)
{
    /* Padded FLOPs of one training step (3 x forward), as the primitives
     * run it.  Measured on 2 cores (bitcount, 1 vs 2 threads): 1.4-10
     * MFLOP steps ran 0.64-0.88x as fast on 2 threads, ~40-50 MFLOP the
     * same, 80-100 MFLOP 1.1-1.3x, 290+ MFLOP 1.65x: a thread pays off
     * for each ~40 MFLOP of a step. */
    ls_model_config c = ls_cost_shape(j);
    double Hp = ls_lstm_padded_hidden(c.H), f = 0, G = ls_cell_gates(c.cell);
    for (int l = 0; l < c.L; l++)
        f += 2.0 * c.T * G * Hp * (ls_model_layer_in(&c, l) + Hp);
    double step = 3.0 * f * j->batch;
    int k = (int)(step / 40e6);
    return k < 1 ? 1 : k;
}

void ls_cost_samples(const ls_job *j, size_t *n_train, size_t *n_eval)
{
    if (j->task == LS_TASK_BITCOUNT) {
        *n_train = (size_t)j->train_size;
        *n_eval = ((size_t)1 << j->bits) - *n_train;
        return;
    }
    size_t val = (size_t)ls_job_val_size(j);
    size_t train = val < MNIST_TRAIN ? MNIST_TRAIN - val : 0;
    *n_train = j->train_size > 0 && (size_t)j->train_size < train ? (size_t)j->train_size
                                                                  : train;
    *n_eval = MNIST_TEST + val;
}

/* Fitted on this project's reference VM (oneDNN 2.6.3, AVX-512, sgemm ~74
 * GFLOP/s per core): a training step costs its FLOPs at ~60 GFLOP/s plus
 * ~56 ns per (sample, unit) per step and layer (the element-wise gate work
 * that dominates small H) plus ~20 us per step and layer; inference costs
 * ~0.4 of a training step per sample.  Fitted on the LSTM; the other cells'
 * element-wise work is taken as G/4 of it (bitcount H24 B1000 training,
 * measured against the LSTM: gru 0.7x, lbr-gru 0.85x, rnn 0.3x the time). */
#define COST_FLOPS 60e9
#define COST_ELEM 56e-9
#define COST_STEP 20e-6
#define COST_INFER 0.4
/* bf16 mixed precision (precision.h) speeds up a training step's GEMMs by
 * ~4x and its element-wise work by ~1.5x: fitted on bench_step --bf16 on
 * a 2-core Sapphire Rapids VM with AMX (README "bf16 mixed precision":
 * H24 1.4-1.7x, H128 1.8-2.2x, H256 2-3.4x the f32 step).  Evaluation
 * stays f32.  The model reads no machine, so auto counts as bf16 for the
 * cells oneDNN 2.6.3 runs in bf16 on brgemm (lstm, rnn), as on a CPU with
 * AMX; without AMX auto runs f32 (model.c), and these jobs' estimates are
 * short, which changes only the order jobs start in and the ETA. */
#define COST_BF16_GEMM 4.0
#define COST_BF16_ELEM 1.5

static int runs_bf16(const ls_job *j)
{
    return j->precision == LS_PREC_BF16 ||
           (j->precision == LS_PREC_AUTO &&
            (j->cell == LS_CELL_LSTM || j->cell == LS_CELL_RNN));
}

double ls_cost_seconds(const ls_job *j, size_t n_train, size_t n_eval,
                       int eval_every)
{
    ls_model_config c = ls_cost_shape(j);
    double gemm = 3 * ls_model_flops_per_sample(&c) / COST_FLOPS;
    double elem = (double)c.T * c.L * COST_ELEM * c.H * ls_cell_gates(c.cell) / 4.0;
    double step = (double)c.T * c.L * COST_STEP / j->batch;
    double per_sample = gemm + elem + step; /* f32 */
    double train = runs_bf16(j) ? gemm / COST_BF16_GEMM + elem / COST_BF16_ELEM + step
                                : per_sample;
    int evals = j->epochs / eval_every + (j->epochs % eval_every != 0);
    double infer = j->task == LS_TASK_BITCOUNT /* down the prefix tree */
                       ? COST_INFER * ls_prefix_eval_cost(j->bits) : COST_INFER;
    if (!runs_bf16(j)) /* (kept in the f32 form the estimates had before) */
        return per_sample * ((double)n_train * j->epochs +
                             infer * (double)n_eval * evals);
    return train * (double)n_train * j->epochs +
           per_sample * infer * (double)n_eval * evals;
}

double ls_cost_speedup(int k)
{
    return pow((double)k, LS_COST_SPEEDUP_EXP);
}

double ls_cost_job_seconds(const ls_job *j, int *eval_every)
{
    size_t n_train, n_eval;
    ls_cost_samples(j, &n_train, &n_eval);
    /* The auto rule (train.h) reads only a data set's kind, bits and
     * counts, so a data set that is only those stands in for one not
     * loaded. */
    ls_dataset counts = {.kind = j->task == LS_TASK_BITCOUNT ? LS_DATA_BITCOUNT : LS_DATA_IMAGES,
                         .n_train = n_train, .n_test = n_eval, .bits = j->bits};
    int every = j->eval_every > 0 ? j->eval_every : ls_train_auto_eval_every(&counts);
    if (eval_every)
        *eval_every = every;
    return ls_cost_seconds(j, n_train, n_eval, every);
}
