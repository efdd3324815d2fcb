/* check_train.c - training jobs end to end on small bitcount problems:
 * learning, determinism, partial batches, divergence, early stop,
 * interruption, and model files. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/durable.h"
#include "lstmsweep/lstm.h"
#include "lstmsweep/modelfile.h"
#include "lstmsweep/prefix.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/train.h"

/* bits=10: 1024 strings, 11 classes; the largest class (5 ones) holds
 * 252/1024, so chance error is ~75%. */
static ls_job small_job(void)
{
    ls_job j;
    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    j.bits = 10;
    j.train_size = 500;
    j.hidden = 16;
    j.batch = 50;
    j.epochs = 60;
    j.lr = 0.01;
    j.threads = 1;
    return j;
}

static ls_result run_job(const ls_job *j, ls_model **model, int expect_rc)
{
    ls_dataset *ds = NULL;
    ls_result r;
    ls_err err = {0};
    ck_assert_msg(ls_train_load_data(j, &ds, &err) == 0, "%s", err.msg);
    int rc = ls_train(j, ds, NULL, &r, model, &err);
    ck_assert_msg(rc == expect_rc, "rc %d: %s", rc, err.msg);
    ls_dataset_destroy(ds);
    return r;
}

START_TEST(test_train_learns_bitcount)
{
    ls_job j = small_job();
    ls_result r = run_job(&j, NULL, 0);
    ck_assert_int_eq(r.status, LS_STATUS_OK);
    ck_assert_int_eq(r.epochs_run, 60);
    ck_assert_msg(r.test_error >= 0 && r.test_error < 0.10,
                  "test error %.3f not well below chance (0.75)", r.test_error);
    /* the validation split, drawn from the same strings, errs alike */
    ck_assert_msg(r.val_error >= 0 && r.val_error < 0.10, "validation error %.3f",
                  r.val_error);
    ck_assert(r.train_loss < 0.5);
    ck_assert(r.samples_per_s > 0 && r.gflops > 0 && r.threads == 1);
}
END_TEST

/* The prefix-tree evaluation must count the same test and validation
 * errors as the plain one, sample by sample, for 1 to 3 layers, padded and unpadded hidden
 * sizes, and chunks from 2 to the largest allowed; and hold exactly the
 * bytes it estimated. */
static void check_prefix_cell(ls_cell cell, int bits, int H, int L, int epochs)
{
    ls_job j = small_job();
    ls_dataset *ds = NULL;
    ls_model *m = NULL;
    ls_result r;
    ls_err err = {0};

    j.bits = bits, j.hidden = H, j.layers = L, j.epochs = epochs, j.cell = cell;
    j.train_size = (1L << bits) / 3;
    ck_assert(ls_train_load_data(&j, &ds, &err) == 0);
    ck_assert_msg(ls_train(&j, ds, NULL, &r, &m, &err) == 0, "%s", err.msg);
    const ls_model_config *c = ls_model_config_of(m);
    double plain, plain_val;
    ck_assert(ls_evaluate(m, ds, &plain, &plain_val, &err) == 0);
    ck_assert_uint_gt(ds->n_val, 0);
    /* a model between chance and perfect, so that errors are counted */
    ck_assert_msg(plain > 0.01 && plain < 0.7, "%s bits %d H %d L %d: error %g",
                  ls_cell_name(cell), bits, H, L, plain);
    int biggest = ls_prefix_eval_chunk(ds, c);
    ck_assert_int_eq(biggest, 1 << (bits - 2));
    for (int nmax = 2; nmax <= biggest; nmax *= 4) {
        ls_prefix_eval *p;
        double tree, tree_val;
        size_t before = ls_alloc_live_bytes();
        ck_assert_msg(ls_prefix_eval_create(&p, c, ds, nmax, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(ls_alloc_live_bytes() - before,
                          ls_prefix_eval_estimate_bytes(c, bits, nmax));
        ck_assert_msg(ls_prefix_evaluate(p, m, &tree, &tree_val, &err) == 0, "%s", err.msg);
        ck_assert_msg(fabs(tree - plain) * (double)ds->n_test < 0.5,
                      "%s bits %d H %d L %d chunk %d: prefix tree %.6f, plain %.6f",
                      ls_cell_name(cell), bits, H, L, nmax, tree, plain);
        ck_assert_msg(fabs(tree_val - plain_val) * (double)ds->n_val < 0.5,
                      "bits %d H %d L %d chunk %d: validation, prefix tree %.6f, plain %.6f",
                      bits, H, L, nmax, tree_val, plain_val);
        ls_prefix_eval_destroy(p);
    }
    ls_model_destroy(m);
    ls_dataset_destroy(ds);
}

static void check_prefix(int bits, int H, int L, int epochs)
{
    check_prefix_cell(LS_CELL_LSTM, bits, H, L, epochs);
}

/* The cells without a cell state carry h alone down the tree. */
START_TEST(test_prefix_eval_matches_plain_cells)
{
    for (int c = 1; c < LS_NCELLS; c++) {
        check_prefix_cell((ls_cell)c, 10, 5, 1, 20);
        check_prefix_cell((ls_cell)c, 8, 16, 3, 30);
    }
}
END_TEST

START_TEST(test_prefix_eval_matches_plain)
{
    check_prefix(10, 5, 1, 40);
    check_prefix(9, 16, 2, 30);
    check_prefix(8, 24, 3, 30);
}
END_TEST

/* The memory the runner budgets for a job (ls_train_estimate_bytes) is
 * the peak of the bytes ls_train allocates through ls_alloc: the model
 * with the buffers it gives oneDNN, the evaluator, the batches.  Not in
 * it: the data set (the runner counts it apart), what oneDNN allocates
 * itself (primitives, memory objects).  The job gives every byte back. */
static void check_job_memory(const ls_job *j, const ls_dataset *ds)
{
    ls_model_config cfg;
    ls_result r;
    ls_err err = {0};
    size_t est = ls_train_estimate_bytes(&cfg, ds, ls_train_config(j, ds, &cfg));
    size_t start = ls_alloc_live_bytes();
    ls_alloc_peak_reset();
    ck_assert_msg(ls_train(j, ds, NULL, &r, NULL, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(ls_alloc_peak_bytes() - start, est);
    ck_assert_uint_eq(ls_alloc_live_bytes(), start);
}

/* Small images, made up: 7 rows of 5 pixels. */
static ls_dataset *tiny_images(size_t n_train, size_t n_test)
{
    ls_dataset *ds = ls_alloc(sizeof *ds);
    size_t n = n_train + n_test;
    ls_rng r;
    *ds = (ls_dataset){.kind = LS_DATA_IMAGES, .name = "tiny", .T = 7, .I = 5,
                       .classes = 10, .n_train = n_train, .n_test = n_test};
    ds->pixels = ls_alloc(n * 7 * 5);
    ds->labels = ls_alloc(n);
    ls_rng_seed(&r, 5, 0);
    for (size_t i = 0; i < n * 7 * 5; i++)
        ds->pixels[i] = (uint8_t)(ls_rng_float(&r) * 255);
    for (size_t i = 0; i < n; i++)
        ds->labels[i] = (uint8_t)(i % 10);
    return ds;
}

START_TEST(test_train_memory_estimate_is_the_peak)
{
    ls_job j = small_job();
    ls_dataset *ds = NULL;
    ls_err err = {0};
    j.epochs = 2;
    j.train_size = 130; /* a partial batch of 30 */
    j.layers = 2;
    j.dropout = 0.2;
    ck_assert(ls_train_load_data(&j, &ds, &err) == 0);
    ck_assert(ls_prefix_eval_chunk(ds, &(ls_model_config){.T = 10, .I = 1, .L = 2, .H = 16}) > 0);
    check_job_memory(&j, ds); /* evaluated down the prefix tree */
    ls_dataset_destroy(ds);

    ls_job_defaults(&j, LS_TASK_MNIST);
    j.hidden = 8, j.batch = 16, j.epochs = 2, j.threads = 1;
    ds = tiny_images(100, 50); /* partial training batch, plain evaluation */
    check_job_memory(&j, ds);
    j.train_size = 64;         /* the first 64 samples only: no partial batch */
    check_job_memory(&j, ds);
    ls_dataset_destroy(ds);
}
END_TEST

/* Every allocation of a training job can fail, in turn: the job ends
 * "failed" with LS_ENOMEM and gives back every byte it had allocated. */
START_TEST(test_train_allocation_failures)
{
    ls_job j = small_job();
    ls_dataset *ds = NULL;
    ls_err err = {0};
    int n, rc;
    j.epochs = 2;
    j.train_size = 130; /* a partial batch too */
    j.layers = 2;
    ck_assert(ls_train_load_data(&j, &ds, &err) == 0);
    for (n = 1, rc = -1; rc != 0 && n < 1000; n++) {
        ls_result r;
        size_t start = ls_alloc_live_bytes();
        ls_alloc_fail_at(n);
        rc = ls_train(&j, ds, NULL, &r, NULL, &err);
        ls_alloc_fail_at(0);
        ck_assert_msg(rc == 0 || (rc == LS_ENOMEM && r.status == LS_STATUS_FAILED),
                      "allocation %d: rc %d, %s", n, rc, err.msg);
        ck_assert_msg(ls_alloc_live_bytes() == start, "allocation %d: %zu bytes leaked",
                      n, ls_alloc_live_bytes() - start);
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_ge(n, 20);
    ls_dataset_destroy(ds);
}
END_TEST

START_TEST(test_prefix_eval_refuses_images)
{
    ls_dataset ds = {.kind = LS_DATA_IMAGES, .T = 28, .I = 28, .classes = 10};
    ls_model_config c = {.T = 28, .I = 28, .H = 8, .L = 1, .C = 10, .batch = 4};
    ck_assert_int_eq(ls_prefix_eval_chunk(&ds, &c), 0);
}
END_TEST

START_TEST(test_train_deterministic)
{
    ls_job j = small_job();
    ls_model *a, *b, *c;
    j.epochs = 5;
    run_job(&j, &a, 0);
    run_job(&j, &b, 0);
    j.seed = 2;
    run_job(&j, &c, 0);
    size_t n = ls_model_nparams(a);
    ck_assert(memcmp(ls_model_params(a), ls_model_params(b), n * sizeof(float)) == 0);
    ck_assert(memcmp(ls_model_params(a), ls_model_params(c), n * sizeof(float)) != 0);
    ls_model_destroy(a);
    ls_model_destroy(b);
    ls_model_destroy(c);
}
END_TEST

/* 130 samples in batches of 50: the last batch of 30 gets its own
 * primitives; training must still work and count every sample. */
START_TEST(test_train_partial_batch)
{
    ls_job j = small_job();
    j.train_size = 130;
    j.epochs = 80;
    ls_result r = run_job(&j, NULL, 0);
    ck_assert_int_eq(r.status, LS_STATUS_OK);
    ck_assert_msg(r.test_error < 0.5, "test error %.3f", r.test_error);
    /* samples/s is computed from every sample of every batch */
    ck_assert(r.samples_per_s > 0);
}
END_TEST

START_TEST(test_train_diverges_cleanly)
{
    ls_job j = small_job();
    j.lr = 1e38; /* Adam steps of ~lr overflow float within 4 steps */
    ls_result r = run_job(&j, NULL, 0);
    ck_assert_int_eq(r.status, LS_STATUS_DIVERGED);
    ck_assert(r.epochs_run >= 1 && r.epochs_run < j.epochs);
    ck_assert(strstr(r.message, "loss became") != NULL);
}
END_TEST

START_TEST(test_train_target_error_stops_early)
{
    ls_job j = small_job();
    j.epochs = 200;
    j.eval_every = 5;
    j.target_error = 0.5;
    ls_result r = run_job(&j, NULL, 0);
    ck_assert_int_eq(r.status, LS_STATUS_OK);
    ck_assert(r.epochs_run < 200 && r.epochs_run % 5 == 0);
    /* it stops on the validation error, never on the test error it reports */
    ck_assert(r.val_error <= 0.5);
    j.val_size = 0; /* without a validation split it stops on the test error */
    j.target_error = 0.99;
    ls_result no_val = run_job(&j, NULL, 0);
    ck_assert_int_eq(no_val.epochs_run, 5);
    ck_assert(no_val.val_error < 0 && no_val.test_error <= 0.99);
}
END_TEST

/* Set before the job starts: it stops after its first step. */
START_TEST(test_train_stop_flag_interrupts)
{
    ls_job j = small_job();
    atomic_int stop = 1;
    ls_train_opts o = {.stop = &stop};
    ls_dataset *ds = NULL;
    ls_result r;
    ls_err err = {0};
    ck_assert(ls_train_load_data(&j, &ds, &err) == 0);
    ck_assert(ls_train(&j, ds, &o, &r, NULL, &err) == 0);
    ck_assert_int_eq(r.status, LS_STATUS_INTERRUPTED);
    ck_assert_int_eq(r.epochs_run, 0);
    ck_assert_msg(!strcmp(r.message, "interrupted in epoch 1 after 50 of 500 samples"),
                  "%s", r.message);
    ls_dataset_destroy(ds);
}
END_TEST

START_TEST(test_train_invalid_job_fails)
{
    ls_job j = small_job();
    ls_dataset *ds = NULL;
    ls_result r;
    ls_err err = {0};
    ck_assert(ls_train_load_data(&j, &ds, &err) == 0);
    j.hidden = 0;
    ck_assert_int_eq(ls_train(&j, ds, NULL, &r, NULL, &err), LS_EINVAL);
    ck_assert_int_eq(r.status, LS_STATUS_FAILED);
    ck_assert(strstr(r.message, "hidden") != NULL);
    ls_dataset_destroy(ds);
}
END_TEST

/* ---- model files ---- */

static char tmpdir[64];

static void tmp_setup(void)
{
    ls_test_mkdtemp(tmpdir, sizeof tmpdir, "train");
}

static void tmp_teardown(void)
{
    ls_test_rmtree(tmpdir);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(b, 1, n, f) == n);
    fclose(f);
}

static size_t read_bytes(const char *path, unsigned char *b, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert(f);
    size_t n = fread(b, 1, cap, f);
    fclose(f);
    return n;
}

START_TEST(test_modelfile_round_trip)
{
    ls_job j = small_job();
    ls_model *m, *back;
    ls_modelfile_info info;
    ls_err err = {0};
    char path[128];
    float pa[11 * 4], pb[11 * 4];
    float x[10 * 4] = {0};

    j.epochs = 3;
    run_job(&j, &m, 0);
    snprintf(path, sizeof path, "%s/m.lsm", tmpdir);
    ck_assert_msg(ls_modelfile_save(path, m, &j, &err) == 0, "%s", err.msg);
    ck_assert_msg(ls_modelfile_load(path, &back, &info, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(info.task, LS_TASK_BITCOUNT);
    ck_assert_int_eq(info.bits, 10);
    ck_assert_int_eq(info.cfg.H, 16);
    ck_assert(memcmp(ls_model_params(m), ls_model_params(back),
                     ls_model_nparams(m) * sizeof(float)) == 0);
    for (int i = 0; i < 40; i++)
        x[i] = (float)((i * 7) % 3 == 0);
    ck_assert(ls_model_predict(m, x, 4, pa, &err) == 0);
    ck_assert(ls_model_predict(back, x, 4, pb, &err) == 0);
    ck_assert(memcmp(pa, pb, sizeof pa) == 0);
    ls_model_destroy(m);
    ls_model_destroy(back);
}
END_TEST

/* Save a small model and return its bytes in buf. */
static size_t saved_model(unsigned char *buf, size_t cap, char *path)
{
    ls_job j = small_job();
    ls_model *m;
    ls_err err = {0};
    j.epochs = 1;
    run_job(&j, &m, 0);
    snprintf(path, 128, "%s/m.lsm", tmpdir);
    ck_assert(ls_modelfile_save(path, m, &j, &err) == 0);
    ls_model_destroy(m);
    return read_bytes(path, buf, cap);
}

static void expect_load_error(const char *path, const char *what)
{
    ls_model *m;
    ls_modelfile_info info;
    ls_err err = {0};
    ck_assert_int_eq(ls_modelfile_load(path, &m, &info, &err), LS_EFORMAT);
    ck_assert(m == NULL);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, what),
                  "message '%s' lacks '%s'", err.msg, what);
}

/* A model file says its cell: a GRU comes back a GRU with the same
 * predictions; a file of version 1 (no cell field, from before the
 * other cells) loads as the LSTM it is. */
START_TEST(test_modelfile_cells)
{
    static unsigned char b[1 << 16];
    enum { CELL_AT = 16 + 48 }; /* after the prefix and version 1's header */
    ls_job j = small_job();
    ls_model *m, *back;
    ls_modelfile_info info;
    ls_err err = {0};
    char path[128];
    float pa[11 * 4], pb[11 * 4], x[10 * 4];

    for (int i = 0; i < 40; i++)
        x[i] = (float)((i * 5) % 3 == 0);
    j.epochs = 2;
    snprintf(path, sizeof path, "%s/c.lsm", tmpdir);
    for (int c = 0; c < LS_NCELLS; c++) {
        j.cell = (ls_cell)c;
        run_job(&j, &m, 0);
        ck_assert(ls_modelfile_save(path, m, &j, &err) == 0);
        ck_assert_msg(ls_modelfile_load(path, &back, &info, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(info.cfg.cell, c);
        ck_assert_uint_eq(ls_model_nparams(back), ls_model_nparams(m));
        ck_assert(ls_model_predict(m, x, 4, pa, &err) == 0);
        ck_assert(ls_model_predict(back, x, 4, pb, &err) == 0);
        ck_assert(memcmp(pa, pb, sizeof pa) == 0);
        ls_model_destroy(back);
        if (c != LS_CELL_LSTM) {
            ls_model_destroy(m);
            continue;
        }
        /* the LSTM's file as version 1 wrote it */
        size_t n = read_bytes(path, b, sizeof b);
        ck_assert(b[8] == 2 && b[12] == 52 && b[CELL_AT] == 0);
        b[8] = 1, b[12] = 48;
        memmove(b + CELL_AT, b + CELL_AT + 4, n - CELL_AT - 4);
        n -= 4;
        uint32_t crc = ls_crc32(b, n - 4);
        for (int i = 0; i < 4; i++)
            b[n - 4 + i] = (unsigned char)(crc >> (8 * i));
        write_bytes(path, b, n);
        ck_assert_msg(ls_modelfile_load(path, &back, &info, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(info.cfg.cell, LS_CELL_LSTM);
        ck_assert(memcmp(ls_model_params(m), ls_model_params(back),
                         ls_model_nparams(m) * sizeof(float)) == 0);
        ls_model_destroy(back);
        ls_model_destroy(m);
    }
    /* an unknown cell is refused by name */
    j.cell = LS_CELL_GRU;
    run_job(&j, &m, 0);
    ck_assert(ls_modelfile_save(path, m, &j, &err) == 0);
    ls_model_destroy(m);
    size_t n = read_bytes(path, b, sizeof b);
    b[CELL_AT] = 9;
    uint32_t crc = ls_crc32(b, n - 4);
    for (int i = 0; i < 4; i++)
        b[n - 4 + i] = (unsigned char)(crc >> (8 * i));
    write_bytes(path, b, n);
    expect_load_error(path, "unknown cell");
}
END_TEST

/* Every cell learns the small bitcount problem (chance: ~75% error). */
START_TEST(test_train_cells_learn_bitcount)
{
    for (int c = 0; c < LS_NCELLS; c++) {
        ls_job j = small_job();
        j.cell = (ls_cell)c;
        ls_result r = run_job(&j, NULL, 0);
        printf("%-7s bits 10 H16 60 epochs: test error %.4f, loss %.4f\n",
               ls_cell_name(j.cell), r.test_error, r.train_loss);
        ck_assert_int_eq(r.status, LS_STATUS_OK);
        ck_assert_msg(r.test_error >= 0 && r.test_error < 0.25, "%s: test error %.3f",
                      ls_cell_name(j.cell), r.test_error);
    }
}
END_TEST

START_TEST(test_modelfile_rejects_bad_files)
{
    static unsigned char b[1 << 16];
    char path[128], bad[160];
    size_t n = saved_model(b, sizeof b, path);

    snprintf(bad, sizeof bad, "%s/bad", tmpdir);
    write_bytes(bad, b, n - 10);
    expect_load_error(bad, "truncated");
    b[100] ^= 0x40;
    write_bytes(bad, b, n);
    expect_load_error(bad, "checksum");
    b[100] ^= 0x40;
    b[8] = 9;
    write_bytes(bad, b, n);
    expect_load_error(bad, "version");
    write_bytes(bad, "idx3 hello, not a model at all....", 34);
    expect_load_error(bad, "not an lstmsweep model");
}
END_TEST

/* ---- checkpoints ---- */

static atomic_int stop_flag;
static long stop_step; /* set the flag after this training step, if > 0 */

static void stop_after_3(void *ctx, const ls_job *job, const ls_epoch_info *e)
{
    (void)ctx;
    (void)job;
    if (e->epoch == 3)
        stop_flag = 1;
}

static void stop_at_step(void *ctx, const ls_job *job, long step)
{
    (void)ctx;
    (void)job;
    if (step == stop_step)
        stop_flag = 1;
}

/* Train j with a checkpoint file; return the model.  The stop flag is set
 * after epoch 3 if stop_at_3, after training step `step` if step > 0. */
static ls_model *train_ckpt_at(const ls_job *j, const char *ckpt, int stop_at_3,
                               long step, ls_result *r)
{
    ls_dataset *ds = NULL;
    ls_model *m = NULL;
    ls_err err = {0};
    ls_train_opts o = {.checkpoint_path = ckpt, .stop = &stop_flag,
                       .progress = stop_at_3 ? stop_after_3 : NULL,
                       .step = stop_at_step};
    stop_flag = 0;
    stop_step = step;
    ck_assert(ls_train_load_data(j, &ds, &err) == 0);
    ck_assert_msg(ls_train(j, ds, &o, r, &m, &err) == 0, "%s", err.msg);
    ls_dataset_destroy(ds);
    return m;
}

static ls_model *train_ckpt(const ls_job *j, const char *ckpt, int stop_at_3,
                            ls_result *r)
{
    return train_ckpt_at(j, ckpt, stop_at_3, 0, r);
}

static void expect_same_model(ls_model *a, ls_model *b)
{
    ck_assert(memcmp(ls_model_params(a), ls_model_params(b),
                     ls_model_nparams(a) * sizeof(float)) == 0);
}

START_TEST(test_checkpoint_resume_is_bit_identical)
{
    ls_job j = small_job();
    ls_result r;
    char ckpt[128];
    j.epochs = 8;
    j.dropout = 0.25; /* the dropout generator must resume too */
    j.layers = 2;
    snprintf(ckpt, sizeof ckpt, "%s/job.ckpt", tmpdir);

    ls_model *full = train_ckpt(&j, NULL, 0, &r);
    ck_assert_int_eq(r.epochs_run, 8);

    ls_model *part = train_ckpt(&j, ckpt, 1, &r);
    ck_assert_int_eq(r.status, LS_STATUS_INTERRUPTED);
    ck_assert_int_eq(r.epochs_run, 3);
    ck_assert(access(ckpt, F_OK) == 0);
    ls_model_destroy(part);

    ls_model *rest = train_ckpt(&j, ckpt, 0, &r);
    ck_assert_int_eq(r.status, LS_STATUS_OK);
    ck_assert_int_eq(r.epochs_run, 8);
    ck_assert(memcmp(ls_model_params(full), ls_model_params(rest),
                     ls_model_nparams(full) * sizeof(float)) == 0);
    /* Kept until the caller has the row durable (defect: ls_train removed
     * it, and a failed append then lost the job's progress). */
    ck_assert(access(ckpt, F_OK) == 0);
    ls_train_forget_checkpoint(ckpt, &r);
    ck_assert(access(ckpt, F_OK) != 0);
    ls_model_destroy(full);
    ls_model_destroy(rest);
}
END_TEST

/* A bf16 job resumes bit-identically from its checkpoint, which holds the
 * f32 master weights and Adam state as any other (the bf16 copies are
 * remade from them each step); the model runs bf16 again. */
START_TEST(test_checkpoint_resume_bf16)
{
    dnnl_engine_t e;
    ck_assert(dnnl_engine_create(&e, dnnl_cpu, 0) == dnnl_success);
    int here = ls_lstm_bf16_probe(e, LS_CELL_LSTM, 10, 50, 1, 16, 1, NULL, 0);
    dnnl_engine_destroy(e);
    if (!here) {
        printf("SKIP: no bf16 brgemm on this CPU\n");
        return;
    }
    ls_job j = small_job();
    ls_result r;
    char ckpt[128];
    j.epochs = 6, j.layers = 2, j.precision = LS_PREC_BF16;
    snprintf(ckpt, sizeof ckpt, "%s/job.ckpt", tmpdir);
    ls_model *full = train_ckpt(&j, NULL, 0, &r);
    ck_assert_int_eq(r.precision, LS_PREC_BF16);
    ls_model *part = train_ckpt(&j, ckpt, 1, &r);
    ck_assert_int_eq(r.status, LS_STATUS_INTERRUPTED);
    ls_model_destroy(part);
    ls_model *rest = train_ckpt(&j, ckpt, 0, &r);
    ck_assert_int_eq(r.status, LS_STATUS_OK);
    ck_assert_int_eq(r.epochs_run, 6);
    ck_assert_int_eq(ls_model_precision(rest), LS_PREC_BF16);
    expect_same_model(full, rest);
    ls_model_destroy(full);
    ls_model_destroy(rest);
}
END_TEST

/* A GRU job resumes bit-identically too; its checkpoint is the LSTM
 * job's format (the cell is in the job id, which the checkpoint checks,
 * and in the parameter count), and an LSTM job with the same other keys
 * refuses it and starts afresh. */
START_TEST(test_checkpoint_resume_cells)
{
    ls_job j = small_job();
    ls_result r;
    char ckpt[128];
    j.epochs = 6;
    j.cell = LS_CELL_LBR_GRU;
    snprintf(ckpt, sizeof ckpt, "%s/job.ckpt", tmpdir);
    ls_model *full = train_ckpt(&j, NULL, 0, &r);
    ls_model_destroy(train_ckpt(&j, ckpt, 1, &r));
    ck_assert_int_eq(r.status, LS_STATUS_INTERRUPTED);
    static unsigned char b[1 << 16];
    char other[160];
    snprintf(other, sizeof other, "%s/lstm.ckpt", tmpdir);
    write_bytes(other, b, read_bytes(ckpt, b, sizeof b));
    ls_job lstm = j;
    lstm.cell = LS_CELL_LSTM;
    ls_model_destroy(train_ckpt(&lstm, other, 0, &r));
    ck_assert_msg(strstr(r.message, "restarted from epoch 0"), "%s", r.message);
    ls_model *rest = train_ckpt(&j, ckpt, 0, &r);
    ck_assert_int_eq(r.status, LS_STATUS_OK);
    ck_assert_int_eq(r.epochs_run, 6);
    ck_assert_msg(!strstr(r.message, "restarted"), "%s", r.message);
    ck_assert(memcmp(ls_model_params(full), ls_model_params(rest),
                     ls_model_nparams(full) * sizeof(float)) == 0);
    ls_model_destroy(full);
    ls_model_destroy(rest);
}
END_TEST

/* Stopped twice inside the same epoch (after its 4th and 6th batches; 480
 * samples in batches of 50 make 10 steps an epoch, the last one of 30),
 * the job ends exactly as an uninterrupted one: parameters, and the final
 * epoch's loss and error, which sum over batches from before and after the
 * stops. */
START_TEST(test_checkpoint_mid_epoch_resume_is_bit_identical)
{
    ls_job j = small_job();
    ls_result rf, r;
    char ckpt[128];
    j.epochs = 4;
    j.train_size = 480;
    j.dropout = 0.25;
    j.layers = 2;
    snprintf(ckpt, sizeof ckpt, "%s/job.ckpt", tmpdir);

    ls_model *full = train_ckpt(&j, NULL, 0, &rf);
    ls_model_destroy(train_ckpt_at(&j, ckpt, 0, 34, &r));
    ck_assert_int_eq(r.status, LS_STATUS_INTERRUPTED);
    ck_assert_int_eq(r.epochs_run, 3);
    ck_assert_str_eq(r.message, "interrupted in epoch 4 after 200 of 480 samples; "
                                "checkpoint written");
    ls_model_destroy(train_ckpt_at(&j, ckpt, 0, 36, &r));
    ck_assert_str_eq(r.message, "interrupted in epoch 4 after 300 of 480 samples; "
                                "checkpoint written");
    ls_model *rest = train_ckpt(&j, ckpt, 0, &r);
    ck_assert_int_eq(r.status, LS_STATUS_OK);
    ck_assert_int_eq(r.epochs_run, 4);
    expect_same_model(full, rest);
    ck_assert(r.train_loss == rf.train_loss);
    ck_assert(r.train_error == rf.train_error);
    ck_assert(r.test_error == rf.test_error);
    ck_assert(r.val_error == rf.val_error && r.val_error >= 0);
    ls_model_destroy(full);
    ls_model_destroy(rest);
}
END_TEST

/* A checkpoint of format version 1 (before the position in the epoch and
 * the validation error were added) still resumes: made here from a
 * version 2 one at an epoch boundary by dropping the 32 bytes of those. */
/* For a job of `epochs` epochs: the model of an uninterrupted run, and the
 * path (ckpt) and bytes (b, *n) of its checkpoint after epoch 3. */
static ls_model *checkpoint_after_3(ls_job *j, int epochs, char *ckpt,
                                    unsigned char *b, size_t cap, size_t *n)
{
    ls_result r;
    j->epochs = epochs;
    snprintf(ckpt, 128, "%s/job.ckpt", tmpdir);
    ls_model *full = train_ckpt(j, NULL, 0, &r);
    ls_model_destroy(train_ckpt(j, ckpt, 1, &r));
    *n = read_bytes(ckpt, b, cap);
    return full;
}

START_TEST(test_checkpoint_version_1_still_loads)
{
    static unsigned char b[1 << 20];
    enum { V1_FIXED = 168, POSITION = 32 };
    ls_job j = small_job();
    ls_result r;
    char ckpt[128];
    size_t n;
    ls_model *full = checkpoint_after_3(&j, 5, ckpt, b, sizeof b, &n);
    ck_assert(b[8] == 2);
    b[8] = 1;
    memmove(b + V1_FIXED, b + V1_FIXED + POSITION, n - V1_FIXED - POSITION);
    n -= POSITION;
    uint32_t crc = ls_crc32(b, n - 4);
    for (int i = 0; i < 4; i++)
        b[n - 4 + i] = (unsigned char)(crc >> (8 * i));
    write_bytes(ckpt, b, n);
    ls_model *rest = train_ckpt(&j, ckpt, 0, &r);
    ck_assert_msg(r.status == LS_STATUS_OK && !strstr(r.message, "restarted"),
                  "%s", r.message);
    expect_same_model(full, rest);
    b[8] = 7; /* an unknown version is refused by name */
    write_bytes(ckpt, b, n);
    ls_model_destroy(rest);
    rest = train_ckpt(&j, ckpt, 0, &r);
    ck_assert_msg(strstr(r.message, "checkpoint version 7"), "%s", r.message);
    expect_same_model(full, rest);
    ls_model_destroy(full);
    ls_model_destroy(rest);
}
END_TEST

START_TEST(test_checkpoint_corrupt_restarts_from_scratch)
{
    static unsigned char b[1 << 20];
    ls_job j = small_job();
    ls_result r;
    char ckpt[128];
    size_t n;
    ls_model *full = checkpoint_after_3(&j, 6, ckpt, b, sizeof b, &n);
    b[n / 2] ^= 0x10;                     /* flip one bit */
    write_bytes(ckpt, b, n);
    ls_model *again = train_ckpt(&j, ckpt, 0, &r);
    ck_assert_int_eq(r.status, LS_STATUS_OK);
    ck_assert_msg(strstr(r.message, "checksum") && strstr(r.message, "restarted"),
                  "message: %s", r.message);
    ck_assert(memcmp(ls_model_params(full), ls_model_params(again),
                     ls_model_nparams(full) * sizeof(float)) == 0);
    write_bytes(ckpt, b, n / 3);          /* truncated */
    ls_model_destroy(again);
    again = train_ckpt(&j, ckpt, 0, &r);
    ck_assert_msg(strstr(r.message, "truncated"), "message: %s", r.message);
    ls_model_destroy(full);
    ls_model_destroy(again);
}
END_TEST

Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *core = tcase_create("Core");
    TCase *files = tcase_create("ModelFile");

    ls_add_tests(core, LS_TESTS(test_train_learns_bitcount, test_train_deterministic,
                                test_prefix_eval_matches_plain, test_prefix_eval_matches_plain_cells,
                                test_train_cells_learn_bitcount,
                                test_prefix_eval_refuses_images,
                                test_train_memory_estimate_is_the_peak,
                                test_train_allocation_failures, test_train_partial_batch,
                                test_train_diverges_cleanly,
                                test_train_target_error_stops_early,
                                test_train_stop_flag_interrupts, test_train_invalid_job_fails));
    tcase_add_checked_fixture(files, tmp_setup, tmp_teardown);
    ls_add_tests(files, LS_TESTS(test_modelfile_round_trip, test_modelfile_cells,
                                 test_modelfile_rejects_bad_files,
                                 test_checkpoint_resume_is_bit_identical,
                                 test_checkpoint_resume_cells, test_checkpoint_resume_bf16,
                                 test_checkpoint_corrupt_restarts_from_scratch,
                                 test_checkpoint_mid_epoch_resume_is_bit_identical,
                                 test_checkpoint_version_1_still_loads));
    suite_add_tcase(s, core);
    suite_add_tcase(s, files);
    return s;
}

LS_CHECK_MAIN(train_suite)
