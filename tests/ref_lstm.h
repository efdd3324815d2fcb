/* ref_lstm.h - an independent double-precision reference of the classifier
 * in model.h (same parameter layout), written from the LSTM equations and
 * nothing else, for finite-difference gradient checks. */
#ifndef LSTMSWEEP_REF_LSTM_H
#define LSTMSWEEP_REF_LSTM_H

#include <stdint.h>

#include "lstmsweep/model.h"

/* Mean softmax cross-entropy of the model with parameters p (layout of
 * model.h) on x (T, n, I) tnc, labels y; no dropout. */
double ref_lstm_loss(const ls_model_config *c, const double *p,
                     const double *x, const int32_t *y, int n);

#endif
