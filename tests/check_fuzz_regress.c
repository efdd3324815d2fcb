/* check_fuzz_regress.c - replays every saved input in
 * $top_srcdir/tests/fuzz-regress/<target>/ through the fuzz targets' own
 * functions (fuzz/fuzz_<target>.c, built here without libFuzzer's entry
 * point): the inputs the fuzzers found, once fixed, and the trickiest
 * seeds.  A replay must not crash, leak under ASan, or break the error
 * contract the target checks (which aborts).  The Limits case pins down
 * what the fixed loaders now answer for the inputs that broke them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_util.h"
#include "../fuzz/fuzz.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/idx.h"
#include "lstmsweep/merge.h"
#include "lstmsweep/modelfile.h"

/* $top_srcdir/tests/fuzz-regress/<sub> into buf. */
static const char *regress_path(char *buf, size_t len, const char *sub)
{
    const char *top = getenv("top_srcdir");
    int n = snprintf(buf, len, "%s/tests/fuzz-regress/%s", top && *top ? top : ".", sub);
    ck_assert_int_lt(n, (int)len);
    return buf;
}

/* Feed every regular file of tests/fuzz-regress/<target>/ to fn; there
 * must be at least one. */
static void replay(const char *target, int (*fn)(const char *path))
{
    char dir[4096], path[8192];
    struct dirent *e;
    struct stat st;
    DIR *d = opendir(regress_path(dir, sizeof dir, target));
    int n = 0;

    ck_assert_msg(d != NULL, "cannot open %s (is top_srcdir set?)", dir);
    while ((e = readdir(d)) != NULL) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        fprintf(stderr, "replaying %s\n", path); /* names the culprit of a crash */
        fn(path);
        n++;
    }
    closedir(d);
    ck_assert_msg(n > 0, "no inputs in %s", dir);
}

/* ---- Core: every saved input, no crash ----------------------------------- */

START_TEST(test_fuzz_regress_sweep)
{
    replay("sweep", fuzz_sweep_file);
}
END_TEST

START_TEST(test_fuzz_regress_idx)
{
    replay("idx", fuzz_idx_file);
}
END_TEST

START_TEST(test_fuzz_regress_csv)
{
    replay("csv", fuzz_csv_file);
}
END_TEST

START_TEST(test_fuzz_regress_model)
{
    replay("model", fuzz_model_file);
}
END_TEST

/* ---- Limits: the answers of the fixed loaders ----------------------------- */

/* Found by fuzz_csv: merging an empty input passed qsort a NULL array
 * (undefined behaviour).  An empty file is an empty results file. */
START_TEST(test_fuzz_regress_merge_empty_input)
{
    char in[4096], out[4096];
    const char *inputs[1] = {regress_path(in, sizeof in, "csv/empty.csv")};
    ls_merge_stats st;
    ls_err err = {0};

    ck_assert_int_eq(ls_results_merge(fuzz_path("out.csv", out, sizeof out), inputs, 1,
                                      &st, &err), 0);
    ck_assert_uint_eq(st.rows, 0);
    ck_assert_uint_eq(st.jobs, 0);
}
END_TEST

/* Found by fuzz_idx: a 48-byte file whose header announces petabytes was
 * LS_ENOMEM after a malloc of that size; the buffer now grows with the
 * data, and the file is what it is: truncated. */
START_TEST(test_fuzz_regress_idx_huge_header_is_truncated)
{
    char path[4096];
    ls_idx idx;
    ls_err err = {0};

    regress_path(path, sizeof path, "idx/header-announces-petabytes.idx");
    ck_assert_int_eq(ls_idx_read(&idx, path, 3, &err), LS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
    ck_assert_ptr_null(idx.data);
}
END_TEST

/* Found by fuzz_model (with its checksum repair): a 76-byte model file
 * whose header asks for I 32769, H 512, L 2 made the loader allocate and
 * initialize 4 x 281 MB before noticing the file holds 2 parameters. */
START_TEST(test_fuzz_regress_model_shape_needs_gigabytes)
{
    char path[4096];
    ls_model *m = NULL;
    ls_modelfile_info info;
    ls_err err = {0};

    regress_path(path, sizeof path, "model/shape-needs-gigabytes.lsm");
    ls_alloc_fail_at(2); /* the file's bytes are the 1st allocation; the model
                          * would be the 2nd: rejected before it */
    ck_assert_int_eq(ls_modelfile_load(path, &m, &info, &err), LS_EFORMAT);
    ls_alloc_fail_at(0);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.msg, "holds 2 parameters, but its shape needs"));
}
END_TEST

/* Found by fuzz_model: a dropout outside [0, 1) was ls_model_create's
 * LS_EINVAL, "model: dropout ...", without the file's name. */
START_TEST(test_fuzz_regress_model_bad_dropout_names_file)
{
    char path[4096];
    ls_model *m = NULL;
    ls_modelfile_info info;
    ls_err err = {0};

    regress_path(path, sizeof path, "model/dropout-out-of-range.lsm");
    ck_assert_int_eq(ls_modelfile_load(path, &m, &info, &err), LS_EFORMAT);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
}
END_TEST

Suite *fuzz_regress_suite(void)
{
    Suite *s = suite_create("fuzz_regress");
    TCase *core = tcase_create("Core"), *limits = tcase_create("Limits");

    ls_add_tests(core, LS_TESTS(test_fuzz_regress_sweep, test_fuzz_regress_idx,
                                test_fuzz_regress_csv, test_fuzz_regress_model));
    suite_add_tcase(s, core);

    ls_add_tests(limits, LS_TESTS(test_fuzz_regress_merge_empty_input,
                                  test_fuzz_regress_idx_huge_header_is_truncated,
                                  test_fuzz_regress_model_shape_needs_gigabytes,
                                  test_fuzz_regress_model_bad_dropout_names_file));
    suite_add_tcase(s, limits);
    return s;
}

LS_CHECK_MAIN(fuzz_regress_suite)
