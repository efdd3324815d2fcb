/* checkpoint.h - a training job's complete state at an epoch boundary, so
 * an interrupted job (SIGTERM, Slurm time limit, node failure with periodic
 * checkpoints) resumes exactly where it stopped: continuing from a
 * checkpoint gives bit-identical results to an uninterrupted run with the
 * same thread count.
 *
 * State: parameters, Adam moments and step, dropout and shuffle generator
 * states, the current sample order, epochs done, and the running totals of
 * the result (times, samples, last metrics).
 *
 * File (little-endian): "LSTMCKP\0", u32 version, 16-char job id, fixed
 * fields, arrays, u32 crc32 of everything before.  Written to a temporary
 * file, fsync'ed and renamed, so a crash leaves the old checkpoint or the
 * new one, never a mix.  Loading verifies length, checksum, job id and
 * shapes: a truncated or corrupt file is LS_EFORMAT, and the caller starts
 * the job from scratch with a warning instead of loading garbage.
 */
#ifndef LSTMSWEEP_CHECKPOINT_H
#define LSTMSWEEP_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "lstmsweep/error.h"
#include "lstmsweep/model.h"
#include "lstmsweep/rng.h"

typedef struct ls_checkpoint {
    char job_id[17];
    int epoch;                           /* epochs completed */
    double train_s, eval_s, samples;     /* running totals */
    double train_loss, train_error, test_error;
    ls_rng shuffle;                      /* sample-order generator */
    size_t n_train;
    uint32_t *perm;                      /* [n_train] current order (borrowed) */
} ls_checkpoint;

int ls_checkpoint_save(const char *path, ls_model *m, const ls_checkpoint *ck,
                       ls_err *err);

/* Load into an existing model of the same shape and ck->perm (which must
 * have room for ck->n_train entries; n_train and job_id must be set by the
 * caller and must match the file). */
int ls_checkpoint_load(const char *path, ls_model *m, ls_checkpoint *ck,
                       ls_err *err);

#endif
