/* prefix.h - bitcount evaluation over the prefix tree of the strings.
 *
 * The bitcount test set is every string of `bits` bits but the training
 * and validation ones: 1,028,576 strings of 20 steps for the reference task, which made a
 * test evaluation cost as much as ~33 training epochs.  An LSTM's state
 * after k steps depends only on the first k bits, and all 2^bits strings
 * share their prefixes, so evaluating them level by level down the binary
 * prefix tree runs 2^(k+1) cells at depth k+1 instead of 2^bits, about
 * 2 * 2^bits cells in all instead of bits * 2^bits.  The result is the same
 * test error (every test string's prediction comes from the same weights
 * and the same arithmetic, up to float rounding order), for ~1/7 of the
 * work at 20 bits.
 *
 * How: the first m levels (2^m = nmax, a power of two whose one-step gates
 * fill ~256 KiB, 512 at H24) run as one m-step sequence batch from zero
 * states; below that, the
 * tree is walked depth first in chunks of nmax nodes: nmax/2 parents give
 * nmax children, one step of the LSTM stack from the parents' states.
 * Every oneDNN call is an inference LSTM primitive with N = nmax, so
 * memory is bounded: one chunk of states per level.
 *
 * Every cell (cell.h) works: the LSTM carries (h, c) down the tree, the
 * GRUs and the RNN h alone (no cell-state buffers are allocated for them).
 *
 * Ownership: an ls_prefix_eval holds its own oneDNN layers and buffers
 * (their bytes estimated exactly beforehand by
 * ls_prefix_eval_estimate_bytes) and reads the model's parameters at each
 * evaluation.  Errors: LS_EINVAL (not a bitcount data set, or a shape it
 * does not apply to), LS_ENOMEM, LS_EDNNL.
 */
#ifndef LSTMSWEEP_PREFIX_H
#define LSTMSWEEP_PREFIX_H

#include <stddef.h>

#include "lstmsweep/dataset.h"
#include "lstmsweep/error.h"
#include "lstmsweep/model.h"

typedef struct ls_prefix_eval ls_prefix_eval;

/* The chunk size nmax the prefix evaluation uses for this data set and
 * model, or 0 when it does not apply (not bitcount, or more than
 * LS_PREFIX_MAX_BITS bits: the training-code bitmap would grow large). */
#define LS_PREFIX_MAX_BITS 24
int ls_prefix_eval_chunk(const ls_dataset *ds, const ls_model_config *cfg);

/* Cost of evaluating one bitcount string of `bits` bits, relative to the
 * plain evaluation: ~2/bits where the prefix tree applies, else 1.  The
 * auto eval_every and the runner's time estimate use it. */
double ls_prefix_eval_cost(int bits);

int ls_prefix_eval_create(ls_prefix_eval **out, const ls_model_config *cfg,
                          const ls_dataset *ds, int nmax, ls_err *err);
void ls_prefix_eval_destroy(ls_prefix_eval *p);

/* Test error of the model m (of the config given at creation) on the
 * data set's test split and, if val_error is not NULL, its validation
 * error (-1 without a validation split), both in one pass. */
int ls_prefix_evaluate(ls_prefix_eval *p, ls_model *m, double *error,
                       double *val_error, ls_err *err);

/* Bytes ls_prefix_eval_create will allocate through ls_alloc (alloc.h),
 * computed beforehand (0 on failure). */
size_t ls_prefix_eval_estimate_bytes(const ls_model_config *cfg, int bits,
                                     int nmax);

#endif
