/* check_shard.c - sharding of a sweep (disjoint, complete, balanced,
 * stable) and merging of results files (duplicates, interrupted then
 * finished, incompatible headers, torn last line, malformed rows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/merge.h"
#include "lstmsweep/results.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/shard.h"

enum { NJOBS = 200 };

static double cost[NJOBS];
static char ids[NJOBS][LS_JOB_ID_LEN];

static void make_jobs(void)
{
    ls_rng r;
    ls_rng_seed(&r, 5, 0);
    for (int i = 0; i < NJOBS; i++) {
        /* costs spanning three decades, as in a real grid */
        cost[i] = 0.1 * (1 + (double)ls_rng_below(&r, 1000));
        snprintf(ids[i], LS_JOB_ID_LEN, "%016llx", (unsigned long long)ls_rng_next(&r));
    }
}

START_TEST(test_shard_disjoint_complete_balanced)
{
    int shard[NJOBS];
    make_jobs();
    for (int n = 1; n <= 9; n++) {
        double load[9] = {0}, biggest = 0;
        int count[9] = {0};
        ck_assert(ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])ids, NJOBS, n, shard, NULL) == 0);
        for (int i = 0; i < NJOBS; i++) {
            ck_assert(shard[i] >= 0 && shard[i] < n); /* each job in one shard */
            load[shard[i]] += cost[i];
            count[shard[i]]++;
            biggest = cost[i] > biggest ? cost[i] : biggest;
        }
        double lo = load[0], hi = load[0];
        for (int s = 0; s < n; s++) {
            ck_assert(count[s] > 0);
            lo = load[s] < lo ? load[s] : lo;
            hi = load[s] > hi ? load[s] : hi;
        }
        ck_assert_msg(hi - lo <= biggest, "n=%d: loads %.1f..%.1f", n, lo, hi);
    }
}
END_TEST

START_TEST(test_shard_stable_under_reordering)
{
    int a[NJOBS], b[NJOBS], perm[NJOBS];
    double c2[NJOBS];
    char i2[NJOBS][LS_JOB_ID_LEN];
    ls_rng r;
    make_jobs();
    ck_assert(ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])ids, NJOBS, 4, a, NULL) == 0);
    for (int i = 0; i < NJOBS; i++)
        perm[i] = i;
    ls_rng_seed(&r, 9, 0);
    for (int i = NJOBS - 1; i > 0; i--) {
        int j = (int)ls_rng_below(&r, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    for (int i = 0; i < NJOBS; i++) {
        c2[i] = cost[perm[i]];
        memcpy(i2[i], ids[perm[i]], LS_JOB_ID_LEN);
    }
    ck_assert(ls_shard_assign(c2, (const char (*)[LS_JOB_ID_LEN])i2, NJOBS, 4, b, NULL) == 0);
    for (int i = 0; i < NJOBS; i++)
        ck_assert_int_eq(b[i], a[perm[i]]);
}
END_TEST

/* Every failure comes with a message (the runner used to report any
 * shard failure as "out of memory"); err may be NULL. */
START_TEST(test_shard_bad_count_has_message)
{
    int a[NJOBS];
    ls_err err = {0};
    make_jobs();
    for (int n = 0; n >= -1; n--) {
        err.msg[0] = '\0';
        ck_assert_int_eq(ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])ids, NJOBS,
                                         n, a, &err), LS_EINVAL);
        ck_assert_int_eq(err.code, LS_EINVAL);
        ck_assert_msg(strstr(err.msg, "shard"), "message: '%s'", err.msg);
        ck_assert_int_eq(ls_shard_assign(cost, (const char (*)[LS_JOB_ID_LEN])ids, NJOBS,
                                         n, a, NULL), LS_EINVAL);
    }
}
END_TEST

/* ---- merge ---- */

static char dir[64];

static void setup(void)
{
    ls_test_mkdtemp(dir, sizeof dir, "merge");
}

static void teardown(void)
{
    ls_test_rmtree(dir);
}

/* Append a row for job with `hidden` and status to file name in dir. */
static void row(const char *name, int hidden, ls_status st, int epochs)
{
    char path[128];
    ls_job j;
    ls_result r;
    ls_err err = {0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ls_job_defaults(&j, LS_TASK_BITCOUNT);
    j.hidden = hidden;
    ls_result_init(&r);
    r.status = st;
    r.epochs_run = epochs;
    ck_assert(ls_results_append(path, &j, &r, &err) == 0);
}

static char *slurp(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int merge(const char *out, const char *a, const char *b, ls_merge_stats *st,
                 ls_err *err)
{
    char pa[128], pb[128], po[128];
    const char *in[2] = {pa, pb};
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    snprintf(po, sizeof po, "%s/%s", dir, out);
    return ls_results_merge(po, in, b ? 2 : 1, st, err);
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p++)
        n++;
    return n;
}

START_TEST(test_merge_one_row_per_job_final_beats_interrupted)
{
    ls_merge_stats st;
    ls_err err = {0};
    row("a.csv", 8, LS_STATUS_OK, 600);
    row("a.csv", 16, LS_STATUS_INTERRUPTED, 100);
    row("b.csv", 16, LS_STATUS_OK, 600);         /* interrupted, then finished */
    row("b.csv", 32, LS_STATUS_INTERRUPTED, 50);
    row("b.csv", 8, LS_STATUS_OK, 600);          /* a duplicate */
    ck_assert_msg(merge("m.csv", "a.csv", "b.csv", &st, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(st.rows, 5);
    ck_assert_int_eq(st.jobs, 3);
    ck_assert_int_eq(st.replaced, 2);
    ck_assert_int_eq(st.interrupted, 1);
    char *m = slurp("m.csv");
    ck_assert_int_eq(count(m, "\n"), 4);
    ck_assert_int_eq(count(m, ",ok,600,"), 2);
    ck_assert_int_eq(count(m, ",interrupted,50,"), 1);
    ck_assert_int_eq(count(m, ",interrupted,100,"), 0);
    /* the output may be an input: merging again changes nothing */
    char copy[1 << 16];
    snprintf(copy, sizeof copy, "%s", m);
    ck_assert(merge("m.csv", "m.csv", NULL, &st, &err) == 0);
    ck_assert_str_eq(slurp("m.csv"), copy);
}
END_TEST

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

START_TEST(test_merge_torn_last_line_skipped)
{
    ls_merge_stats st;
    ls_err err = {0};
    row("a.csv", 8, LS_STATUS_OK, 600);
    char path[128];
    snprintf(path, sizeof path, "%s/a.csv", dir);
    FILE *f = fopen(path, "a");
    fputs("0123456789abcdef,x,bitcount,24,10", f); /* no newline: torn */
    fclose(f);
    ck_assert_msg(merge("m.csv", "a.csv", NULL, &st, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(st.torn, 1);
    ck_assert_int_eq(st.jobs, 1);
}
END_TEST

START_TEST(test_merge_rejects_bad_files)
{
    ls_merge_stats st;
    ls_err err = {0};
    row("a.csv", 8, LS_STATUS_OK, 600);
    write_file("hdr.csv", "job_id,status\n0123456789abcdef,ok\n");
    ck_assert_int_eq(merge("m.csv", "a.csv", "hdr.csv", &st, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "hdr.csv:1:") && strstr(err.msg, "header"), "%s", err.msg);

    write_file("short.csv", LS_RESULTS_COLUMNS "\n0123456789abcdef,x,bitcount\n");
    ck_assert_int_eq(merge("m.csv", "short.csv", NULL, &st, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "short.csv:2:") && strstr(err.msg, "fields"), "%s", err.msg);

    /* a whole row with an unknown status */
    char *a = slurp("a.csv");
    char bad[8192];
    snprintf(bad, sizeof bad, "%s", a);
    char *p = strstr(bad, ",ok,");
    memcpy(p, ",OK,", 4);
    write_file("status.csv", bad);
    ck_assert_int_eq(merge("m.csv", "status.csv", NULL, &st, &err), LS_EFORMAT);
    ck_assert_msg(strstr(err.msg, "status.csv:2:") && strstr(err.msg, "status"), "%s", err.msg);

    ck_assert_int_eq(merge("m.csv", "missing.csv", NULL, &st, &err), LS_EIO);
    ck_assert_msg(strstr(err.msg, "missing.csv"), "%s", err.msg);
    char out[128];
    snprintf(out, sizeof out, "%s/m.csv", dir);
    ck_assert(access(out, F_OK) != 0); /* nothing written on error */
}
END_TEST

Suite *shard_suite(void)
{
    Suite *s = suite_create("shard");
    TCase *sh = tcase_create("Shard");
    TCase *mg = tcase_create("Merge");
    ls_add_tests(sh, LS_TESTS(test_shard_disjoint_complete_balanced,
                              test_shard_stable_under_reordering,
                              test_shard_bad_count_has_message));
    tcase_add_checked_fixture(mg, setup, teardown);
    ls_add_tests(mg, LS_TESTS(test_merge_one_row_per_job_final_beats_interrupted,
                              test_merge_torn_last_line_skipped, test_merge_rejects_bad_files));
    suite_add_tcase(s, sh);
    suite_add_tcase(s, mg);
    return s;
}

LS_CHECK_MAIN(shard_suite)
