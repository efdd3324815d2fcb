/* train.c - one training job; see include/lstmsweep/train.h. */
#include "lstmsweep/train.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lstmsweep/alloc.h"
#include "lstmsweep/checkpoint.h"
#include "lstmsweep/cost.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/modelfile.h"
#include "lstmsweep/prefix.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/sysinfo.h"

#define RNG_STREAM_SHUFFLE 21

int ls_train_auto_eval_every(const ls_dataset *ds)
{
    double ratio = (double)ls_dataset_size(ds, LS_SPLIT_EVAL) / (3.0 * (double)ds->n_train);
    if (ds->kind == LS_DATA_BITCOUNT)
        ratio *= ls_prefix_eval_cost(ds->bits); /* down the prefix tree */
    int every = (int)ceil(10.0 * ratio);
    return every < 1 ? 1 : every;
}

int ls_train_eval_batch(const ls_model_config *c, size_t n_test)
{
    /* oneDNN's reference RNN computes every step's input GEMM into one
     * (T, N, 4H) gates buffer; once that leaves the cache, inference runs
     * ~2x slower per sample (measured: 18.6 us/sample at N=17476, H=24 vs
     * 8 us at N=1000; 8 MiB was the best of 1, 4, 8, 16, 64 MiB for
     * bitcount H=24).  Keep the gates and outputs near the L3 size. */
    size_t per_sample = (size_t)c->T * (5 * (size_t)c->H + (size_t)c->I) * sizeof(float);
    size_t n = ((size_t)8 << 20) / per_sample;
    if (n < 64)
        n = 64;
    if (n > n_test)
        n = n_test;
    return n < 1 ? 1 : (int)n;
}

size_t ls_train_estimate_bytes(const ls_model_config *cfg,
                               const ls_dataset *ds, size_t n_train)
{
    size_t n_eval = ls_dataset_size(ds, LS_SPLIT_EVAL);
    int chunk = ls_prefix_eval_chunk(ds, cfg);
    /* With the prefix tree, the model never builds evaluation stacks and
     * ls_evaluate never runs. */
    size_t model = ls_model_estimate_bytes(cfg, n_train, chunk ? 0 : n_eval);
    size_t prefix = chunk ? ls_prefix_eval_estimate_bytes(cfg, ds->bits, chunk) : 0;
    size_t eb = chunk ? 0 : (size_t)cfg->eval_batch;
    /* run_setup's sample order and batch; ls_evaluate's batch and outputs */
    size_t batches = n_train * sizeof(uint32_t) +
                     (size_t)cfg->batch * ((size_t)cfg->T * cfg->I * sizeof(float) +
                                           sizeof(int32_t)) +
                     eb * ((size_t)cfg->T * cfg->I * sizeof(float) +
                           (size_t)cfg->C * sizeof(float) + sizeof(int32_t));

    if (!model || (chunk && !prefix))
        return 0;
    return model + prefix + batches;
}

int ls_train_load_data(const ls_job *job, ls_dataset **out, ls_err *err)
{
    int rc = job->task == LS_TASK_BITCOUNT
                 ? ls_bitcount_create(out, job->bits, (size_t)job->train_size, job->seed, err)
                 : ls_images_load(out, job->data, err);
    if (!rc && (rc = ls_dataset_split_val(*out, (size_t)ls_job_val_size(job), err))) {
        ls_dataset_destroy(*out);
        *out = NULL;
    }
    return rc;
}

/* Count the wrong predictions of samples first.. of the evaluation
 * sequence (validation, then test) in wrong[0] (validation) and wrong[1]. */
static void count_wrong(const ls_dataset *ds, size_t first, int n, int C,
                        const float *probs, const int32_t *y, size_t wrong[2])
{
    for (int j = 0; j < n; j++) {
        const float *p = probs + (size_t)j * C;
        int best = 0;
        for (int k = 1; k < C; k++)
            best = p[k] > p[best] ? k : best;
        wrong[first + (size_t)j >= ds->n_val] += best != y[j];
    }
}

int ls_evaluate(ls_model *m, const ls_dataset *ds, double *error, double *val_error,
                ls_err *err)
{
    const ls_model_config *c = ls_model_config_of(m);
    size_t n_eval = ls_dataset_size(ds, LS_SPLIT_EVAL), wrong[2] = {0, 0};
    int eb = c->eval_batch > 0 ? c->eval_batch : ls_train_eval_batch(c, n_eval);
    float *x = ls_alloc((size_t)c->T * eb * c->I * sizeof(float));
    float *probs = ls_alloc((size_t)eb * c->C * sizeof(float));
    int32_t *y = ls_alloc((size_t)eb * sizeof(int32_t));
    int rc = 0;

    if (!x || !probs || !y) {
        rc = ls_err_set(err, LS_ENOMEM, "evaluate: out of memory");
        goto out;
    }
    for (size_t first = 0; first < n_eval; first += (size_t)eb) {
        int n = (int)(n_eval - first < (size_t)eb ? n_eval - first : (size_t)eb);
        ls_dataset_fill_range(ds, LS_SPLIT_EVAL, first, (size_t)n, x, y);
        if ((rc = ls_model_predict(m, x, n, probs, err)))
            goto out;
        count_wrong(ds, first, n, c->C, probs, y, wrong);
    }
    *error = ds->n_test ? (double)wrong[1] / (double)ds->n_test : 0;
    if (val_error)
        *val_error = ds->n_val ? (double)wrong[0] / (double)ds->n_val : -1;
out:
    ls_free(x);
    ls_free(probs);
    ls_free(y);
    return rc;
}

/* State of one running job, so the epoch loop stays readable. */
typedef struct run {
    const ls_job *job;
    const ls_dataset *ds;
    const ls_train_opts *o;
    ls_result *res;
    ls_model *m;
    ls_prefix_eval *prefix; /* bitcount: evaluation down the prefix tree */
    char id[LS_JOB_ID_LEN];
    uint32_t *perm;   /* training sample order, reshuffled every epoch */
    float *x;         /* one batch (T, batch, I) */
    int32_t *y;
    ls_rng shuffle;
    int eval_every;
    int first_epoch;  /* 1, or the epoch after a checkpoint's */
    size_t n_train;
    /* Position in the current epoch: samples of perm trained on, and the
     * sums over them (nonzero only while stopped inside an epoch). */
    size_t done;
    double part_loss;
    size_t part_wrong;
    double t0, samples, last_checkpoint;
} run;

/* train_epoch's return when the stop flag ended it between two steps. */
#define STOPPED 1

static int stop_requested(const run *r)
{
    return r->o && ((r->o->stop && atomic_load(r->o->stop)) ||
                    (r->o->stop_sweep && atomic_load(r->o->stop_sweep)));
}

/* One training step on samples perm[first, first + n). */
static int train_step(run *r, size_t first, int n, double *loss, int *wrong,
                      ls_err *err)
{
    int rc;
    ls_dataset_fill(r->ds, LS_SPLIT_TRAIN, r->perm + first, (size_t)n, r->x, r->y);
    if ((rc = ls_model_forward_backward(r->m, r->x, r->y, n, 1, loss, wrong, err)))
        return rc;
    if (!isfinite(*loss))
        return LS_EDIVERGED;
    ls_model_adam_step(r->m, (float)r->job->lr);
    if (r->o && r->o->step)
        r->o->step(r->o->ctx, r->job, *ls_model_state_of(r->m).adam_t);
    return 0;
}

/* One pass over the training set (or its rest, from r->done on); mean loss
 * and error of its batches.  If the stop flag is set after a step that is
 * not the epoch's last, returns STOPPED with the position in r->done and
 * the partial sums beside it: the sums go on exactly where they stopped,
 * so a resumed epoch adds the same doubles in the same order. */
static int train_epoch(run *r, double *loss, double *error, ls_err *err)
{
    size_t batch = (size_t)r->job->batch, first = r->done, start = r->done;
    double total = r->part_loss, t = ls_sys_seconds();
    size_t wrong = r->part_wrong;
    int rc = 0;

    if (first == 0)
        ls_rng_shuffle_u32(&r->shuffle, r->perm, r->n_train);
    while (first < r->n_train && !rc) {
        int n = (int)(r->n_train - first < batch ? r->n_train - first : batch), bw = 0;
        double bl = 0;
        if ((rc = train_step(r, first, n, &bl, &bw, err))) {
            *loss = bl;
            return rc;
        }
        total += bl * n;
        wrong += (size_t)bw;
        first += (size_t)n;
        if (first < r->n_train && stop_requested(r))
            rc = STOPPED;
    }
    r->res->train_s += ls_sys_seconds() - t;
    r->samples += (double)(first - start);
    r->done = rc ? first : 0;
    r->part_loss = rc ? total : 0;
    r->part_wrong = rc ? wrong : 0;
    *loss = total / (double)r->n_train;
    *error = (double)wrong / (double)r->n_train;
    return rc;
}

static int evaluate_timed(run *r, double *error, double *val_error, ls_err *err)
{
    double t = ls_sys_seconds();
    int rc = r->prefix ? ls_prefix_evaluate(r->prefix, r->m, error, val_error, err)
                       : ls_evaluate(r->m, r->ds, error, val_error, err);
    r->res->eval_s += ls_sys_seconds() - t;
    return rc;
}

/* After an epoch: record it, report it, write the curve row. */
static int epoch_done(run *r, int epoch, double loss, double error,
                      double test_error, double val_error, ls_err *err)
{
    ls_epoch_info e = {.epoch = epoch, .epochs = r->job->epochs,
                       .train_loss = loss, .train_error = error,
                       .test_error = test_error, .val_error = val_error,
                       .model = r->m, .data = r->ds};
    ls_result *res = r->res;

    res->epochs_run = epoch;
    res->train_loss = loss;
    res->train_error = error;
    if (test_error >= 0)
        res->test_error = test_error;
    if (val_error >= 0)
        res->val_error = val_error;
    e.elapsed_s = ls_sys_seconds() - r->t0;
    e.samples_per_s = res->train_s > 0 ? r->samples / res->train_s : 0;
    e.eta_s = e.elapsed_s / epoch * (r->job->epochs - epoch);
    if (r->o && r->o->progress)
        r->o->progress(r->o->ctx, r->job, &e);
    if (r->o && r->o->curve_path)
        return ls_curve_append(r->o->curve_path, r->id, epoch, loss, error,
                               val_error, test_error, e.elapsed_s, err);
    return 0;
}

static const char *ckpt_path(const run *r)
{
    return r->o ? r->o->checkpoint_path : NULL;
}

/* Write the job's checkpoint.  A failure does not fail the job (a
 * checkpoint only saves time): it is noted in the result's message, and a
 * rerun then restarts the job from scratch. */
static void save_checkpoint(run *r, int epoch)
{
    ls_err why = {0};
    ls_checkpoint ck = {.epoch = epoch, .train_s = r->res->train_s,
                        .eval_s = r->res->eval_s, .samples = r->samples,
                        .train_loss = r->res->train_loss,
                        .train_error = r->res->train_error,
                        .test_error = r->res->test_error,
                        .val_error = r->res->val_error, .done = r->done,
                        .part_loss = r->part_loss, .part_wrong = r->part_wrong,
                        .shuffle = r->shuffle, .n_train = r->n_train,
                        .perm = r->perm};
    memcpy(ck.job_id, r->id, sizeof ck.job_id);
    r->last_checkpoint = ls_sys_seconds();
    if (ls_checkpoint_save(ckpt_path(r), r->m, &ck, &why) != 0)
        snprintf(r->res->message, sizeof r->res->message,
                 "warning: no checkpoint after epoch %d (%.400s)", epoch, why.msg);
}

/* Continue from the job's checkpoint if there is a usable one.  A corrupt
 * or mismatched file is not an error: the job starts over, and says so in
 * its result message. */
static int resume_from_checkpoint(run *r, ls_err *err)
{
    ls_checkpoint ck = {.n_train = r->n_train, .perm = r->perm};
    ls_err why = {0};

    if (!ckpt_path(r) || access(ckpt_path(r), F_OK) != 0)
        return 0;
    memcpy(ck.job_id, r->id, sizeof ck.job_id);
    if (ls_checkpoint_load(ckpt_path(r), r->m, &ck, &why) != 0) {
        snprintf(r->res->message, sizeof r->res->message,
                 "warning: checkpoint unusable (%.400s); restarted from epoch 0",
                 why.msg);
        /* The load may have overwritten part of the model: rebuild it. */
        ls_model_config cfg = *ls_model_config_of(r->m);
        ls_model_destroy(r->m);
        r->m = NULL;
        for (size_t i = 0; i < r->n_train; i++)
            r->perm[i] = (uint32_t)i;
        return ls_model_create(&r->m, &cfg, err);
    }
    r->first_epoch = ck.epoch + 1;
    r->done = ck.done;
    r->part_loss = ck.part_loss;
    r->part_wrong = ck.part_wrong;
    r->shuffle = ck.shuffle;
    r->samples = ck.samples;
    r->res->train_s = ck.train_s;
    r->res->eval_s = ck.eval_s;
    r->res->epochs_run = ck.epoch;
    r->res->train_loss = ck.train_loss;
    r->res->train_error = ck.train_error;
    r->res->test_error = ck.test_error;
    r->res->val_error = ck.val_error;
    return 0;
}

/* Stop on the stop flag, after `epochs` whole epochs and r->done samples
 * of the next, with a checkpoint if the job has a checkpoint file. */
static int interrupt(run *r, int epochs)
{
    char where[96];
    r->res->status = LS_STATUS_INTERRUPTED;
    if (r->done)
        snprintf(where, sizeof where, "in epoch %d after %zu of %zu samples",
                 epochs + 1, r->done, r->n_train);
    else
        snprintf(where, sizeof where, "after epoch %d", epochs);
    snprintf(r->res->message, sizeof r->res->message, "interrupted %s%s", where,
             ckpt_path(r) ? "; checkpoint written" : "");
    if (ckpt_path(r))
        save_checkpoint(r, epochs);
    return 0;
}

/* Pause at the job's `until` (an adaptive search's rung), after that
 * epoch's evaluation: a checkpoint, so that a later run goes on from
 * exactly here (without one the pause would lose the job's work). */
static int pause_at(run *r, int epoch, ls_err *err)
{
    if (!ckpt_path(r))
        return ls_err_set(err, LS_EINVAL, "a pause at epoch %d needs a checkpoint file", epoch);
    r->res->status = LS_STATUS_PAUSED;
    snprintf(r->res->message, sizeof r->res->message, "paused after epoch %d of %d", epoch,
             r->job->epochs);
    save_checkpoint(r, epoch);
    return 0;
}

static int pauses_at(const ls_job *j, int epoch)
{
    return j->until > 0 && j->until < j->epochs && epoch >= j->until;
}

/* The epoch loop.  Returns 0 (ok / interrupted / diverged / paused, in
 * res->status) or a negative error. */
/* target_error stops on the validation error, so that what stops a job
 * is never the test set it reports; without a validation split, on the
 * test error.  (Errors < 0: not evaluated this epoch.) */
static int reached_target(const ls_job *j, double test_error, double val_error)
{
    double e = j->val_size != 0 && val_error >= 0 ? val_error : test_error;
    return e >= 0 && j->target_error >= 0 && e <= j->target_error;
}

static int train_loop(run *r, ls_err *err)
{
    const ls_job *j = r->job;
    int rc;

    /* A checkpoint at the pause already (the pause's row was lost in a
     * crash): pause again, with the checkpoint's results. */
    if (r->first_epoch > 1 && !r->done && pauses_at(j, r->first_epoch - 1))
        return pause_at(r, r->first_epoch - 1, err);
    for (int epoch = r->first_epoch; epoch <= j->epochs; epoch++) {
        double loss = 0, error = 0, test_error = -1, val_error = -1;
        rc = train_epoch(r, &loss, &error, err);
        if (rc == STOPPED)
            return interrupt(r, epoch - 1);
        if (rc == LS_EDIVERGED) {
            r->res->status = LS_STATUS_DIVERGED;
            r->res->epochs_run = epoch;
            r->res->train_loss = loss;
            snprintf(r->res->message, sizeof r->res->message,
                     "loss became %g in epoch %d", loss, epoch);
            return 0;
        }
        if (rc)
            return rc;
        int last = epoch == j->epochs;
        if (last || epoch % r->eval_every == 0 || pauses_at(j, epoch))
            if ((rc = evaluate_timed(r, &test_error, &val_error, err)))
                return rc;
        if ((rc = epoch_done(r, epoch, loss, error, test_error, val_error, err)))
            return rc;
        if (reached_target(j, test_error, val_error))
            return 0;
        if (!last && pauses_at(j, epoch))
            return pause_at(r, epoch, err);
        if (!last && stop_requested(r))
            return interrupt(r, epoch);
        if (!last && ckpt_path(r) && r->o->checkpoint_interval_s > 0 &&
            ls_sys_seconds() - r->last_checkpoint >= r->o->checkpoint_interval_s)
            save_checkpoint(r, epoch);
    }
    return 0;
}

size_t ls_train_config(const ls_job *j, const ls_dataset *ds,
                       ls_model_config *cfg)
{
    size_t n_train = ls_dataset_size(ds, LS_SPLIT_TRAIN);
    *cfg = (ls_model_config){.T = ds->T, .I = ds->I, .H = j->hidden,
                             .L = j->layers, .cell = j->cell,
                             .precision = j->precision, .C = ds->classes,
                             .batch = j->batch,
                             .dropout = (float)j->dropout, .seed = j->seed};
    cfg->eval_batch = ls_train_eval_batch(cfg, ls_dataset_size(ds, LS_SPLIT_EVAL));
    if (j->task == LS_TASK_MNIST && j->train_size > 0 &&
        (size_t)j->train_size < n_train)
        n_train = (size_t)j->train_size;
    return n_train;
}

static int run_setup(run *r, ls_err *err)
{
    const ls_job *j = r->job;
    const ls_dataset *ds = r->ds;
    ls_model_config cfg;
    int rc;

    r->n_train = ls_train_config(j, ds, &cfg);
    /* Refuse what cannot fit before touching it: the buffers are zeroed on
     * allocation, so an oversized job would meet the OOM killer, not
     * a clean allocation failure. */
    size_t need = ls_train_estimate_bytes(&cfg, ds, r->n_train);
    size_t avail = ls_sys_available_memory();
    if (need > avail)
        return ls_err_set(err, LS_ENOMEM,
                          "job needs %.1f GiB of memory, only %.1f GiB available",
                          need / 1073741824.0, avail / 1073741824.0);
    if ((rc = ls_model_create(&r->m, &cfg, err)))
        return rc;
    /* The row holds what runs; auto says why (a later note, such as a
     * checkpoint warning or a pause, replaces it). */
    r->res->precision = ls_model_precision(r->m);
    snprintf(r->res->message, sizeof r->res->message, "%s",
             ls_model_precision_note(r->m));
    int chunk = ls_prefix_eval_chunk(ds, &cfg);
    if (chunk && (rc = ls_prefix_eval_create(&r->prefix, &cfg, ds, chunk, err)))
        return rc;
    r->perm = ls_alloc(r->n_train * sizeof *r->perm);
    r->x = ls_alloc((size_t)ds->T * j->batch * ds->I * sizeof(float));
    r->y = ls_alloc((size_t)j->batch * sizeof(int32_t));
    if (!r->perm || !r->x || !r->y)
        return ls_err_set(err, LS_ENOMEM, "train: out of memory for batches");
    for (size_t i = 0; i < r->n_train; i++)
        r->perm[i] = (uint32_t)i;
    ls_rng_seed(&r->shuffle, j->seed, RNG_STREAM_SHUFFLE);
    r->eval_every = j->eval_every > 0 ? j->eval_every : ls_train_auto_eval_every(ds);
    r->first_epoch = 1;
    r->last_checkpoint = ls_sys_seconds();
    return resume_from_checkpoint(r, err);
}

/* Fill the parts of the result that do not depend on how training went. */
static void result_begin(ls_result *res)
{
    ls_result_init(res);
    res->threads = omp_get_max_threads();
    ls_sys_thread_cpus(res->cpus, sizeof res->cpus, &res->numa_node);
    ls_sys_hostname(res->host, sizeof res->host);
    ls_sys_now_iso(res->start_time, sizeof res->start_time);
}

static void result_end(run *r, double flops_per_sample)
{
    ls_result *res = r->res;
    res->wall_s = ls_sys_seconds() - r->t0;
    if (res->train_s > 0) {
        res->samples_per_s = r->samples / res->train_s;
        res->gflops = 3.0 * flops_per_sample * res->samples_per_s * 1e-9;
    }
    ls_sys_now_iso(res->end_time, sizeof res->end_time);
}

int ls_train(const ls_job *job, const ls_dataset *ds, const ls_train_opts *o,
             ls_result *res, ls_model **model_out, ls_err *err)
{
    run r = {.job = job, .ds = ds, .o = o, .res = res};
    int rc;

    if (job->threads > 0)
        omp_set_num_threads(job->threads);
    else if (omp_get_max_threads() > ls_job_useful_threads(job))
        omp_set_num_threads(ls_job_useful_threads(job));
    r.t0 = ls_sys_seconds();
    result_begin(res);
    res->rung = job->rung > 0 ? job->rung : -1;
    res->precision = job->precision; /* until the model says what runs */
    ls_job_id(job, r.id);
    if (model_out)
        *model_out = NULL;
    if (!(rc = ls_job_validate(job, err)) && !(rc = run_setup(&r, err)) &&
        !(rc = train_loop(&r, err)) && o && o->save_path &&
        res->status == LS_STATUS_OK)
        rc = ls_modelfile_save(o->save_path, r.m, job, err);
    if (rc) {
        res->status = LS_STATUS_FAILED;
        snprintf(res->message, sizeof res->message, "%s", err ? err->msg : "error");
    }
    result_end(&r, r.m ? ls_model_flops_per_sample(ls_model_config_of(r.m)) : 0);
    if (model_out && !rc) {
        *model_out = r.m;
        r.m = NULL;
    }
    ls_model_destroy(r.m);
    ls_prefix_eval_destroy(r.prefix);
    ls_free(r.perm);
    ls_free(r.x);
    ls_free(r.y);
    return rc;
}

void ls_train_forget_checkpoint(const char *path, const ls_result *res)
{
    if (path && ls_status_final(res->status, 0))
        unlink(path);
}
