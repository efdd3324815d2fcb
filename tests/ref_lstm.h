/* ref_lstm.h - an independent double-precision reference of the classifier
 * in model.h (same parameter layout), written from the cells' equations
 * and nothing else, for finite-difference gradient checks: the LSTM in
 * ref_lstm.c, the GRUs and the tanh RNN in ref_rnn.c. */
#ifndef LSTMSWEEP_REF_LSTM_H
#define LSTMSWEEP_REF_LSTM_H

#include <stdint.h>

#include "lstmsweep/model.h"

/* Mean softmax cross-entropy of the model with parameters p (layout of
 * model.h, for c->cell) on x (T, n, I) tnc, labels y; no dropout. */
double ref_lstm_loss(const ls_model_config *c, const double *p,
                     const double *x, const int32_t *y, int n);

/* The layers other than the LSTM (ref_rnn.c): in (T, n, I) -> out
 * (T, n, H); lbr selects the linear-before-reset GRU. */
void ref_gru_layer(int lbr, int T, int n, int I, int H, const double *wl,
                   const double *wi, const double *b, const double *in,
                   double *out);
void ref_rnn_layer(int T, int n, int I, int H, const double *wl,
                   const double *wi, const double *b, const double *in,
                   double *out);

/* Deliberate mistakes, for the mutation checks: a gradient check that
 * still passes with one of these set checks nothing.  0: none. */
enum { REF_MUTATE_NONE, REF_MUTATE_GRU_FORM /* gru <-> lbr-gru */ };
extern int ref_mutation;

#endif
