/* cost.h - the cost model of a job: its shape, FLOPs, useful threads and
 * estimated single-core time, computed from the job alone.
 *
 * One home for the model shape of a job (T, I, H, L, classes follow from
 * the task: bitcount T = bits, I = 1, bits + 1 classes; mnist 28 rows of
 * 28 pixels, 10 classes), so the FLOP count, the useful-thread rule and
 * the time estimate cannot disagree about it.
 *
 * Machine-independent on purpose: the scheduler orders jobs by these
 * estimates and the Slurm shard split (shard.h) is computed from them on
 * every array task, so they read no file and no clock.
 *
 * Pure functions of their arguments: thread-safe, they cannot fail.
 */
#ifndef LSTMSWEEP_COST_H
#define LSTMSWEEP_COST_H

#include <stddef.h>

#include "lstmsweep/job.h"
#include "lstmsweep/model.h"

/* The model shape of a job without its data (batch, dropout, seed and
 * eval_batch are left 0). */
ls_model_config ls_cost_shape(const ls_job *job);

/* Forward FLOPs of one sample for this job's model (for GFLOP/s and cost
 * estimates). */
double ls_job_flops_per_sample(const ls_job *job);

/* The most OpenMP threads that still speed up this job's training step
 * (>= 1): about one per 40 MFLOP of a step, as measured; smaller steps ran
 * slower on more threads.  The runner's auto mode and `train` without
 * --threads stay within it. */
int ls_job_useful_threads(const ls_job *job);

/* Training and evaluated (validation + test) sample counts that follow
 * from the job alone: bitcount train_size and 2^bits - train_size (exact:
 * that is how ls_bitcount_create splits, the validation strings coming out
 * of the others); mnist the nominal 60,000 / 10,000 of MNIST and
 * Fashion-MNIST, less the validation images for training (capped by
 * train_size) and plus them for evaluation.  Used where the data must not
 * be read (the shard split, jobs already done); once a job's data is
 * loaded its real counts replace these. */
void ls_cost_samples(const ls_job *job, size_t *n_train, size_t *n_eval);

/* Estimated single-core seconds of a job with n_train training samples
 * and n_eval evaluated ones, evaluating every eval_every epochs (>= 1).
 * A bf16 job (and an auto lstm or rnn job, which runs bf16 wherever the
 * CPU has bf16: the model reads no machine) trains faster; evaluation is
 * f32 at every precision. */
double ls_cost_seconds(const ls_job *job, size_t n_train, size_t n_eval,
                       int eval_every);

/* Speed-up of a k-thread job over one thread (measured ~1.44 at k = 2). */
/* The exponent of the speedup model: k threads run a job k^0.55 times as
 * fast (measured on 2 cores: a 2-thread job ~1.4x). */
#define LS_COST_SPEEDUP_EXP 0.55
double ls_cost_speedup(int k);

/* A job's estimate from the job alone (ls_cost_samples, then
 * ls_cost_seconds at its eval interval, the auto one resolved as training
 * would, into *eval_every unless NULL): the shard split, the queue before
 * data is loaded, and the server's submissions use it. */
double ls_cost_job_seconds(const ls_job *job, int *eval_every);

#endif
