/* check_util.h - shared boilerplate for the check test programs.
 * Each tests/check_<module>.c defines `Suite *<module>_suite(void)` and ends
 * with LS_CHECK_MAIN(<module>_suite). */
#ifndef LSTMSWEEP_CHECK_UTIL_H
#define LSTMSWEEP_CHECK_UTIL_H

#include <check.h>
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

#endif
