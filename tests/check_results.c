/* check_results.c - job identity and keys, and the crash-safe results CSV:
 * header handling, whole lines under concurrent appends, refusal to mix
 * formats, recovery from a torn last line. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/job.h"
#include "lstmsweep/results.h"
#include "lstmsweep/sysinfo.h"

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

/* ---- pinned bytes: the schema table must reproduce these exactly ---- */

/* Two jobs and results that exercise every text form of a row: quoting
 * (a comma, doubled quotes, a newline), the fields left empty (bits for
 * mnist, data for bitcount, negative numbers, numa_node -1) and each
 * number format (%.6g, %.3f, %.1f, %llu). */
static void row_inputs(int which, ls_job *j, ls_result *r)
{
    ls_result_init(r);
    if (which == 0) {
        ls_job_defaults(j, LS_TASK_BITCOUNT);
        snprintf(j->sweep, sizeof j->sweep, "grid, v2");
        j->layers = 2;
        j->lr = 0.00123456789;
        j->dropout = 0.25;
        j->seed = 9007199254740993ULL;
        j->bits = 16;
        snprintf(j->data, sizeof j->data, "not/written/for/bitcount");
        j->target_error = 0.003;
        j->eval_every = 5;
        j->threads = 3;
        r->status = LS_STATUS_DIVERGED;
        r->epochs_run = 17;
        r->train_loss = 0.693147180559945;
        r->train_error = -1;
        r->test_error = 0.0123456789;
        r->wall_s = 12.3456;
        r->train_s = 10.25;
        r->eval_s = 0;
        r->samples_per_s = 123456.789;
        r->gflops = 1234.5678;
        r->threads = 2;
        snprintf(r->cpus, sizeof r->cpus, "0-1,4");
        r->numa_node = -1;
        snprintf(r->host, sizeof r->host, "node1");
        snprintf(r->start_time, sizeof r->start_time, "2026-12-02T00:00:00Z");
        snprintf(r->end_time, sizeof r->end_time, "2026-12-02T00:01:02Z");
        snprintf(r->message, sizeof r->message, "loss \"NaN\", stopped\nat epoch 17");
    } else {
        ls_job_defaults(j, LS_TASK_MNIST);
        snprintf(j->data, sizeof j->data, "data/fashion \"mnist\"");
        j->hidden = 64;
        j->epochs = 3;
        j->train_size = 6000;
        j->dropout = 0.1;
        r->status = LS_STATUS_OK;
        r->epochs_run = 3;
        r->train_loss = 1e-7;
        r->train_error = 0;
        r->test_error = 0.1;
        r->wall_s = 100;
        r->train_s = 90.5;
        r->eval_s = 9.5;
        r->samples_per_s = 1e7;
        r->gflops = 0.5;
        r->threads = 1;
        snprintf(r->cpus, sizeof r->cpus, "3");
        r->numa_node = 0;
        snprintf(r->host, sizeof r->host, "h");
    }
}

/* Captured from the hand-written writer and canonical text before the
 * schema table replaced them (commit f47c6c4). */
static const char *const pinned_canon[2] = {
    "task=bitcount hidden=24 batch=1000 layers=2 epochs=600 "
    "lr=0.0012345678899999999 dropout=0.25 seed=9007199254740993 eval_every=5 "
    "target_error=0.0030000000000000001 bits=16 train_size=10000",
    "task=mnist hidden=64 batch=100 layers=1 epochs=3 lr=0.001 "
    "dropout=0.10000000000000001 seed=1 eval_every=0 target_error=-1 "
    "train_size=6000 data=data/fashion \"mnist\"",
};
static const char *const pinned_id[2] = {"16005bb0b8b3f271", "f94999324cfb67da"};
/* Each row up to its onednn column (machine facts follow), then the
 * message. */
static const char *const pinned_row[2][2] = {
    {"16005bb0b8b3f271,\"grid, v2\",bitcount,24,1000,2,600,0.00123457,0.25,"
     "9007199254740993,16,10000,,0.003,5,diverged,17,0.693147,,0.0123457,12.346,"
     "10.250,0.000,123456.8,1234.568,2,\"0-1,4\",,node1,2026-12-02T00:00:00Z,"
     "2026-12-02T00:01:02Z,",
     "\"loss \"\"NaN\"\", stopped\nat epoch 17\"\n"},
    {"f94999324cfb67da,,mnist,64,100,1,3,0.001,0.1,1,,6000,"
     "\"data/fashion \"\"mnist\"\"\",,0,ok,3,1e-07,0,0.1,100.000,90.500,9.500,"
     "10000000.0,0.500,1,3,0,h,,,",
     "\n"},
};

START_TEST(test_job_canonical_pinned)
{
    for (int w = 0; w < 2; w++) {
        ls_job j;
        ls_result r;
        char text[2048], id[LS_JOB_ID_LEN];
        row_inputs(w, &j, &r);
        ls_job_canonical(&j, text, sizeof text);
        ck_assert_str_eq(text, pinned_canon[w]);
        ls_job_id(&j, id);
        ck_assert_str_eq(id, pinned_id[w]);
    }
}
END_TEST

START_TEST(test_results_header_pinned)
{
    ck_assert_str_eq(LS_RESULTS_COLUMNS,
                     "job_id,sweep,task,hidden,batch,layers,epochs,lr,dropout,seed,bits,"
                     "train_size,data,target_error,eval_every,status,epochs_run,train_loss,"
                     "train_error,test_error,wall_s,train_s,eval_s,samples_per_s,gflops,"
                     "threads,cpus,numa_node,host,start_time,end_time,onednn,isa,version,"
                     "message");
}
END_TEST

START_TEST(test_results_row_bytes_pinned)
{
    char want[4096], onednn[32];
    ls_err err = {0};
    size_t n;

    ls_sys_onednn_version(onednn, sizeof onednn);
    n = (size_t)snprintf(want, sizeof want, "%s\n", LS_RESULTS_COLUMNS);
    for (int w = 0; w < 2; w++) {
        ls_job j;
        ls_result r;
        row_inputs(w, &j, &r);
        ck_assert(ls_results_append(path, &j, &r, &err) == 0);
        n += (size_t)snprintf(want + n, sizeof want - n, "%s%s,%s,%s,%s", pinned_row[w][0],
                              onednn, ls_sys_isa(), PACKAGE_VERSION, pinned_row[w][1]);
    }
    char *s = slurp(path);
    ck_assert_str_eq(s, want);
    free(s);
}
END_TEST

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

Suite *results_suite(void)
{
    Suite *s = suite_create("results");
    TCase *jobs = tcase_create("Jobs");
    TCase *csv = tcase_create("Csv");

    tcase_add_test(jobs, test_job_id_is_stable);
    tcase_add_test(jobs, test_job_set_accepts_both_spellings);
    tcase_add_test(jobs, test_job_set_rejects_bad_values);
    tcase_add_test(jobs, test_job_validate_ranges);
    tcase_add_checked_fixture(csv, tmp_setup, tmp_teardown);
    tcase_add_test(jobs, test_job_canonical_pinned);
    tcase_add_test(csv, test_results_header_pinned);
    tcase_add_test(csv, test_results_row_bytes_pinned);
    tcase_add_test(csv, test_results_header_once_and_row_shape);
    tcase_add_test(csv, test_results_refuses_other_header);
    tcase_add_test(csv, test_results_torn_last_line_is_isolated);
    tcase_add_test(csv, test_results_unwritable_is_an_error);
    tcase_add_test(csv, test_results_concurrent_appends_whole_lines);
    suite_add_tcase(s, jobs);
    suite_add_tcase(s, csv);
    return s;
}

LS_CHECK_MAIN(results_suite)
