/* cmd_train.c - `lstmsweep train`: one job, progress on stderr, optional
 * results row, curve, and model file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lstmsweep/sysinfo.h"
#include "lstmsweep/results.h"
#include "lstmsweep/train.h"

enum { OPT_RESULTS = 1000, OPT_CURVE, OPT_SAVE, OPT_QUIET, OPT_HELP };

static void train_usage(FILE *f)
{
    ls_job defs[2];
    char v[2][64];

    ls_job_defaults(&defs[0], LS_TASK_BITCOUNT);
    ls_job_defaults(&defs[1], LS_TASK_MNIST);
    fprintf(f, "usage: lstmsweep train --task bitcount|mnist [OPTIONS]\n\n"
               "Train one recurrent classifier (LSTM, GRU or RNN: --cell) and report its test error.\n\n"
               "Job options (defaults: bitcount / mnist):\n");
    for (int i = 1; i < ls_job_key_count(); i++) {
        const ls_job_key *k = ls_job_key_at(i);
        ls_job_get(&defs[0], k->name, v[0], sizeof v[0]);
        ls_job_get(&defs[1], k->name, v[1], sizeof v[1]);
        char opt[32];
        snprintf(opt, sizeof opt, "%s", k->name);
        for (char *p = opt; *p; p++)
            *p = *p == '_' ? '-' : *p;
        fprintf(f, "  --%-14s %s [%s / %s]\n", opt, k->help, v[0], v[1]);
    }
    fprintf(f, "\nOutput options:\n"
               "  --results FILE   append the job's row to this results CSV\n"
               "  --curve FILE     append one row per epoch to this CSV\n"
               "  --save FILE      write the trained model (for `predict`)\n"
               "  --quiet          no per-epoch progress lines\n"
               "Options also accept '_' for '-' (--train_size), as sweep-file keys do.\n");
}

typedef struct train_cli {
    ls_job job;
    const char *results, *curve, *save;
    int quiet;
} train_cli;

static void progress(void *ctx, const ls_job *job, const ls_epoch_info *e)
{
    char eta[32], test[64] = "";
    (void)ctx;
    (void)job;
    ls_sys_format_duration(e->eta_s, eta, sizeof eta);
    if (e->val_error >= 0)
        snprintf(test, sizeof test, "  val err %7.4f%%", 100 * e->val_error);
    if (e->test_error >= 0)
        snprintf(test + strlen(test), sizeof test - strlen(test), "  test err %7.4f%%",
                 100 * e->test_error);
    fprintf(stderr, "epoch %5d/%d  loss %.4f  train err %7.3f%%%s  %.0f samples/s  ETA %s\n",
            e->epoch, e->epochs, e->train_loss, 100 * e->train_error, test,
            e->samples_per_s, eta);
}

/* Build the getopt table from the job key table: both spellings of every
 * key, plus the output options. */
static struct option *build_options(void)
{
    int nk = ls_job_key_count(), n = 0;
    struct option *o = calloc((size_t)(2 * nk + 6), sizeof *o);
    static char alt[32][32];

    if (!o)
        return NULL;
    for (int i = 0; i < nk; i++) {
        const char *name = ls_job_key_at(i)->name;
        o[n++] = (struct option){name, required_argument, NULL, 1 + i};
        if (strchr(name, '_') && i < 32) {
            snprintf(alt[i], sizeof alt[i], "%s", name);
            for (char *p = alt[i]; *p; p++)
                *p = *p == '_' ? '-' : *p;
            o[n++] = (struct option){alt[i], required_argument, NULL, 1 + i};
        }
    }
    o[n++] = (struct option){"results", required_argument, NULL, OPT_RESULTS};
    o[n++] = (struct option){"curve", required_argument, NULL, OPT_CURVE};
    o[n++] = (struct option){"save", required_argument, NULL, OPT_SAVE};
    o[n++] = (struct option){"quiet", no_argument, NULL, OPT_QUIET};
    o[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    return o;
}

/* The task decides the defaults, so find it before anything else. */
static int find_task(int argc, char **argv, ls_task *task)
{
    *task = LS_TASK_BITCOUNT;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--task") && i + 1 < argc)
            v = argv[i + 1];
        else if (!strncmp(argv[i], "--task=", 7))
            v = argv[i] + 7;
        if (v && ls_task_parse(v, task)) {
            cli_error("train: task: '%s' is not bitcount or mnist", v);
            return -1;
        }
    }
    return 0;
}

static int parse(int argc, char **argv, train_cli *c)
{
    struct option *opts = build_options();
    ls_task task;
    ls_err err = {0};
    int ch, rc = 0;

    if (!opts || find_task(argc, argv, &task)) {
        free(opts);
        return 2;
    }
    ls_job_defaults(&c->job, task);
    optind = 1;
    while (rc == 0 && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch >= 1 && ch <= ls_job_key_count()) {
            if (ls_job_set(&c->job, ls_job_key_at(ch - 1)->name, optarg, &err)) {
                cli_error("train: %s", err.msg);
                rc = 2;
            }
        } else if (ch == OPT_RESULTS) c->results = optarg;
        else if (ch == OPT_CURVE) c->curve = optarg;
        else if (ch == OPT_SAVE) c->save = optarg;
        else if (ch == OPT_QUIET) c->quiet = 1;
        else if (ch == OPT_HELP) { train_usage(stdout); rc = -1; }
        else { cli_error("train: see lstmsweep train --help"); rc = 2; }
    }
    if (rc == 0 && optind < argc) {
        cli_error("train: unexpected argument '%s'", argv[optind]);
        rc = 2;
    }
    if (rc == 0 && ls_job_validate(&c->job, &err)) {
        cli_error("train: %s", err.msg);
        rc = 2;
    }
    free(opts);
    return rc;
}

static void summary(const train_cli *c, const ls_result *r, const ls_dataset *ds)
{
    char id[LS_JOB_ID_LEN], wall[32];
    ls_job_id(&c->job, id);
    ls_sys_format_duration(r->wall_s, wall, sizeof wall);
    fprintf(stderr, "%s %s H%d B%d L%d%s%s: %s after %d epochs", id,
            ls_task_name(c->job.task), c->job.hidden, c->job.batch, c->job.layers,
            c->job.cell == LS_CELL_LSTM ? "" : " ",
            c->job.cell == LS_CELL_LSTM ? "" : ls_cell_name(c->job.cell),
            ls_status_name(r->status), r->epochs_run);
    if (r->val_error >= 0)
        fprintf(stderr, ", validation error %.4f%% of %zu", 100 * r->val_error,
                ls_dataset_size(ds, LS_SPLIT_VAL));
    if (r->test_error >= 0)
        fprintf(stderr, ", test error %.4f%% of %zu", 100 * r->test_error,
                ls_dataset_size(ds, LS_SPLIT_TEST));
    fprintf(stderr, ", train loss %.4f; %s wall (train %.1fs, eval %.1fs), "
                    "%.0f samples/s, %.1f GFLOP/s on %d thread(s)\n",
            r->train_loss, wall, r->train_s, r->eval_s, r->samples_per_s,
            r->gflops, r->threads);
    if (r->message[0])
        fprintf(stderr, "  %s\n", r->message);
}

int cmd_train(int argc, char **argv)
{
    train_cli c = {0};
    ls_dataset *ds = NULL;
    ls_result res;
    ls_err err = {0};
    int rc = parse(argc, argv, &c);

    if (rc)
        return rc < 0 ? 0 : rc;
    if (ls_train_load_data(&c.job, &ds, &err)) {
        cli_error("train: %s", err.msg);
        return 1;
    }
    ls_train_opts o = {.curve_path = c.curve, .save_path = c.save,
                       .progress = c.quiet ? NULL : progress};
    rc = ls_train(&c.job, ds, &o, &res, NULL, &err);
    summary(&c, &res, ds);
    if (c.results) {
        ls_err werr = {0};
        if (ls_results_append(c.results, &c.job, &res, &werr)) {
            cli_error("train: %s", werr.msg);
            rc = rc ? rc : LS_EIO;
        } else {
            fprintf(stderr, "result appended to %s\n", c.results);
        }
    }
    if (c.save && res.status == LS_STATUS_OK && !rc)
        fprintf(stderr, "model saved to %s\n", c.save);
    ls_dataset_destroy(ds);
    return rc || res.status != LS_STATUS_OK ? 1 : 0;
}
