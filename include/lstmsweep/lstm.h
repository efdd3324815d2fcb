/* lstm.h - one unidirectional recurrent layer on oneDNN's RNN primitives:
 * an LSTM (`lstm`), or with ls_lstm_create_cell a GRU (`gru`), a
 * linear-before-reset GRU (`lbr_gru`) or a tanh RNN (`vanilla_rnn`), see
 * cell.h.  The name stays ls_lstm; every function takes any cell.
 *
 * An ls_lstm holds the primitives, layouts, workspace and scratchpad of one
 * layer for one (T, N, I, H) shape, created once and executed every step:
 * nothing is allocated or created on the hot path.  A training layer has a
 * forward_training and a backward primitive sharing one workspace; an
 * inference layer has a forward_inference primitive only.
 *
 * The caller owns all tensors and passes them per call (they are bound with
 * dnnl_memory_set_data_handle, which costs nothing):
 *   src      (T, N, I)  tnc      input sequence
 *   dst      (T, N, H)  tnc      hidden state of every step
 *   w_layer  (I, G, H)  ldigo    input weights, gates in oneDNN order
 *                                (i, f, c~, o) for the LSTM, G = 4;
 *                                (u, r, o) for the GRUs, G = 3; G = 1 RNN
 *   w_iter   (H, G, H)  ldigo    recurrent weights
 *   bias     (Gb, H)    ldgo     Gb = G, but 4 for lbr-gru (u, r, o, u')
 * (G and Gb: ls_cell_gates, ls_cell_bias_gates.)
 * The initial states h0 (and c0 for the LSTM) are zero.  They are passed
 * to oneDNN as explicit zero tensors, never as NULL: oneDNN 2.6.3 computes
 * a wrong diff_weights_iter when the initial state is omitted, for the
 * LSTM and (measured by tests/check_model.c) for the tanh RNN; the GRUs'
 * gradients were right either way, and get explicit states all the same
 * (shared/docs/onednn-2.6.md; check_model catches a regression).
 * LSTMSWEEP_IMPLICIT_STATES=1 in the environment at creation passes NULL
 * instead, to reproduce the trap in tests; never use it otherwise.
 *
 * Precision (precision.h; ls_lstm_create_prec): an f32 layer computes in
 * f32 on the caller's tensors.  A bf16 layer (mixed precision) keeps the
 * same f32 interface: it converts src into a bf16 copy of its own and
 * reorders the f32 master weights into the bf16 layouts oneDNN picked (one
 * reorder for the forward, one for the backward, each step: the two
 * primitives want different ones), runs oneDNN on bf16 src, weights, h
 * and dst with f32 bias and cell state, and hands back dst converted to
 * f32; backward reads its own bf16 src and dst again and returns f32
 * gradients (oneDNN 2.6.3 takes f32 diffs only).  Stacked bf16 layers
 * can hand each other their bf16 activations directly instead
 * (ls_lstm_forward_chained), where no dropout and no padding sits
 * between them.
 *
 * An f32 inference LSTM or RNN layer takes its weights in format `any` (and
 * so oneDNN's brgemm forward_inference instead of the reference RNN),
 * reordered from the caller's ldigo at each call, where brgemm measured
 * faster: one-step layers of H < 128 and sequences of H >= 256 (lstm.c,
 * fwd_weights_any); LSTMSWEEP_INFER_ANY=1 / =0 in the environment at
 * creation forces `any` / ldigo.
 *
 * Errors: LS_EDNNL with dnnl_status2str() text, LS_ENOMEM.  Not thread-safe:
 * one ls_lstm is used by one thread (whose OpenMP team oneDNN then uses).
 */
#ifndef LSTMSWEEP_LSTM_H
#define LSTMSWEEP_LSTM_H

#include <stddef.h>

#include <oneapi/dnnl/dnnl.h>

#include "lstmsweep/cell.h"
#include "lstmsweep/error.h"
#include "lstmsweep/precision.h"

typedef struct ls_lstm ls_lstm;
struct ls_lstm_scratch;

/* The general constructor: a layer of `cell` with Hp >= H hidden units in
 * its primitives (0: ls_lstm_padded_hidden(H)), its scratchpad on
 * `scratch` if non-NULL (see ls_lstm_create_shared), else its own.  The
 * three below are it for the LSTM. */
int ls_lstm_create_cell(ls_lstm **out, dnnl_engine_t engine, ls_cell cell,
                        int T, int N, int I, int H, int Hp, int training,
                        struct ls_lstm_scratch *scratch, ls_err *err);
/* The same in a given precision, LS_PREC_F32 or LS_PREC_BF16 (not auto:
 * LS_EINVAL).  A bf16 layer is created whichever implementation oneDNN
 * picks (its reference path emulates bf16, slowly): ls_lstm_bf16_probe
 * first to know. */
int ls_lstm_create_prec(ls_lstm **out, dnnl_engine_t engine, ls_cell cell,
                        ls_precision prec, int T, int N, int I, int H, int Hp,
                        int training, struct ls_lstm_scratch *scratch,
                        ls_err *err);

/* Whether oneDNN runs a bf16 layer of this shape (H padded as
 * ls_lstm_create pads it) on its brgemm implementation: the forward, and
 * for training the backward too.  1 if so, else 0; why (capacity len, may
 * be NULL) says "brgemm fwd+bwd", "bf16 would run ref:any" or "oneDNN
 * refuses bf16 gru here: unimplemented".  Creates primitive descriptors
 * only (a few ms); allocates nothing the caller sees. */
int ls_lstm_bf16_probe(dnnl_engine_t engine, ls_cell cell, int T, int N, int I,
                       int H, int training, char *why, size_t len);

/* oneDNN's implementation string of the layer's forward (backward = 0) or
 * backward primitive, e.g. "brgemm:avx512_core_amx" or "ref:any"; owned
 * by oneDNN, valid while the layer lives; "" if there is none. */
const char *ls_lstm_impl(const ls_lstm *l, int backward);
ls_precision ls_lstm_precision(const ls_lstm *l);

int ls_lstm_create(ls_lstm **out, dnnl_engine_t engine, int T, int N, int I,
                   int H, int training, ls_err *err);

/* The same with the primitives' hidden size given: Hp >= H units, of which
 * the Hp - H extra ones have zero weights and bias and so output exactly 0.
 * The caller still sees (T, N, H) tensors and (I|H, 4, H) weights: the pads
 * live inside the layer.  Tests use it to compare Hp = H with Hp > H. */
int ls_lstm_create_padded(ls_lstm **out, dnnl_engine_t engine, int T, int N,
                          int I, int H, int Hp, int training, ls_err *err);

/* oneDNN's scratchpad is temporary memory of one primitive execution, as
 * large as a layer's workspace for training (593 MB a layer at mnist
 * H256 B1000).  Layers that never execute at the same time, as the layers
 * of one model on one thread, can share one instead of owning one each:
 * create them on the same ls_lstm_scratch.  The scratch grows to the
 * largest need of the layers created on it; they read its buffer at each
 * call, so growing it later is safe.  The caller owns it (zero-initialize,
 * then ls_lstm_scratch_release after destroying its layers). */
typedef struct ls_lstm_scratch {
    void *buf;
    size_t bytes;
} ls_lstm_scratch;

int ls_lstm_create_shared(ls_lstm **out, dnnl_engine_t engine, int T, int N,
                          int I, int H, int training, ls_lstm_scratch *scratch,
                          ls_err *err);
void ls_lstm_scratch_release(ls_lstm_scratch *scratch);

/* The hidden size ls_lstm_create gives the primitives for H: H rounded up
 * to the vector width of oneDNN's element-wise LSTM kernel on this CPU (16
 * floats with AVX-512), because oneDNN 2.6 runs the remainder of that
 * kernel one scalar at a time (at H=24 a step was slower than at H=32).
 * LSTMSWEEP_PAD=0 in the environment turns the padding off. */
int ls_lstm_padded_hidden(int H);
void ls_lstm_destroy(ls_lstm *l);

/* Declare that the caller reads only the last step of dst and passes a
 * diff_dst that is zero outside its last step, as a classifier on the final
 * hidden state does.  A padded layer then copies that one step between its
 * padded tensors and the caller's instead of all T (at bitcount H24 the
 * whole-sequence copies were 5% of a step); dst's other steps are left
 * unwritten.  Without padding nothing changes.  Off at creation. */
void ls_lstm_set_last_step_only(ls_lstm *l, int on);

/* Bytes ls_lstm_create would allocate (through ls_alloc) for this shape:
 * workspace, scratchpad, weight copies in oneDNN's layouts, states, padded
 * copies and the layer itself; from oneDNN's primitive descriptors alone
 * (nothing is allocated); 0 if oneDNN rejects the shape.
 * With scratch non-NULL, the scratchpad is left out of the sum and stored
 * there: what ls_lstm_create_shared needs of its ls_lstm_scratch. */
size_t ls_lstm_estimate_bytes(dnnl_engine_t engine, int T, int N, int I,
                              int H, int training, size_t *scratch);
/* The same for a layer of any cell (ls_lstm_create_cell with Hp = 0). */
size_t ls_lstm_estimate_bytes_cell(dnnl_engine_t engine, ls_cell cell, int T,
                                   int N, int I, int H, int training,
                                   size_t *scratch);
/* ... and of any precision (ls_lstm_create_prec with Hp = 0). */
size_t ls_lstm_estimate_bytes_prec(dnnl_engine_t engine, ls_cell cell,
                                   ls_precision prec, int T, int N, int I,
                                   int H, int training, size_t *scratch);

/* dst = LSTM(src).  In a training layer this also fills the workspace the
 * next ls_lstm_backward needs. */
int ls_lstm_forward(ls_lstm *l, dnnl_stream_t s, const float *src,
                    const float *w_layer, const float *w_iter,
                    const float *bias, float *dst, ls_err *err);

/* bf16 layers stacked on each other can skip the conversions between
 * them: l reads the bf16 dst that `below` (the layer under it) wrote in
 * its last forward as its own bf16 src, and its backward reads it there
 * again, so `below` must not run forward between l's forward and l's
 * backward (as in a model's step).  The result is bit for bit what the
 * f32 hand-over gives (bf16 -> f32 -> bf16 is exact).  It needs both
 * bf16, `below` unpadded (H a multiple of the padding width) with H equal
 * to l's I, and the same T and N: ls_lstm_can_chain says so (1, else 0).
 * ls_lstm_set_dst_unread(below, 1) then spares `below` writing the f32
 * dst nobody reads (ls_lstm_forward's dst is left unwritten). */
int ls_lstm_can_chain(const ls_lstm *below, const ls_lstm *l);
int ls_lstm_forward_chained(ls_lstm *l, dnnl_stream_t s, const ls_lstm *below,
                            const float *w_layer, const float *w_iter,
                            const float *bias, float *dst, ls_err *err);
void ls_lstm_set_dst_unread(ls_lstm *l, int on);

/* Forward on an inference layer from given initial states h0, c0 (N, H)
 * instead of zero; also returns the final cell state c_last (N, H) (the
 * final hidden state is dst's last step).  For evaluations that continue
 * shared prefixes (prefix.h).  Cells without a cell state (all but the
 * LSTM) ignore c0 and c_last, which may then be NULL.  f32 layers only
 * (LS_EINVAL on a bf16 one). */
int ls_lstm_forward_states(ls_lstm *l, dnnl_stream_t s, const float *src,
                           const float *w_layer, const float *w_iter,
                           const float *bias, const float *h0, const float *c0,
                           float *dst, float *c_last, ls_err *err);

/* Backward pass of the last ls_lstm_forward (same src, weights, dst: a
 * padded layer uses the copies of weights and dst it made in that forward).
 * diff_dst (T, N, H) is dLoss/d dst; outputs diff_src (T, N, I) and the
 * weight gradients in the user layouts above, overwritten (not
 * accumulated).  All pointers must be non-NULL. */
int ls_lstm_backward(ls_lstm *l, dnnl_stream_t s, const float *src,
                     const float *w_layer, const float *w_iter,
                     const float *bias, const float *dst,
                     const float *diff_dst, float *diff_src,
                     float *grad_w_layer, float *grad_w_iter,
                     float *grad_bias, ls_err *err);

#endif
