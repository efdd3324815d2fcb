/* model.h - an L-layer recurrent sequence classifier trained with Adam;
 * the recurrent cell is an LSTM (the default) or a GRU, a
 * linear-before-reset GRU or a tanh RNN (cell.h).  "LSTM layer" below
 * stands for a layer of any of them.
 *
 *   x (T, N, I) -> LSTM layer 0 -> [dropout] -> ... -> LSTM layer L-1
 *     -> [dropout] -> h at the last step (N, H) -> dense (H -> C) -> softmax
 *
 * loss = mean over the batch of -log softmax(logits)[label].
 *
 * The LSTM layers are oneDNN primitives (lstm.h); the dense layer uses
 * oneDNN's sgemm; softmax, dropout and Adam are small loops here.
 *
 * Parameters live in one flat float array, so Adam is one loop and a model
 * file is one block.  Sections, in this order (see ls_model_param_view):
 *   for each layer l:  w_layer[l] (I_l, G, H) ldigo, w_iter[l] (H, G, H)
 *                      ldigo, bias[l] (Gb, H) ldgo; I_0 = I, I_l = H after;
 *                      G = 4, gate order (i, f, c~, o) for the LSTM;
 *                      G = 3 (u, r, o) for gru and lbr-gru, whose bias
 *                      has Gb = 4 rows (u, r, o, u'); G = Gb = 1 for rnn
 *   dense w (H, C) row-major, dense b (C).
 * Gradients use the same layout.
 *
 * Initialization, every cell the same way: Keras/TensorFlow's
 * glorot_uniform over the whole kernel for the input weights, w_layer ~
 * U(+-sqrt(6/(I_l+G H))); a uniform recurrent matrix in place of Keras'
 * orthogonal one, w_iter ~ U(+-sqrt(6/(H+G H))); bias 0, except the LSTM's
 * forget gate at 1.0 (Keras' unit_forget_bias); the dense layer as the
 * bitcount reference tutorial does: w ~ N(0, 1) truncated at 2 sigma,
 * b = 0.1.  The LSTM's is unchanged from before the other cells (same
 * draws, same order).
 *
 * Errors: LS_EINVAL (bad shape), LS_ENOMEM, LS_EDNNL (oneDNN status text).
 * A model is used by one thread at a time; its oneDNN calls run on that
 * thread's OpenMP team.
 */
#ifndef LSTMSWEEP_MODEL_H
#define LSTMSWEEP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/cell.h"
#include "lstmsweep/error.h"
#include "lstmsweep/precision.h"

typedef struct ls_model_config {
    int T;          /* time steps */
    int I;          /* input features per step */
    int H;          /* hidden units per layer */
    int L;          /* LSTM layers */
    ls_cell cell;   /* recurrent cell (0 = lstm) */
    ls_precision precision; /* of the recurrent layers' training
                               primitives (0 = f32; bf16; auto), see
                               precision.h and ls_model_precision */
    int C;          /* classes */
    int batch;      /* training mini-batch size */
    int eval_batch; /* inference batch size (0: chosen from the shape) */
    float dropout;  /* drop rate on each LSTM layer's output, in [0, 1) */
    uint64_t seed;  /* initial weights and dropout masks */
} ls_model_config;

typedef struct ls_model ls_model;

/* One named section of the flat parameter (or gradient) array. */
typedef struct ls_param_view {
    const char *name;  /* "w_layer", "w_iter", "bias", "dense_w", "dense_b" */
    int layer;         /* LSTM layer, -1 for the dense layer */
    size_t offset;     /* floats from the start of the array */
    size_t count;      /* floats in the section */
} ls_param_view;

int ls_model_create(ls_model **out, const ls_model_config *cfg, ls_err *err);
void ls_model_destroy(ls_model *m);

const ls_model_config *ls_model_config_of(const ls_model *m);

/* Precision (precision.h): bf16 runs the recurrent layers' primitives
 * (training, and the inference ones of ls_model_predict) in bf16 from the
 * f32 parameters (lstm.h); the parameters, gradients, Adam state, dense
 * layer, loss, and so model files and checkpoints stay f32 (prefix.c's
 * bitcount evaluation is f32 too).  Stacked bf16 layers hand each other
 * bf16 activations (ls_lstm_forward_chained) unless dropout or padding
 * sits between them, with the same result bit for bit.
 * ls_model_create resolves cfg->precision: bf16 and auto take bf16 only
 * where oneDNN runs every layer's forward and backward on brgemm at the
 * training batch (ls_lstm_bf16_probe); otherwise bf16 fails with
 * LS_EINVAL naming the reason, and auto takes f32.  auto takes bf16 only
 * where oneDNN's ISA has AMX as well (ls_model_bf16_has_amx): without it
 * brgemm's bf16 step was measured slower than f32.  (A partial last batch
 * runs the same precision, whatever oneDNN picks for its size.) */
ls_precision ls_model_precision(const ls_model *m); /* f32 or bf16 */
/* Whether oneDNN's effective ISA includes AMX (avx512_core_amx). */
int ls_model_bf16_has_amx(void);
/* "precision auto: bf16 (brgemm fwd+bwd)", "precision auto: f32 (bf16
 * would run ref)" or "precision auto: f32 (brgemm without AMX)" for auto,
 * else "".  Owned by the model. */
const char *ls_model_precision_note(const ls_model *m);
/* Parameters a model of this shape holds (layout above), without creating
 * it: the check a model-file loader makes before allocating. */
size_t ls_model_config_nparams(const ls_model_config *cfg);
/* Input features of LSTM layer l: I for the first, H above it. */
int ls_model_layer_in(const ls_model_config *cfg, int l);
size_t ls_model_nparams(const ls_model *m);
float *ls_model_params(ls_model *m);
const float *ls_model_grads(const ls_model *m);
/* Number of sections (3 L + 2) and section k of the layout above. */
int ls_model_nviews(const ls_model *m);
ls_param_view ls_model_view(const ls_model *m, int k);

/* Gradient of the dropped-out input of the last ls_model_forward_backward:
 * dLoss/dx, (T, n, I) tnc. */
const float *ls_model_input_grad(const ls_model *m);

/* Forward and backward pass on one batch of n samples x (T, n, I) tnc with
 * labels y; fills the gradients.  *loss gets the mean loss and *wrong the
 * number of misclassified samples (either pointer may be NULL).  Any n >= 1
 * works; each new n builds its own primitives once.  `train` = 1 applies
 * dropout. */
int ls_model_forward_backward(ls_model *m, const float *x, const int32_t *y,
                              int n, int train, double *loss, int *wrong,
                              ls_err *err);

/* One Adam step (beta1 0.9, beta2 0.999, eps 1e-8) with the current
 * gradients. */
void ls_model_adam_step(ls_model *m, float lr);

/* Class probabilities probs (n, C) for x (T, n, I) with inference
 * primitives (no dropout). */
int ls_model_predict(ls_model *m, const float *x, int n, float *probs,
                     ls_err *err);

/* Dense layer only: logits (n, C) = h (n, H) . dense_w + dense_b, where h
 * is the top LSTM layer's last hidden state (what ls_model_predict feeds
 * it; prefix.c computes h its own way). */
int ls_model_logits(const ls_model *m, const float *h, int n, float *logits,
                    ls_err *err);

/* The optimizer and dropout state, exposed for checkpoints: Adam's moment
 * arrays (nparams floats each, layout of the parameters), its step count,
 * and the dropout mask generator.  Pointers into the model. */
typedef struct ls_model_state {
    float *adam_m, *adam_v;
    long *adam_t;
    struct ls_rng *dropout_rng;
} ls_model_state;

ls_model_state ls_model_state_of(ls_model *m);

/* Multiply-adds of one forward pass over one sample, times 2 (FLOPs);
 * a training step costs about 3x this per sample. */
double ls_model_flops_per_sample(const ls_model_config *cfg);

/* Bytes a model of this config will hold once it has trained on
 * n_train samples (batches of cfg->batch plus a partial batch) and
 * evaluated n_test samples in batches of cfg->eval_batch: parameters, Adam
 * state, activations, the buffers it gives oneDNN (workspaces,
 * scratchpads, weights in oneDNN's layouts, states) and its own structs,
 * all computed without allocating (the scheduler's memory budget): exactly
 * the bytes it then holds through ls_alloc (alloc.h), which is everything
 * but oneDNN's own small allocations (primitives, memory objects).
 * 0 on failure. */
size_t ls_model_estimate_bytes(const ls_model_config *cfg, size_t n_train,
                               size_t n_test);

/* The model's large buffers: parameters, gradients, Adam's moments and
 * the shared oneDNN scratchpad (up to max into out): how many. */
size_t ls_model_areas(const ls_model *m, ls_area *out, size_t max);

#endif
