/* checkpoint.h - a training job's complete state between two training
 * steps, so an interrupted job (SIGTERM, Slurm time limit, node failure
 * with periodic checkpoints) resumes exactly where it stopped: continuing
 * from a checkpoint gives bit-identical results to an uninterrupted run
 * with the same thread count.
 *
 * State: parameters, Adam moments and step, dropout and shuffle generator
 * states, the current sample order, epochs done, the position in the
 * current epoch with that epoch's partial sums, and the running totals of
 * the result (times, samples, last metrics).
 *
 * File (little-endian): "LSTMCKP\0", u32 version, 16-char job id, fixed
 * fields, arrays, u32 crc32 of everything before.  Version 2 (written)
 * adds the position in the epoch; version 1 files (epoch boundaries only)
 * still load, as position 0.  Written with ls_file_replace (durable.h), so
 * a crash leaves the old checkpoint or the new one, never a mix.  Loading
 * verifies length, checksum, job id and shapes (the cell is in the job id
 * and the parameter count, so no field of its own): a truncated or corrupt file
 * is LS_EFORMAT, and the caller starts the job from scratch with a warning
 * instead of loading garbage.  Errors: LS_EIO, LS_EFORMAT, LS_ENOMEM, with
 * the path in the message.  Threading: none; one caller per file.
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
    double val_error;                    /* last evaluation's; < 0: none */
    /* Position in epoch `epoch + 1`: 0 at an epoch boundary, else the
     * samples (of perm, in order) already trained on, and the sums over
     * them: batch loss times batch size, misclassified samples. */
    size_t done;
    double part_loss;
    size_t part_wrong;
    ls_rng shuffle;                      /* sample-order generator */
    size_t n_train;
    uint32_t *perm;                      /* [n_train] order of epoch `epoch`, or
                                            of epoch + 1 if done > 0 (borrowed) */
} ls_checkpoint;

int ls_checkpoint_save(const char *path, ls_model *m, const ls_checkpoint *ck,
                       ls_err *err);

/* Load into an existing model of the same shape and ck->perm (which must
 * have room for ck->n_train entries; n_train and job_id must be set by the
 * caller and must match the file). */
int ls_checkpoint_load(const char *path, ls_model *m, ls_checkpoint *ck,
                       ls_err *err);

#endif
