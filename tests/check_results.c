/* check_results.c - job identity and keys, the results schema (header,
 * lookups, keys, pinned row bytes, round trip), and the crash-safe results
 * CSV: header handling, whole lines under concurrent appends, refusal to
 * mix formats, recovery from a torn last line; the curves CSV read back, its
 * bad rows named by file and line; merging results in memory, and curves
 * (one row per job and epoch, the later wins); more merge cases in
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
#include "lstmsweep/schema.h"
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
                           "bits=20 train_size=10000 val_size=10000");
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

/* ---- the schema table ---- */

START_TEST(test_schema_header_is_the_table)
{
    char joined[1024] = "";
    size_t n = 0;
    ck_assert_int_eq(ls_schema_count(), LS_NCOLUMNS);
    for (int i = 0; i < ls_schema_count(); i++) {
        const ls_column *c = ls_schema_at(i);
        n += (size_t)snprintf(joined + n, sizeof joined - n, "%s%s", i ? "," : "", c->name);
        ck_assert_int_eq(c->index, i);
        ck_assert_int_eq(ls_csv_column(LS_RESULTS_COLUMNS, c->name), i);
        ck_assert_ptr_eq(ls_schema_column(c->name), c);
    }
    ck_assert_str_eq(joined, LS_RESULTS_COLUMNS);
    ck_assert_int_eq(LS_COLUMN_job_id, 0);
    ck_assert_int_eq(LS_COLUMN_message, LS_NCOLUMNS - 1);
}
END_TEST

START_TEST(test_schema_lookups)
{
    static const struct {
        const char *name;
        ls_col_type type;
        ls_col_from from;
        ls_col_empty empty;
        int id;
    } want[] = {
        {"job_id", LS_TYPE_TEXT, LS_FROM_GEN, LS_EMPTY_NEVER, 0},
        {"sweep", LS_TYPE_TEXT, LS_FROM_JOB, LS_EMPTY_OPT, 0},
        {"task", LS_TYPE_TASK, LS_FROM_KEY, LS_EMPTY_NEVER, 1},
        {"seed", LS_TYPE_U64, LS_FROM_KEY, LS_EMPTY_NEVER, 8},
        {"bits", LS_TYPE_INT, LS_FROM_KEY, LS_EMPTY_BITCOUNT, 11},
        {"train_size", LS_TYPE_LONG, LS_FROM_KEY, LS_EMPTY_NEVER, 12},
        {"data", LS_TYPE_TEXT, LS_FROM_KEY, LS_EMPTY_MNIST, 13},
        {"target_error", LS_TYPE_REAL, LS_FROM_KEY, LS_EMPTY_OPT, 10},
        {"cell", LS_TYPE_CELL, LS_FROM_KEY, LS_EMPTY_DEFAULT, 15},
        {"precision", LS_TYPE_PREC, LS_FROM_RES_KEY, LS_EMPTY_DEFAULT, 17},
        {"search", LS_TYPE_TEXT, LS_FROM_JOB, LS_EMPTY_DEFAULT, 16},
        {"rung", LS_TYPE_INT, LS_FROM_RES, LS_EMPTY_OPT, 0},
        {"status", LS_TYPE_STATUS, LS_FROM_RES, LS_EMPTY_NEVER, 0},
        {"test_error", LS_TYPE_REAL, LS_FROM_RES, LS_EMPTY_OPT, 0},
        {"threads", LS_TYPE_INT, LS_FROM_RES_KEY, LS_EMPTY_NEVER, 0},
        {"numa_node", LS_TYPE_INT, LS_FROM_RES, LS_EMPTY_OPT, 0},
        {"version", LS_TYPE_TEXT, LS_FROM_GEN, LS_EMPTY_NEVER, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const ls_column *c = ls_schema_column(want[i].name);
        ck_assert_msg(c != NULL, "%s", want[i].name);
        ck_assert_int_eq(c->type, want[i].type);
        ck_assert_int_eq(c->from, want[i].from);
        ck_assert_int_eq(c->empty, want[i].empty);
        ck_assert_int_eq(c->id, want[i].id);
    }
    ck_assert_ptr_null(ls_schema_column("nope"));
    ck_assert_ptr_null(ls_schema_column(""));
    ck_assert(ls_column_is_number(ls_schema_column("seed")));
    ck_assert(ls_column_is_integer(ls_schema_column("seed")));
    ck_assert(ls_column_is_number(ls_schema_column("gflops")));
    ck_assert(!ls_column_is_integer(ls_schema_column("gflops")));
    ck_assert(!ls_column_is_number(ls_schema_column("task")));
    ck_assert(!ls_column_is_number(ls_schema_column("status")));

    /* the canonical text's order, which the job ids hash */
    char order[512] = "";
    size_t n = 0;
    const ls_column *c;
    for (int i = 0; (c = ls_schema_identity(i)); i++)
        n += (size_t)snprintf(order + n, sizeof order - n, "%s%s", i ? " " : "", c->name);
    ck_assert_str_eq(order, "task hidden batch layers epochs lr dropout seed eval_every "
                            "target_error bits train_size data val_size cell search "
                            "precision");
}
END_TEST

/* What the report's column tables (src/report/report.c: hp_name[],
 * num_cols[]) hold today, as the schema gives it: the identity columns in
 * the row's order, and the number columns with 'i' integer / 'r' real,
 * upper case when the field may be empty. */
START_TEST(test_schema_gives_the_report_tables)
{
    char hp[512] = "", num[512] = "";
    size_t nh = 0, nn = 0;
    for (int i = 0; i < ls_schema_count(); i++) {
        const ls_column *c = ls_schema_at(i);
        if (c->id > 0)
            nh += (size_t)snprintf(hp + nh, sizeof hp - nh, "%s%s", nh ? " " : "", c->name);
        if (ls_column_is_number(c)) {
            char kind = ls_column_is_integer(c) ? 'i' : 'r';
            if (c->empty != LS_EMPTY_NEVER)
                kind = (char)(kind - 'a' + 'A');
            nn += (size_t)snprintf(num + nn, sizeof num - nn, "%s%s:%c", nn ? " " : "",
                                   c->name, kind);
        }
    }
    ck_assert_str_eq(hp, "task hidden batch layers cell precision epochs lr dropout seed bits "
                         "train_size val_size data target_error eval_every search");
    ck_assert_str_eq(num, "hidden:i batch:i layers:i epochs:i lr:r dropout:r seed:i bits:I "
                          "train_size:i val_size:i target_error:R eval_every:i epochs_run:i rung:I "
                          "train_loss:R train_error:R val_error:R test_error:R wall_s:r train_s:r "
                          "eval_s:r samples_per_s:r gflops:r threads:i numa_node:I");
}
END_TEST

/* The job keys as they were before they came from the schema: the same
 * names in the same order (--help and getopt's option numbers follow it)
 * and the same help. */
START_TEST(test_job_keys_are_the_schema_keys)
{
    static const char *const names[] = {
        "task", "hidden", "batch", "layers", "cell", "precision", "epochs", "lr",
        "dropout", "seed",
        "bits", "train_size", "val_size", "data", "target_error", "eval_every", "threads"};
    int n = (int)(sizeof names / sizeof *names);
    ck_assert_int_eq(ls_job_key_count(), n);
    for (int i = 0; i < n; i++) {
        const ls_job_key *k = ls_job_key_at(i);
        ck_assert_str_eq(k->name, names[i]);
        ck_assert(k->help && *k->help);
        const ls_column *c = ls_schema_column(k->name);
        ck_assert(c && (c->from == LS_FROM_KEY || c->from == LS_FROM_RES_KEY));
    }
    ck_assert_str_eq(ls_job_key_at(0)->help, "bitcount | mnist");
    ck_assert_str_eq(ls_job_key_at(11)->help,
                     "bitcount: training strings; mnist: first N training images (0 = all)");
    ck_assert_str_eq(ls_job_key_at(16)->help,
                     "OpenMP threads of the job (0 = inherited, fewer for small steps)");

    ls_job j;
    ls_err err = {0};
    char v[64];
    ls_job_defaults(&j, LS_TASK_MNIST);
    ck_assert(ls_job_set(&j, "threads", "3", &err) == 0);
    ck_assert_int_eq(j.threads, 3); /* a key sets the job's field */
    ls_job_get(&j, "threads", v, sizeof v);
    ck_assert_str_eq(v, "3");
    ls_job_get(&j, "lr", v, sizeof v);
    ck_assert_str_eq(v, "0.001");
    ls_job_get(&j, "target_error", v, sizeof v);
    ck_assert_str_eq(v, "-1");
    ls_job_get(&j, "task", v, sizeof v);
    ck_assert_str_eq(v, "mnist");
    ls_job_get(&j, "bits", v, sizeof v); /* not this task's, yet it has a value */
    ck_assert_str_eq(v, "20");
    ls_job_get(&j, "data", v, sizeof v);
    ck_assert_str_eq(v, "data/mnist");
    ls_job_get(&j, "sweep", v, sizeof v); /* a column, not a key */
    ck_assert_str_eq(v, "?");
    ck_assert_int_eq(ls_job_set(&j, "sweep", "x", &err), LS_EINVAL);
    ck_assert_int_eq(ls_job_set(&j, "status", "ok", &err), LS_EINVAL);
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
        r->val_error = 0.0111111;
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
 * schema table replaced them (commit f47c6c4), then extended by the
 * validation split's val_size (identity; the resolved default) and
 * val_error columns. */
static const char *const pinned_canon[2] = {
    "task=bitcount hidden=24 batch=1000 layers=2 epochs=600 "
    "lr=0.0012345678899999999 dropout=0.25 seed=9007199254740993 eval_every=5 "
    "target_error=0.0030000000000000001 bits=16 train_size=10000 val_size=10000",
    "task=mnist hidden=64 batch=100 layers=1 epochs=3 lr=0.001 "
    "dropout=0.10000000000000001 seed=1 eval_every=0 target_error=-1 "
    "train_size=6000 data=data/fashion \"mnist\" val_size=5000",
};
static const char *const pinned_id[2] = {"8130afe4cb078928", "48620b63a5488c83"};
/* Each row up to its onednn column (machine facts follow), then the
 * message. */
static const char *const pinned_row[2][2] = {
    {"8130afe4cb078928,\"grid, v2\",bitcount,24,1000,2,lstm,f32,600,0.00123457,0.25,"
     "9007199254740993,16,10000,10000,,0.003,5,,diverged,17,,0.693147,,0.0111111,0.0123457,"
     "12.346,"
     "10.250,0.000,123456.8,1234.568,2,\"0-1,4\",,node1,2026-12-02T00:00:00Z,"
     "2026-12-02T00:01:02Z,",
     "\"loss \"\"NaN\"\", stopped\nat epoch 17\"\n"},
    {"48620b63a5488c83,,mnist,64,100,1,lstm,f32,3,0.001,0.1,1,,6000,5000,"
     "\"data/fashion \"\"mnist\"\"\",,0,,ok,3,,1e-07,0,,0.1,100.000,90.500,9.500,"
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
                     "job_id,sweep,task,hidden,batch,layers,cell,precision,epochs,lr,dropout,"
                     "seed,bits,train_size,val_size,data,target_error,eval_every,search,status,"
                     "epochs_run,rung,train_loss,train_error,val_error,test_error,wall_s,"
                     "train_s,eval_s,"
                     "samples_per_s,gflops,"
                     "threads,cpus,numa_node,host,start_time,end_time,onednn,isa,version,"
                     "message");
}
END_TEST

/* Files of the earlier layouts (before cell; before precision, search and
 * rung) are merged into today's: each field in its column, cell lstm for
 * the oldest, precision f32, search and rung empty; a file of no layout is
 * still refused. */
START_TEST(test_results_merge_upgrades_old_files)
{
    char h1[4096], h2[4096], p1[160], p2[160], out[160], bad[160];
    ls_err err = {0};
    ck_assert_int_eq(ls_results_layout_header(1, h1, sizeof h1), 0);
    ck_assert_int_eq(ls_results_layout_header(2, h2, sizeof h2), 0);
    ck_assert_ptr_null(strstr(h1, ",cell,"));
    ck_assert_ptr_nonnull(strstr(h2, ",cell,"));
    ck_assert_ptr_null(strstr(h2, ",rung,"));
    snprintf(p1, sizeof p1, "%s/v1.csv", dir);
    snprintf(p2, sizeof p2, "%s/v2.csv", dir);
    snprintf(out, sizeof out, "%s/out.csv", dir);
    snprintf(bad, sizeof bad, "%s/bad.csv", dir);
    FILE *f;
    /* one row each: its fields the header's names, but a job id and a status */
    for (int k = 1; k <= 2; k++) {
        char *h = k == 1 ? h1 : h2, row[4096] = "", *save = NULL, copy[4096];
        snprintf(copy, sizeof copy, "%s", h);
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            const char *v = !strcmp(t, "job_id") ? (k == 1 ? "00000000000000a1"
                                                           : "00000000000000a2")
                            : !strcmp(t, "status") ? "ok" : t;
            snprintf(row + strlen(row), sizeof row - strlen(row), "%s%s", *row ? "," : "", v);
        }
        f = fopen(k == 1 ? p1 : p2, "w");
        fprintf(f, "%s\n%s\n", h, row);
        fclose(f);
    }
    const char *in[] = {p1, p2};
    ck_assert_msg(ls_results_merge(out, in, 2, NULL, &err) == 0, "%s", err.msg);
    char *s = slurp(out);
    ck_assert_ptr_nonnull(strstr(s, LS_RESULTS_COLUMNS "\n"));
    ck_assert_ptr_nonnull(strstr(s, "00000000000000a1,sweep,task,hidden,batch,layers,lstm,f32,epochs,"));
    ck_assert_ptr_nonnull(strstr(s, "00000000000000a2,sweep,task,hidden,batch,layers,cell,f32,epochs,"));
    ck_assert_ptr_nonnull(strstr(s, ",eval_every,,ok,epochs_run,,train_loss,"));
    free(s);
    f = fopen(bad, "w");
    fprintf(f, "job_id,sweep,status\n00000000000000a3,x,ok\n");
    fclose(f);
    const char *in_bad[] = {bad};
    ck_assert_int_eq(ls_results_merge(out, in_bad, 1, NULL, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "unexpected header"), "%s", err.msg);
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

/* Values exact in the row's formats, so that reading the row back gives
 * them bit for bit. */
static void exact_inputs(int which, ls_job *j, ls_result *r)
{
    row_inputs(which, j, r);
    j->lr = 0.001;
    j->threads = 0; /* not in the row: the row's threads is the result's */
    j->val_size = ls_job_val_size(j); /* the row holds the resolved size */
    if (which == 0) {
        memset(j->data, 0, sizeof j->data); /* not in a bitcount row */
        r->train_loss = 0.5;
        r->val_error = 0.0625;
        r->test_error = 0.0125;
        r->wall_s = 12.5;
        r->eval_s = 0.125;
        r->samples_per_s = 123456.5;
        r->gflops = 1234.5;
    } else {
        r->train_error = 0.25;
        r->test_error = -1;
    }
}

typedef struct back {
    ls_job job[2];
    ls_result res[2];
    char id[2][LS_JOB_ID_LEN];
    int n;
} back;

static int back_row(void *ctx, const char *p, long line, int nf, char **f, ls_err *err)
{
    back *b = ctx;
    int i = b->n++;
    ck_assert_int_lt(i, 2);
    ls_job_defaults(&b->job[i], i == 0 ? LS_TASK_BITCOUNT : LS_TASK_MNIST);
    snprintf(b->id[i], LS_JOB_ID_LEN, "%s", f[LS_COLUMN_job_id]);
    return ls_results_parse(nf, f, &b->job[i], &b->res[i], err);
}

START_TEST(test_results_round_trip)
{
    ls_job j[2];
    ls_result r[2];
    back b = {.n = 0};
    ls_err err = {0};
    int torn;

    for (int w = 0; w < 2; w++) {
        exact_inputs(w, &j[w], &r[w]);
        ck_assert(ls_results_append(path, &j[w], &r[w], &err) == 0);
    }
    ck_assert_msg(ls_csv_read(path, LS_RESULTS_COLUMNS, back_row, &b, &torn, &err) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(b.n, 2);
    ck_assert(!torn);
    for (int w = 0; w < 2; w++) {
        char id[LS_JOB_ID_LEN];
        ls_job_id(&j[w], id);
        ck_assert_str_eq(b.id[w], id);
        ls_job_id(&b.job[w], id);
        ck_assert_str_eq(b.id[w], id);
        /* every field, the job's and the result's, as a value (both sides
         * start from ls_job_defaults / ls_result_init, which zero the
         * padding and the text buffers' tails) */
        ck_assert(memcmp(&b.job[w], &j[w], sizeof j[w]) == 0);
        ck_assert(memcmp(&b.res[w], &r[w], sizeof r[w]) == 0);
    }
}
END_TEST

START_TEST(test_results_parse_rejects_bad_fields)
{
    ls_job j;
    ls_result r;
    ls_err err = {0};
    char text[LS_NCOLUMNS][64], *f[LS_NCOLUMNS];

    row_inputs(0, &j, &r);
    for (int i = 0; i < LS_NCOLUMNS; i++) {
        ls_column_format(ls_schema_at(i), LS_FORM_CSV, &j, &r, text[i], sizeof text[i]);
        f[i] = text[i];
    }
    ck_assert(ls_results_parse(LS_NCOLUMNS, f, &j, &r, &err) == 0);
    ck_assert_int_eq(ls_results_parse(LS_NCOLUMNS - 1, f, &j, &r, &err), LS_EFORMAT);
    snprintf(text[LS_COLUMN_hidden], sizeof text[0], "24x");
    ck_assert_int_eq(ls_results_parse(LS_NCOLUMNS, f, &j, &r, &err), LS_EFORMAT);
    ck_assert_int_eq(err.code, LS_EFORMAT);
    ck_assert_str_eq(err.msg, "hidden: '24x' is not an integer in range");
    snprintf(text[LS_COLUMN_hidden], sizeof text[0], "24");
    snprintf(text[LS_COLUMN_status], sizeof text[0], "done");
    ck_assert_int_eq(ls_results_parse(LS_NCOLUMNS, f, &j, &r, &err), LS_EFORMAT);
    ck_assert(strstr(err.msg, "status: 'done'"));
    snprintf(text[LS_COLUMN_status], sizeof text[0], "ok");
    text[LS_COLUMN_epochs_run][0] = '\0'; /* never empty */
    ck_assert_int_eq(ls_results_parse(LS_NCOLUMNS, f, &j, &r, &err), LS_EFORMAT);
    ck_assert(strstr(err.msg, "epochs_run"));
    ck_assert_int_eq(ls_results_parse(LS_NCOLUMNS, f, &j, &r, NULL), LS_EFORMAT);
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
    ck_assert(ls_curve_append(path, "0123456789abcdef", 1, 2.5, 0.75, -1, -1, 0.5, &err) == 0);
    ck_assert(ls_curve_append(path, "0123456789abcdef", 2, 1.25, 0.5, 0.25, 0.375, 1, &err) == 0);
    char *text = slurp(path);
    ck_assert_str_eq(text, LS_CURVE_COLUMNS "\n0123456789abcdef,1,2.5,0.75,,,0.500\n"
                           "0123456789abcdef,2,1.25,0.5,0.25,0.375,1.000\n");
    free(text);
    write_text(path, "a", "0123456789abcdef,3,1.0"); /* torn by a crash */
    ck_assert_msg(ls_curve_read(path, collect, &s, &torn, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(torn, 1);
    ck_assert_str_eq(s.id[0], "0123456789abcdef");
    ck_assert_int_eq(s.row[0].epoch, 1);
    ck_assert(isnan(s.row[0].test_error)); /* no evaluation: empty */
    ck_assert(isnan(s.row[0].val_error));
    ck_assert(s.row[1].epoch == 2 && s.row[1].train_loss == 1.25 &&
              s.row[1].train_error == 0.5 && s.row[1].val_error == 0.25 &&
              s.row[1].test_error == 0.375 &&
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
    curves_reject(LS_CURVE_COLUMNS "\nabc,1,2,0.5,,,1\nabc,2,x,0.5,,,1\n",
                  "r.csv:3: train_loss: 'x' is not a number");
    curves_reject(LS_CURVE_COLUMNS "\nabc,1.5,2,0.5,,,1\n", "r.csv:2: epoch: '1.5' is not an integer");
    curves_reject(LS_CURVE_COLUMNS "\nabc,1,2,0.5,,,\n", "r.csv:2: elapsed_s: '' is not a number");
    curves_reject(LS_CURVE_COLUMNS "\nabc,1,2,0.5,y,,1\n", "r.csv:2: val_error: 'y' is not a number");
    curves_reject(LS_CURVE_COLUMNS "\nabc,1,2,0.5,,1\n", "r.csv:2: 6 fields, expected 7");
    curves_reject(LS_RESULTS_COLUMNS "\n", "r.csv:1: unexpected header");
    ck_assert_int_eq(ls_curve_append(path, "abc", 1, 1, 1, 1, 1, 1, &err), LS_EFORMAT);
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
    ck_assert_msg(ls_curve_append(p, id[job], e, l, 0.5, e == 2 ? 0.2 : -1,
                                  e == 2 ? 0.25 : -1, e, &err) == 0, "%s", err.msg);
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
                           "00000000000000aa,1,2,0.5,,,1.000\n"
                           "00000000000000aa,2,1.75,0.5,0.2,0.25,2.000\n"
                           "00000000000000aa,3,1.375,0.5,,,3.000\n"
                           "00000000000000bb,1,2.5,0.5,,,1.000\n"
                           "00000000000000aa,4,1,0.5,,,4.000\n");
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
    write_text(path, "w", LS_CURVE_COLUMNS "\n00000000000000aa,1,2,0.5,,,1\n"
                          "00000000000000aa,x,2,0.5,,,1\n");
    ck_assert_int_eq(ls_curves_merge(out, in, 1, NULL, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "r.csv:3: epoch: 'x' is not an integer"), "%s", err.msg);
    write_text(path, "w", LS_CURVE_COLUMNS "\nabc,1,2,0.5,,,1\n");
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

    ls_add_tests(jobs, LS_TESTS(test_job_id_is_stable, test_job_set_accepts_both_spellings,
                                test_job_set_rejects_bad_values, test_job_validate_ranges));
    tcase_add_checked_fixture(csv, tmp_setup, tmp_teardown);
    ls_add_tests(jobs, LS_TESTS(test_job_canonical_pinned, test_schema_header_is_the_table,
                                test_schema_lookups, test_schema_gives_the_report_tables,
                                test_job_keys_are_the_schema_keys));
    ls_add_tests(csv, LS_TESTS(test_results_header_pinned, test_results_row_bytes_pinned,
                               test_results_merge_upgrades_old_files,
                               test_results_round_trip, test_results_parse_rejects_bad_fields,
                               test_results_header_once_and_row_shape,
                               test_results_refuses_other_header,
                               test_results_torn_last_line_is_isolated,
                               test_results_unwritable_is_an_error,
                               test_results_concurrent_appends_whole_lines));
    tcase_add_checked_fixture(curves, tmp_setup, tmp_teardown);
    ls_add_tests(curves, LS_TESTS(test_curves_append_and_read_back,
                                  test_curves_bad_rows_name_file_and_line,
                                  test_curves_path_beside_results));
    suite_add_tcase(s, jobs);
    suite_add_tcase(s, csv);
    tcase_add_checked_fixture(merge, tmp_setup, tmp_teardown);
    ls_add_tests(merge, LS_TESTS(test_merge_load_keeps_best_rows_in_memory,
                                 test_merge_curves_one_row_per_epoch_later_wins,
                                 test_merge_curves_rejects_bad_input));
    suite_add_tcase(s, curves);
    suite_add_tcase(s, merge);
    return s;
}

LS_CHECK_MAIN(results_suite)
