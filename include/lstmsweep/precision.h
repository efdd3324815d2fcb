/* precision.h - the arithmetic of a job's recurrent layers (the job key
 * `precision`):
 *
 *   f32   everything in f32 (the default; oneDNN 2.6.3 runs f32 training
 *         on its reference, GEMM-based RNN)
 *   bf16  mixed precision: the recurrent primitives read and write bf16
 *         inputs, weights and hidden states (oneDNN's brgemm RNN), while
 *         the master weights, gradients, Adam, the cell state, the bias,
 *         the dense layer and the loss stay f32 (lstm.h)
 *   auto  bf16 where oneDNN runs both training primitives of every layer
 *         on brgemm for the job's shape, else f32 (ls_lstm_bf16_probe)
 *
 * A job's row holds what ran, f32 or bf16; the job key what was asked.
 * LS_PREC_F32 is 0, so a zero-initialized job or config is f32.
 * Pure functions: thread-safe, cannot fail.
 */
#ifndef LSTMSWEEP_PRECISION_H
#define LSTMSWEEP_PRECISION_H

typedef enum {
    LS_PREC_F32 = 0,
    LS_PREC_BF16 = 1,
    LS_PREC_AUTO = 2
} ls_precision;

#define LS_NPRECS 3

/* "f32", "bf16", "auto" ("?" out of range). */
const char *ls_precision_name(ls_precision p);
/* The name -> precision; LS_EINVAL for anything else. */
int ls_precision_parse(const char *name, ls_precision *p);

#endif
