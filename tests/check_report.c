/* check_report.c - results analysis: best configuration and its spread over
 * seeds, ranking ties, pivot cells, the failed/diverged/interrupted list,
 * one row per job (merge's rule), malformed and empty inputs with FILE:LINE,
 * and the gnuplot charts (drawn when gnuplot is installed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/job.h"
#include "lstmsweep/report.h"
#include "lstmsweep/results.h"

static char dir[64];

static void setup(void)
{
    ls_test_mkdtemp(dir, sizeof dir, "report");
}

static void teardown(void)
{
    ls_test_rmtree(dir);
}

static const char *in_dir(const char *name)
{
    static char path[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%.150s", dir, name);
    return path[k];
}

static void job_of(ls_job *j, int hidden, int layers, int seed)
{
    ls_job_defaults(j, LS_TASK_BITCOUNT); /* batch 1000 */
    j->hidden = hidden;
    j->layers = layers;
    j->seed = (uint64_t)seed;
    j->epochs = 5;
}

static ls_cell add_cell; /* the cell of the rows add() writes */

/* Append one job row to dir/name; err < 0 leaves test_error empty. */
static void add(const char *name, int hidden, int layers, int seed, ls_status st,
                double err, double wall, double sps, const char *msg)
{
    ls_job j;
    ls_result r;
    ls_err e = {0};
    job_of(&j, hidden, layers, seed);
    j.cell = add_cell;
    ls_result_init(&r);
    r.status = st;
    r.epochs_run = st == LS_STATUS_OK ? 5 : 2;
    r.test_error = err;
    r.wall_s = r.train_s = wall;
    r.samples_per_s = sps;
    r.gflops = sps / 100;
    r.threads = 1;
    snprintf(r.message, sizeof r.message, "%s", msg ? msg : "");
    ck_assert_msg(ls_results_append(in_dir(name), &j, &r, &e) == 0, "%s", e.msg);
}

/* The main fixture, ranked: C (0.25, 4 s) ties B (0.25, 10 s) and wins on
 * wall time; then D (0.3, one of two seeds diverged); then A (3 seeds). */
static void fixture(const char *name)
{
    add(name, 8, 1, 1, LS_STATUS_OK, 0.5, 2, 100, NULL);   /* A */
    add(name, 8, 1, 2, LS_STATUS_OK, 0.25, 2, 200, NULL);
    add(name, 8, 1, 3, LS_STATUS_OK, 0.75, 2, 300, NULL);
    add(name, 16, 1, 1, LS_STATUS_OK, 0.125, 10, 50, NULL); /* B */
    add(name, 16, 1, 2, LS_STATUS_OK, 0.375, 10, 70, NULL);
    add(name, 32, 1, 1, LS_STATUS_OK, 0.25, 4, 40, NULL);   /* C */
    add(name, 16, 2, 1, LS_STATUS_OK, 0.3, 6, 30, NULL);    /* D */
    add(name, 16, 2, 2, LS_STATUS_DIVERGED, -1, 1, 0, "loss became NaN at epoch 2");
}

static ls_report *load1(const char *name)
{
    const char *p[1] = {in_dir(name)};
    ls_report *r;
    ls_err e = {0};
    ck_assert_msg(ls_report_load(&r, p, 1, &e) == 0, "%s", e.msg);
    return r;
}

/* Render r with o into a string the caller frees. */
static char *render(const ls_report *r, const ls_report_opts *o)
{
    char *buf = NULL;
    size_t len;
    ls_err e = {0};
    FILE *f = open_memstream(&buf, &len);
    ck_assert(f);
    ck_assert_msg(ls_report_write(r, o, f, &e) == 0, "%s", e.msg);
    fclose(f);
    return buf;
}

START_TEST(test_report_best_configuration_and_seed_stats)
{
    ls_report *r;
    ls_report_config c;
    fixture("a.csv");
    r = load1("a.csv");
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", NULL, 0, &c), 0);
    ck_assert_int_eq(c.hidden, 32); /* ties B on mean error, 4 s < 10 s */
    ck_assert_int_eq(c.layers, 1);
    ck_assert_int_eq(c.batch, 1000);
    ck_assert_int_eq(c.seeds, 1);
    ck_assert_double_eq_tol(c.err_std, 0, 1e-12);
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", "", 1, &c), 0);
    ck_assert_int_eq(c.hidden, 16);
    ck_assert_int_eq(c.seeds, 2);
    ck_assert_double_eq_tol(c.err_mean, 0.25, 1e-12);
    ck_assert_double_eq_tol(c.err_std, sqrt(2 * 0.125 * 0.125), 1e-9); /* sample std */
    ck_assert_double_eq_tol(c.wall_mean, 10, 1e-9);
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", NULL, 2, &c), 0);
    ck_assert_int_eq(c.layers, 2);      /* D: its diverged seed is not averaged */
    ck_assert_int_eq(c.runs, 2);
    ck_assert_int_eq(c.seeds, 1);
    ck_assert_double_eq_tol(c.err_mean, 0.3, 1e-9);
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", NULL, 3, &c), 0);
    ck_assert_int_eq(c.hidden, 8);      /* A: 0.5, 0.25, 0.75 */
    ck_assert_int_eq(c.seeds, 3);
    ck_assert_double_eq_tol(c.err_mean, 0.5, 1e-12);
    ck_assert_double_eq_tol(c.err_std, 0.25, 1e-12);
    ck_assert_double_eq_tol(c.err_min, 0.25, 1e-12);
    ck_assert_double_eq_tol(c.err_max, 0.75, 1e-12);
    ck_assert_double_eq_tol(c.sps_mean, 200, 1e-9);
    ck_assert_msg(strstr(c.desc, "hidden=8 batch=1000 layers=1 cell=lstm precision=f32 epochs=5") != NULL, "%s", c.desc);
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", NULL, 4, &c), LS_EINVAL);
    ck_assert_int_eq(ls_report_ranked(r, "mnist", NULL, 0, &c), LS_EINVAL);

    ls_report_opts o;
    ls_report_opts_init(&o);
    char *text = render(r, &o);
    ck_assert_msg(strstr(text, "best: hidden=32 batch=1000 layers=1: test error 25.0% "
                               "(one seed)") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "peak unknown (pass --peak)") != NULL, "%s", text);
    free(text);
    o.peak_gflops = 10; /* fastest: A at 2 GFLOP/s */
    text = render(r, &o);
    ck_assert_msg(strstr(text, "= 20.0% of the peak 10.00 GFLOP/s") != NULL, "%s", text);
    free(text);
    ls_report_destroy(r);
}
END_TEST

/* Results of several cells: the cell is a configuration key, shown where
 * it varies, and the default pivot makes one table per cell instead of
 * averaging over them. */
START_TEST(test_report_cells_are_a_key)
{
    ls_report *r;
    ls_report_opts o;
    add_cell = LS_CELL_LSTM;
    add("c.csv", 8, 1, 1, LS_STATUS_OK, 0.5, 2, 100, NULL);
    add("c.csv", 8, 1, 2, LS_STATUS_OK, 0.25, 2, 100, NULL);
    add_cell = LS_CELL_GRU;
    add("c.csv", 8, 1, 1, LS_STATUS_OK, 0.125, 2, 80, NULL);
    add_cell = LS_CELL_RNN;
    add("c.csv", 8, 1, 1, LS_STATUS_OK, 0.75, 2, 150, NULL);
    add_cell = LS_CELL_LSTM;
    r = load1("c.csv");
    ls_report_opts_init(&o);
    o.format = LS_REPORT_CSV;
    char *csv = render(r, &o);
    ck_assert_msg(strstr(csv, "\nsummary,configurations,3\n"), "%s", csv);
    ck_assert(strstr(csv, "\npivot,task,data,metric,hidden,layers,batch,cell,jobs,values,mean\n"));
    ck_assert(strstr(csv, "\npivot,bitcount,,test_error,8,1,1000,lstm,2,2,0.375\n"));
    ck_assert(strstr(csv, "\npivot,bitcount,,test_error,8,1,1000,gru,1,1,0.125\n"));
    ck_assert(strstr(csv, "\npivot,bitcount,,test_error,8,1,1000,rnn,1,1,0.75\n"));
    free(csv);
    o.format = LS_REPORT_TEXT;
    char *text = render(r, &o);
    ck_assert_msg(strstr(text, "best: hidden=8 batch=1000 layers=1 cell=gru: test error 12.5%"),
                  "%s", text);
    ck_assert_msg(strstr(text, "test error (%), batch=1000 cell=rnn"), "%s", text);
    free(text);
    ls_report_destroy(r);
}
END_TEST

START_TEST(test_report_pivot_cells)
{
    ls_report *r;
    ls_report_opts o;
    ls_err e = {0};
    char by[] = "layers,hidden";
    fixture("a.csv");
    r = load1("a.csv");
    ls_report_opts_init(&o);
    o.format = LS_REPORT_CSV;
    char *csv = render(r, &o);
    /* default keys hidden, layers, batch; cells: jobs, values averaged, mean */
    ck_assert(strstr(csv, "\npivot,task,data,metric,hidden,layers,batch,jobs,values,mean\n"));
    ck_assert(strstr(csv, "\npivot,bitcount,,test_error,8,1,1000,3,3,0.5\n"));
    ck_assert(strstr(csv, "\npivot,bitcount,,test_error,16,2,1000,2,1,0.3\n"));
    ck_assert(strstr(csv, "\npivot,bitcount,,samples_per_s,8,1,1000,3,3,200\n"));
    ck_assert(!strstr(csv, "\npivot,bitcount,,test_error,32,2,")); /* no such jobs */
    ck_assert(strstr(csv, "\nconfigs,bitcount,,1,32,1000,1,lstm,f32,5,"));
    ck_assert(strstr(csv, "\nsummary,configurations,4\n"));
    free(csv);

    o.format = LS_REPORT_TEXT;
    char *text = render(r, &o);
    ck_assert_msg(strstr(text, "bitcount: test error (%), batch=1000 (mean over seed)"), "%s", text);
    ck_assert_msg(strstr(text, "30.0*"), "%s", text); /* D: one of two seeds averaged */
    ck_assert(strstr(text, "*: mean of fewer jobs than the cell holds"));
    free(text);

    ck_assert_int_eq(ls_report_parse_by(&o, by, &e), 0);
    o.format = LS_REPORT_MARKDOWN;
    char *md = render(r, &o);
    ck_assert_msg(strstr(md, "| layers \\ hidden | 8 | 16 | 32 |\n|---:|---:|---:|---:|\n"
                             "| 1 | 50.0 | 25.0 | 25.0 |\n| 2 |  | 30.0* |  |\n"), "%s", md);
    free(md);
    ls_report_destroy(r);
}
END_TEST

START_TEST(test_report_lists_problem_jobs)
{
    ls_report *r;
    ls_report_opts o;
    ls_report_counts n;
    add("a.csv", 8, 1, 1, LS_STATUS_OK, 0.5, 2, 100, NULL);
    add("a.csv", 64, 1, 1, LS_STATUS_FAILED, -1, 0, 0, "needs 9.0 GiB, limit is 1.0 GiB");
    add("a.csv", 8, 2, 1, LS_STATUS_DIVERGED, -1, 1, 0, "loss became NaN at epoch 2");
    add("a.csv", 16, 1, 1, LS_STATUS_INTERRUPTED, -1, 1, 0, NULL);
    r = load1("a.csv");
    ls_report_get_counts(r, &n);
    ck_assert_int_eq(n.jobs, 4);
    ck_assert_int_eq(n.status[LS_STATUS_OK], 1);
    ck_assert_int_eq(n.status[LS_STATUS_FAILED], 1);
    ck_assert_int_eq(n.status[LS_STATUS_DIVERGED], 1);
    ck_assert_int_eq(n.status[LS_STATUS_INTERRUPTED], 1);
    ls_report_opts_init(&o);
    char *text = render(r, &o);
    char *list = strstr(text, "== Failed, diverged and interrupted jobs ==");
    ck_assert(list);
    char *f = strstr(list, "needs 9.0 GiB, limit is 1.0 GiB");
    char *d = strstr(list, "loss became NaN at epoch 2");
    char *i = strstr(list, "(checkpointed; rerun the sweep to continue)");
    ck_assert_msg(f && d && i && f < d && d < i, "%s", text); /* failed, diverged, interrupted */
    ck_assert(strstr(list, "2/5")); /* epochs run / epochs */
    free(text);
    o.format = LS_REPORT_CSV;
    char *csv = render(r, &o);
    ck_assert(strstr(csv, "\nsummary,failed,1\n"));
    ck_assert(strstr(csv, ",64,1000,1,1,failed,2,5,\"needs 9.0 GiB, limit is 1.0 GiB\"\n"));
    free(csv);
    ls_report_destroy(r);
}
END_TEST

START_TEST(test_report_best_row_per_job)
{
    const char *p[2];
    ls_report *r;
    ls_report_counts n;
    ls_report_config c;
    ls_err e = {0};
    /* X: interrupted then finished; Y: finished, later finished again (a rerun
     * with --retry-failed, say): the later row wins; Z: finished in a.csv,
     * an older interrupted row turns up in b.csv: the final row wins */
    add("a.csv", 8, 1, 1, LS_STATUS_INTERRUPTED, -1, 1, 0, NULL);
    add("a.csv", 8, 1, 1, LS_STATUS_OK, 0.5, 2, 100, NULL);
    add("a.csv", 16, 1, 1, LS_STATUS_OK, 0.75, 2, 100, NULL);
    add("a.csv", 32, 1, 1, LS_STATUS_OK, 0.125, 2, 100, NULL);
    add("b.csv", 16, 1, 1, LS_STATUS_OK, 0.25, 2, 100, NULL);
    add("b.csv", 32, 1, 1, LS_STATUS_INTERRUPTED, -1, 1, 0, NULL);
    p[0] = in_dir("a.csv");
    p[1] = in_dir("b.csv");
    ck_assert_msg(ls_report_load(&r, p, 2, &e) == 0, "%s", e.msg);
    ls_report_get_counts(r, &n);
    ck_assert_int_eq(n.rows, 6);
    ck_assert_int_eq(n.jobs, 3);
    ck_assert_int_eq(n.superseded, 3);
    ck_assert_int_eq(n.status[LS_STATUS_OK], 3);
    ck_assert_int_eq(n.status[LS_STATUS_INTERRUPTED], 0);
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", NULL, 0, &c), 0);
    ck_assert_int_eq(c.hidden, 32);
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", NULL, 1, &c), 0);
    ck_assert_int_eq(c.hidden, 16);     /* its later row: 0.25, not 0.75 */
    ck_assert_double_eq_tol(c.err_mean, 0.25, 1e-12);
    ck_assert_int_eq(c.runs, 1);
    ls_report_destroy(r);
}
END_TEST

/* MNIST and Fashion-MNIST are different problems: never averaged together. */
START_TEST(test_report_mnist_data_sets_kept_apart)
{
    const char *data[2] = {"data/mnist", "data/fashion-mnist"};
    ls_report *r;
    ls_report_config c;
    ls_err e = {0};
    for (int d = 0; d < 2; d++)
        for (int seed = 1; seed <= 2; seed++) {
            ls_job j;
            ls_result res;
            ls_job_defaults(&j, LS_TASK_MNIST);
            snprintf(j.data, sizeof j.data, "%s", data[d]);
            j.seed = (uint64_t)seed;
            ls_result_init(&res);
            res.test_error = d ? 0.125 * seed : 0.0625;
            ck_assert(ls_results_append(in_dir("m.csv"), &j, &res, &e) == 0);
        }
    add("m.csv", 8, 1, 1, LS_STATUS_OK, 0.5, 2, 100, NULL);
    r = load1("m.csv");
    ck_assert_int_eq(ls_report_ranked(r, "mnist", "data/mnist", 0, &c), 0);
    ck_assert_double_eq_tol(c.err_mean, 0.0625, 1e-12);
    ck_assert_int_eq(c.seeds, 2);
    ck_assert_int_eq(ls_report_ranked(r, "mnist", "data/fashion-mnist", 0, &c), 0);
    ck_assert_double_eq_tol(c.err_mean, 0.1875, 1e-12);
    ck_assert_int_eq(ls_report_ranked(r, "mnist", "data/mnist", 1, &c), LS_EINVAL);
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", NULL, 0, &c), 0);
    ck_assert_double_eq_tol(c.err_mean, 0.5, 1e-12);
    ls_report_opts o;
    ls_report_opts_init(&o);
    char *text = render(r, &o);
    ck_assert_msg(strstr(text, "== mnist data/fashion-mnist: best configurations =="), "%s", text);
    free(text);
    ls_report_destroy(r);
}
END_TEST

/* Configurations are ranked by validation error, not by the test error
 * they report: the one with the lower test error but the higher
 * validation error comes second. */
START_TEST(test_report_ranks_by_validation_error)
{
    ls_report *r;
    ls_report_config c;
    ls_err e = {0};
    for (int h = 0; h < 2; h++)
        for (int seed = 1; seed <= 2; seed++) {
            ls_job j;
            ls_result res;
            ls_job_defaults(&j, LS_TASK_BITCOUNT);
            j.hidden = h ? 32 : 8;
            j.seed = (uint64_t)seed;
            ls_result_init(&res);
            res.test_error = h ? 0.25 : 0.125;  /* H8 tests better ... */
            res.val_error = h ? 0.0625 : 0.5;   /* ... but validates worse */
            ck_assert(ls_results_append(in_dir("v.csv"), &j, &res, &e) == 0);
        }
    r = load1("v.csv");
    ck_assert_int_eq(ls_report_ranked(r, "bitcount", NULL, 0, &c), 0);
    ck_assert_int_eq(c.hidden, 32);
    ck_assert_double_eq_tol(c.err_mean, 0.25, 1e-12);
    ls_report_opts o;
    ls_report_opts_init(&o);
    char *text = render(r, &o);
    ck_assert_msg(strstr(text, "ranked by validation error") &&
                  strstr(text, "validation error 6.25%, test error 25"), "%s", text);
    free(text);
    ls_report_destroy(r);
}
END_TEST

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(in_dir(name), "w");
    ck_assert(f);
    fputs(text, f);
    fclose(f);
}

/* Load must fail with code, and a message holding each of want[]. */
static void load_fails(const char *name, int code, const char *want1, const char *want2)
{
    const char *p[1] = {in_dir(name)};
    ls_report *r = (ls_report *)1;
    ls_err e = {0};
    ck_assert_int_eq(ls_report_load(&r, p, 1, &e), code);
    ck_assert(r == NULL);
    ck_assert_msg(strstr(e.msg, want1) && (!want2 || strstr(e.msg, want2)), "%s", e.msg);
}

/* a.csv's text with the first `from` after the header replaced by `to` */
static void corrupt(const char *out, const char *from, const char *to)
{
    static char buf[1 << 15], res[1 << 15];
    FILE *f = fopen(in_dir("a.csv"), "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *second = strchr(strchr(buf, '\n') + 1, '\n') + 1; /* the second data row */
    char *at = strstr(second, from);
    ck_assert(at);
    snprintf(res, sizeof res, "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
    write_file(out, res);
}

START_TEST(test_report_rejects_malformed_input)
{
    add("a.csv", 8, 1, 1, LS_STATUS_OK, 0.5, 2, 100, NULL);
    add("a.csv", 16, 1, 1, LS_STATUS_OK, 0.25, 2, 100, NULL);

    write_file("hdr.csv", "job_id,status\n0123456789abcdef,ok\n");
    load_fails("hdr.csv", LS_EFORMAT, "hdr.csv:1:", "header");
    write_file("short.csv", LS_RESULTS_COLUMNS "\n0123456789abcdef,x,bitcount\n");
    load_fails("short.csv", LS_EFORMAT, "short.csv:2:", "fields");
    corrupt("int.csv", ",bitcount,16,", ",bitcount,x16,");
    load_fails("int.csv", LS_EFORMAT, "int.csv:3: hidden: 'x16' is not an integer", NULL);
    corrupt("real.csv", ",0.25,", ",0.25x,");
    load_fails("real.csv", LS_EFORMAT, "real.csv:3: test_error: '0.25x' is not a number", NULL);
    corrupt("status.csv", ",ok,", ",done,");
    load_fails("status.csv", LS_EFORMAT, "status.csv:3:", "status 'done'");
    corrupt("task.csv", ",bitcount,", ",bitcnt,");
    load_fails("task.csv", LS_EFORMAT, "task.csv:3:", "task 'bitcnt'");

    write_file("empty.csv", "");
    load_fails("empty.csv", LS_EINVAL, "empty.csv: no job rows", "nothing to report");
    write_file("header.csv", LS_RESULTS_COLUMNS "\n");
    load_fails("header.csv", LS_EINVAL, "header.csv: no job rows", NULL);
    load_fails("missing.csv", LS_EIO, "missing.csv", NULL);

    ls_report_opts o;
    ls_err e = {0};
    char one[] = "hidden", twice[] = "hidden,hidden", unknown[] = "hidden,colour",
         task[] = "task,hidden", dashed[] = "train-size,hidden";
    ls_report_opts_init(&o);
    ck_assert_int_eq(ls_report_parse_by(&o, one, &e), LS_EINVAL);
    ck_assert_int_eq(ls_report_parse_by(&o, twice, &e), LS_EINVAL);
    ck_assert_int_eq(ls_report_parse_by(&o, unknown, &e), LS_EINVAL);
    ck_assert_msg(strstr(e.msg, "'colour'"), "%s", e.msg);
    ck_assert_int_eq(ls_report_parse_by(&o, task, &e), LS_EINVAL);
    ck_assert_int_eq(ls_report_parse_by(&o, dashed, &e), 0);
    ck_assert_str_eq(o.by[0], "train_size");
}
END_TEST

START_TEST(test_report_torn_last_line_skipped)
{
    ls_report *r;
    ls_report_counts n;
    add("a.csv", 8, 1, 1, LS_STATUS_OK, 0.5, 2, 100, NULL);
    FILE *f = fopen(in_dir("a.csv"), "a");
    fputs("0123456789abcdef,x,bitcount,24,10", f); /* a crash mid-write */
    fclose(f);
    r = load1("a.csv");
    ls_report_get_counts(r, &n);
    ck_assert_int_eq(n.jobs, 1);
    ck_assert_int_eq(n.torn, 1);
    ls_report_destroy(r);
}
END_TEST

/* Curves for every seed of the fixture's best configurations. */
static void curves(const char *name)
{
    const int cfg[][3] = {{32, 1, 1}, {16, 1, 1}, {16, 1, 2}, {16, 2, 1}};
    ls_err e = {0};
    for (int k = 0; k < 4; k++) {
        ls_job j;
        char id[LS_JOB_ID_LEN];
        job_of(&j, cfg[k][0], cfg[k][1], cfg[k][2]);
        ls_job_id(&j, id);
        for (int ep = 1; ep <= 5; ep++)
            ck_assert(ls_curve_append(in_dir(name), id, ep, 2.0 / ep, 0.5 / ep,
                                      ep % 2 ? 0.55 / ep : -1, ep % 2 ? 0.6 / ep : -1, ep,
                                      &e) == 0);
    }
}

static int exists(const char *name)
{
    struct stat st;
    return stat(in_dir(name), &st) == 0 && st.st_size > 0;
}

static const char *const charts[] = {"error-vs-hidden_bitcount_batch1000",
                                     "throughput_bitcount", "curves_bitcount"};

START_TEST(test_report_plots)
{
    ls_report *r;
    ls_report_opts o;
    ls_report_plot_info info;
    ls_err e = {0};
    char plots[256], plots2[256], none[256], bad[256];
    int have_gnuplot = system("command -v gnuplot >/dev/null 2>&1") == 0;

    fixture("a.csv");
    curves("a-curves.csv"); /* found by name: a.csv -> a-curves.csv */
    r = load1("a.csv");
    ls_report_opts_init(&o);
    snprintf(plots, sizeof plots, "%s", in_dir("plots/sub")); /* created, parents too */
    o.plots_dir = plots;
    ck_assert_msg(ls_report_plots(r, &o, &info, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(info.charts, 3);
    for (int i = 0; i < 3; i++) {
        char name[256];
        snprintf(name, sizeof name, "plots/sub/%s.gp", charts[i]);
        ck_assert_msg(exists(name), "%s", name);
        snprintf(name, sizeof name, "plots/sub/%s.dat", charts[i]);
        ck_assert_msg(exists(name), "%s", name);
        if (!have_gnuplot)
            continue; /* the pictures need gnuplot */
        snprintf(name, sizeof name, "plots/sub/%s.png", charts[i]);
        ck_assert_msg(exists(name), "%s", name);
        snprintf(name, sizeof name, "plots/sub/%s.svg", charts[i]);
        ck_assert_msg(exists(name), "%s", name);
    }
    ck_assert_int_eq(info.drawn, have_gnuplot);
    if (have_gnuplot)
        ck_assert_msg(info.notes[0] == '\0', "%s", info.notes);

    /* no gnuplot, no curves file: notes, not errors; scripts still written */
    snprintf(plots2, sizeof plots2, "%s", in_dir("plots2"));
    snprintf(none, sizeof none, "%s", in_dir("none-curves.csv"));
    o.plots_dir = plots2;
    o.gnuplot = "/nonexistent/gnuplot";
    o.curves = none;
    ck_assert_msg(ls_report_plots(r, &o, &info, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(info.drawn, 0);
    ck_assert_int_eq(info.charts, 2);
    ck_assert_msg(strstr(info.notes, "learning curves skipped") &&
                  strstr(info.notes, "/nonexistent/gnuplot not found") &&
                  strstr(info.notes, "gnuplot-nox"), "%s", info.notes);
    ck_assert(exists("plots2/throughput_bitcount.gp"));
    ck_assert(!exists("plots2/throughput_bitcount.png"));

    /* a malformed curves file is an error with FILE:LINE */
    write_file("bad-curves.csv", LS_CURVE_COLUMNS "\nabc,1,2,0.5,,,1\nabc,x,2,0.5,,,1\n");
    snprintf(bad, sizeof bad, "%s", in_dir("bad-curves.csv"));
    o.curves = bad;
    ck_assert_int_eq(ls_report_plots(r, &o, &info, &e), LS_EFORMAT);
    ck_assert_msg(strstr(e.msg, "bad-curves.csv:3: epoch: 'x'"), "%s", e.msg);
    ls_report_destroy(r);
}
END_TEST

Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *core = tcase_create("Core");
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_checked_fixture(lim, setup, teardown);
    tcase_set_timeout(core, 60); /* gnuplot draws 6 files */
    ls_add_tests(core, LS_TESTS(test_report_best_configuration_and_seed_stats,
                                test_report_cells_are_a_key,
                                test_report_pivot_cells, test_report_lists_problem_jobs,
                                test_report_best_row_per_job,
                                test_report_mnist_data_sets_kept_apart,
                               test_report_ranks_by_validation_error, test_report_plots));
    ls_add_tests(lim, LS_TESTS(test_report_rejects_malformed_input,
                               test_report_torn_last_line_skipped));
    suite_add_tcase(s, core);
    suite_add_tcase(s, lim);
    return s;
}

LS_CHECK_MAIN(report_suite)
