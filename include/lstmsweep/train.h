/* train.h - run one training job from start to result.
 *
 * ls_train() builds the model for the job's shape, trains it with Adam on
 * shuffled mini-batches (the final partial batch is a batch of its own with
 * its own primitives), evaluates the test split with inference primitives in
 * large batches every eval_every epochs and at the end, and fills an
 * ls_result.  It never exits the process: a diverged loss ends the job with
 * status "diverged"; an error (oneDNN, allocation, I/O) ends it with status
 * "failed" and a negative return code, the message in both err and
 * res->message.
 *
 * The calling thread's OpenMP settings are used as they are, except that
 * job->threads > 0 sets the team size with omp_set_num_threads() for this
 * thread.
 */
#ifndef LSTMSWEEP_TRAIN_H
#define LSTMSWEEP_TRAIN_H


#include <stdatomic.h>

#include "lstmsweep/dataset.h"
#include "lstmsweep/error.h"
#include "lstmsweep/job.h"
#include "lstmsweep/model.h"
#include "lstmsweep/results.h"

typedef struct ls_epoch_info {
    int epoch, epochs;
    double train_loss, train_error;
    double test_error;      /* < 0 when not evaluated this epoch */
    double val_error;       /* validation error, < 0 likewise (or no split) */
    double elapsed_s;       /* since the job started */
    double samples_per_s;   /* training throughput so far */
    double eta_s;           /* estimated seconds to the last epoch */
    const ls_model *model;  /* the model, for inspection during the callback */
    const ls_dataset *data; /* the data set it trains on, likewise */
} ls_epoch_info;

typedef struct ls_train_opts {
    const char *curve_path;  /* per-epoch CSV, or NULL */
    const char *save_path;   /* model file written at the end, or NULL */
    /* Called after every epoch (from the training thread), or NULL. */
    void (*progress)(void *ctx, const ls_job *job, const ls_epoch_info *e);
    /* Called after every training step (from the training thread) with the
     * job's step count, checkpointed ones included (1, 2, ...), or NULL.
     * Tests stop a job at an exact step with it. */
    void (*step)(void *ctx, const ls_job *job, long step);
    void *ctx;              /* passed to progress and step */
    /* If non-NULL and set (e.g. by a signal handler), training stops after
     * the current training step with status "interrupted", writing a
     * checkpoint if checkpoint_path is set, so a drain waits for one step,
     * not for the end of an epoch.  (A step that ends an epoch finishes the
     * epoch first: evaluation, curve row.  The last epoch always ends.) */
    atomic_int *stop;
    /* A second flag with the same effect, or NULL: the runner's per-sweep
     * drain (the server's pause and cancel), beside the run's own stop. */
    atomic_int *stop_sweep;
    /* Checkpoint file of this job, or NULL.  If it exists when the job
     * starts, training continues from it, at the step where it stopped (a
     * corrupt one is ignored with a note in the result's message); it is
     * written on interruption and every checkpoint_interval_s seconds at
     * an epoch boundary (0: only on interruption).  ls_train never removes
     * it: see ls_train_forget_checkpoint. */
    const char *checkpoint_path;
    double checkpoint_interval_s;
} ls_train_opts;

/* Default eval_every for a job on a dataset: an evaluation costs about
 * n_test / (3 n_train) epochs of training (inference ~1/3 of a training
 * step per sample; for bitcount's prefix tree ~2/T of that), so evaluating
 * every ~10 such costs keeps it near 10% of the run (bitcount: every 35
 * epochs; mnist: every epoch). */
int ls_train_auto_eval_every(const ls_dataset *ds);

/* Batch size for inference: as large as keeps its activations in ~8 MiB. */
int ls_train_eval_batch(const ls_model_config *cfg, size_t n_test);

/* The model config of `job` on `ds` (eval_batch included) into *cfg, and
 * the number of training samples it trains on. */
size_t ls_train_config(const ls_job *job, const ls_dataset *ds,
                       ls_model_config *cfg);

/* Memory a job of this model config on this data set holds at its peak,
 * computed before anything is allocated: the model
 * (ls_model_estimate_bytes), the bitcount prefix-tree evaluator when it
 * applies (prefix.h) and the batch buffers; exactly the peak of what
 * ls_train allocates through ls_alloc (alloc.h), the data set aside.  The
 * runner budgets with it and ls_train refuses a job larger than the
 * available memory.  0 if oneDNN rejects the shape. */
size_t ls_train_estimate_bytes(const ls_model_config *cfg,
                               const ls_dataset *ds, size_t n_train);

/* Train `job` on `ds` (already loaded for this job: for bitcount, with the
 * job's bits, train_size and seed).  On return *res is complete (status,
 * metrics, timings, placement); if model_out is not NULL it receives the
 * trained model, which the caller destroys. */
int ls_train(const ls_job *job, const ls_dataset *ds, const ls_train_opts *o,
             ls_result *res, ls_model **model_out, ls_err *err);

/* Remove a job's checkpoint once the result `res` of ls_train is durable
 * (its row appended to the results file), if that result is final (not
 * "interrupted" or "paused"): removing it earlier would leave a job with neither row
 * nor checkpoint if the append failed, to rerun from epoch 0.  A failed
 * job is rerun from scratch with --retry-failed.  NULL path: no-op. */
void ls_train_forget_checkpoint(const char *path, const ls_result *res);

/* Load the data set a job trains on: bitcount generated from (bits,
 * train_size, seed), mnist read from job->data, with the job's validation
 * split set aside (ls_job_val_size; LS_EINVAL if it leaves nothing to
 * train or test on).  Caller destroys *out. */
int ls_train_load_data(const ls_job *job, ls_dataset **out, ls_err *err);

/* Test error of a model on the test split and, if val_error is not NULL,
 * its validation error (-1 without a validation split): fractions
 * misclassified, in one pass over both (LS_SPLIT_EVAL). */
int ls_evaluate(ls_model *m, const ls_dataset *ds, double *error, double *val_error,
                ls_err *err);

#endif
