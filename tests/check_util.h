/* check_util.h - shared boilerplate for the check test programs.
 * Each tests/check_<module>.c defines `Suite *<module>_suite(void)` and ends
 * with LS_CHECK_MAIN(<module>_suite). */
#ifndef LSTMSWEEP_CHECK_UTIL_H
#define LSTMSWEEP_CHECK_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define LS_CHECK_MAIN(suite_fn)                                   \
    int main(void)                                                \
    {                                                             \
        SRunner *sr = srunner_create(suite_fn());                 \
        srunner_run_all(sr, CK_NORMAL);                           \
        int failed = srunner_ntests_failed(sr);                   \
        srunner_free(sr);                                         \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;         \
    }

/* Add each test of a NULL-terminated list to tc (LS_TESTS builds one), so
 * that a case reads as the list of its tests. */
#define LS_TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})
static inline void ls_add_tests(TCase *tc, const TTest *const *tests)
{
    for (; *tests; tests++)
        tcase_add_test(tc, *tests);
}

/* A case of suite s with its fixture (setup and teardown may be NULL)
 * and tests, in one call: the usual shape of a suite. */
static inline TCase *ls_add_case(Suite *s, const char *name, void (*setup)(void),
                                 void (*teardown)(void), const TTest *const *tests)
{
    TCase *tc = tcase_create(name);
    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    ls_add_tests(tc, tests);
    suite_add_tcase(s, tc);
    return tc;
}

/* A fresh directory /tmp/ls_<tag>_XXXXXX for one test (into dir, of
 * size len), and its removal with everything in it. */
static inline void ls_test_mkdtemp(char *dir, size_t len, const char *tag)
{
    snprintf(dir, len, "/tmp/ls_%s_XXXXXX", tag);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
}

/* A test whose precondition this machine lacks (no /dev/full, not run by
 * `make check`) is not added to its case but reported as skipped: a line
 * "SKIP: name: reason" that `make check`'s summary counts, instead of a test
 * that returns early and passes without checking anything. */
#define LS_ADD_TEST_IF(tc, test, cond, reason)                     \
    do {                                                          \
        if (cond)                                                 \
            tcase_add_test(tc, test);                             \
        else                                                      \
            printf("SKIP: %s: %s\n", #test, reason);              \
    } while (0)

static inline void ls_test_rmtree(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
