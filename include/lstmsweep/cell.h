/* cell.h - the recurrent cells a model can be built of, and what every
 * part that sizes or lays out a layer needs to know about them.
 *
 *   lstm     oneDNN's `lstm`: gates (i, f, c~, o), a cell state c beside h
 *   gru      oneDNN's `gru` (dnnl_vanilla_gru), the TensorFlow/Keras form
 *            with reset_after=False: the reset gate multiplies h_{t-1}
 *            before the recurrent product; gates (u, r, o)
 *   lbr-gru  oneDNN's linear-before-reset GRU (dnnl_lbr_gru), the
 *            PyTorch/cuDNN form (and Keras' reset_after=True): the reset
 *            gate multiplies the recurrent product, which has its own
 *            bias; gates (u, r, o), bias (u, r, o, u') with u' the
 *            recurrent candidate bias
 *   rnn      oneDNN's vanilla RNN with tanh: h_t = tanh(W x + U h + b)
 *
 * Layouts (model.h): weights (I, G, H) and (H, G, H) ldigo, bias (Gb, H)
 * ldgo with G = ls_cell_gates and Gb = ls_cell_bias_gates.
 *
 * LS_CELL_LSTM is 0, so a zero-initialized config or job is an LSTM.
 * Everything here is a pure function: thread-safe, cannot fail.
 */
#ifndef LSTMSWEEP_CELL_H
#define LSTMSWEEP_CELL_H

typedef enum {
    LS_CELL_LSTM = 0,
    LS_CELL_GRU = 1,
    LS_CELL_LBR_GRU = 2,
    LS_CELL_RNN = 3
} ls_cell;

#define LS_NCELLS 4

/* "lstm", "gru", "lbr-gru", "rnn" ("?" out of range). */
const char *ls_cell_name(ls_cell cell);
/* The name (as above; "lbr_gru" accepted too) -> cell; LS_EINVAL else. */
int ls_cell_parse(const char *name, ls_cell *cell);
/* Gates of the weight matrices: 4, 3, 3, 1. */
int ls_cell_gates(ls_cell cell);
/* Gates of the bias: 4, 3, 4, 1. */
int ls_cell_bias_gates(ls_cell cell);
/* 1 for the LSTM (a cell state c besides h), else 0. */
int ls_cell_has_c(ls_cell cell);

#endif
