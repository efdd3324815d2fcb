/* check_results.c - job identity and keys, and the crash-safe results CSV:
 * header handling, whole lines under concurrent appends, refusal to mix
 * formats, recovery from a torn last line; the curves CSV read back, its bad
 * rows named by file and line; merging results in memory, and curves (one
 * row per job and epoch, the later wins); more merge cases in
 * check_shard.c. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/curves.h"
#include "lstmsweep/csv.h"
#include "lstmsweep/job.h"
#include "lstmsweep/merge.h"
#include "lstmsweep/results.h"

/* ---- jobs ---- */

START_TEST(test_job_id_is_stable)
{
    ls_job j;
    char id[LS_JOB_ID_LEN], id2[LS_JOB_ID_LEN], text[1024];

    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    ls_job_canonical(&j, text, sizeof text);
    ck_assert_str_eq(text, "task=bitcount hidden=24 batch=1000 layers=1 epochs=600 "
                           "lr=0.001 dropout=0 seed=1 eval_every=0 target_error=-1 "
                           "bits=20 train_size=10000");
    /* Pinned: results files written by earlier versions resume by this id. */
    ls_job_id(&j, id);
    ck_assert_int_eq(strlen(id), 16);
    j.threads = 7;                 /* not part of the identity */
    snprintf(j.sweep, sizeof j.sweep, "other");
    ls_job_id(&j, id2);
    ck_assert_str_eq(id, id2);
    j.hidden = 25;
    ls_job_id(&j, id2);
    ck_assert_str_ne(id, id2);
}
END_TEST

START_TEST(test_job_set_accepts_both_spellings)
{
    ls_job j;
    ls_err err = {0};
    ls_job_defaults(&j, LS_TASK_MNIST);
    ck_assert(ls_job_set(&j, "train-size", "500", &err) == 0);
    ck_assert_int_eq(j.train_size, 500);
    ck_assert(ls_job_set(&j, "train_size", "600", &err) == 0);
    ck_assert_int_eq(j.train_size, 600);
    ck_assert(ls_job_set(&j, "lr", "3e-4", &err) == 0);
    ck_assert(j.lr == 3e-4);
    ck_assert(ls_job_set(&j, "task", "bitcount", &err) == 0);
    ck_assert_int_eq(j.task, LS_TASK_BITCOUNT);
}
END_TEST

START_TEST(test_job_set_rejects_bad_values)
{
    ls_job j;
    ls_err err = {0};
    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    ck_assert_int_eq(ls_job_set(&j, "hiden", "3", &err), LS_EINVAL);
    ck_assert(strstr(err.msg, "unknown key 'hiden'"));
    ck_assert_int_eq(ls_job_set(&j, "hidden", "3x", &err), LS_EINVAL);
    ck_assert(strstr(err.msg, "hidden") && strstr(err.msg, "3x"));
    ck_assert_int_eq(ls_job_set(&j, "lr", "", &err), LS_EINVAL);
    ck_assert_int_eq(ls_job_set(&j, "lr", "nan", &err), LS_EINVAL);
    ck_assert_int_eq(ls_job_set(&j, "seed", "-1", &err), LS_EINVAL);
    ck_assert_int_eq(ls_job_set(&j, "task", "cifar", &err), LS_EINVAL);
    ck_assert_int_eq(ls_job_set(&j, "batch", "99999999999", &err), LS_EINVAL);
}
END_TEST

START_TEST(test_job_validate_ranges)
{
    static const struct { const char *key, *value, *msg; } bad[] = {
        {"hidden", "0", "hidden"}, {"hidden", "-4", "hidden"},
        {"batch", "0", "batch"},   {"layers", "0", "layers"},
        {"epochs", "0", "epochs"}, {"lr", "0", "lr"},
        {"dropout", "1", "dropout"}, {"dropout", "-0.1", "dropout"},
        {"bits", "31", "bits"},    {"bits", "0", "bits"},
        {"train_size", "1048576", "train_size"}, {"threads", "-1", "threads"},
        {"hidden", "100000", "hidden"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ls_job j;
        ls_err err = {0};
        ls_job_defaults(&j, LS_TASK_BITCOUNT);
        ck_assert(ls_job_validate(&j, &err) == 0);
        ck_assert(ls_job_set(&j, bad[i].key, bad[i].value, &err) == 0);
        ck_assert_msg(ls_job_validate(&j, &err) == LS_EINVAL, "%s=%s accepted",
                      bad[i].key, bad[i].value);
        ck_assert_msg(strstr(err.msg, bad[i].msg), "'%s' lacks '%s'", err.msg, bad[i].msg);
    }
}
END_TEST

/* ---- results CSV ---- */

static char dir[64], path[128];

static void tmp_setup(void)
{
    ls_test_mkdtemp(dir, sizeof dir, "results");
    snprintf(path, sizeof path, "%s/r.csv", dir);
}

static void tmp_teardown(void)
{
    ls_test_rmtree(dir);
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    ck_assert(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    ck_assert(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return b;
}

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static int ncolumns(void)
{
    return count_char(LS_RESULTS_COLUMNS, ',') + 1;
}

START_TEST(test_results_header_once_and_row_shape)
{
    ls_job j;
    ls_result r;
    ls_err err = {0};
    ls_job_defaults(&j, LS_TASK_MNIST);
    ls_result_init(&r);
    snprintf(r.message, sizeof r.message, "a \"quoted\", message");
    ck_assert(ls_results_append(path, &j, &r, &err) == 0);
    ck_assert(ls_results_append(path, &j, &r, &err) == 0);
    char *s = slurp(path);
    ck_assert(!strncmp(s, LS_RESULTS_COLUMNS "\n", strlen(LS_RESULTS_COLUMNS) + 1));
    ck_assert_int_eq(count_char(s, '\n'), 3);
    ck_assert(strstr(s, "\"a \"\"quoted\"\", message\"\n"));
    ck_assert(strstr(s, ",ok,0,"));
    free(s);
}
END_TEST

START_TEST(test_results_refuses_other_header)
{
    ls_job j;
    ls_result r;
    ls_err err = {0};
    FILE *f = fopen(path, "w");
    fputs("a,b,c\n1,2,3\n", f);
    fclose(f);
    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    ls_result_init(&r);
    ck_assert_int_eq(ls_results_append(path, &j, &r, &err), LS_EFORMAT);
    ck_assert(strstr(err.msg, path) && strstr(err.msg, "different header"));
    char *s = slurp(path);
    ck_assert_str_eq(s, "a,b,c\n1,2,3\n"); /* untouched */
    free(s);
}
END_TEST

START_TEST(test_results_torn_last_line_is_isolated)
{
    ls_job j;
    ls_result r;
    ls_err err = {0};
    FILE *f = fopen(path, "w");
    fputs(LS_RESULTS_COLUMNS "\nabc,torn", f);
    fclose(f);
    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    ls_result_init(&r);
    ck_assert(ls_results_append(path, &j, &r, &err) == 0);
    char *s = slurp(path);
    ck_assert(strstr(s, "\nabc,torn\n") != NULL); /* our row starts a new line */
    free(s);
}
END_TEST

START_TEST(test_results_unwritable_is_an_error)
{
    ls_job j;
    ls_result r;
    ls_err err = {0};
    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    ls_result_init(&r);
    ck_assert_int_eq(ls_results_append("/dev/null/r.csv", &j, &r, &err), LS_EIO);
    ck_assert(strstr(err.msg, "/dev/null/r.csv"));
    if (access("/dev/full", W_OK) == 0) {
        ck_assert_int_eq(ls_csv_append_line("/dev/full", "h", "x\n", 1, &err), LS_EIO);
    }
}
END_TEST

enum { WRITERS = 8, ROWS = 40 };

static void *writer(void *arg)
{
    ls_job j;
    ls_result r;
    ls_err err = {0};
    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    j.hidden = 1 + (int)(long)arg;
    ls_result_init(&r);
    /* a long message makes each row several hundred bytes */
    memset(r.message, 'x', 400);
    for (int i = 0; i < ROWS; i++) {
        j.seed = (uint64_t)i;
        if (ls_results_append(path, &j, &r, &err) != 0)
            return (void *)1;
    }
    return NULL;
}

START_TEST(test_results_concurrent_appends_whole_lines)
{
    pthread_t t[WRITERS];
    for (long i = 0; i < WRITERS; i++)
        ck_assert(pthread_create(&t[i], NULL, writer, (void *)i) == 0);
    for (int i = 0; i < WRITERS; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        ck_assert(rv == NULL);
    }
    char *s = slurp(path), *save = NULL;
    int lines = 0;
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        ck_assert_int_eq(count_char(l, ',') + 1, ncolumns());
        lines++;
    }
    ck_assert_int_eq(lines, 1 + WRITERS * ROWS);
    free(s);
}
END_TEST

/* ---- curves CSV ---- */

typedef struct seen {
    int n;
    char id[4][LS_JOB_ID_LEN];
    ls_curve_row row[4];
} seen;

static int collect(void *ctx, const ls_curve_row *row, ls_err *err)
{
    seen *s = ctx;
    ck_assert_int_lt(s->n, 4);
    snprintf(s->id[s->n], sizeof s->id[s->n], "%s", row->job_id);
    s->row[s->n++] = *row;
    return 0;
}

static void write_text(const char *p, const char *mode, const char *text)
{
    FILE *f = fopen(p, mode);
    ck_assert(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_curves_append_and_read_back)
{
    seen s = {0};
    ls_err err = {0};
    int torn = 0;
    ck_assert(ls_curve_append(path, "0123456789abcdef", 1, 2.5, 0.75, -1, 0.5, &err) == 0);
    ck_assert(ls_curve_append(path, "0123456789abcdef", 2, 1.25, 0.5, 0.375, 1, &err) == 0);
    char *text = slurp(path);
    ck_assert_str_eq(text, LS_CURVE_COLUMNS "\n0123456789abcdef,1,2.5,0.75,,0.500\n"
                           "0123456789abcdef,2,1.25,0.5,0.375,1.000\n");
    free(text);
    write_text(path, "a", "0123456789abcdef,3,1.0"); /* torn by a crash */
    ck_assert_msg(ls_curve_read(path, collect, &s, &torn, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(torn, 1);
    ck_assert_str_eq(s.id[0], "0123456789abcdef");
    ck_assert_int_eq(s.row[0].epoch, 1);
    ck_assert(isnan(s.row[0].test_error)); /* no evaluation: empty */
    ck_assert(s.row[1].epoch == 2 && s.row[1].train_loss == 1.25 &&
              s.row[1].train_error == 0.5 && s.row[1].test_error == 0.375 &&
              s.row[1].elapsed_s == 1);
}
END_TEST

/* Read path (written with text) and expect LS_EFORMAT with want in it. */
static void curves_reject(const char *text, const char *want)
{
    seen s = {0};
    ls_err err = {0};
    write_text(path, "w", text);
    ck_assert_int_eq(ls_curve_read(path, collect, &s, NULL, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, want), "'%s' lacks '%s'", err.msg, want);
}

START_TEST(test_curves_bad_rows_name_file_and_line)
{
    ls_err err = {0};
    curves_reject(LS_CURVE_COLUMNS "\nabc,1,2,0.5,,1\nabc,2,x,0.5,,1\n",
                  "r.csv:3: train_loss: 'x' is not a number");
    curves_reject(LS_CURVE_COLUMNS "\nabc,1.5,2,0.5,,1\n", "r.csv:2: epoch: '1.5' is not an integer");
    curves_reject(LS_CURVE_COLUMNS "\nabc,1,2,0.5,,\n", "r.csv:2: elapsed_s: '' is not a number");
    curves_reject(LS_CURVE_COLUMNS "\nabc,1,2,0.5,1\n", "r.csv:2: 5 fields, expected 6");
    curves_reject(LS_RESULTS_COLUMNS "\n", "r.csv:1: unexpected header");
    ck_assert_int_eq(ls_curve_append(path, "abc", 1, 1, 1, 1, 1, &err), LS_EFORMAT);
}
END_TEST

START_TEST(test_curves_path_beside_results)
{
    char out[64];
    ls_curve_path("results/x.csv", out, sizeof out);
    ck_assert_str_eq(out, "results/x-curves.csv");
    ls_curve_path("results/x", out, sizeof out);
    ck_assert_str_eq(out, "results/x-curves.csv");
}
END_TEST

/* ---- merging ---- */

/* Append a row of a bitcount job (hidden h) with status st and test error te. */
static void append_job(const char *p, int h, ls_status st, double te)
{
    ls_job j;
    ls_result r;
    ls_err err = {0};
    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    j.hidden = h;
    ls_result_init(&r);
    r.status = st;
    r.test_error = te;
    ck_assert_msg(ls_results_append(p, &j, &r, &err) == 0, "%s", err.msg);
}

START_TEST(test_merge_load_keeps_best_rows_in_memory)
{
    char b[160];
    const char *in[2] = {path, b};
    ls_merged m;
    ls_merge_stats st;
    ls_err err = {0};
    int status = ls_csv_column(LS_RESULTS_COLUMNS, "status"),
        te = ls_csv_column(LS_RESULTS_COLUMNS, "test_error"),
        hidden = ls_csv_column(LS_RESULTS_COLUMNS, "hidden");

    snprintf(b, sizeof b, "%s/b.csv", dir);
    append_job(path, 8, LS_STATUS_INTERRUPTED, -1);
    append_job(path, 16, LS_STATUS_OK, 0.5);
    append_job(path, 8, LS_STATUS_OK, 0.25);
    append_job(b, 16, LS_STATUS_OK, 0.125);      /* later: wins */
    append_job(b, 8, LS_STATUS_INTERRUPTED, -1); /* not final: loses */
    ck_assert_msg(ls_results_merge_load(&m, in, 2, &st, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(m.nrows, 2);
    ck_assert_int_eq(m.nfields, ncolumns());
    ck_assert_str_eq(m.rows[0][hidden], "8"); /* order of first appearance */
    ck_assert_str_eq(m.rows[0][status], "ok");
    ck_assert_str_eq(m.rows[0][te], "0.25");
    ck_assert_str_eq(m.rows[1][hidden], "16");
    ck_assert_str_eq(m.rows[1][te], "0.125");
    ck_assert(st.rows == 5 && st.jobs == 2 && st.replaced == 3 && st.interrupted == 0);
    ls_merged_free(&m);
    ck_assert(m.nrows == 0 && m.rows == NULL);
    ls_merged_free(&m); /* empty: a no-op */

    FILE *f = fopen(b, "a");
    fputs("0123456789abcdef,x,bitcount\n", f); /* 3 fields */
    fclose(f);
    ck_assert_int_eq(ls_results_merge_load(&m, in, 2, &st, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "b.csv:4:"), "%s", err.msg);
    ck_assert(m.nrows == 0 && m.rows == NULL);
}
END_TEST

/* The curves row of job `id` (one of two ids) at epoch e with loss l. */
static void curve(const char *p, int job, int e, double l)
{
    const char *id[2] = {"00000000000000aa", "00000000000000bb"};
    ls_err err = {0};
    ck_assert_msg(ls_curve_append(p, id[job], e, l, 0.5, e == 2 ? 0.25 : -1, e, &err) == 0,
                  "%s", err.msg);
}

START_TEST(test_merge_curves_one_row_per_epoch_later_wins)
{
    char b[160], out[160];
    const char *in[2] = {path, b};
    ls_merge_stats st;
    ls_err err = {0};

    snprintf(b, sizeof b, "%s/b.csv", dir);
    snprintf(out, sizeof out, "%s/out.csv", dir);
    curve(path, 0, 1, 2.0);
    curve(path, 0, 2, 1.5);
    curve(path, 0, 3, 1.25);
    curve(path, 0, 2, 1.75); /* resumed from the epoch-1 checkpoint */
    curve(path, 0, 3, 1.375);
    curve(b, 1, 1, 3.0);
    curve(b, 0, 4, 1.0);     /* the same job, continued in another file */
    curve(b, 1, 1, 2.5);
    write_text(b, "a", "00000000000000bb,2,1"); /* torn by a crash */
    ck_assert_msg(ls_curves_merge(out, in, 2, &st, &err) == 0, "%s", err.msg);
    ck_assert(st.rows == 8 && st.jobs == 5 && st.replaced == 3 && st.torn == 1 &&
              st.interrupted == 0);
    char *text = slurp(out);
    ck_assert_str_eq(text, LS_CURVE_COLUMNS "\n"
                           "00000000000000aa,1,2,0.5,,1.000\n"
                           "00000000000000aa,2,1.75,0.5,0.25,2.000\n"
                           "00000000000000aa,3,1.375,0.5,,3.000\n"
                           "00000000000000bb,1,2.5,0.5,,1.000\n"
                           "00000000000000aa,4,1,0.5,,4.000\n");
    free(text);
    /* out may be an input: merging again changes nothing */
    in[0] = out;
    ck_assert_msg(ls_curves_merge(out, in, 1, &st, &err) == 0, "%s", err.msg);
    ck_assert(st.rows == 5 && st.jobs == 5 && st.replaced == 0 && st.torn == 0);
}
END_TEST

START_TEST(test_merge_curves_rejects_bad_input)
{
    char out[160];
    const char *in[1] = {path};
    ls_err err = {0};

    snprintf(out, sizeof out, "%s/out.csv", dir);
    append_job(path, 8, LS_STATUS_OK, 0.5); /* a results file */
    ck_assert_int_eq(ls_curves_merge(out, in, 1, NULL, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "r.csv:1: unexpected header"), "%s", err.msg);
    write_text(path, "w", LS_CURVE_COLUMNS "\n00000000000000aa,1,2,0.5,,1\n"
                          "00000000000000aa,x,2,0.5,,1\n");
    ck_assert_int_eq(ls_curves_merge(out, in, 1, NULL, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "r.csv:3: epoch: 'x' is not an integer"), "%s", err.msg);
    write_text(path, "w", LS_CURVE_COLUMNS "\nabc,1,2,0.5,,1\n");
    ck_assert_int_eq(ls_curves_merge(out, in, 1, NULL, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "r.csv:2: bad job id 'abc'"), "%s", err.msg);
    ck_assert(access(out, F_OK) != 0); /* nothing written */
}
END_TEST

Suite *results_suite(void)
{
    Suite *s = suite_create("results");
    TCase *jobs = tcase_create("Jobs");
    TCase *csv = tcase_create("Csv");
    TCase *curves = tcase_create("Curves");
    TCase *merge = tcase_create("Merge");

    tcase_add_test(jobs, test_job_id_is_stable);
    tcase_add_test(jobs, test_job_set_accepts_both_spellings);
    tcase_add_test(jobs, test_job_set_rejects_bad_values);
    tcase_add_test(jobs, test_job_validate_ranges);
    tcase_add_checked_fixture(csv, tmp_setup, tmp_teardown);
    tcase_add_test(csv, test_results_header_once_and_row_shape);
    tcase_add_test(csv, test_results_refuses_other_header);
    tcase_add_test(csv, test_results_torn_last_line_is_isolated);
    tcase_add_test(csv, test_results_unwritable_is_an_error);
    tcase_add_test(csv, test_results_concurrent_appends_whole_lines);
    tcase_add_checked_fixture(curves, tmp_setup, tmp_teardown);
    tcase_add_test(curves, test_curves_append_and_read_back);
    tcase_add_test(curves, test_curves_bad_rows_name_file_and_line);
    tcase_add_test(curves, test_curves_path_beside_results);
    suite_add_tcase(s, jobs);
    suite_add_tcase(s, csv);
    tcase_add_checked_fixture(merge, tmp_setup, tmp_teardown);
    tcase_add_test(merge, test_merge_load_keeps_best_rows_in_memory);
    tcase_add_test(merge, test_merge_curves_one_row_per_epoch_later_wins);
    tcase_add_test(merge, test_merge_curves_rejects_bad_input);
    suite_add_tcase(s, curves);
    suite_add_tcase(s, merge);
    return s;
}

LS_CHECK_MAIN(results_suite)
